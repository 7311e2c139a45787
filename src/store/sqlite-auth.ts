/**
 * Auth in SQLite (`AuthRepo`, `SqliteStore.auth`): the tables of `sqlite-auth-tables.ts`. Every
 * call runs to its end on the store's one connection before another starts, so each statement
 * is its own compare-and-set: a token, link or code is spent by the one call whose write matched
 * it. What writes more than one row is one transaction, begun IMMEDIATE (the write lock first, so
 * that a commit of the log thread in between cannot fail it). Statements are prepared once, when
 * first used.
 */
import Database from "better-sqlite3";
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
} from "../services/auth/model.js";
import type { AuthRepo, RedeemOutcome, RotateOutcome } from "../services/auth/repo.js";
import { USER_OWNED_TABLES } from "./auth-columns.js";
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
} from "./auth-row.js";
import {
  boundUser,
  INSERT_AUDIT,
  INSERT_AUTHORIZATION_CODE,
  INSERT_CHALLENGE,
  INSERT_CLIENT,
  INSERT_FACTOR,
  INSERT_MAIL,
  INSERT_ONE_TIME_TOKEN,
  INSERT_RECOVERY_CODE,
  INSERT_REFRESH_TOKEN,
  INSERT_SESSION,
  INSERT_SIGNING_KEY,
  INSERT_USER,
  UPDATE_SESSION,
  UPDATE_USER,
} from "./sqlite-auth-sql.js";
import { Statements } from "./sqlite-statements.js";

