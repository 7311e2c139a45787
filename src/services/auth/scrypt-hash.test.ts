import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CURRENT_SCRYPT_PARAMS,
  DUMMY_HASH,
  hashPassword,
  parseScryptHash,
  type ScryptParams,
  verifyAgainstNothing,
  verifyPassword,
} from "./scrypt-hash.js";

/** 1 MiB and a few milliseconds a hash: the tests' setting. */
const CHEAP: ScryptParams = { ln: 10, r: 8, p: 1 };
const PHC_SHAPE = /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

test("a hash is a PHC string with its parameters, a 16-byte salt and a 32-byte key, unpadded", async () => {
  const stored = await hashPassword("correct horse battery staple", CHEAP);
  assert.match(stored, PHC_SHAPE);
  const parsed = parseScryptHash(stored);
  assert.deepEqual(parsed?.params, CHEAP);
  assert.equal(parsed?.salt.length, 16);
  assert.equal(parsed?.hash.length, 32);
});

test("the default parameters are OWASP's (N = 2^17, r = 8, p = 1) and hash without blocking the event loop", async () => {
  assert.deepEqual(CURRENT_SCRYPT_PARAMS, { ln: 17, r: 8, p: 1 });
  let loopRan = false;
  setImmediate(() => {
    loopRan = true;
  });
  const stored = await hashPassword("correct horse battery staple");
  assert.match(stored, /^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.ok(loopRan, "the event loop turned while scrypt ran on the thread pool");
});

test("the right password verifies and a wrong one does not", async () => {
  const stored = await hashPassword("correct horse battery staple", CHEAP);
  assert.deepEqual(await verifyPassword("correct horse battery staple", stored, CHEAP), {
    ok: true,
    needsRehash: false,
  });
  assert.deepEqual(await verifyPassword("correct horse battery stapler", stored, CHEAP), {
    ok: false,
    needsRehash: false,
  });
  assert.equal((await verifyPassword("", stored, CHEAP)).ok, false);
});

test("the same password hashes differently each time (a fresh salt)", async () => {
  const [a, b] = await Promise.all([
    hashPassword("hunter2hunter2", CHEAP),
    hashPassword("hunter2hunter2", CHEAP),
  ]);
  assert.notEqual(a, b);
  assert.equal((await verifyPassword("hunter2hunter2", a, CHEAP)).ok, true);
  assert.equal((await verifyPassword("hunter2hunter2", b, CHEAP)).ok, true);
});

test("a hash made with other parameters verifies and asks for a rehash", async () => {
  const stored = await hashPassword("correct horse battery staple", CHEAP);
  const current: ScryptParams = { ln: 11, r: 8, p: 1 };
  assert.deepEqual(await verifyPassword("correct horse battery staple", stored, current), {
    ok: true,
    needsRehash: true,
  });
  // A wrong password never asks for a rehash: there is nothing to re-hash.
  assert.deepEqual(await verifyPassword("wrong", stored, current), { ok: false, needsRehash: false });
});

test("a PHC string from another scrypt implementation verifies (RFC 7914's test vector)", async () => {
  // RFC 7914 section 12: P = "password", S = "NaCl", N = 1024, r = 8, p = 16, dkLen = 64.
  const salt = Buffer.from("NaCl").toString("base64").replace(/=+$/, "");
  const key = Buffer.from(
    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162" +
      "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
    "hex",
  )
    .toString("base64")
    .replace(/=+$/, "");
  const stored = `$scrypt$ln=10,r=8,p=16$${salt}$${key}`;
  assert.deepEqual(await verifyPassword("password", stored, CHEAP), { ok: true, needsRehash: true });
  assert.equal((await verifyPassword("Password", stored, CHEAP)).ok, false);
});

test("passwords are compared after NFKC normalisation, on both sides", async () => {
  // "ﬁ" (U+FB01, a ligature) is "fi" under NFKC; "é" composed and decomposed are one.
  const stored = await hashPassword("ﬁle café secret", CHEAP);
  assert.equal((await verifyPassword("file cafe\u0301 secret", stored, CHEAP)).ok, true);
  assert.equal((await verifyPassword("file cafe secret", stored, CHEAP)).ok, false);
});

test("malformed or foreign stored strings fail verification instead of throwing", async () => {
  const good = await hashPassword("correct horse battery staple", CHEAP);
  const [, , , salt, hash] = good.split("$");
  const cases = [
    "",
    "not a hash",
    "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", // bcrypt
    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
    `$scrypt$ln=10,r=8,p=1$${salt}`, // no hash
    `$scrypt$ln=10,r=8$${salt}$${hash}`, // a parameter missing
    `$scrypt$ln=10,r=8,p=1$${salt}$${hash}$`,
    `$scrypt$ln=10,r=8,p=1$${salt}$${hash}==`, // padded
    `$scrypt$ln=10,r=8,p=1$${salt}$${hash!.slice(0, -1)}`, // cut short
    `$scrypt$ln=10,r=8,p=1$${salt}$${hash!.slice(0, 21)}`, // a 16-byte key is fine, 15 is not
    `$scrypt$ln=10,r=8,p=1$!!!!$${hash}`,
    `$scrypt$ln=0,r=8,p=1$${salt}$${hash}`,
    `$scrypt$ln=30,r=8,p=1$${salt}$${hash}`, // 128 GiB: refused before any work
    `$scrypt$ln=20,r=8,p=1$${salt}$${hash}`, // 1 GiB: over the memory bound
    `$scrypt$ln=10,r=0,p=1$${salt}$${hash}`,
    `$scrypt$ln=10,r=8,p=99$${salt}$${hash}`,
    ` ${good}`,
  ];
  for (const stored of cases) {
    assert.deepEqual(
      await verifyPassword("correct horse battery staple", stored, CHEAP),
      { ok: false, needsRehash: false },
      stored,
    );
  }
  assert.deepEqual(await verifyPassword("x", undefined as unknown as string, CHEAP), {
    ok: false,
    needsRehash: false,
  });
});

test("the dummy hash has the current parameters, so verifying against it costs a real check", () => {
  const parsed = parseScryptHash(DUMMY_HASH);
  assert.deepEqual(parsed?.params, CURRENT_SCRYPT_PARAMS);
  assert.equal(parsed?.salt.length, 16);
  assert.equal(parsed?.hash.length, 32);
});

test("verifying against nothing always fails, whatever the password", async () => {
  for (const password of ["", "password", "correct horse battery staple"]) {
    assert.deepEqual(await verifyAgainstNothing(password, CHEAP), { ok: false, needsRehash: false });
  }
});

test("hashing refuses parameters outside the supported range", async () => {
  await assert.rejects(hashPassword("x", { ln: 0, r: 8, p: 1 }), RangeError);
  await assert.rejects(hashPassword("x", { ln: 10.5, r: 8, p: 1 }), RangeError);
  await assert.rejects(hashPassword("x", { ln: 21, r: 8, p: 1 }), /ln must be an integer from 1 to 20/);
});
