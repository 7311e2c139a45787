/**
 * Auth's tables in PostgreSQL: the first step of `auth.ts`'s AUTH_MIGRATIONS, the same tables as
 * SQLite's (`sqlite-auth-tables.ts`). Keys collate as bytes ("C"), so that ties list in SQLite's
 * order; times are `bigint` (epoch ms). No foreign keys: what goes with a user, a session, a
 * factor or a client is deleted in its deletion's transaction, and an audit entry outlives its
 * user. `email` is unique where set (NULLs are distinct: any number of anonymous users). Mails
 * and audit entries are numbered by arrival (`seq`).
 */
export const AUTH_TABLES_MIGRATION = `CREATE TABLE auth_users (
     id text COLLATE "C" PRIMARY KEY,
     email text COLLATE "C",
     email_confirmed_at bigint,
     new_email text,
     password_hash text,
     is_anonymous boolean NOT NULL,
     user_metadata text NOT NULL,
     app_metadata text NOT NULL,
     banned_until bigint,
     last_sign_in_at bigint,
     created_at bigint NOT NULL,
     updated_at bigint NOT NULL
   );
   CREATE UNIQUE INDEX auth_users_by_email ON auth_users (email);
   CREATE INDEX auth_users_by_creation ON auth_users (created_at, id);
   CREATE TABLE auth_sessions (
     id text COLLATE "C" PRIMARY KEY,
     user_id text NOT NULL,
     aal text NOT NULL,
     amr text NOT NULL,
     user_agent text,
     ip text,
     created_at bigint NOT NULL,
     refreshed_at bigint NOT NULL
   );
   CREATE INDEX auth_sessions_by_user ON auth_sessions (user_id, created_at);
   CREATE TABLE auth_refresh_tokens (
     token_hash text COLLATE "C" PRIMARY KEY,
     session_id text NOT NULL,
     user_id text NOT NULL,
     spent_at bigint,
     created_at bigint NOT NULL
   );
   CREATE INDEX auth_refresh_tokens_by_session ON auth_refresh_tokens (session_id);
   CREATE INDEX auth_refresh_tokens_by_user ON auth_refresh_tokens (user_id);
   CREATE TABLE auth_one_time_tokens (
     id text COLLATE "C" PRIMARY KEY,
     user_id text NOT NULL,
     purpose text NOT NULL,
     email text NOT NULL,
     link_hash text NOT NULL UNIQUE,
     code_hash text NOT NULL,
     attempts integer NOT NULL,
     code_challenge text,
     redirect_to text,
     created_at bigint NOT NULL,
     expires_at bigint NOT NULL
   );
   CREATE INDEX auth_one_time_tokens_by_email ON auth_one_time_tokens (email, created_at);
   CREATE INDEX auth_one_time_tokens_by_user ON auth_one_time_tokens (user_id, purpose);
   CREATE INDEX auth_one_time_tokens_by_expiry ON auth_one_time_tokens (expires_at);
   CREATE TABLE auth_factors (
     id text COLLATE "C" PRIMARY KEY,
     user_id text NOT NULL,
     type text NOT NULL,
     friendly_name text,
     secret text NOT NULL,
     status text NOT NULL,
     last_step bigint,
     created_at bigint NOT NULL,
     updated_at bigint NOT NULL
   );
   CREATE INDEX auth_factors_by_user ON auth_factors (user_id, created_at);
   CREATE TABLE auth_challenges (
     id text COLLATE "C" PRIMARY KEY,
     factor_id text NOT NULL,
     user_id text NOT NULL,
     created_at bigint NOT NULL,
     expires_at bigint NOT NULL
   );
   CREATE INDEX auth_challenges_by_factor ON auth_challenges (factor_id);
   CREATE INDEX auth_challenges_by_user ON auth_challenges (user_id);
   CREATE TABLE auth_recovery_codes (
     user_id text NOT NULL,
     code_hash text NOT NULL,
     used_at bigint,
     PRIMARY KEY (user_id, code_hash)
   );
   CREATE TABLE auth_signing_keys (
     kid text COLLATE "C" PRIMARY KEY,
     alg text NOT NULL,
     private_jwk text NOT NULL,
     public_jwk text NOT NULL,
     created_at bigint NOT NULL,
     retired_at bigint
   );
   CREATE TABLE auth_mail (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     id text NOT NULL UNIQUE,
     recipient text NOT NULL,
     subject text NOT NULL,
     body_text text NOT NULL,
     body_html text,
     kind text NOT NULL,
     created_at bigint NOT NULL
   );
   CREATE INDEX auth_mail_by_recipient ON auth_mail (recipient, created_at);
   CREATE INDEX auth_mail_by_time ON auth_mail (created_at);
   CREATE TABLE auth_audit (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     id text NOT NULL UNIQUE,
     user_id text,
     action text NOT NULL,
     ip text,
     detail text NOT NULL,
     occurred_at bigint NOT NULL
   );
   CREATE INDEX auth_audit_by_user ON auth_audit (user_id, occurred_at);
   CREATE INDEX auth_audit_by_time ON auth_audit (occurred_at);
   CREATE TABLE auth_clients (
     client_id text COLLATE "C" PRIMARY KEY,
     secret_hash text,
     name text NOT NULL,
     redirect_uris text NOT NULL,
     first_party boolean NOT NULL,
     created_at bigint NOT NULL
   );
   CREATE TABLE auth_authorization_codes (
     code_hash text COLLATE "C" PRIMARY KEY,
     client_id text NOT NULL,
     user_id text NOT NULL,
     session_id text NOT NULL,
     redirect_uri text NOT NULL,
     scope text NOT NULL,
     nonce text,
     code_challenge text NOT NULL,
     code_challenge_method text NOT NULL,
     created_at bigint NOT NULL,
     expires_at bigint NOT NULL
   );
   CREATE INDEX auth_authorization_codes_by_user ON auth_authorization_codes (user_id);
   CREATE INDEX auth_authorization_codes_by_client ON auth_authorization_codes (client_id);`;

/**
 * The second step: a redeemed authorization code is kept (marked) until it expires, so that a
 * second redemption is told from an unknown code; expired codes are swept by their expiry.
 */
export const AUTH_CODE_REDEMPTION_MIGRATION = `ALTER TABLE auth_authorization_codes ADD COLUMN consumed_at bigint;
   CREATE INDEX auth_authorization_codes_by_expiry ON auth_authorization_codes (expires_at);`;