export class SqliteAuthRepo implements AuthRepo {
  readonly #db: Database.Database;
  readonly #statements: Statements;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#statements = new Statements(db);
  }

  #prepare(sql: string): Database.Statement {
    return this.#statements.get(sql);
  }

  #write<T>(body: () => T): T {
    return this.#statements.write(body);
  }

  async createUser(user: UserRecord): Promise<boolean> {
    return this.#prepare(INSERT_USER).run(boundUser(user)).changes === 1;
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const row = this.#prepare("SELECT * FROM auth_users WHERE id = ?").get(id) as UserRow | undefined;
    return row && toUser(row);
  }

  async getUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = this.#prepare("SELECT * FROM auth_users WHERE email = ?").get(email) as UserRow | undefined;
    return row && toUser(row);
  }

  async updateUser(user: UserRecord): Promise<"updated" | "missing" | "email-taken"> {
    try {
      return this.#prepare(UPDATE_USER).run(boundUser(user)).changes === 1 ? "updated" : "missing";
    } catch (err) {
      // The id is not written, so the one unique index it can break is the email's.
      if (err instanceof Database.SqliteError && err.code === "SQLITE_CONSTRAINT_UNIQUE")
        return "email-taken";
      throw err;
    }
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.#write(() => {
      if (this.#prepare("DELETE FROM auth_users WHERE id = ?").run(id).changes === 0) return false;
      for (const table of USER_OWNED_TABLES) this.#prepare(`DELETE FROM ${table} WHERE user_id = ?`).run(id);
      return true;
    });
  }

  async listUsers(o: { offset: number; limit: number }): Promise<{ users: UserRecord[]; total: number }> {
    const rows = this.#prepare("SELECT * FROM auth_users ORDER BY created_at, id LIMIT ? OFFSET ?").all(
      o.limit,
      o.offset,
    ) as UserRow[];
    const { total } = this.#prepare("SELECT count(*) AS total FROM auth_users").get() as { total: number };
    return { users: rows.map(toUser), total };
  }

  async createSession(session: SessionRecord, first: RefreshTokenRecord, signedInAt?: number): Promise<void> {
    this.#write(() => {
      this.#prepare(INSERT_SESSION).run(sessionRow(session));
      this.#prepare(INSERT_REFRESH_TOKEN).run(refreshTokenRow(first));
      if (signedInAt !== undefined)
        this.#prepare("UPDATE auth_users SET last_sign_in_at = ? WHERE id = ?").run(
          signedInAt,
          session.userId,
        );
    });
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.#prepare("SELECT * FROM auth_sessions WHERE id = ?").get(id) as SessionRow | undefined;
    return row && toSession(row);
  }

  async listSessions(userId: string): Promise<SessionRecord[]> {
    const rows = this.#prepare(
      "SELECT * FROM auth_sessions WHERE user_id = ? ORDER BY created_at DESC, id DESC",
    ).all(userId) as SessionRow[];
    return rows.map(toSession);
  }

  async updateSession(session: SessionRecord): Promise<boolean> {
    return this.#prepare(UPDATE_SESSION).run(sessionRow(session)).changes === 1;
  }

  async deleteSession(id: string): Promise<boolean> {
    return this.#write(() => {
      this.#prepare("DELETE FROM auth_refresh_tokens WHERE session_id = ?").run(id);
      return this.#prepare("DELETE FROM auth_sessions WHERE id = ?").run(id).changes === 1;
    });
  }

  async deleteUserSessions(userId: string, keep?: string): Promise<number> {
    // `id IS NOT NULL` holds for every session: no `keep`, none kept.
    return this.#write(() => {
      this.#prepare(
        `DELETE FROM auth_refresh_tokens
         WHERE session_id IN (SELECT id FROM auth_sessions WHERE user_id = ? AND id IS NOT ?)`,
      ).run(userId, keep ?? null);
      return this.#prepare("DELETE FROM auth_sessions WHERE user_id = ? AND id IS NOT ?").run(
        userId,
        keep ?? null,
      ).changes;
    });
  }

  async reissueSession(session: SessionRecord, next: RefreshTokenRecord): Promise<boolean> {
    checkSameSession(session.id, next);
    return this.#write(() => {
      if (this.#prepare(UPDATE_SESSION).run(sessionRow(session)).changes === 0) return false;
      this.#prepare("DELETE FROM auth_refresh_tokens WHERE session_id = ?").run(session.id);
      this.#prepare(INSERT_REFRESH_TOKEN).run(refreshTokenRow(next));
      return true;
    });
  }

  async rotateRefreshToken(tokenHash: string, nextHash: string, at: number): Promise<RotateOutcome> {
    return this.#write((): RotateOutcome => {
      const row = this.#prepare(
        `SELECT t.* FROM auth_refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
         WHERE t.token_hash = ?`,
      ).get(tokenHash) as RefreshTokenRow | undefined;
      if (!row) return { kind: "unknown" };
      if (row.spent_at !== null) return { kind: "reused", token: toRefreshToken(row) };
      this.#prepare("UPDATE auth_refresh_tokens SET spent_at = ? WHERE token_hash = ?").run(at, tokenHash);
      this.#prepare(INSERT_REFRESH_TOKEN).run(successorRow(row, nextHash, at));
      const session = this.#prepare("UPDATE auth_sessions SET refreshed_at = ? WHERE id = ? RETURNING *").get(
        at,
        row.session_id,
      ) as SessionRow;
      return { kind: "rotated", session: toSession(session) };
    });
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = this.#prepare("SELECT * FROM auth_refresh_tokens WHERE token_hash = ?").get(tokenHash) as
      | RefreshTokenRow
      | undefined;
    return row && toRefreshToken(row);
  }

  async putOneTimeToken(token: OneTimeTokenRecord): Promise<void> {
    this.#write(() => {
      this.#prepare("DELETE FROM auth_one_time_tokens WHERE user_id = ? AND purpose = ?").run(
        token.userId,
        token.purpose,
      );
      this.#prepare(INSERT_ONE_TIME_TOKEN).run(oneTimeTokenRow(token));
    });
  }

  async consumeOneTimeLink(linkHash: string): Promise<OneTimeTokenRecord | undefined> {
    const row = this.#prepare("DELETE FROM auth_one_time_tokens WHERE link_hash = ? RETURNING *").get(
      linkHash,
    ) as OneTimeTokenRow | undefined;
    return row && toOneTimeToken(row);
  }

  async findOneTimeToken(
    email: string,
    purposes: readonly OneTimePurpose[],
  ): Promise<OneTimeTokenRecord | undefined> {
    const row = this.#prepare(
      `SELECT * FROM auth_one_time_tokens WHERE email = ? AND purpose IN (SELECT value FROM json_each(?))
       ORDER BY created_at DESC, id DESC LIMIT 1`,
    ).get(email, JSON.stringify(purposes)) as OneTimeTokenRow | undefined;
    return row && toOneTimeToken(row);
  }

  async consumeOneTimeToken(id: string): Promise<boolean> {
    return this.#prepare("DELETE FROM auth_one_time_tokens WHERE id = ?").run(id).changes === 1;
  }

  async countOneTimeAttempt(id: string): Promise<number> {
    const row = this.#prepare(
      "UPDATE auth_one_time_tokens SET attempts = attempts + 1 WHERE id = ? RETURNING attempts",
    ).get(id) as { attempts: number } | undefined;
    return row?.attempts ?? 0;
  }

  async deleteExpiredOneTimeTokens(at: number): Promise<number> {
    return this.#prepare("DELETE FROM auth_one_time_tokens WHERE expires_at < ?").run(at).changes;
  }

  async createFactor(factor: FactorRecord): Promise<void> {
    this.#prepare(INSERT_FACTOR).run(factorRow(factor));
  }

  async getFactor(id: string): Promise<FactorRecord | undefined> {
    const row = this.#prepare("SELECT * FROM auth_factors WHERE id = ?").get(id) as FactorRow | undefined;
    return row && toFactor(row);
  }

  async listFactors(userId: string): Promise<FactorRecord[]> {
    const rows = this.#prepare("SELECT * FROM auth_factors WHERE user_id = ? ORDER BY created_at, id").all(
      userId,
    ) as FactorRow[];
    return rows.map(toFactor);
  }

  async acceptFactorStep(id: string, step: number, at: number): Promise<boolean> {
    return (
      this.#prepare(
        `UPDATE auth_factors SET last_step = @step, status = 'verified', updated_at = @at
         WHERE id = @id AND (last_step IS NULL OR last_step < @step)`,
      ).run({ id, step, at }).changes === 1
    );
  }

  async deleteFactor(id: string): Promise<boolean> {
    return this.#write(() => {
      this.#prepare("DELETE FROM auth_challenges WHERE factor_id = ?").run(id);
      return this.#prepare("DELETE FROM auth_factors WHERE id = ?").run(id).changes === 1;
    });
  }

  async createChallenge(challenge: ChallengeRecord): Promise<void> {
    this.#prepare(INSERT_CHALLENGE).run(challengeRow(challenge));
  }

  async consumeChallenge(id: string): Promise<ChallengeRecord | undefined> {
    const row = this.#prepare("DELETE FROM auth_challenges WHERE id = ? RETURNING *").get(id) as
      | ChallengeRow
      | undefined;
    return row && toChallenge(row);
  }

  async setRecoveryCodes(userId: string, codes: readonly RecoveryCodeRecord[]): Promise<void> {
    const rows = codes.map((c) => recoveryCodeRow(userId, c));
    this.#write(() => {
      this.#prepare("DELETE FROM auth_recovery_codes WHERE user_id = ?").run(userId);
      for (const row of rows) this.#prepare(INSERT_RECOVERY_CODE).run(row);
    });
  }

  async useRecoveryCode(userId: string, codeHash: string, at: number): Promise<boolean> {
    return (
      this.#prepare(
        "UPDATE auth_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
      ).run(at, userId, codeHash).changes === 1
    );
  }

  async countRecoveryCodes(userId: string): Promise<number> {
    const row = this.#prepare(
      "SELECT count(*) AS n FROM auth_recovery_codes WHERE user_id = ? AND used_at IS NULL",
    ).get(userId) as { n: number };
    return row.n;
  }

  async putSigningKey(key: SigningKeyRecord): Promise<void> {
    this.#prepare(INSERT_SIGNING_KEY).run(signingKeyRow(key));
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = this.#prepare(
      "SELECT * FROM auth_signing_keys ORDER BY created_at DESC, kid DESC",
    ).all() as SigningKeyRow[];
    return rows.map(toSigningKey);
  }

  async rotateSigningKey(next: SigningKeyRecord, at: number): Promise<void> {
    this.#write(() => {
      this.#prepare("UPDATE auth_signing_keys SET retired_at = ? WHERE retired_at IS NULL AND kid <> ?").run(
        at,
        next.kid,
      );
      this.#prepare(INSERT_SIGNING_KEY).run(signingKeyRow(next));
    });
  }

  async deleteSigningKeysRetiredBefore(before: number): Promise<number> {
    return this.#prepare("DELETE FROM auth_signing_keys WHERE retired_at < ?").run(before).changes;
  }

  async putMail(mail: MailRecord): Promise<void> {
    this.#prepare(INSERT_MAIL).run(mailRow(mail));
  }

  async listMail(o: { to?: string; limit: number }): Promise<MailRecord[]> {
    // A statement each, with the recipient and without, so that an index serves either.
    const rows = (
      o.to === undefined
        ? this.#prepare("SELECT * FROM auth_mail ORDER BY created_at DESC, seq DESC LIMIT ?").all(o.limit)
        : this.#prepare(
            "SELECT * FROM auth_mail WHERE recipient = ? ORDER BY created_at DESC, seq DESC LIMIT ?",
          ).all(o.to, o.limit)
    ) as MailRow[];
    return rows.map(toMail);
  }

  async deleteMailBefore(before: number): Promise<number> {
    return this.#prepare("DELETE FROM auth_mail WHERE created_at < ?").run(before).changes;
  }

  async putAudits(entries: readonly AuditRecord[]): Promise<void> {
    if (entries.length === 0) return;
    const insert = this.#prepare(INSERT_AUDIT);
    if (entries.length === 1) {
      insert.run(auditRow(entries[0]!));
      return;
    }
    this.#db
      .transaction(() => {
        for (const e of entries) insert.run(auditRow(e));
      })
      .immediate();
  }

  async listAudit(o: { userId?: string; limit: number }): Promise<AuditRecord[]> {
    const rows = (
      o.userId === undefined
        ? this.#prepare("SELECT * FROM auth_audit ORDER BY occurred_at DESC, seq DESC LIMIT ?").all(o.limit)
        : this.#prepare(
            "SELECT * FROM auth_audit WHERE user_id = ? ORDER BY occurred_at DESC, seq DESC LIMIT ?",
          ).all(o.userId, o.limit)
    ) as AuditRow[];
    return rows.map(toAudit);
  }

  async createClient(client: OAuthClientRecord): Promise<boolean> {
    const row = { ...clientRow(client), first_party: client.firstParty ? 1 : 0 };
    return this.#prepare(INSERT_CLIENT).run(row).changes === 1;
  }

  async getClient(clientId: string): Promise<OAuthClientRecord | undefined> {
    const row = this.#prepare("SELECT * FROM auth_clients WHERE client_id = ?").get(clientId) as
      | ClientRow
      | undefined;
    return row && toClient(row);
  }

  async listClients(): Promise<OAuthClientRecord[]> {
    const rows = this.#prepare(
      "SELECT * FROM auth_clients ORDER BY created_at, client_id",
    ).all() as ClientRow[];
    return rows.map(toClient);
  }

  async deleteClient(clientId: string): Promise<boolean> {
    return this.#write(() => {
      this.#prepare("DELETE FROM auth_authorization_codes WHERE client_id = ?").run(clientId);
      return this.#prepare("DELETE FROM auth_clients WHERE client_id = ?").run(clientId).changes === 1;
    });
  }

  async putAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    this.#write(() => {
      this.#prepare("DELETE FROM auth_authorization_codes WHERE expires_at <= ?").run(code.createdAt);
      this.#prepare(INSERT_AUTHORIZATION_CODE).run(authorizationCodeRow(code));
    });
  }

  async consumeAuthorizationCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    const row = this.#prepare(
      "DELETE FROM auth_authorization_codes WHERE code_hash = ? AND consumed_at IS NULL RETURNING *",
    ).get(codeHash) as AuthorizationCodeRow | undefined;
    return row && toAuthorizationCode(row);
  }

  async redeemAuthorizationCode(codeHash: string, at: number): Promise<RedeemOutcome> {
    const live = this.#prepare(
      "UPDATE auth_authorization_codes SET consumed_at = ? WHERE code_hash = ? AND consumed_at IS NULL RETURNING *",
    ).get(at, codeHash) as AuthorizationCodeRow | undefined;
    if (live) return { kind: "redeemed", code: toAuthorizationCode(live) };
    const redeemed = this.#prepare("SELECT * FROM auth_authorization_codes WHERE code_hash = ?").get(
      codeHash,
    ) as AuthorizationCodeRow | undefined;
    return redeemed ? { kind: "replayed", code: toAuthorizationCode(redeemed) } : { kind: "unknown" };
  }
}
