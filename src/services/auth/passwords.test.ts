import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { HASHING_NICE, PasswordThreads } from "./password-thread.js";
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

test("hashes run on threads of their own, below the platform's scheduling priority", async (t) => {
  if (process.platform !== "linux") return t.skip("thread priorities are read from /proc");
  const threads = new PasswordThreads(2);
  t.after(() => threads.close());
  const options = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 };
  const salt = new Uint8Array(16).fill(7);
  // Two at once: the second finds the first thread busy and starts another.
  const [a, b] = await Promise.all([threads.hash("one", salt, options), threads.hash("one", salt, options)]);
  assert.equal(a, b);
  assert.equal(await threads.verify(a, "one"), true);
  assert.equal(await threads.verify(a, "two"), false);
  const started = await threads.threads();
  assert.equal(started.length, 2);
  for (const { tid, nice } of started) {
    assert.equal(nice, HASHING_NICE);
    // Field 19 of a thread's stat is its nice value, as the kernel schedules it.
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    assert.equal(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]), HASHING_NICE);
  }
  assert.equal(Number(readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1]!.split(" ")[16]), 0);
});

test("a hash the library refuses rejects with its reason, and the thread goes on", async (t) => {
  const threads = new PasswordThreads(1);
  t.after(() => threads.close());
  const options = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 };
  await assert.rejects(threads.hash("x", new Uint8Array(2), options), /salt/i);
  assert.match(await threads.hash("x", new Uint8Array(16), options), /^\$argon2id\$/);
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
  // The fastest of a few of each, interleaved: one sample caught by a busy machine (CI runs
  // suites side by side) made a known verification look four times its cost.
  const timed = async (run: () => Promise<unknown>) => {
    const t = performance.now();
    await run();
    return performance.now() - t;
  };
  let known = Number.POSITIVE_INFINITY;
  let unknown = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 4; i++) {
    known = Math.min(known, await timed(() => verifyPassword("anything", real)));
    unknown = Math.min(unknown, await timed(() => verifyAgainstNothing("anything")));
  }
  assert.ok(unknown > known / 3, `unknown ${unknown.toFixed(1)} ms vs known ${known.toFixed(1)} ms`);
  assert.equal(CURRENT_PASSWORD_PARAMS.memoryKiB, 19_456);
});
