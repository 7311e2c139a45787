/**
 * Auth's rows as both stores keep them (same columns; a flag is 0/1 in SQLite and a boolean in
 * PostgreSQL) and the records they read as. A row's type is what its record's conversion
 * returns (`UserRow` is `userRow`'s result), so that the columns (`auth-columns.ts`) are written
 * down once. Metadata, a session's `amr`, a client's redirect URIs and an audit entry's detail
 * are JSON text; an optional field set to undefined reads back undefined, present in the record,
 * from either store. Mails and audit entries also have a `seq` (not in their records), their order of
 * arrival, which breaks ties of time.
 */
import type {
  AuditRecord,
  AuthMethod,
  AuthorizationCodeRecord,
  ChallengeRecord,
  FactorRecord,
  MailRecord,
  Metadata,
  OAuthClientRecord,
  OneTimeTokenRecord,
  RecoveryCodeRecord,
  RefreshTokenRecord,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from "../services/auth/model.js";

/** The row of `u`, `is_anonymous` a boolean (`sqlite-auth.ts` binds it as 0/1). */
export function userRow(u: UserRecord) {
  return {
    id: u.id,
    email: u.email ?? null,
    email_confirmed_at: u.emailConfirmedAt ?? null,
    new_email: u.newEmail ?? null,
    password_hash: u.passwordHash ?? null,
    is_anonymous: u.isAnonymous,
    user_metadata: JSON.stringify(u.userMetadata),
    app_metadata: JSON.stringify(u.appMetadata),
    banned_until: u.bannedUntil ?? null,
    last_sign_in_at: u.lastSignInAt ?? null,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  };
}

/** `is_anonymous` reads as 0/1 from SQLite, a boolean from PostgreSQL. */
export type UserRow = Omit<ReturnType<typeof userRow>, "is_anonymous"> & { is_anonymous: number | boolean };

/** Every field present, unset ones as undefined: the same object from either store. */
export function toUser(r: UserRow): UserRecord {
  return {
    id: r.id,
    email: r.email ?? undefined,
    emailConfirmedAt: r.email_confirmed_at ?? undefined,
    newEmail: r.new_email ?? undefined,
    passwordHash: r.password_hash ?? undefined,
    isAnonymous: r.is_anonymous === true || r.is_anonymous === 1,
    userMetadata: JSON.parse(r.user_metadata) as Metadata,
    appMetadata: JSON.parse(r.app_metadata) as Metadata,
    bannedUntil: r.banned_until ?? undefined,
    lastSignInAt: r.last_sign_in_at ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function sessionRow(s: SessionRecord) {
  return {
    id: s.id,
    user_id: s.userId,
    aal: s.aal,
    amr: JSON.stringify(s.amr.map((m) => ({ method: m.method, timestamp: m.timestamp }))),
    user_agent: s.userAgent ?? null,
    ip: s.ip ?? null,
    created_at: s.createdAt,
    refreshed_at: s.refreshedAt,
  };
}

export type SessionRow = ReturnType<typeof sessionRow>;

export function toSession(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    aal: r.aal,
    amr: JSON.parse(r.amr) as AuthMethod[],
    userAgent: r.user_agent ?? undefined,
    ip: r.ip ?? undefined,
    createdAt: r.created_at,
    refreshedAt: r.refreshed_at,
  };
}

export function refreshTokenRow(t: RefreshTokenRecord) {
  return {
    token_hash: t.tokenHash,
    session_id: t.sessionId,
    user_id: t.userId,
    spent_at: t.spentAt ?? null,
    created_at: t.createdAt,
  };
}

export type RefreshTokenRow = ReturnType<typeof refreshTokenRow>;

export function toRefreshToken(r: RefreshTokenRow): RefreshTokenRecord {
  return {
    tokenHash: r.token_hash,
    sessionId: r.session_id,
    userId: r.user_id,
    spentAt: r.spent_at ?? undefined,
    createdAt: r.created_at,
  };
}

/** The row of the token that takes over from `spent` in its session: `tokenHash`, issued at `at`. */
export function successorRow(spent: RefreshTokenRow, tokenHash: string, at: number): RefreshTokenRow {
  const { session_id, user_id } = spent;
  return { token_hash: tokenHash, session_id, user_id, spent_at: null, created_at: at };
}

export function oneTimeTokenRow(t: OneTimeTokenRecord) {
  return {
    id: t.id,
    user_id: t.userId,
    purpose: t.purpose,
    email: t.email,
    link_hash: t.linkHash,
    code_hash: t.codeHash,
    attempts: t.attempts,
    code_challenge: t.codeChallenge ?? null,
    redirect_to: t.redirectTo ?? null,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
  };
}

export type OneTimeTokenRow = ReturnType<typeof oneTimeTokenRow>;

export function toOneTimeToken(r: OneTimeTokenRow): OneTimeTokenRecord {
  return {
    id: r.id,
    userId: r.user_id,
    purpose: r.purpose,
    email: r.email,
    linkHash: r.link_hash,
    codeHash: r.code_hash,
    attempts: r.attempts,
    codeChallenge: r.code_challenge ?? undefined,
    redirectTo: r.redirect_to ?? undefined,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

export function factorRow(f: FactorRecord) {
  return {
    id: f.id,
    user_id: f.userId,
    type: f.type,
    friendly_name: f.friendlyName ?? null,
    secret: f.secret,
    status: f.status,
    last_step: f.lastStep ?? null,
    created_at: f.createdAt,
    updated_at: f.updatedAt,
  };
}

export type FactorRow = ReturnType<typeof factorRow>;

export function toFactor(r: FactorRow): FactorRecord {
  return {
    id: r.id,
    userId: r.user_id,
    type: r.type,
    friendlyName: r.friendly_name ?? undefined,
    secret: r.secret,
    status: r.status,
    lastStep: r.last_step ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function challengeRow(c: ChallengeRecord) {
  return {
    id: c.id,
    factor_id: c.factorId,
    user_id: c.userId,
    created_at: c.createdAt,
    expires_at: c.expiresAt,
  };
}

export type ChallengeRow = ReturnType<typeof challengeRow>;

export function toChallenge(r: ChallengeRow): ChallengeRecord {
  return {
    id: r.id,
    factorId: r.factor_id,
    userId: r.user_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

/** The row of one of `userId`'s codes; a code of another user is a caller's mistake, refused. */
export function recoveryCodeRow(userId: string, c: RecoveryCodeRecord) {
  if (c.userId !== userId)
    throw new Error(
      `cannot set recovery codes of user "${userId}": a code of user "${c.userId}" is among them`,
    );
  return { user_id: c.userId, code_hash: c.codeHash, used_at: c.usedAt ?? null };
}

export type RecoveryCodeRow = ReturnType<typeof recoveryCodeRow>;

export function signingKeyRow(k: SigningKeyRecord) {
  return {
    kid: k.kid,
    alg: k.alg,
    private_jwk: k.privateJwk,
    public_jwk: k.publicJwk,
    created_at: k.createdAt,
    retired_at: k.retiredAt ?? null,
  };
}

export type SigningKeyRow = ReturnType<typeof signingKeyRow>;

export function toSigningKey(r: SigningKeyRow): SigningKeyRecord {
  return {
    kid: r.kid,
    alg: r.alg,
    privateJwk: r.private_jwk,
    publicJwk: r.public_jwk,
    createdAt: r.created_at,
    retiredAt: r.retired_at ?? undefined,
  };
}

export function mailRow(m: MailRecord) {
  return {
    id: m.id,
    recipient: m.to,
    subject: m.subject,
    body_text: m.text,
    body_html: m.html ?? null,
    kind: m.kind,
    created_at: m.createdAt,
  };
}

export type MailRow = ReturnType<typeof mailRow>;

export function toMail(r: MailRow): MailRecord {
  return {
    id: r.id,
    to: r.recipient,
    subject: r.subject,
    text: r.body_text,
    html: r.body_html ?? undefined,
    kind: r.kind,
    createdAt: r.created_at,
  };
}

export function auditRow(a: AuditRecord) {
  return {
    id: a.id,
    user_id: a.userId ?? null,
    action: a.action,
    ip: a.ip ?? null,
    detail: JSON.stringify(a.detail),
    occurred_at: a.at,
  };
}

export type AuditRow = ReturnType<typeof auditRow>;

export function toAudit(r: AuditRow): AuditRecord {
  return {
    id: r.id,
    userId: r.user_id ?? undefined,
    action: r.action,
    ip: r.ip ?? undefined,
    detail: JSON.parse(r.detail) as Metadata,
    at: r.occurred_at,
  };
}

/** The row of `c`, `first_party` a boolean (`sqlite-auth.ts` binds it as 0/1). */
export function clientRow(c: OAuthClientRecord) {
  return {
    client_id: c.clientId,
    secret_hash: c.secretHash ?? null,
    name: c.name,
    redirect_uris: JSON.stringify(c.redirectUris),
    first_party: c.firstParty,
    created_at: c.createdAt,
  };
}

/** `first_party` reads as 0/1 from SQLite, a boolean from PostgreSQL. */
export type ClientRow = Omit<ReturnType<typeof clientRow>, "first_party"> & { first_party: number | boolean };

export function toClient(r: ClientRow): OAuthClientRecord {
  return {
    clientId: r.client_id,
    secretHash: r.secret_hash ?? undefined,
    name: r.name,
    redirectUris: JSON.parse(r.redirect_uris) as string[],
    firstParty: r.first_party === true || r.first_party === 1,
    createdAt: r.created_at,
  };
}

export function authorizationCodeRow(c: AuthorizationCodeRecord) {
  return {
    code_hash: c.codeHash,
    client_id: c.clientId,
    user_id: c.userId,
    session_id: c.sessionId,
    redirect_uri: c.redirectUri,
    scope: c.scope,
    nonce: c.nonce ?? null,
    code_challenge: c.codeChallenge,
    code_challenge_method: c.codeChallengeMethod,
    created_at: c.createdAt,
    expires_at: c.expiresAt,
  };
}

export type AuthorizationCodeRow = ReturnType<typeof authorizationCodeRow>;

export function toAuthorizationCode(r: AuthorizationCodeRow): AuthorizationCodeRecord {
  return {
    codeHash: r.code_hash,
    clientId: r.client_id,
    userId: r.user_id,
    sessionId: r.session_id,
    redirectUri: r.redirect_uri,
    scope: r.scope,
    nonce: r.nonce ?? undefined,
    codeChallenge: r.code_challenge,
    codeChallengeMethod: r.code_challenge_method,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

/** A reissue's token is of the session reissued; another is a caller's mistake, refused. */
export function checkSameSession(sessionId: string, next: RefreshTokenRecord): void {
  if (next.sessionId !== sessionId)
    throw new Error(
      `cannot reissue session "${sessionId}" with a refresh token of session "${next.sessionId}"`,
    );
}
