/** Records the auth contract suites build: each made at T0 with its optional fields unset unless patched. */
import type {
  AuditRecord,
  AuthorizationCodeRecord,
  ChallengeRecord,
  FactorRecord,
  MailRecord,
  OAuthClientRecord,
  OneTimePurpose,
  OneTimeTokenRecord,
  RefreshTokenRecord,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from "../../services/auth/model.js";
import type { AuthRepo } from "../../services/auth/repo.js";
import { T0_MS } from "./harness.js";

export const T0_S = Math.floor(T0_MS / 1000);
export const HOUR_MS = 3_600_000;
export const ANN = "ann@example.com";
export const BOB = "bob@example.com";
export const S256_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/** JSON a user could attach: nested, in several scripts, with escapes, NUL and an exact large integer. */
export const METADATA = {
  name: "Zoë 📦 Ünits",
  plan: { tier: "pro", seats: 12, ratio: 0.1 + 0.2, tags: ["a", "b_%"], none: null, on: true },
  quoted: 'say "hi" \\ bye',
  nul: "a\u0000b",
  big: 2 ** 53 - 1,
  empty: {},
};

/** An anonymous user made at T0, every optional field unset; `patch` overrides. */
export function user(id: string, patch: Partial<UserRecord> = {}): UserRecord {
  return {
    id,
    email: undefined,
    emailConfirmedAt: undefined,
    newEmail: undefined,
    passwordHash: undefined,
    isAnonymous: true,
    userMetadata: {},
    appMetadata: {},
    bannedUntil: undefined,
    lastSignInAt: undefined,
    createdAt: T0_MS,
    updatedAt: T0_MS,
    ...patch,
  };
}

/** A user of `email` with every optional field set. */
export function fullUser(id: string, email: string, patch: Partial<UserRecord> = {}): UserRecord {
  return user(id, {
    email,
    emailConfirmedAt: T0_MS + 1,
    newEmail: `new.${email}`,
    passwordHash: "$scrypt$ln=17,r=8,p=1$c2FsdA$aGFzaA",
    isAnonymous: false,
    userMetadata: METADATA,
    appMetadata: { provider: "email", roles: ["admin"] },
    bannedUntil: T0_MS + 24 * HOUR_MS,
    lastSignInAt: T0_MS + 2,
    updatedAt: T0_MS + 3,
    ...patch,
  });
}

/** A session of `userId` opened at T0 by password, no device known; `patch` overrides. */
export function session(id: string, userId: string, patch: Partial<SessionRecord> = {}): SessionRecord {
  const amr = [{ method: "password", timestamp: T0_S }];
  const base = { aal: "aal1", amr, userAgent: undefined, ip: undefined } as const;
  return { id, userId, ...base, createdAt: T0_MS, refreshedAt: T0_MS, ...patch };
}

/** The live refresh token `hash` of session `s`, made at T0. */
export function token(hash: string, s: SessionRecord, patch: Partial<RefreshTokenRecord> = {}) {
  const { id: sessionId, userId } = s;
  const t: RefreshTokenRecord = { tokenHash: hash, sessionId, userId, spentAt: undefined, createdAt: T0_MS };
  return { ...t, ...patch };
}

/** A session and its first refresh token `rt-<id>`, created. */
export async function signIn(repo: AuthRepo, id: string, userId: string): Promise<SessionRecord> {
  const s = session(id, userId);
  await repo.createSession(s, token(`rt-${id}`, s));
  return s;
}

/** A one-time token of u1 sent to ANN at T0, valid an hour, no PKCE; `patch` overrides. */
export function oneTime(id: string, purpose: OneTimePurpose, patch: Partial<OneTimeTokenRecord> = {}) {
  const hashes = { linkHash: `link-${id}`, codeHash: `code-${id}`, attempts: 0 };
  const unset = { codeChallenge: undefined, redirectTo: undefined };
  const times = { createdAt: T0_MS, expiresAt: T0_MS + HOUR_MS };
  const t: OneTimeTokenRecord = { id, userId: "u1", purpose, email: ANN, ...hashes, ...unset, ...times };
  return { ...t, ...patch };
}

/** An unverified TOTP factor made at T0; `patch` overrides. */
export function factor(id: string, userId: string, patch: Partial<FactorRecord> = {}): FactorRecord {
  const totp = { type: "totp", secret: "JBSWY3DPEHPK3PXP", status: "unverified" } as const;
  const unset = { friendlyName: undefined, lastStep: undefined };
  return { id, userId, ...totp, ...unset, createdAt: T0_MS, updatedAt: T0_MS, ...patch };
}

export function challenge(id: string, factorId: string, userId = "u1"): ChallengeRecord {
  return { id, factorId, userId, createdAt: T0_MS, expiresAt: T0_MS + 300_000 };
}

export function signingKey(kid: string, createdAt: number, retiredAt?: number): SigningKeyRecord {
  const jwk = (d: object) => JSON.stringify({ kty: "EC", crv: "P-256", kid, x: "eA", y: "eQ", ...d });
  return { kid, alg: "ES256", privateJwk: jwk({ d: "ZA" }), publicJwk: jwk({}), createdAt, retiredAt };
}

export function mail(id: string, to: string, createdAt: number, html?: string): MailRecord {
  return { id, to, subject: `Link ${id}`, text: "Open https://x/🔑?t=1", html, kind: "magiclink", createdAt };
}

export function audit(id: string, userId: string | undefined, at: number, patch: Partial<AuditRecord> = {}) {
  const a: AuditRecord = { id, userId, action: "login", ip: undefined, detail: {}, at };
  return { ...a, ...patch };
}

export function client(clientId: string, patch: Partial<OAuthClientRecord> = {}): OAuthClientRecord {
  const redirectUris = ["https://app.example.com/cb", "http://127.0.0.1:8080/cb?x=ü"];
  const base = { secretHash: undefined, name: "App", redirectUris, firstParty: false };
  return { clientId, ...base, createdAt: T0_MS, ...patch };
}

/** A PKCE (S256) code of u1's session s1 for client `app`, without a nonce; `patch` overrides. */
export function code(
  codeHash: string,
  patch: Partial<AuthorizationCodeRecord> = {},
): AuthorizationCodeRecord {
  const pkce = { codeChallenge: S256_CHALLENGE, codeChallengeMethod: "S256" } as const;
  const grant = { redirectUri: "https://app.example.com/cb", scope: "openid email", nonce: undefined };
  const times = { createdAt: T0_MS, expiresAt: T0_MS + 60_000 };
  return { codeHash, clientId: "app", userId: "u1", sessionId: "s1", ...grant, ...pkce, ...times, ...patch };
}

/** `call` five times at once. */
export const race = <T>(call: () => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: 5 }, call));
/** How many of `results` won: were true, or not undefined. */
export const wins = (results: readonly unknown[]) =>
  results.filter((r) => r !== false && r !== undefined).length;
