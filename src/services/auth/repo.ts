/**
 * Auth's storage (SQLite and PostgreSQL, `store/`; one contract suite,
 * `store/contract/auth.contract.ts`). What must not race is one call each: a refresh token is
 * spent once (`rotateRefreshToken` is a compare-and-set), a session's tokens are replaced at
 * once (`reissueSession`), a one-time token is consumed once, an authorization code is redeemed
 * once (a second redemption is told apart), a TOTP step is accepted once, an email is taken once.
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
} from "./model.js";

/** What spending a refresh token found. */
export type RotateOutcome =
  /** It was live: now spent, its successor stored in its place, the session's refreshedAt moved. */
  | { readonly kind: "rotated"; readonly session: SessionRecord }
  /** It was spent before: reuse. Nothing was written; the caller revokes the session. */
  | { readonly kind: "reused"; readonly token: RefreshTokenRecord }
  /** No such token, or its session is gone. */
  | { readonly kind: "unknown" };

/** What redeeming an authorization code found. */
export type RedeemOutcome =
  /** It was live: now marked redeemed (kept until it expires, to catch a second redemption). */
  | { readonly kind: "redeemed"; readonly code: AuthorizationCodeRecord }
  /** It was redeemed before: a replay. Nothing was written; the caller revokes its session. */
  | { readonly kind: "replayed"; readonly code: AuthorizationCodeRecord }
  /** No such code: never issued, or deleted (expired, or taken by `consumeAuthorizationCode`). */
  | { readonly kind: "unknown" };

export interface AuthRepo {
  // Users. Emails are stored lower-cased; lookups take them lower-cased.
  /** Inserts it; false (nothing written) if its id or its email is taken. */
  createUser(user: UserRecord): Promise<boolean>;
  getUser(id: string): Promise<UserRecord | undefined>;
  getUserByEmail(email: string): Promise<UserRecord | undefined>;
  /** Replaces it whole; "missing" if there is none, "email-taken" (nothing written) if another user has its email. */
  updateUser(user: UserRecord): Promise<"updated" | "missing" | "email-taken">;
  /** Deletes the user and everything of theirs (sessions, tokens, factors, codes); false if none. */
  deleteUser(id: string): Promise<boolean>;
  /** Users by creation time (then id), oldest first, `offset` skipped, at most `limit`; and how many there are. */
  listUsers(o: { offset: number; limit: number }): Promise<{ users: UserRecord[]; total: number }>;

  // Sessions and their refresh tokens.
  /**
   * Inserts the session and its first refresh token together; with `signedInAt`, also sets the
   * user's lastSignInAt (a sign-in's writes are one transaction).
   */
  createSession(session: SessionRecord, first: RefreshTokenRecord, signedInAt?: number): Promise<void>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** A user's sessions, newest first. */
  listSessions(userId: string): Promise<SessionRecord[]>;
  /** Replaces it (aal, amr, refreshedAt); false if it is gone. */
  updateSession(session: SessionRecord): Promise<boolean>;
  /** Deletes the session and its refresh tokens; false if none. */
  deleteSession(id: string): Promise<boolean>;
  /** Deletes the user's sessions (but `keep`) and their refresh tokens; how many sessions went. */
  deleteUserSessions(userId: string, keep?: string): Promise<number>;
  /**
   * Replaces the session (aal, amr, refreshedAt) and its refresh tokens by `next` (of the same
   * session), in one transaction: its earlier tokens are gone (unknown, not spent). False
   * (nothing written) if the session is gone.
   */
  reissueSession(session: SessionRecord, next: RefreshTokenRecord): Promise<boolean>;
  /**
   * Spends the token `tokenHash` if it is live, reading it once: marks it spent at `at`, inserts
   * its successor (`nextHash`, same session and user, created at `at`) and sets the session's
   * refreshedAt to `at`, in one transaction. Two callers presenting the same live token: one
   * rotates, the other sees `reused`.
   */
  rotateRefreshToken(tokenHash: string, nextHash: string, at: number): Promise<RotateOutcome>;
  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;

