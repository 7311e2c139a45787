/**
 * The columns of auth's tables, as both stores write them (their rows: `auth-row.ts`), and the
 * tables of what a user owns.
 */
import type {
  AuditRow,
  AuthorizationCodeRow,
  ChallengeRow,
  ClientRow,
  FactorRow,
  MailRow,
  OneTimeTokenRow,
  RecoveryCodeRow,
  RefreshTokenRow,
  SessionRow,
  SigningKeyRow,
  UserRow,
} from "./auth-row.js";

export const USER_COLUMNS = [
  "id",
  "email",
  "email_confirmed_at",
  "new_email",
  "password_hash",
  "is_anonymous",
  "user_metadata",
  "app_metadata",
  "banned_until",
  "last_sign_in_at",
  "created_at",
  "updated_at",
] as const satisfies readonly (keyof UserRow)[];

/** What an update of a user writes: all but its id. */
export const USER_UPDATED_COLUMNS = USER_COLUMNS.filter((c) => c !== "id");

export const SESSION_COLUMNS = [
  "id",
  "user_id",
  "aal",
  "amr",
  "user_agent",
  "ip",
  "created_at",
  "refreshed_at",
] as const satisfies readonly (keyof SessionRow)[];

/** What an update of a session writes: how it was proved and when last refreshed, not whose it is. */
export const SESSION_UPDATED_COLUMNS = ["aal", "amr", "refreshed_at"] as const;

export const REFRESH_TOKEN_COLUMNS = [
  "token_hash",
  "session_id",
  "user_id",
  "spent_at",
  "created_at",
] as const satisfies readonly (keyof RefreshTokenRow)[];

export const ONE_TIME_TOKEN_COLUMNS = [
  "id",
  "user_id",
  "purpose",
  "email",
  "link_hash",
  "code_hash",
  "attempts",
  "code_challenge",
  "redirect_to",
  "created_at",
  "expires_at",
] as const satisfies readonly (keyof OneTimeTokenRow)[];

export const FACTOR_COLUMNS = [
  "id",
  "user_id",
  "type",
  "friendly_name",
  "secret",
  "status",
  "last_step",
  "created_at",
  "updated_at",
] as const satisfies readonly (keyof FactorRow)[];

export const CHALLENGE_COLUMNS = [
  "id",
  "factor_id",
  "user_id",
  "created_at",
  "expires_at",
] as const satisfies readonly (keyof ChallengeRow)[];

export const RECOVERY_CODE_COLUMNS = [
  "user_id",
  "code_hash",
  "used_at",
] as const satisfies readonly (keyof RecoveryCodeRow)[];

export const SIGNING_KEY_COLUMNS = [
  "kid",
  "alg",
  "private_jwk",
  "public_jwk",
  "created_at",
  "retired_at",
] as const satisfies readonly (keyof SigningKeyRow)[];

/** Every column written (`seq` is the store's). */
export const MAIL_COLUMNS = [
  "id",
  "recipient",
  "subject",
  "body_text",
  "body_html",
  "kind",
  "created_at",
] as const satisfies readonly (keyof MailRow)[];

/** Every column written (`seq` is the store's). */
export const AUDIT_COLUMNS = [
  "id",
  "user_id",
  "action",
  "ip",
  "detail",
  "occurred_at",
] as const satisfies readonly (keyof AuditRow)[];

export const CLIENT_COLUMNS = [
  "client_id",
  "secret_hash",
  "name",
  "redirect_uris",
  "first_party",
  "created_at",
] as const satisfies readonly (keyof ClientRow)[];

export const AUTHORIZATION_CODE_COLUMNS = [
  "code_hash",
  "client_id",
  "user_id",
  "session_id",
  "redirect_uri",
  "scope",
  "nonce",
  "code_challenge",
  "code_challenge_method",
  "created_at",
  "expires_at",
] as const satisfies readonly (keyof AuthorizationCodeRow)[];

/** The tables of what a user has besides their row, each with a `user_id` (not the audit log). */
export const USER_OWNED_TABLES = [
  "auth_sessions",
  "auth_refresh_tokens",
  "auth_one_time_tokens",
  "auth_factors",
  "auth_challenges",
  "auth_recovery_codes",
  "auth_authorization_codes",
] as const;
