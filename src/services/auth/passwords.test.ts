import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Argon2Params,
  CURRENT_PASSWORD_PARAMS,
  hashPassword,
  verifyAgainstNothing,
  verifyPassword,
} from "./passwords.js";
import { hashPassword as hashScrypt } from "./scrypt-hash.js";

const CHEAP: Argon2Params = { memoryKiB: 1024, iterations: 1, parallelism: 1 };

test("the default is OWASP's argon2id (m = 19 MiB, t = 2, p = 1), as a PHC string", async () => {
  const stored = await hashPassword("correct horse battery staple");
  assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.deepEqual(await verifyPassword("correct horse battery staple", stored), {
    ok: true,
    needsRehash: false,
  });
});

test("the right password verifies and a wrong one does not", async () => {
  const stored = await hashPassword("s3cret passphrase", CHEAP);
  assert.equal((await verifyPassword("s3cret passphrase", stored, CHEAP)).ok, true);
  assert.equal((await verifyPassword("s3cret passphrasf", stored, CHEAP)).ok, false);
});

test("hashing does not block the event loop", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await Promise.all([hashPassword("one password"), hashPassword("another password")]);
  clearInterval(timer);
  assert.ok(ticks >= 5, `the loop ran ${ticks} times while two hashes ran`);
});

test("a hash made with other parameters verifies and asks for a rehash; a wrong password does not", async () => {
  const stored = await hashPassword("old parameters", CHEAP);
  assert.deepEqual(await verifyPassword("old parameters", stored), { ok: true, needsRehash: true });
  assert.deepEqual(await verifyPassword("other password", stored), { ok: false, needsRehash: false });
});

test("a scrypt hash verifies and asks to be re-hashed with argon2id", async () => {
  const stored = await hashScrypt("from scrypt", { ln: 10, r: 8, p: 1 });
  assert.deepEqual(await verifyPassword("from scrypt", stored), { ok: true, needsRehash: true });
  assert.equal((await verifyPassword("not it", stored)).ok, false);
});

test("passwords are compared after NFKC normalisation", async () => {
  const stored = await hashPassword("ｐａｓｓｗｏｒｄ ﬁve", CHEAP);
  assert.equal((await verifyPassword("password five", stored, CHEAP)).ok, true);
});

test("malformed, foreign or extravagant stored strings fail instead of throwing", async () => {
  for (const stored of [
    "",
    "plain",
    "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA",
    "$argon2id$v=19$m=9999999,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=19$m=1024,t=1,p=1$!!$??",
    "$bcrypt$whatever",
  ]) {
    assert.deepEqual(await verifyPassword("x", stored), { ok: false, needsRehash: false }, stored);
  }
});

test("verifying against nothing always fails, and costs a real verification", async () => {
  assert.deepEqual(await verifyAgainstNothing("anything"), { ok: false, needsRehash: false });
  const real = await hashPassword("anything");
  const t0 = performance.now();
  await verifyPassword("anything", real);
  const known = performance.now() - t0;
  const t1 = performance.now();
  await verifyAgainstNothing("anything");
  const unknown = performance.now() - t1;
  assert.ok(unknown > known / 3, `unknown ${unknown.toFixed(1)} ms vs known ${known.toFixed(1)} ms`);
  assert.equal(CURRENT_PASSWORD_PARAMS.memoryKiB, 19_456);
});
