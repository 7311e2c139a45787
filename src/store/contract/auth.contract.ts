/**
 * What the auth service relies on from every store: every record reads back exactly as written
 * (its unset fields undefined, its JSON deep-equal, its epoch ms past 2^32); an email is taken
 * once; a user's deletion takes everything of theirs but the audit log; and what is spent once
 * is spent once however many spend it at the same time: a refresh token (one rotates, the others
 * see reuse), a link, a one-time token, a challenge, an authorization code (one redeems, the
 * others see a replay), a TOTP step, a recovery code. A reissue replaces a session's tokens at
 * once. The inbox and the audit log list newest first.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SessionRecord } from "../../services/auth/model.js";
import type { AuthRepo } from "../../services/auth/repo.js";
import {
  ANN,
  audit,
  BOB,
  challenge,
  code,
  factor,
  fullUser,
  HOUR_MS,
  oneTime,
  race,
  S256_CHALLENGE,
  session,
  signIn,
  T0_S,
  token,
  user,
  wins,
} from "./auth-fixtures.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";

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

  test("a live refresh token rotates once: spent, its successor (same session and user) stored, the session refreshed; again, it is reused", () =>
    withRepo(open, async ({ repo }) => {
      const s = await signIn(repo, "s1", "u1");
      await signIn(repo, "s-other", "u2");
      const at = T0_MS + HOUR_MS;
      const rotated = { kind: "rotated", session: { ...s, refreshedAt: at } };
      assert.deepEqual(await repo.rotateRefreshToken("rt-s1", "rt-2", at), rotated);
      assert.deepEqual(await repo.getSession("s1"), { ...s, refreshedAt: at });
      assert.deepEqual(await repo.getRefreshToken("rt-2"), token("rt-2", s, { createdAt: at }));
      const spent = token("rt-s1", s, { spentAt: at });
      assert.deepEqual(await repo.getRefreshToken("rt-s1"), spent);
      const reused = { kind: "reused", token: spent };
      assert.deepEqual(await repo.rotateRefreshToken("rt-s1", "rt-3", at + 1), reused);
      assert.equal(await repo.getRefreshToken("rt-3"), undefined, "reuse writes nothing");
      assert.equal((await repo.getSession("s1"))?.refreshedAt, at);
      assert.deepEqual(await repo.rotateRefreshToken("unknown", "rt-4", at), { kind: "unknown" });
      assert.equal(await repo.getRefreshToken("rt-4"), undefined);
      // Once the session is gone, its tokens are unknown.
      await repo.deleteSession("s1");
      assert.deepEqual(await repo.rotateRefreshToken("rt-2", "rt-5", at), { kind: "unknown" });
      assert.equal(await repo.getRefreshToken("rt-5"), undefined);
      assert.deepEqual(await repo.getSession("s-other"), session("s-other", "u2"), "another session stays");
    }));

  test("of five rotations of one live token at once, exactly one rotates and the others see it reused", () =>
    withRepo(open, async ({ repo }) => {
      const s = await signIn(repo, "s1", "u1");
      const nexts = [0, 1, 2, 3, 4].map((i) => token(`rt-next-${i}`, s, { createdAt: T0_MS + 100 + i }));
      const outcomes = await Promise.all(
        nexts.map((n) => repo.rotateRefreshToken("rt-s1", n.tokenHash, n.createdAt)),
      );
      const kinds = outcomes.map((o) => o.kind);
      assert.deepEqual([...kinds].sort(), ["reused", "reused", "reused", "reused", "rotated"]);
      const winner = kinds.indexOf("rotated");
      const stored = await Promise.all(nexts.map((n) => repo.getRefreshToken(n.tokenHash)));
      const onlyTheWinners = nexts.map((n, i) => (i === winner ? n : undefined));
      assert.deepEqual(stored, onlyTheWinners);
      assert.equal((await repo.getSession("s1"))?.refreshedAt, T0_MS + 100 + winner);
      assert.equal((await repo.rotateRefreshToken("rt-s1", "late", T0_MS + 200)).kind, "reused");
    }));

  test("a reissue replaces the session and all its refresh tokens at once: the old ones are unknown, not reused; a gone session answers false", () =>
    withRepo(open, async ({ repo }) => {
      const s = await signIn(repo, "s1", "u1");
      const other = await signIn(repo, "s2", "u1");
      assert.equal((await repo.rotateRefreshToken("rt-s1", "rt-live", T0_MS + 1)).kind, "rotated");
      const at = T0_MS + 60_000;
      const amr = [...s.amr, { method: "totp", timestamp: T0_S + 60 }];
      const stepped: SessionRecord = { ...s, aal: "aal2", amr, refreshedAt: at };
      const next = token("rt-aal2", s, { createdAt: at });
      assert.equal(await repo.reissueSession(stepped, next), true);
      assert.deepEqual(await repo.getSession("s1"), stepped);
      assert.deepEqual(await repo.getRefreshToken("rt-aal2"), next);
      for (const old of ["rt-s1", "rt-live"]) {
        assert.equal(await repo.getRefreshToken(old), undefined, old);
        assert.deepEqual(
          await repo.rotateRefreshToken(old, `after-${old}`, at + 1),
          { kind: "unknown" },
          old,
        );
      }
      assert.equal((await repo.rotateRefreshToken("rt-aal2", "rt-after", at + 2)).kind, "rotated");
      assert.deepEqual(await repo.getSession("s2"), other, "the user's other session stays");
      assert.equal((await repo.getRefreshToken("rt-s2"))?.spentAt, undefined);

      const gone = session("gone", "u1");
      assert.equal(await repo.reissueSession(gone, token("rt-gone", gone)), false);
      assert.equal(await repo.getSession("gone"), undefined, "a gone session is not created again");
      assert.equal(await repo.getRefreshToken("rt-gone"), undefined, "nothing written");
      await assert.rejects(repo.reissueSession(s, token("rt-foreign", other)), /session "s1"/);
      assert.equal(await repo.getRefreshToken("rt-foreign"), undefined);
    }));

  test("a reissue racing the session's deletion never leaves a token of a gone session", () =>
    withRepo(open, async ({ repo }) => {
      for (const i of [0, 1, 2, 3, 4]) await signIn(repo, `s${i}`, "u1");
      // Each pair in both orders: the reissue first, then the deletion; the deletion first.
      await Promise.all(
        [0, 1, 2, 3, 4].flatMap((i) => {
          const s = session(`s${i}`, "u1", { aal: "aal2", refreshedAt: T0_MS + 9 });
          const calls = [
            () => repo.reissueSession(s, token(`rt-new-${i}`, s)),
            () => repo.deleteSession(s.id),
          ];
          return (i % 2 === 0 ? calls : calls.reverse()).map((call) => call());
        }),
      );
      assert.deepEqual(await repo.listSessions("u1"), []);
      for (const i of [0, 1, 2, 3, 4]) {
        assert.equal(await repo.getRefreshToken(`rt-new-${i}`), undefined);
        assert.equal(await repo.getRefreshToken(`rt-s${i}`), undefined);
      }
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

  test("an authorization code is redeemed once however many race; then it is a replay, answered with the code, until it expires", () =>
    withRepo(open, async ({ repo }) => {
      const ac = code("ac1", { nonce: "n-0S6_WzA2Mj" });
      await repo.putAuthorizationCode(ac);
      const at = T0_MS + 5;
      const outcomes = await race(() => repo.redeemAuthorizationCode("ac1", at));
      const kinds = outcomes.map((o) => o.kind).sort();
      assert.deepEqual(kinds, ["redeemed", "replayed", "replayed", "replayed", "replayed"]);
      for (const o of outcomes) assert.deepEqual(o.kind === "unknown" ? undefined : o.code, ac);
      assert.deepEqual(await repo.redeemAuthorizationCode("ac1", at + 1), { kind: "replayed", code: ac });
      assert.equal(await repo.consumeAuthorizationCode("ac1"), undefined, "not a PKCE exchange's to take");
      assert.deepEqual(await repo.redeemAuthorizationCode("ac1", at + 2), { kind: "replayed", code: ac });
      assert.deepEqual(await repo.redeemAuthorizationCode("unknown", at), { kind: "unknown" });
      // A code a PKCE exchange consumed is gone.
      await repo.putAuthorizationCode(code("ac2", { clientId: "" }));
      assert.equal((await repo.consumeAuthorizationCode("ac2"))?.codeHash, "ac2");
      assert.deepEqual(await repo.redeemAuthorizationCode("ac2", at), { kind: "unknown" });
    }));

  test("issuing a code deletes the codes, redeemed or not, that expired by its time; unexpired ones stay", () =>
    withRepo(open, async ({ repo }) => {
      const expiry = T0_MS + 60_000;
      for (const c of [code("a"), code("b"), code("c", { expiresAt: expiry + 1 })])
        await repo.putAuthorizationCode(c);
      assert.equal((await repo.redeemAuthorizationCode("b", T0_MS + 1)).kind, "redeemed");
      await repo.putAuthorizationCode(code("d", { createdAt: expiry - 1, expiresAt: expiry + 60_000 }));
      assert.equal((await repo.redeemAuthorizationCode("b", expiry - 1)).kind, "replayed", "not yet expired");
      await repo.putAuthorizationCode(code("e", { createdAt: expiry, expiresAt: expiry + 60_000 }));
      for (const gone of ["a", "b"])
        assert.deepEqual(await repo.redeemAuthorizationCode(gone, expiry), { kind: "unknown" }, gone);
      for (const live of ["c", "d", "e"])
        assert.equal((await repo.consumeAuthorizationCode(live))?.codeHash, live, live);
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
}
