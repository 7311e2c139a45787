/**
 * How the auth service behaves: token lifetimes, what sign-up requires, where links may send a
 * browser, and the mail it sends. The composition root builds it from the platform's config.
 */

export interface AuthSettings {
  /** The token issuer (`iss`): the auth API's own URL, `<platform URL>/auth/v1`. Known once the platform listens. */
  readonly issuer: () => string;
  /** Access tokens' lifetime; Supabase's default is an hour. */
  readonly accessTokenTtlSeconds: number;
  /** Whether a password sign-up must confirm its address by mail before it can sign in. */
  readonly confirmEmail: boolean;
  /** Whether new users may sign up at all (operators can still create them). */
  readonly allowSignup: boolean;
  readonly allowAnonymous: boolean;
  /** Where a link sends the browser when the request names no redirect (the app's home). */
  readonly siteUrl: string;
  /**
   * Redirect targets a link or an OIDC client may name besides siteUrl: exact URLs, or
   * patterns ending in `*` (a prefix). Anything else falls back to siteUrl (no open redirects).
   */
  readonly redirectUrls: readonly string[];
  /** How long a mailed link or code is good for. */
  readonly otpTtlSeconds: number;
  /** Wrong codes tried against one mailed code before it is locked. */
  readonly otpMaxAttempts: number;
  /** The least characters of a password. */
  readonly passwordMinLength: number;
  /** The largest JSON text of user metadata or app metadata. */
  readonly maxMetadataBytes: number;
  /** The sender of the platform's mail. */
  readonly mailFrom: string;
  /** The name shown in authenticator apps and mail. */
  readonly appName: string;
}

export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600;
export const DEFAULT_OTP_TTL_SECONDS = 3600;
export const DEFAULT_OTP_MAX_ATTEMPTS = 5;
export const DEFAULT_MAX_METADATA_BYTES = 16 * 1024;
/** An access token is for signed-in users; the `role` claim says the same (Supabase's convention). */
export const AUDIENCE = "authenticated";

export function defaultAuthSettings(issuer: () => string): AuthSettings {
  return {
    issuer,
    accessTokenTtlSeconds: DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
    confirmEmail: true,
    allowSignup: true,
    allowAnonymous: true,
    siteUrl: "http://localhost:3000",
    redirectUrls: [],
    otpTtlSeconds: DEFAULT_OTP_TTL_SECONDS,
    otpMaxAttempts: DEFAULT_OTP_MAX_ATTEMPTS,
    passwordMinLength: 8,
    maxMetadataBytes: DEFAULT_MAX_METADATA_BYTES,
    mailFrom: "Nimbus <no-reply@nimbus.localhost>",
    appName: "Nimbus",
  };
}

/** `to` if settings allow a redirect there, else the site URL. */
export function safeRedirect(settings: AuthSettings, to: string | undefined): string {
  if (to === undefined || to === "") return settings.siteUrl;
  let url: URL;
  try {
    url = new URL(to);
  } catch {
    return settings.siteUrl;
  }
  // Same origin as the site (never a `javascript:` or `data:` URL: their origin is "null").
  if (url.origin !== "null" && url.origin === new URL(settings.siteUrl).origin) return url.toString();
  for (const allowed of settings.redirectUrls) {
    if (allowed.endsWith("*") ? to.startsWith(allowed.slice(0, -1)) : to === allowed) return to;
  }
  return settings.siteUrl;
}
