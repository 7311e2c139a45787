import assert from "node:assert/strict";
import { test } from "node:test";
import {
  base32Decode,
  base32Encode,
  generateSecret,
  otpauthUri,
  stepOf,
  totpAt,
  verifyTotp,
} from "./totp.js";

/** RFC 6238 appendix B's SHA-1 key: the ASCII bytes of "12345678901234567890". */
const RFC_KEY = Buffer.from("12345678901234567890", "ascii");
const RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

test("RFC 4648's base32 test vectors encode without padding and decode back", () => {
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "MY"],
    ["fo", "MZXQ"],
    ["foo", "MZXW6"],
    ["foob", "MZXW6YQ"],
    ["fooba", "MZXW6YTB"],
    ["foobar", "MZXW6YTBOI"],
  ];
  for (const [plain, encoded] of vectors) {
    assert.equal(base32Encode(Buffer.from(plain)), encoded);
    assert.equal(Buffer.from(base32Decode(encoded)).toString(), plain);
  }
  assert.equal(base32Encode(RFC_KEY), RFC_SECRET);
});

test("base32 decoding takes what a person types: lower case, spaces, padding", () => {
  assert.equal(Buffer.from(base32Decode("mzxw 6ytb oi======")).toString(), "foobar");
  assert.throws(() => base32Decode("MZXW1"), /invalid base32 character "1"; expected A-Z or 2-7/);
});

test("a generated secret is 20 random bytes as 32 base32 characters", () => {
  const a = generateSecret();
  const b = generateSecret();
  assert.match(a, /^[A-Z2-7]{32}$/);
  assert.equal(base32Decode(a).length, 20);
  assert.notEqual(a, b);
});

test("the step is the number of whole 30-second periods since the epoch", () => {
  assert.equal(stepOf(0), 0);
  assert.equal(stepOf(29_999), 0);
  assert.equal(stepOf(30_000), 1);
  assert.equal(stepOf(59_000), 1);
  assert.equal(stepOf(1_111_111_109_000), 37_037_036);
});

test("RFC 6238's SHA-1 test vectors give their 8-digit codes", () => {
  const vectors: [number, string][] = [
    [59, "94287082"],
    [1_111_111_109, "07081804"],
    [1_111_111_111, "14050471"],
    [1_234_567_890, "89005924"],
    [2_000_000_000, "69279037"],
    [20_000_000_000, "65353130"],
  ];
  for (const [seconds, code] of vectors) {
    assert.equal(totpAt(RFC_KEY, stepOf(seconds * 1000), 8), code, `T = ${seconds}`);
    assert.equal(totpAt(RFC_SECRET, stepOf(seconds * 1000), 8), code, `T = ${seconds}, base32 secret`);
  }
});

test("RFC 4226's HOTP test vectors give their 6-digit codes (counters 0 to 9)", () => {
  const codes = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
  ];
  for (const [counter, code] of codes.entries())
    assert.equal(totpAt(RFC_SECRET, counter), code, `counter ${counter}`);
});

test("a code is accepted in its own step and one step either side, and the matched step is returned", () => {
  const now = 1_700_000_000_000;
  const step = stepOf(now);
  assert.equal(verifyTotp(RFC_SECRET, totpAt(RFC_SECRET, step), now), step);
  assert.equal(verifyTotp(RFC_SECRET, totpAt(RFC_SECRET, step - 1), now), step - 1);
  assert.equal(verifyTotp(RFC_SECRET, totpAt(RFC_SECRET, step + 1), now), step + 1);
  assert.equal(verifyTotp(RFC_SECRET, totpAt(RFC_SECRET, step - 2), now), undefined);
  assert.equal(verifyTotp(RFC_SECRET, totpAt(RFC_SECRET, step + 2), now), undefined);
});

test("the window is configurable: 0 accepts the current step only, 2 reaches two steps", () => {
  const now = 1_700_000_000_000;
  const step = stepOf(now);
  assert.equal(verifyTotp(RFC_SECRET, totpAt(RFC_SECRET, step), now, { window: 0 }), step);
  assert.equal(verifyTotp(RFC_SECRET, totpAt(RFC_SECRET, step - 1), now, { window: 0 }), undefined);
  assert.equal(verifyTotp(RFC_SECRET, totpAt(RFC_SECRET, step - 2), now, { window: 2 }), step - 2);
  assert.throws(() => verifyTotp(RFC_SECRET, "123456", now, { window: -1 }), RangeError);
});

test("a code for a step at or before the last one accepted is refused (no replay)", () => {
  const now = 1_700_000_000_000;
  const step = stepOf(now);
  const code = totpAt(RFC_SECRET, step);
  assert.equal(verifyTotp(RFC_SECRET, code, now, { after: step - 1 }), step);
  assert.equal(verifyTotp(RFC_SECRET, code, now, { after: step }), undefined);
  assert.equal(verifyTotp(RFC_SECRET, totpAt(RFC_SECRET, step - 1), now, { after: step - 1 }), undefined);
});

test("codes that are not six digits are refused; spaces inside are ignored", () => {
  const now = 1_700_000_000_000;
  const code = totpAt(RFC_SECRET, stepOf(now));
  assert.equal(verifyTotp(RFC_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, now), stepOf(now));
  for (const bad of ["", "12345", "1234567", "abcdef", `${code}0`, code.slice(1), `-${code.slice(1)}`]) {
    assert.equal(verifyTotp(RFC_SECRET, bad, now), undefined, JSON.stringify(bad));
  }
  assert.equal(verifyTotp(RFC_SECRET, 123456 as unknown as string, now), undefined);
});

test("a code from another secret is refused", () => {
  const now = 1_700_000_000_000;
  const code = totpAt("JBSWY3DPEHPK3PXP", stepOf(now));
  assert.notEqual(code, totpAt(RFC_SECRET, stepOf(now)));
  assert.equal(verifyTotp(RFC_SECRET, code, now), undefined);
});

test("the otpauth URI names issuer and account, percent-encoded, with the algorithm, digits and period", () => {
  assert.equal(
    otpauthUri({ issuer: "Nimbus", account: "ada@example.com", secret: RFC_SECRET }),
    `otpauth://totp/Nimbus:ada%40example.com?secret=${RFC_SECRET}&issuer=Nimbus&algorithm=SHA1&digits=6&period=30`,
  );
  assert.equal(
    otpauthUri({ issuer: "Acme & Co (dev)", account: "o'brien+test@example.com", secret: "JBSWY3DP" }),
    "otpauth://totp/Acme%20%26%20Co%20%28dev%29:o%27brien%2Btest%40example.com" +
      "?secret=JBSWY3DP&issuer=Acme%20%26%20Co%20%28dev%29&algorithm=SHA1&digits=6&period=30",
  );
  const uri = new URL(otpauthUri({ issuer: "Ünïcode: Inc", account: "ÿ@example.com", secret: "JBSWY3DP" }));
  assert.equal(uri.protocol, "otpauth:");
  assert.equal(uri.host, "totp");
  // A colon inside the issuer is encoded, so the label's one literal colon separates the two.
  const [issuer, account, ...rest] = uri.pathname.slice(1).split(":");
  assert.deepEqual(
    [decodeURIComponent(issuer!), decodeURIComponent(account!), rest],
    ["Ünïcode: Inc", "ÿ@example.com", []],
  );
  assert.equal(uri.searchParams.get("issuer"), "Ünïcode: Inc");
});
