/**
 * Auth's errors, by the codes Supabase's auth server answers with (`error_code` in its body,
 * which `@supabase/auth-js` raises as `AuthApiError.code`), each with its HTTP status. Messages
 * say what was wrong and what is expected, but never whether an address has an account.
 */
export type AuthErrorCode =
  | "validation_failed"
  | "bad_json"
  | "email_address_invalid"
  | "weak_password"
  | "user_already_exists"
  | "email_exists"
  | "invalid_credentials"
  | "email_not_confirmed"
  | "user_banned"
  | "user_not_found"
  | "session_not_found"
  | "bad_jwt"
  | "no_authorization"
  | "not_admin"
  | "refresh_token_not_found"
  | "refresh_token_already_used"
  | "otp_expired"
  | "otp_disabled"
  | "signup_disabled"
  | "anonymous_provider_disabled"
  | "over_request_rate_limit"
  | "over_email_send_rate_limit"
  | "mfa_factor_not_found"
  | "mfa_challenge_expired"
  | "mfa_verification_failed"
  | "mfa_verification_rejected"
  | "insufficient_aal"
  | "captcha_failed"
  | "hook_timeout"
  | "hook_payload_invalid"
  | "flow_state_not_found"
  | "bad_code_verifier"
  | "email_conflict_identity_not_deletable"
  | "same_password"
  | "reauthentication_needed"
  | "unexpected_failure";

export class AuthError extends Error {
  override readonly name = "AuthError";
  readonly code: AuthErrorCode;
  readonly status: number;
  /** Extra fields of the body: `weak_password: { reasons }`. */
  readonly extra: Readonly<Record<string, unknown>>;
  /** Seconds, for a 429's `Retry-After`. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: AuthErrorCode,
    status: number,
    message: string,
    o: { extra?: Record<string, unknown>; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.extra = o.extra ?? {};
    this.retryAfterSeconds = o.retryAfterSeconds;
  }
}

export const invalid = (message: string) => new AuthError("validation_failed", 400, message);

/** The one answer to a wrong email or password, whichever was wrong (no enumeration). */
export const invalidCredentials = () =>
  new AuthError("invalid_credentials", 400, "Invalid login credentials");

export const badJwt = (message = "invalid JWT: unable to parse or verify signature") =>
  new AuthError("bad_jwt", 403, message);

export const rateLimited = (what: string, retryAfterSeconds: number) =>
  new AuthError(
    "over_request_rate_limit",
    429,
    `too many ${what} requests; try again in ${retryAfterSeconds} seconds`,
    { retryAfterSeconds },
  );
