/**
 * Auth's tables in SQLite, the first step of `sqlite-migrations.ts`'s AUTH_MIGRATIONS (kept here,
 * beside `sqlite-auth.ts`, so that the list of every module stays short). No foreign keys: what
 * goes with a user, a session, a factor or a client is deleted in its deletion's transaction, and
 * an audit entry outlives its user. `email` is unique where set (SQLite's unique index lets any
 * number of anonymous users have none). Mails and audit entries are numbered by arrival (`seq`).
 */
export const AUTH_TABLES_MIGRATION = `CREATE TABLE auth_users (
     id TEXT PRIMARY KEY,
     email TEXT,
     email_confirmed_at INTEGER,
     new_email TEXT,
     password_hash TEXT,
     is_anonymous INTEGER NOT NULL,
     user_metadata TEXT NOT NULL,
     app_metadata TEXT NOT NULL,
     banned_until INTEGER,
     last_sign_in_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX auth_users_by_email ON auth_users (email);
   CREATE INDEX auth_users_by_creation ON auth_users (created_at, id);
   CREATE TABLE auth_sessions (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     aal TEXT NOT NULL,
     amr TEXT NOT NULL,
     user_agent TEXT,
     ip TEXT,
     created_at INTEGER NOT NULL,
     refreshed_at INTEGER NOT NULL
   );
   CREATE INDEX auth_sessions_by_user ON auth_sessions (user_id, created_at);
   CREATE TABLE auth_refresh_tokens (
     token_hash TEXT PRIMARY KEY,
     session_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     spent_at INTEGER,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX auth_refresh_tokens_by_session ON auth_refresh_tokens (session_id);
   CREATE INDEX auth_refresh_tokens_by_user ON auth_refresh_tokens (user_id);
   CREATE TABLE auth_one_time_tokens (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     purpose TEXT NOT NULL,
     email TEXT NOT NULL,
     link_hash TEXT NOT NULL UNIQUE,
     code_hash TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     code_challenge TEXT,
     redirect_to TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX auth_one_time_tokens_by_email ON auth_one_time_tokens (email, created_at);
   CREATE INDEX auth_one_time_tokens_by_user ON auth_one_time_tokens (user_id, purpose);
   CREATE INDEX auth_one_time_tokens_by_expiry ON auth_one_time_tokens (expires_at);
   CREATE TABLE auth_factors (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     type TEXT NOT NULL,
     friendly_name TEXT,
     secret TEXT NOT NULL,
     status TEXT NOT NULL,
     last_step INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX auth_factors_by_user ON auth_factors (user_id, created_at);
   CREATE TABLE auth_challenges (
     id TEXT PRIMARY KEY,
     factor_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX auth_challenges_by_factor ON auth_challenges (factor_id);
   CREATE INDEX auth_challenges_by_user ON auth_challenges (user_id);
   CREATE TABLE auth_recovery_codes (
     user_id TEXT NOT NULL,
     code_hash TEXT NOT NULL,
     used_at INTEGER,
     PRIMARY KEY (user_id, code_hash)
   );
   CREATE TABLE auth_signing_keys (
     kid TEXT PRIMARY KEY,
     alg TEXT NOT NULL,
     private_jwk TEXT NOT NULL,
     public_jwk TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     retired_at INTEGER
   );
   CREATE TABLE auth_mail (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     recipient TEXT NOT NULL,
     subject TEXT NOT NULL,
     body_text TEXT NOT NULL,
     body_html TEXT,
     kind TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX auth_mail_by_recipient ON auth_mail (recipient, created_at);
   CREATE INDEX auth_mail_by_time ON auth_mail (created_at);
   CREATE TABLE auth_audit (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     user_id TEXT,
     action TEXT NOT NULL,
     ip TEXT,
     detail TEXT NOT NULL,
     occurred_at INTEGER NOT NULL
   );
   CREATE INDEX auth_audit_by_user ON auth_audit (user_id, occurred_at);
   CREATE INDEX auth_audit_by_time ON auth_audit (occurred_at);
   CREATE TABLE auth_clients (
     client_id TEXT PRIMARY KEY,
     secret_hash TEXT,
     name TEXT NOT NULL,
     redirect_uris TEXT NOT NULL,
     first_party INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE auth_authorization_codes (
     code_hash TEXT PRIMARY KEY,
     client_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     session_id TEXT NOT NULL,
     redirect_uri TEXT NOT NULL,
     scope TEXT NOT NULL,
     nonce TEXT,
     code_challenge TEXT NOT NULL,
     code_challenge_method TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX auth_authorization_codes_by_user ON auth_authorization_codes (user_id);
   CREATE INDEX auth_authorization_codes_by_client ON auth_authorization_codes (client_id);`;

/**
 * The second step: a redeemed authorization code is kept (marked) until it expires, so that a
 * second redemption is told from an unknown code; expired codes are swept by their expiry.
 */
export const AUTH_CODE_REDEMPTION_MIGRATION = `ALTER TABLE auth_authorization_codes ADD COLUMN consumed_at INTEGER;
   CREATE INDEX auth_authorization_codes_by_expiry ON auth_authorization_codes (expires_at);`;