  // One-time tokens (mailed links and codes).
  /** Inserts it, removing the user's earlier tokens of the same purpose (only the newest mail works). */
  putOneTimeToken(token: OneTimeTokenRecord): Promise<void>;
  /** Removes and returns the token whose link hash is `linkHash`; undefined if none (used already). */
  consumeOneTimeLink(linkHash: string): Promise<OneTimeTokenRecord | undefined>;
  /**
   * The newest token sent to `email` for one of `purposes`, if any. The caller compares its code
   * and then either consumes it (`consumeOneTimeToken`) or counts a wrong attempt.
   */
  findOneTimeToken(
    email: string,
    purposes: readonly OneTimePurpose[],
  ): Promise<OneTimeTokenRecord | undefined>;
  /** Removes it; false if it was gone (another request used it first). */
  consumeOneTimeToken(id: string): Promise<boolean>;
  /** Adds one wrong attempt; the count after it (0 if the token is gone). */
  countOneTimeAttempt(id: string): Promise<number>;
  /** Removes tokens that expired before `at`; how many. */
  deleteExpiredOneTimeTokens(at: number): Promise<number>;

  // TOTP factors, their challenges, recovery codes.
  createFactor(factor: FactorRecord): Promise<void>;
  getFactor(id: string): Promise<FactorRecord | undefined>;
  listFactors(userId: string): Promise<FactorRecord[]>;
  /**
   * Accepts the code of step `step` for the factor: sets lastStep (and status `verified`) only
   * if no step at or after it was accepted before. False: replayed or older; nothing written.
   */
  acceptFactorStep(id: string, step: number, at: number): Promise<boolean>;
  deleteFactor(id: string): Promise<boolean>;
  createChallenge(challenge: ChallengeRecord): Promise<void>;
  /** Removes and returns it; undefined if none (used already). */
  consumeChallenge(id: string): Promise<ChallengeRecord | undefined>;
  /** Replaces the user's recovery codes with these. */
  setRecoveryCodes(userId: string, codes: readonly RecoveryCodeRecord[]): Promise<void>;
  /** Marks the unused code used at `at`; false if it is unknown or was used. */
  useRecoveryCode(userId: string, codeHash: string, at: number): Promise<boolean>;
  /** How many of the user's recovery codes are left. */
  countRecoveryCodes(userId: string): Promise<number>;

  // Signing keys.
  putSigningKey(key: SigningKeyRecord): Promise<void>;
  /** Every key, newest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /**
   * Makes `next` the signing key: retires every other unretired key at `at` and inserts `next`,
   * in one transaction.
   */
  rotateSigningKey(next: SigningKeyRecord, at: number): Promise<void>;
  /** Removes keys retired before `before`; how many. */
  deleteSigningKeysRetiredBefore(before: number): Promise<number>;

  // The development inbox.
  putMail(mail: MailRecord): Promise<void>;
  /** Mails, newest first, to `to` when given, at most `limit`. */
  listMail(o: { to?: string; limit: number }): Promise<MailRecord[]>;
  /** Removes mails created before `before`; how many. */
  deleteMailBefore(before: number): Promise<number>;

  // The audit log.
  /** Appends entries in one transaction (the service batches a turn's entries). */
  putAudits(entries: readonly AuditRecord[]): Promise<void>;
  /** Entries, newest first, of one user when given, at most `limit`. */
  listAudit(o: { userId?: string; limit: number }): Promise<AuditRecord[]>;

  // The OIDC provider's clients and codes.
  /** Inserts it; false if its client id is taken. */
  createClient(client: OAuthClientRecord): Promise<boolean>;
  getClient(clientId: string): Promise<OAuthClientRecord | undefined>;
  listClients(): Promise<OAuthClientRecord[]>;
  deleteClient(clientId: string): Promise<boolean>;
  /** Inserts it, and deletes the codes (redeemed or not) that expired at or before its createdAt. */
  putAuthorizationCode(code: AuthorizationCodeRecord): Promise<void>;
  /** Removes and returns it (a Supabase PKCE flow's code); undefined if none or redeemed. */
  consumeAuthorizationCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined>;
  /**
   * Marks the live code redeemed at `at` and answers it; a redeemed one is answered as a replay
   * (nothing written). Two callers with the same live code: one redeems, the other sees a replay.
   */
  redeemAuthorizationCode(codeHash: string, at: number): Promise<RedeemOutcome>;
}
