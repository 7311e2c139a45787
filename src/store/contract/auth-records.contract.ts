/**
 * The auth store's other records, on every store: TOTP factors and their challenges, recovery
 * codes, signing keys and their rotation, the development inbox, the audit log, and the OIDC
 * provider's clients with their codes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AuthRepo } from "../../services/auth/repo.js";
import {
  ANN,
  audit,
  BOB,
  challenge,
  client,
  code,
  factor,
  HOUR_MS,
  METADATA,
  mail,
  race,
  signingKey,
  wins,
} from "./auth-fixtures.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";

export function authRecordsContract(open: OpenRepo<AuthRepo>): void {
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
