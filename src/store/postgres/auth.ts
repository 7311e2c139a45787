/**
 * Auth in PostgreSQL (`AuthRepo`): the tables of `auth-tables.ts`. What is spent once is spent by
 * one conditional write (a link, a code, a challenge by `DELETE … RETURNING`, a TOTP step, a
 * recovery code and a code's redemption by an `UPDATE` whose condition a second writer, having
 * waited on the row's lock, finds false). A refresh token is spent under its session's row lock,
 * which orders the session's rotations, reissues and deletion: each reads the tokens as the one
 * before left them. A user's row lock orders the replacement of their one-time tokens and
 * recovery codes.
 */
import type {
  AuditRecord,
  AuthorizationCodeRecord,
  ChallengeRecord,
  FactorRecord,
  MailRecord,
  OAuthClientRecord,
  OneTimePurpose,
  OneTimeTokenRecord,
  RecoveryCodeRecord,
  RefreshTokenRecord,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from "../../services/auth/model.js";
import type { AuthRepo, RedeemOutcome, RotateOutcome } from "../../services/auth/repo.js";
import {
  AUDIT_COLUMNS,
  AUTHORIZATION_CODE_COLUMNS,
  CHALLENGE_COLUMNS,
  CLIENT_COLUMNS,
  FACTOR_COLUMNS,
  MAIL_COLUMNS,
  ONE_TIME_TOKEN_COLUMNS,
  RECOVERY_CODE_COLUMNS,
  REFRESH_TOKEN_COLUMNS,
  SESSION_COLUMNS,
  SESSION_UPDATED_COLUMNS,
  SIGNING_KEY_COLUMNS,
  USER_COLUMNS,
  USER_OWNED_TABLES,
  USER_UPDATED_COLUMNS,
} from "../auth-columns.js";
import {
  type AuditRow,
  type AuthorizationCodeRow,
  auditRow,
  authorizationCodeRow,
  type ChallengeRow,
  type ClientRow,
  challengeRow,
  checkSameSession,
  clientRow,
  type FactorRow,
  factorRow,
  type MailRow,
  mailRow,
  type OneTimeTokenRow,
  oneTimeTokenRow,
  type RefreshTokenRow,
  recoveryCodeRow,
  refreshTokenRow,
  type SessionRow,
  type SigningKeyRow,
  sessionRow,
  signingKeyRow,
  successorRow,
  toAudit,
  toAuthorizationCode,
  toChallenge,
  toClient,
  toFactor,
  toMail,
  toOneTimeToken,
  toRefreshToken,
  toSession,
  toSigningKey,
  toUser,
  type UserRow,
  userRow,
} from "../auth-row.js";
import { AUTH_CODE_REDEMPTION_MIGRATION, AUTH_TABLES_MIGRATION } from "./auth-tables.js";
import type { Sql } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/** References no other module's tables. */
export const AUTH_MIGRATIONS: ModuleMigrations = {
  module: "auth",
  steps: [AUTH_TABLES_MIGRATION, AUTH_CODE_REDEMPTION_MIGRATION],
};

/** PostgreSQL's `unique_violation`. */
const UNIQUE_VIOLATION = "23505";

export class PostgresAuthRepo implements AuthRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async createUser(user: UserRecord): Promise<boolean> {
    const sql = this.#sql;
    // No conflict target: a taken id and a taken email alike insert nothing.
    const inserted =
      await sql`INSERT INTO auth_users ${sql(userRow(user), USER_COLUMNS)} ON CONFLICT DO NOTHING`;
    return inserted.count === 1;
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const [row] = await this.#sql<UserRow[]>`SELECT * FROM auth_users WHERE id = ${id}`;
    return row && toUser(row);
  }

  async getUserByEmail(email: string): Promise<UserRecord | undefined> {
    const [row] = await this.#sql<UserRow[]>`SELECT * FROM auth_users WHERE email = ${email}`;
    return row && toUser(row);
  }

  async updateUser(user: UserRecord): Promise<"updated" | "missing" | "email-taken"> {
    const sql = this.#sql;
    try {
      const updated = await sql`UPDATE auth_users SET ${sql(userRow(user), USER_UPDATED_COLUMNS)}
        WHERE id = ${user.id}`;
      return updated.count === 1 ? "updated" : "missing";
    } catch (err) {
      // The id is not written, so the one unique index it can break is the email's.
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) return "email-taken";
      throw err;
    }
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.#sql.begin(async (tx) => {
      const deleted = await tx`DELETE FROM auth_users WHERE id = ${id}`;
      if (deleted.count === 0) return false;
      for (const table of USER_OWNED_TABLES) await tx`DELETE FROM ${tx(table)} WHERE user_id = ${id}`;
      return true;
    });
  }

  async listUsers(o: { offset: number; limit: number }): Promise<{ users: UserRecord[]; total: number }> {
    // One snapshot for the page and the count.
    return this.#sql.begin("isolation level repeatable read read only", async (tx) => {
      const rows = await tx<UserRow[]>`SELECT * FROM auth_users ORDER BY created_at, id
        LIMIT ${o.limit} OFFSET ${o.offset}`;
      const [count] = await tx<{ total: number }[]>`SELECT count(*) AS total FROM auth_users`;
      return { users: rows.map(toUser), total: count?.total ?? 0 };
    });
  }

  async createSession(session: SessionRecord, first: RefreshTokenRecord, signedInAt?: number): Promise<void> {
    await this.#sql.begin(async (tx) => {
      await tx`INSERT INTO auth_sessions ${tx(sessionRow(session), SESSION_COLUMNS)}`;
      await tx`INSERT INTO auth_refresh_tokens ${tx(refreshTokenRow(first), REFRESH_TOKEN_COLUMNS)}`;
      if (signedInAt !== undefined)
        await tx`UPDATE auth_users SET last_sign_in_at = ${signedInAt} WHERE id = ${session.userId}`;
    });
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const [row] = await this.#sql<SessionRow[]>`SELECT * FROM auth_sessions WHERE id = ${id}`;
    return row && toSession(row);
  }

  async listSessions(userId: string): Promise<SessionRecord[]> {
    const rows = await this.#sql<SessionRow[]>`SELECT * FROM auth_sessions WHERE user_id = ${userId}
      ORDER BY created_at DESC, id DESC`;
    return rows.map(toSession);
  }

  async updateSession(session: SessionRecord): Promise<boolean> {
    const sql = this.#sql;
    const updated = await sql`UPDATE auth_sessions SET ${sql(sessionRow(session), SESSION_UPDATED_COLUMNS)}
      WHERE id = ${session.id}`;
    return updated.count === 1;
  }

  async deleteSession(id: string): Promise<boolean> {
    // The session's row first: a rotation under way finishes before, or finds the session gone.
    return this.#sql.begin(async (tx) => {
      const deleted = await tx`DELETE FROM auth_sessions WHERE id = ${id}`;
      await tx`DELETE FROM auth_refresh_tokens WHERE session_id = ${id}`;
      return deleted.count === 1;
    });
  }

  async deleteUserSessions(userId: string, keep?: string): Promise<number> {
    return this.#sql.begin(async (tx) => {
      const deleted = await tx<{ id: string }[]>`DELETE FROM auth_sessions
        WHERE user_id = ${userId} AND id IS DISTINCT FROM ${keep ?? null}::text RETURNING id`;
      const ids = deleted.map((r) => r.id);
      if (ids.length > 0)
        await tx`DELETE FROM auth_refresh_tokens WHERE session_id = ANY(${tx.array(ids)}::text[])`;
      return ids.length;
    });
  }

  async reissueSession(session: SessionRecord, next: RefreshTokenRecord): Promise<boolean> {
    checkSameSession(session.id, next);
    // The session's row first, as a rotation and a deletion take it: either waits for the other.
    return this.#sql.begin(async (tx) => {
      const updated = await tx`UPDATE auth_sessions SET ${tx(sessionRow(session), SESSION_UPDATED_COLUMNS)}
        WHERE id = ${session.id}`;
      if (updated.count === 0) return false;
      await tx`DELETE FROM auth_refresh_tokens WHERE session_id = ${session.id}`;
      await tx`INSERT INTO auth_refresh_tokens ${tx(refreshTokenRow(next), REFRESH_TOKEN_COLUMNS)}`;
      return true;
    });
  }

  async rotateRefreshToken(tokenHash: string, nextHash: string, at: number): Promise<RotateOutcome> {
    return this.#sql.begin(async (tx): Promise<RotateOutcome> => {
      const [found] = await tx<{ session_id: string }[]>`SELECT session_id FROM auth_refresh_tokens
        WHERE token_hash = ${tokenHash}`;
      if (!found) return { kind: "unknown" };
      // Held to commit: another rotation of the session waits here, then reads the token spent.
      const [session] = await tx`SELECT id FROM auth_sessions WHERE id = ${found.session_id} FOR UPDATE`;
      if (!session) return { kind: "unknown" };
      const [row] = await tx<RefreshTokenRow[]>`SELECT * FROM auth_refresh_tokens
        WHERE token_hash = ${tokenHash}`;
      if (!row) return { kind: "unknown" };
      if (row.spent_at !== null) return { kind: "reused", token: toRefreshToken(row) };
      await tx`UPDATE auth_refresh_tokens SET spent_at = ${at} WHERE token_hash = ${tokenHash}`;
      await tx`INSERT INTO auth_refresh_tokens ${tx(successorRow(row, nextHash, at), REFRESH_TOKEN_COLUMNS)}`;
      const [refreshed] = await tx<SessionRow[]>`UPDATE auth_sessions SET refreshed_at = ${at}
        WHERE id = ${row.session_id} RETURNING *`;
      return { kind: "rotated", session: toSession(refreshed!) };
    });
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const [row] = await this.#sql<RefreshTokenRow[]>`SELECT * FROM auth_refresh_tokens
      WHERE token_hash = ${tokenHash}`;
    return row && toRefreshToken(row);
  }

  async putOneTimeToken(token: OneTimeTokenRecord): Promise<void> {
    await this.#sql.begin(async (tx) => {
      await tx`SELECT 1 FROM auth_users WHERE id = ${token.userId} FOR NO KEY UPDATE`;
      await tx`DELETE FROM auth_one_time_tokens WHERE user_id = ${token.userId} AND purpose = ${token.purpose}`;
      await tx`INSERT INTO auth_one_time_tokens ${tx(oneTimeTokenRow(token), ONE_TIME_TOKEN_COLUMNS)}`;
    });
  }

  async consumeOneTimeLink(linkHash: string): Promise<OneTimeTokenRecord | undefined> {
    const [row] = await this.#sql<OneTimeTokenRow[]>`DELETE FROM auth_one_time_tokens
      WHERE link_hash = ${linkHash} RETURNING *`;
    return row && toOneTimeToken(row);
  }

  async findOneTimeToken(
    email: string,
    purposes: readonly OneTimePurpose[],
  ): Promise<OneTimeTokenRecord | undefined> {
    const sql = this.#sql;
    const [row] = await sql<OneTimeTokenRow[]>`SELECT * FROM auth_one_time_tokens
      WHERE email = ${email} AND purpose = ANY(${sql.array([...purposes])}::text[])
      ORDER BY created_at DESC, id DESC LIMIT 1`;
    return row && toOneTimeToken(row);
  }

  async consumeOneTimeToken(id: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM auth_one_time_tokens WHERE id = ${id}`;
    return deleted.count === 1;
  }

  async countOneTimeAttempt(id: string): Promise<number> {
    const [row] = await this.#sql<{ attempts: number }[]>`UPDATE auth_one_time_tokens
      SET attempts = attempts + 1 WHERE id = ${id} RETURNING attempts`;
    return row?.attempts ?? 0;
  }

  async deleteExpiredOneTimeTokens(at: number): Promise<number> {
    const deleted = await this.#sql`DELETE FROM auth_one_time_tokens WHERE expires_at < ${at}`;
    return deleted.count;
  }

  async createFactor(factor: FactorRecord): Promise<void> {
    const sql = this.#sql;
    await sql`INSERT INTO auth_factors ${sql(factorRow(factor), FACTOR_COLUMNS)}`;
  }

  async getFactor(id: string): Promise<FactorRecord | undefined> {
    const [row] = await this.#sql<FactorRow[]>`SELECT * FROM auth_factors WHERE id = ${id}`;
    return row && toFactor(row);
  }

  async listFactors(userId: string): Promise<FactorRecord[]> {
    const rows = await this.#sql<FactorRow[]>`SELECT * FROM auth_factors WHERE user_id = ${userId}
      ORDER BY created_at, id`;
    return rows.map(toFactor);
  }

  async acceptFactorStep(id: string, step: number, at: number): Promise<boolean> {
    const updated = await this.#sql`UPDATE auth_factors
      SET last_step = ${step}, status = 'verified', updated_at = ${at}
      WHERE id = ${id} AND (last_step IS NULL OR last_step < ${step})`;
    return updated.count === 1;
  }

  async deleteFactor(id: string): Promise<boolean> {
    return this.#sql.begin(async (tx) => {
      const deleted = await tx`DELETE FROM auth_factors WHERE id = ${id}`;
      await tx`DELETE FROM auth_challenges WHERE factor_id = ${id}`;
      return deleted.count === 1;
    });
  }

  async createChallenge(challenge: ChallengeRecord): Promise<void> {
    const sql = this.#sql;
    await sql`INSERT INTO auth_challenges ${sql(challengeRow(challenge), CHALLENGE_COLUMNS)}`;
  }

  async consumeChallenge(id: string): Promise<ChallengeRecord | undefined> {
    const [row] = await this.#sql<ChallengeRow[]>`DELETE FROM auth_challenges WHERE id = ${id} RETURNING *`;
    return row && toChallenge(row);
  }

  async setRecoveryCodes(userId: string, codes: readonly RecoveryCodeRecord[]): Promise<void> {
    const rows = codes.map((c) => recoveryCodeRow(userId, c));
    await this.#sql.begin(async (tx) => {
      await tx`SELECT 1 FROM auth_users WHERE id = ${userId} FOR NO KEY UPDATE`;
      await tx`DELETE FROM auth_recovery_codes WHERE user_id = ${userId}`;
      if (rows.length > 0)
        await tx`INSERT INTO auth_recovery_codes ${tx(rows, RECOVERY_CODE_COLUMNS)} ON CONFLICT DO NOTHING`;
    });
  }

  async useRecoveryCode(userId: string, codeHash: string, at: number): Promise<boolean> {
    const updated = await this.#sql`UPDATE auth_recovery_codes SET used_at = ${at}
      WHERE user_id = ${userId} AND code_hash = ${codeHash} AND used_at IS NULL`;
    return updated.count === 1;
  }

  async countRecoveryCodes(userId: string): Promise<number> {
    const [row] = await this.#sql<{ n: number }[]>`SELECT count(*) AS n FROM auth_recovery_codes
      WHERE user_id = ${userId} AND used_at IS NULL`;
    return row?.n ?? 0;
  }

  async putSigningKey(key: SigningKeyRecord): Promise<void> {
    const sql = this.#sql;
    await sql`INSERT INTO auth_signing_keys ${sql(signingKeyRow(key), SIGNING_KEY_COLUMNS)}`;
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.#sql<SigningKeyRow[]>`SELECT * FROM auth_signing_keys
      ORDER BY created_at DESC, kid DESC`;
    return rows.map(toSigningKey);
  }

  async rotateSigningKey(next: SigningKeyRecord, at: number): Promise<void> {
    await this.#sql.begin(async (tx) => {
      // A lock that conflicts with itself: two rotations at once leave one key signing, not two.
      await tx`LOCK TABLE auth_signing_keys IN SHARE ROW EXCLUSIVE MODE`;
      await tx`UPDATE auth_signing_keys SET retired_at = ${at} WHERE retired_at IS NULL AND kid <> ${next.kid}`;
      await tx`INSERT INTO auth_signing_keys ${tx(signingKeyRow(next), SIGNING_KEY_COLUMNS)}`;
    });
  }

  async deleteSigningKeysRetiredBefore(before: number): Promise<number> {
    const deleted = await this.#sql`DELETE FROM auth_signing_keys WHERE retired_at < ${before}`;
    return deleted.count;
  }

  async putMail(mail: MailRecord): Promise<void> {
    const sql = this.#sql;
    await sql`INSERT INTO auth_mail ${sql(mailRow(mail), MAIL_COLUMNS)}`;
  }

  async listMail(o: { to?: string; limit: number }): Promise<MailRecord[]> {
    const sql = this.#sql;
    const rows = await sql<MailRow[]>`SELECT * FROM auth_mail
      ${o.to === undefined ? sql`` : sql`WHERE recipient = ${o.to}`}
      ORDER BY created_at DESC, seq DESC LIMIT ${o.limit}`;
    return rows.map(toMail);
  }

  async deleteMailBefore(before: number): Promise<number> {
    const deleted = await this.#sql`DELETE FROM auth_mail WHERE created_at < ${before}`;
    return deleted.count;
  }

  async putAudits(entries: readonly AuditRecord[]): Promise<void> {
    if (entries.length === 0) return;
    const sql = this.#sql;
    await sql`INSERT INTO auth_audit ${sql(entries.map(auditRow), AUDIT_COLUMNS)}`;
  }

  async listAudit(o: { userId?: string; limit: number }): Promise<AuditRecord[]> {
    const sql = this.#sql;
    const rows = await sql<AuditRow[]>`SELECT * FROM auth_audit
      ${o.userId === undefined ? sql`` : sql`WHERE user_id = ${o.userId}`}
      ORDER BY occurred_at DESC, seq DESC LIMIT ${o.limit}`;
    return rows.map(toAudit);
  }

  async createClient(client: OAuthClientRecord): Promise<boolean> {
    const sql = this.#sql;
    const inserted = await sql`INSERT INTO auth_clients ${sql(clientRow(client), CLIENT_COLUMNS)}
      ON CONFLICT (client_id) DO NOTHING`;
    return inserted.count === 1;
  }

  async getClient(clientId: string): Promise<OAuthClientRecord | undefined> {
    const [row] = await this.#sql<ClientRow[]>`SELECT * FROM auth_clients WHERE client_id = ${clientId}`;
    return row && toClient(row);
  }

  async listClients(): Promise<OAuthClientRecord[]> {
    const rows = await this.#sql<ClientRow[]>`SELECT * FROM auth_clients ORDER BY created_at, client_id`;
    return rows.map(toClient);
  }

  async deleteClient(clientId: string): Promise<boolean> {
    return this.#sql.begin(async (tx) => {
      const deleted = await tx`DELETE FROM auth_clients WHERE client_id = ${clientId}`;
      await tx`DELETE FROM auth_authorization_codes WHERE client_id = ${clientId}`;
      return deleted.count === 1;
    });
  }

  async putAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    const sql = this.#sql;
    // The sweep skips rows another writer holds (a sweep, a redemption): none waits on another.
    await sql`DELETE FROM auth_authorization_codes WHERE code_hash IN (SELECT code_hash
      FROM auth_authorization_codes WHERE expires_at <= ${code.createdAt} FOR UPDATE SKIP LOCKED)`;
    await sql`INSERT INTO auth_authorization_codes ${sql(authorizationCodeRow(code), AUTHORIZATION_CODE_COLUMNS)}`;
  }

  async consumeAuthorizationCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    const [row] = await this.#sql<AuthorizationCodeRow[]>`DELETE FROM auth_authorization_codes
      WHERE code_hash = ${codeHash} AND consumed_at IS NULL RETURNING *`;
    return row && toAuthorizationCode(row);
  }

  async redeemAuthorizationCode(codeHash: string, at: number): Promise<RedeemOutcome> {
    const sql = this.#sql;
    // A second redeemer waits on the row's lock, then finds the condition false.
    const [live] = await sql<AuthorizationCodeRow[]>`UPDATE auth_authorization_codes SET consumed_at = ${at}
      WHERE code_hash = ${codeHash} AND consumed_at IS NULL RETURNING *`;
    if (live) return { kind: "redeemed", code: toAuthorizationCode(live) };
    const [redeemed] = await sql<AuthorizationCodeRow[]>`SELECT * FROM auth_authorization_codes
      WHERE code_hash = ${codeHash}`;
    return redeemed ? { kind: "replayed", code: toAuthorizationCode(redeemed) } : { kind: "unknown" };
  }
}
