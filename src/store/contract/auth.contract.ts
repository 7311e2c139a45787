/**
 * What the auth service relies on from every store: every record reads back exactly as written
 * (its unset fields undefined, its JSON deep-equal, its epoch ms past 2^32); an email is taken
 * once; a user's deletion takes everything of theirs but the audit log; and what is spent once
 * is spent once however many spend it at the same time: a refresh token (one rotates, the others
 * see reuse), a link, a one-time token, a challenge, an authorization code, a TOTP step, a
 * recovery code. The inbox and the audit log list newest first.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
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
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";

const T0_S = Math.floor(T0_MS / 1000);
const HOUR_MS = 3_600_000;
const ANN = "ann@example.com";
const BOB = "bob@example.com";
const S256_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/** JSON a user could attach: nested, in several scripts, with escapes, NUL and an exact large integer. */
const METADATA = {
  name: "Zoë 📦 Ünits",
  plan: { tier: "pro", seats: 12, ratio: 0.1 + 0.2, tags: ["a", "b_%"], none: null, on: true },
  quoted: 'say "hi" \\ bye',
  nul: "a\u0000b",
  big: 2 ** 53 - 1,
  empty: {},
};

/** An anonymous user made at T0, every optional field unset; `patch` overrides. */
function user(id: string, patch: Partial<UserRecord> = {}): UserRecord {
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
function fullUser(id: string, email: string, patch: Partial<UserRecord> = {}): UserRecord {
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
function session(id: string, userId: string, patch: Partial<SessionRecord> = {}): SessionRecord {
  const amr = [{ method: "password", timestamp: T0_S }];
  const base = { aal: "aal1", amr, userAgent: undefined, ip: undefined } as const;
  return { id, userId, ...base, createdAt: T0_MS, refreshedAt: T0_MS, ...patch };
}

/** The live refresh token `hash` of session `s`, made at T0. */
function token(hash: string, s: SessionRecord, patch: Partial<RefreshTokenRecord> = {}) {
  const { id: sessionId, userId } = s;
  const t: RefreshTokenRecord = { tokenHash: hash, sessionId, userId, spentAt: undefined, createdAt: T0_MS };
  return { ...t, ...patch };
}

/** A session and its first refresh token `rt-<id>`, created. */
async function signIn(repo: AuthRepo, id: string, userId: string): Promise<SessionRecord> {
  const s = session(id, userId);
  await repo.createSession(s, token(`rt-${id}`, s));
  return s;
}

/** A one-time token of u1 sent to ANN at T0, valid an hour, no PKCE; `patch` overrides. */
function oneTime(id: string, purpose: OneTimePurpose, patch: Partial<OneTimeTokenRecord> = {}) {
  const hashes = { linkHash: `link-${id}`, codeHash: `code-${id}`, attempts: 0 };
  const unset = { codeChallenge: undefined, redirectTo: undefined };
  const times = { createdAt: T0_MS, expiresAt: T0_MS + HOUR_MS };
  const t: OneTimeTokenRecord = { id, userId: "u1", purpose, email: ANN, ...hashes, ...unset, ...times };
  return { ...t, ...patch };
}

/** An unverified TOTP factor made at T0; `patch` overrides. */
function factor(id: string, userId: string, patch: Partial<FactorRecord> = {}): FactorRecord {
  const totp = { type: "totp", secret: "JBSWY3DPEHPK3PXP", status: "unverified" } as const;
  const unset = { friendlyName: undefined, lastStep: undefined };
  return { id, userId, ...totp, ...unset, createdAt: T0_MS, updatedAt: T0_MS, ...patch };
}

function challenge(id: string, factorId: string, userId = "u1"): ChallengeRecord {
  return { id, factorId, userId, createdAt: T0_MS, expiresAt: T0_MS + 300_000 };
}

function signingKey(kid: string, createdAt: number, retiredAt?: number): SigningKeyRecord {
  const jwk = (d: object) => JSON.stringify({ kty: "EC", crv: "P-256", kid, x: "eA", y: "eQ", ...d });
  return { kid, alg: "ES256", privateJwk: jwk({ d: "ZA" }), publicJwk: jwk({}), createdAt, retiredAt };
}

function mail(id: string, to: string, createdAt: number, html?: string): MailRecord {
  return { id, to, subject: `Link ${id}`, text: "Open https://x/🔑?t=1", html, kind: "magiclink", createdAt };
}

function audit(id: string, userId: string | undefined, at: number, patch: Partial<AuditRecord> = {}) {
  const a: AuditRecord = { id, userId, action: "login", ip: undefined, detail: {}, at };
  return { ...a, ...patch };
}

function client(clientId: string, patch: Partial<OAuthClientRecord> = {}): OAuthClientRecord {
  const redirectUris = ["https://app.example.com/cb", "http://127.0.0.1:8080/cb?x=ü"];
  const base = { secretHash: undefined, name: "App", redirectUris, firstParty: false };
  return { clientId, ...base, createdAt: T0_MS, ...patch };
}

/** A PKCE (S256) code of u1's session s1 for client `app`, without a nonce; `patch` overrides. */
function code(codeHash: string, patch: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord {
  const pkce = { codeChallenge: S256_CHALLENGE, codeChallengeMethod: "S256" } as const;
  const grant = { redirectUri: "https://app.example.com/cb", scope: "openid email", nonce: undefined };
  const times = { createdAt: T0_MS, expiresAt: T0_MS + 60_000 };
  return { codeHash, clientId: "app", userId: "u1", sessionId: "s1", ...grant, ...pkce, ...times, ...patch };
}

/** `call` five times at once. */
const race = <T>(call: () => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: 5 }, call));
/** How many of `results` won: were true, or not undefined. */
const wins = (results: readonly unknown[]) => results.filter((r) => r !== false && r !== undefined).length;

export function authContract(open: OpenRepo<AuthRepo>): void {
  test("a user reads back as created, every optional field set or none, by id and by email", () =>
    withRepo(open, async ({ repo }) => {
      const [bare, full] = [user("u-bare"), fullUser("u-full", ANN)];
      for (const u of [bare, full]) assert.equal(await repo.createUser(u), true);
      assert.deepEqual(await repo.getUser("u-bare"), bare);
      assert.deepEqual(await repo.getUser("u-full"), full);
      assert.deepEqual(await repo.getUserByEmail(ANN), full);
      assert.equal(await repo.getUserByEmail(`new.${ANN}`), undefined);
    }));

  test("a user whose id or email is taken is not created; any number of users have no email", () =>
    withRepo(open, async ({ repo }) => {
      const ann = fullUser("u1", ANN);
      assert.equal(await repo.createUser(ann), true);
      assert.equal(await repo.createUser(fullUser("u1", BOB)), false);
      assert.equal(await repo.createUser(fullUser("u2", ANN)), false);
      assert.equal(await repo.getUser("u2"), undefined);
      assert.equal(await repo.getUserByEmail(BOB), undefined);
      assert.deepEqual(await repo.getUser("u1"), ann);
      for (const id of ["a1", "a2", "a3"]) assert.equal(await repo.createUser(user(id)), true);
      assert.equal((await repo.listUsers({ offset: 0, limit: 10 })).total, 4);
    }));

  test("updating a user replaces it whole; another user's email is refused, writing nothing", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createUser(user("u1"));
      await repo.createUser(fullUser("u2", BOB));
      const linked = fullUser("u1", ANN, { userMetadata: { theme: "dark" } });
      assert.equal(await repo.updateUser(linked), "updated");
      assert.deepEqual(await repo.getUser("u1"), linked);
      assert.equal(await repo.updateUser({ ...linked, email: BOB, updatedAt: T0_MS + 9 }), "email-taken");
      assert.deepEqual(await repo.getUser("u1"), linked);
      assert.equal(await repo.updateUser(linked), "updated", "its own email is not taken");
      // Unset again, then the freed address is another user's to take.
      assert.equal(await repo.updateUser(user("u1")), "updated");
      assert.deepEqual(await repo.getUser("u1"), user("u1"));
      assert.equal(await repo.updateUser(fullUser("u2", ANN)), "updated");
      assert.deepEqual(await repo.getUserByEmail(ANN), fullUser("u2", ANN));
      assert.equal(await repo.updateUser(user("missing")), "missing");
      assert.equal(await repo.getUser("missing"), undefined);
    }));

  test("users list by creation time then id, oldest first, page by page, with how many there are", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listUsers({ offset: 0, limit: 10 }), { users: [], total: 0 });
      for (const [id, at] of Object.entries({ c: 2, b: 1, a: 2, B: 2, d: 0 }))
        await repo.createUser(user(id, { createdAt: T0_MS + at }));
      const page = async (offset: number, limit: number) => {
        const { users, total } = await repo.listUsers({ offset, limit });
        return [users.map((u) => u.id).join(" "), total];
      };
      assert.deepEqual(await page(0, 10), ["d b B a c", 5]);
      assert.deepEqual(await page(2, 2), ["B a", 5]);
      assert.deepEqual(await page(4, 2), ["c", 5]);
      assert.deepEqual(await page(9, 2), ["", 5]);
      const [b] = (await repo.listUsers({ offset: 1, limit: 1 })).users;
      assert.deepEqual(b, user("b", { createdAt: T0_MS + 1 }));
    }));

  test("deleting a user deletes everything of theirs, not another user's, and keeps the audit log", () =>
    withRepo(open, async ({ repo }) => {
      for (const [id, email] of Object.entries({ u1: ANN, u2: BOB })) {
        await repo.createUser(fullUser(id, email));
        await signIn(repo, `s-${id}`, id);
        await repo.putOneTimeToken(oneTime(`ot-${id}`, "magiclink", { userId: id, email }));
        await repo.createFactor(factor(`f-${id}`, id));
        await repo.createChallenge(challenge(`c-${id}`, `f-${id}`, id));
        await repo.setRecoveryCodes(id, [{ userId: id, codeHash: `rc-${id}`, usedAt: undefined }]);
        await repo.putAuthorizationCode(code(`ac-${id}`, { userId: id, sessionId: `s-${id}` }));
        await repo.putAudits([audit(`au-${id}`, id, T0_MS)]);
      }
      assert.equal(await repo.deleteUser("u1"), true);
      // What of theirs is left, by name.
      const left = async (id: string, email: string) => {
        const found = {
          user: await repo.getUser(id),
          session: (await repo.listSessions(id))[0],
          token: await repo.getRefreshToken(`rt-s-${id}`),
          link: await repo.findOneTimeToken(email, ["magiclink"]),
          factor: (await repo.listFactors(id))[0],
          challenge: await repo.consumeChallenge(`c-${id}`),
          codes: (await repo.countRecoveryCodes(id)) || undefined,
          authorization: await repo.consumeAuthorizationCode(`ac-${id}`),
          audit: (await repo.listAudit({ userId: id, limit: 10 }))[0],
        };
        return Object.entries(found).flatMap(([name, x]) => (x === undefined ? [] : [name]));
      };
      assert.deepEqual(await left("u1", ANN), ["audit"]);
      const all = "user session token link factor challenge codes authorization audit";
      assert.equal((await left("u2", BOB)).join(" "), all);
      assert.equal(await repo.deleteUser("u1"), false);
      assert.equal(await repo.createUser(user("u3", { email: ANN })), true, "the email is free again");
    }));

  test("sessions and refresh tokens read back as created, a user's sessions newest first; an update changes aal, amr and refresh time", () =>
    withRepo(open, async ({ repo }) => {
      const old = await signIn(repo, "s-old", "u1");
      const device = { userAgent: "Mozilla/5.0 (X11; Linux) 🦊", ip: "2001:db8::1" };
      const full = session("s-new", "u1", { ...device, createdAt: T0_MS + 5, refreshedAt: T0_MS + 6 });
      await repo.createSession(full, token("rt-new", full, { spentAt: T0_MS + 7 }));
      await signIn(repo, "s-other", "u2");
      assert.deepEqual(await repo.getSession("s-new"), full);
      assert.deepEqual(await repo.listSessions("u1"), [full, old]);
      assert.deepEqual(await repo.getRefreshToken("rt-new"), token("rt-new", full, { spentAt: T0_MS + 7 }));
      assert.deepEqual(await repo.getRefreshToken("rt-s-old"), token("rt-s-old", old));
      const amr = [...old.amr, { method: "totp", timestamp: T0_S + 60 }];
      const stepped: SessionRecord = { ...old, aal: "aal2", amr, refreshedAt: T0_MS + 60_000 };
      assert.equal(await repo.updateSession(stepped), true);
      assert.deepEqual(await repo.getSession("s-old"), stepped);
      assert.equal(await repo.updateSession(session("missing", "u1")), false);
    }));

  test("a session created with a sign-in time sets the user's last sign-in, nothing else of the user", () =>
    withRepo(open, async ({ repo }) => {
      const u = user("u-signin", { email: "signin@example.com", userMetadata: { a: 1 } });
      assert.equal(await repo.createUser(u), true);
      const s = session("s-signin", u.id);
      await repo.createSession(s, token("rt-signin", s), T0_MS + 42);
      assert.deepEqual(await repo.getUser(u.id), { ...u, lastSignInAt: T0_MS + 42 });
    }));

  test("deleting a session deletes its refresh tokens; deleting a user's sessions keeps the one asked and counts the rest", () =>
    withRepo(open, async ({ repo }) => {
      for (const id of ["s1", "s2", "s3"]) await signIn(repo, id, "u1");
      await signIn(repo, "s4", "u2");
      assert.equal(await repo.deleteSession("s1"), true);
      assert.equal(await repo.getSession("s1"), undefined);
      assert.equal(await repo.getRefreshToken("rt-s1"), undefined);
      assert.equal(await repo.deleteSession("s1"), false);
      assert.equal(await repo.deleteUserSessions("u1", "s3"), 1);
      assert.deepEqual(await repo.listSessions("u1"), [session("s3", "u1")]);
      assert.equal(await repo.getRefreshToken("rt-s2"), undefined);
      assert.equal((await repo.getRefreshToken("rt-s3"))?.sessionId, "s3");
      assert.equal(await repo.deleteUserSessions("u1"), 1);
      assert.deepEqual(await repo.listSessions("u1"), []);
      assert.equal(await repo.getRefreshToken("rt-s3"), undefined);
      assert.equal(await repo.deleteUserSessions("u1"), 0);
      assert.equal((await repo.getRefreshToken("rt-s4"))?.sessionId, "s4", "another user's session stays");
    }));

  test("a live refresh token rotates once: spent, its successor stored, the session refreshed; again, it is reused", () =>
    withRepo(open, async ({ repo }) => {
      const s = await signIn(repo, "s1", "u1");
      const at = T0_MS + HOUR_MS;
      const next = token("rt-2", s, { createdAt: at });
      const rotated = { kind: "rotated", session: { ...s, refreshedAt: at } };
      assert.deepEqual(await repo.rotateRefreshToken("rt-s1", next, at), rotated);
      assert.deepEqual(await repo.getSession("s1"), { ...s, refreshedAt: at });
      assert.deepEqual(await repo.getRefreshToken("rt-2"), next);
      const spent = token("rt-s1", s, { spentAt: at });
      assert.deepEqual(await repo.getRefreshToken("rt-s1"), spent);
      const reused = { kind: "reused", token: spent };
      assert.deepEqual(await repo.rotateRefreshToken("rt-s1", token("rt-3", s), at + 1), reused);
      assert.equal(await repo.getRefreshToken("rt-3"), undefined, "reuse writes nothing");
      assert.equal((await repo.getSession("s1"))?.refreshedAt, at);
      assert.deepEqual(await repo.rotateRefreshToken("unknown", token("rt-4", s), at), { kind: "unknown" });
      // Once the session is gone, its tokens are unknown.
      await repo.deleteSession("s1");
      assert.deepEqual(await repo.rotateRefreshToken("rt-2", token("rt-5", s), at), { kind: "unknown" });
      assert.equal(await repo.getRefreshToken("rt-5"), undefined);
    }));

  test("of five rotations of one live token at once, exactly one rotates and the others see it reused", () =>
    withRepo(open, async ({ repo }) => {
      const s = await signIn(repo, "s1", "u1");
      const nexts = [0, 1, 2, 3, 4].map((i) => token(`rt-next-${i}`, s, { createdAt: T0_MS + 100 + i }));
      const outcomes = await Promise.all(nexts.map((n) => repo.rotateRefreshToken("rt-s1", n, n.createdAt)));
      const kinds = outcomes.map((o) => o.kind);
      assert.deepEqual([...kinds].sort(), ["reused", "reused", "reused", "reused", "rotated"]);
      const winner = kinds.indexOf("rotated");
      const stored = await Promise.all(nexts.map((n) => repo.getRefreshToken(n.tokenHash)));
      const onlyTheWinners = nexts.map((n, i) => (i === winner ? n : undefined));
      assert.deepEqual(stored, onlyTheWinners);
      assert.equal((await repo.getSession("s1"))?.refreshedAt, T0_MS + 100 + winner);
      assert.equal((await repo.rotateRefreshToken("rt-s1", token("late", s), T0_MS + 200)).kind, "reused");
    }));

  test("one-time tokens read back, the newest for an email and purposes; a new one replaces the user's earlier of its purpose", () =>
    withRepo(open, async ({ repo }) => {
      const first = oneTime("t1", "magiclink");
      const pkce = { codeChallenge: S256_CHALLENGE, redirectTo: "https://a.example/r?x=ü" };
      const full = oneTime("t2", "recovery", { ...pkce, createdAt: T0_MS + 1 });
      const change = oneTime("t3", "email_change", { email: "new@example.com", createdAt: T0_MS + 2 });
      for (const t of [first, full, change]) await repo.putOneTimeToken(t);
      assert.deepEqual(await repo.findOneTimeToken(ANN, ["magiclink"]), first);
      assert.deepEqual(await repo.findOneTimeToken(ANN, ["magiclink", "recovery"]), full);
      assert.deepEqual(await repo.findOneTimeToken("new@example.com", ["email_change", "signup"]), change);
      assert.equal(await repo.findOneTimeToken(ANN, ["signup", "invite"]), undefined);
      assert.equal(await repo.findOneTimeToken(ANN, []), undefined);
      assert.equal(await repo.findOneTimeToken(BOB, ["magiclink"]), undefined);
      // Only the newest mail works: the earlier magic link goes, the recovery token stays.
      const again = oneTime("t4", "magiclink", { createdAt: T0_MS + 5 });
      await repo.putOneTimeToken(again);
      await repo.putOneTimeToken(oneTime("t5", "magiclink", { userId: "u2", email: BOB }));
      assert.equal(await repo.consumeOneTimeLink("link-t1"), undefined);
      assert.deepEqual(await repo.findOneTimeToken(ANN, ["magiclink"]), again);
      assert.deepEqual(await repo.consumeOneTimeLink("link-t2"), full);
      assert.equal((await repo.findOneTimeToken(BOB, ["magiclink"]))?.id, "t5");
    }));

  test("a link, a one-time token by id, a challenge and an authorization code are each consumed once, however many race", () =>
    withRepo(open, async ({ repo }) => {
      const link = oneTime("t1", "magiclink");
      const typed = oneTime("t2", "signup", { userId: "u2", email: BOB });
      const [c, ac] = [challenge("c1", "f1"), code("ac1", { nonce: "n-0S6_WzA2Mj" })];
      for (const t of [link, typed]) await repo.putOneTimeToken(t);
      await repo.createChallenge(c);
      await repo.putAuthorizationCode(ac);
      assert.deepEqual((await race(() => repo.consumeOneTimeLink("link-t1"))).filter(Boolean), [link]);
      assert.equal(wins(await race(() => repo.consumeOneTimeToken("t2"))), 1);
      assert.deepEqual((await race(() => repo.consumeChallenge("c1"))).filter(Boolean), [c]);
      assert.deepEqual((await race(() => repo.consumeAuthorizationCode("ac1"))).filter(Boolean), [ac]);
      assert.equal(await repo.findOneTimeToken(BOB, ["signup"]), undefined);
      assert.equal(await repo.consumeOneTimeToken("t2"), false);
      assert.equal(await repo.consumeOneTimeLink("link-t1"), undefined);
    }));

  test("wrong attempts are counted on a one-time token; expired tokens are deleted by time", () =>
    withRepo(open, async ({ repo }) => {
      await repo.putOneTimeToken(oneTime("t1", "magiclink", { expiresAt: T0_MS + 10 }));
      await repo.putOneTimeToken(oneTime("t2", "magiclink", { userId: "u2", email: BOB }));
      assert.equal(await repo.countOneTimeAttempt("t1"), 1);
      const counts = await Promise.all([1, 2, 3].map(() => repo.countOneTimeAttempt("t1")));
      assert.deepEqual(counts.sort(), [2, 3, 4]);
      assert.equal((await repo.findOneTimeToken(ANN, ["magiclink"]))?.attempts, 4);
      assert.equal(await repo.countOneTimeAttempt("missing"), 0);
      assert.equal(await repo.deleteExpiredOneTimeTokens(T0_MS + 10), 0, "not before it expired");
      assert.equal(await repo.deleteExpiredOneTimeTokens(T0_MS + 11), 1);
      assert.equal(await repo.countOneTimeAttempt("t1"), 0);
      assert.equal((await repo.findOneTimeToken(BOB, ["magiclink"]))?.id, "t2");
    }));

  test("a factor reads back as created; a TOTP step is accepted once and only forward, also when raced", () =>
    withRepo(open, async ({ repo }) => {
      const step = 59_869_441;
      const bare = factor("f1", "u1");
      const full = factor("f2", "u1", { friendlyName: "Phone 📱", status: "verified", lastStep: step });
      for (const f of [bare, full]) await repo.createFactor(f);
      assert.deepEqual(await repo.getFactor("f1"), bare);
      assert.deepEqual(await repo.listFactors("u1"), [bare, full]);
      assert.equal(await repo.acceptFactorStep("f1", step, T0_MS + 30_000), true);
      const verified = { ...bare, status: "verified", lastStep: step, updatedAt: T0_MS + 30_000 };
      assert.deepEqual(await repo.getFactor("f1"), verified);
      assert.equal(await repo.acceptFactorStep("f1", step, T0_MS + 31_000), false, "the same step again");
      assert.equal(await repo.acceptFactorStep("f1", step - 1, T0_MS + 31_000), false, "an older step");
      assert.deepEqual(await repo.getFactor("f1"), verified);
      assert.equal(await repo.acceptFactorStep("f2", step, T0_MS), false);
      assert.equal(wins(await race(() => repo.acceptFactorStep("f1", step + 1, T0_MS + 60_000))), 1);
      assert.equal((await repo.getFactor("f1"))?.lastStep, step + 1);
      assert.equal(await repo.acceptFactorStep("missing", step, T0_MS), false);
    }));

  test("deleting a factor deletes its challenges, not another factor's", () =>
    withRepo(open, async ({ repo }) => {
      for (const id of ["f1", "f2"]) await repo.createFactor(factor(id, "u1"));
      for (const [id, factorId] of Object.entries({ c1: "f1", c2: "f2" }))
        await repo.createChallenge(challenge(id, factorId));
      assert.equal(await repo.deleteFactor("f1"), true);
      assert.equal(await repo.getFactor("f1"), undefined);
      assert.equal(await repo.consumeChallenge("c1"), undefined);
      assert.deepEqual(await repo.consumeChallenge("c2"), challenge("c2", "f2"));
      assert.deepEqual(await repo.listFactors("u1"), [factor("f2", "u1")]);
      assert.equal(await repo.deleteFactor("f1"), false);
    }));

  test("a recovery code is used once; setting codes replaces the user's; the count is of those left", () =>
    withRepo(open, async ({ repo }) => {
      const codes = (userId: string, hashes: string) =>
        hashes.split(" ").map((codeHash) => ({ userId, codeHash, usedAt: undefined }));
      await repo.setRecoveryCodes("u1", codes("u1", "a b c"));
      await repo.setRecoveryCodes("u2", codes("u2", "a"));
      assert.equal(await repo.countRecoveryCodes("u1"), 3);
      assert.equal(wins(await race(() => repo.useRecoveryCode("u1", "a", T0_MS))), 1);
      assert.equal(await repo.useRecoveryCode("u1", "a", T0_MS + 1), false);
      assert.equal(await repo.useRecoveryCode("u1", "unknown", T0_MS), false);
      assert.equal(await repo.countRecoveryCodes("u1"), 2);
      assert.equal(await repo.countRecoveryCodes("u2"), 1, "another user's same code is theirs");
      await repo.setRecoveryCodes("u1", codes("u1", "x a"));
      assert.equal(await repo.countRecoveryCodes("u1"), 2);
      assert.equal(await repo.useRecoveryCode("u1", "b", T0_MS), false, "a replaced code is gone");
      assert.equal(await repo.useRecoveryCode("u1", "a", T0_MS), true, "a code set again is new");
      await repo.setRecoveryCodes("u1", []);
      assert.equal(await repo.countRecoveryCodes("u1"), 0);
      assert.equal(await repo.countRecoveryCodes("nobody"), 0);
    }));

  test("rotating the signing key retires every other at that time; keys list newest first; retired ones are pruned by time", () =>
    withRepo(open, async ({ repo }) => {
      const k1 = signingKey("k1", T0_MS);
      await repo.putSigningKey(k1);
      assert.deepEqual(await repo.listSigningKeys(), [k1]);
      await repo.rotateSigningKey(signingKey("k2", T0_MS + HOUR_MS), T0_MS + HOUR_MS);
      const k3 = signingKey("k3", T0_MS + 2 * HOUR_MS);
      await repo.rotateSigningKey(k3, T0_MS + 2 * HOUR_MS);
      const retired1 = signingKey("k1", T0_MS, T0_MS + HOUR_MS);
      const retired2 = signingKey("k2", T0_MS + HOUR_MS, T0_MS + 2 * HOUR_MS);
      assert.deepEqual(await repo.listSigningKeys(), [k3, retired2, retired1]);
      assert.equal(await repo.deleteSigningKeysRetiredBefore(T0_MS + HOUR_MS), 0, "none retired before");
      assert.equal(await repo.deleteSigningKeysRetiredBefore(T0_MS + HOUR_MS + 1), 1);
      assert.deepEqual(await repo.listSigningKeys(), [k3, retired2]);
      const yearLater = T0_MS + 365 * 24 * HOUR_MS;
      assert.equal(await repo.deleteSigningKeysRetiredBefore(yearLater), 1, "never the signing key");
      assert.deepEqual(await repo.listSigningKeys(), [k3]);
    }));

  test("mail lists newest first (arrival order within a millisecond), to one address when given, at most the limit", () =>
    withRepo(open, async ({ repo }) => {
      const m1 = mail("m1", ANN, T0_MS, "<p>Open <a href='https://x/🔑'>it</a></p>");
      const [m2, m3] = [mail("m2", BOB, T0_MS + 5), mail("m3", ANN, T0_MS + 5)];
      const m0 = mail("m0", ANN, T0_MS - 5);
      for (const m of [m1, m2, m3, m0]) await repo.putMail(m);
      assert.deepEqual(await repo.listMail({ limit: 10 }), [m3, m2, m1, m0]);
      assert.deepEqual(await repo.listMail({ limit: 2 }), [m3, m2]);
      assert.deepEqual(await repo.listMail({ to: ANN, limit: 10 }), [m3, m1, m0]);
      assert.equal(await repo.deleteMailBefore(T0_MS + 5), 2);
      assert.deepEqual(await repo.listMail({ limit: 10 }), [m3, m2]);
    }));

  test("the audit log lists newest first (arrival order within a millisecond), one user's when given, at most the limit", () =>
    withRepo(open, async ({ repo }) => {
      const a1 = audit("a1", "u1", T0_MS, { action: "user_signedup", ip: "203.0.113.7", detail: METADATA });
      const a2 = audit("a2", undefined, T0_MS + 1, { action: "login_failed", detail: { to: "x@y" } });
      const [a3, a4] = [audit("a3", "u1", T0_MS + 1), audit("a4", "u1", T0_MS + 1, { action: "logout" })];
      await repo.putAudits([a1, a2]);
      for (const a of [a3, a4]) await repo.putAudits([a]);
      assert.deepEqual(await repo.listAudit({ limit: 10 }), [a4, a3, a2, a1]);
      assert.deepEqual(await repo.listAudit({ userId: "u1", limit: 10 }), [a4, a3, a1]);
      assert.deepEqual(await repo.listAudit({ userId: "u1", limit: 2 }), [a4, a3]);
      assert.deepEqual(await repo.listAudit({ userId: "u2", limit: 10 }), []);
    }));

  test("a client is created once, listed oldest first, and deleted with its authorization codes", () =>
    withRepo(open, async ({ repo }) => {
      const pub = client("app");
      const secret = { secretHash: "5e88489", name: "Service ⚙️", redirectUris: [], firstParty: true };
      const conf = client("svc", { ...secret, createdAt: T0_MS - 1 });
      for (const c of [pub, conf]) assert.equal(await repo.createClient(c), true);
      assert.equal(await repo.createClient(client("app", { name: "Other" })), false);
      assert.deepEqual(await repo.getClient("app"), pub);
      assert.deepEqual(await repo.getClient("svc"), conf);
      assert.deepEqual(await repo.listClients(), [conf, pub]);
      const plain = code("ac1", { nonce: "n-0S6", codeChallengeMethod: "plain", codeChallenge: "verifier" });
      await repo.putAuthorizationCode(plain);
      assert.deepEqual(await repo.consumeAuthorizationCode("ac1"), plain);
      await repo.putAuthorizationCode(plain);
      await repo.putAuthorizationCode(code("ac2", { clientId: "svc" }));
      assert.equal(await repo.deleteClient("app"), true);
      assert.equal(await repo.getClient("app"), undefined);
      assert.equal(await repo.consumeAuthorizationCode("ac1"), undefined);
      assert.deepEqual(await repo.consumeAuthorizationCode("ac2"), code("ac2", { clientId: "svc" }));
      assert.equal(await repo.deleteClient("app"), false);
      assert.deepEqual(await repo.listClients(), [conf]);
    }));
}
