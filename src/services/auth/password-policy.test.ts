import assert from "node:assert/strict";
import { test } from "node:test";
import { COMMON_PASSWORDS, COMMON_PASSWORDS_SORTED } from "./common-passwords.js";
import {
  checkPassword,
  DEFAULT_MIN_PASSWORD_LENGTH,
  MAX_PASSWORD_LENGTH,
  normalizePassword,
  type PasswordVerdict,
} from "./password-policy.js";

function refused(verdict: PasswordVerdict): { reasons: readonly string[]; message: string } {
  assert.equal(verdict.ok, false, "expected the password to be refused");
  if (verdict.ok) throw new Error("unreachable");
  return verdict;
}

test("a long, uncommon password is accepted", () => {
  assert.deepEqual(checkPassword("correct horse battery staple"), { ok: true });
  assert.deepEqual(checkPassword("Tr0ub4dor&3x"), { ok: true });
});

test("a password shorter than the minimum is refused, saying its length and the minimum", () => {
  assert.equal(DEFAULT_MIN_PASSWORD_LENGTH, 8);
  const verdict = refused(checkPassword("xk7#q"));
  assert.deepEqual(verdict.reasons, ["length"]);
  assert.equal(verdict.message, "password is 5 characters; at least 8 are required");
  assert.equal(refused(checkPassword("x")).message, "password is 1 character; at least 8 are required");
  assert.equal(refused(checkPassword("")).message, "password is empty; at least 8 characters are required");
  assert.deepEqual(checkPassword("xk7#qpzm"), { ok: true });
});

test("the minimum length is configurable", () => {
  assert.deepEqual(checkPassword("xk7#qp", { minLength: 6 }), { ok: true });
  const verdict = refused(checkPassword("xk7#qpzmw2", { minLength: 12 }));
  assert.equal(verdict.message, "password is 10 characters; at least 12 are required");
  assert.throws(() => checkPassword("whatever", { minLength: 0 }), /expected an integer from 1 to 1024/);
  assert.throws(() => checkPassword("whatever", { minLength: 2000 }), RangeError);
});

test("a password longer than 1,024 characters is refused; a long passphrase is not", () => {
  assert.equal(MAX_PASSWORD_LENGTH, 1024);
  const words = "Sphinx of black quartz judge my vow ";
  const atMost = words.repeat(40).slice(0, 1024);
  assert.deepEqual(checkPassword(atMost), { ok: true });
  const verdict = refused(checkPassword(`${atMost}!`));
  assert.deepEqual(verdict.reasons, ["length"]);
  assert.equal(verdict.message, "password is 1025 characters; at most 1024 are allowed");
});

test("length counts characters (code points), not UTF-16 units or bytes", () => {
  // Seven emoji are 14 UTF-16 units and 28 bytes, but 7 characters.
  assert.equal(
    refused(checkPassword("🦊🐙🦉🐝🦔🐢🦋")).message,
    "password is 7 characters; at least 8 are required",
  );
  assert.deepEqual(checkPassword("🦊🐙🦉🐝🦔🐢🦋🐬"), { ok: true });
  assert.deepEqual(checkPassword("пароль-Ёжик-ждёт"), { ok: true });
});

test("any characters are allowed, spaces and symbols included", () => {
  assert.deepEqual(checkPassword("  spaces   around  "), { ok: true });
  assert.deepEqual(checkPassword("日本語のパスワードです"), { ok: true });
  assert.deepEqual(checkPassword("tab\there\nnewline"), { ok: true });
});

test("text that is not valid Unicode (an unpaired surrogate) is refused for its characters", () => {
  const verdict = refused(checkPassword("abc\uD800defghij"));
  assert.deepEqual(verdict.reasons, ["characters"]);
  assert.match(verdict.message, /not valid Unicode text/);
});

test("normalisation is NFKC: compatibility forms become their plain characters", () => {
  assert.equal(normalizePassword("ﬁ"), "fi");
  assert.equal(normalizePassword("ＡＢＣ１２３"), "ABC123");
  assert.equal(normalizePassword("cafe\u0301"), "café");
  // Length is checked after normalisation, on what is hashed.
  assert.equal(refused(checkPassword("ﬁﬂ-ab")).message, "password is 7 characters; at least 8 are required");
});

test("a common password is refused as pwned, whatever its case or width", () => {
  for (const password of [
    "password",
    "PASSWORD",
    "Password1",
    "iloveyou",
    "qwertyuiop",
    "ｐａｓｓｗｏｒｄ",
  ]) {
    const verdict = refused(checkPassword(password));
    assert.deepEqual(verdict.reasons, ["pwned"], password);
    assert.equal(
      verdict.message,
      "password is one of the most common passwords; choose one that is harder to guess",
    );
  }
});

test("a short common password gets both reasons, each explained", () => {
  const verdict = refused(checkPassword("123456"));
  assert.deepEqual(verdict.reasons, ["length", "pwned"]);
  assert.equal(
    verdict.message,
    "password is 6 characters; at least 8 are required. " +
      "password is one of the most common passwords; choose one that is harder to guess",
  );
});

test("one character or a short group repeated is refused as pwned", () => {
  for (const password of ["zzzzzzzzzz", "!!!!!!!!", "xyxyxyxy", "k9!k9!k9!", "ÄÄÄÄÄÄÄÄ"]) {
    const verdict = refused(checkPassword(password));
    assert.deepEqual(verdict.reasons, ["pwned"], password);
    assert.match(verdict.message, /repeated/);
  }
  assert.deepEqual(checkPassword("k9!zk9!zk9!z-"), { ok: true });
});

test("a simple sequence or keyboard run is refused as pwned", () => {
  for (const password of [
    "bcdefghij",
    "98765432",
    "ZYXWVUTSR",
    "sdfghjkl",
    "oiuytrewq",
    "wertyuiop",
    "2wsx3edc4rfv",
  ]) {
    const verdict = refused(checkPassword(password));
    assert.deepEqual(verdict.reasons, ["pwned"], password);
    assert.match(verdict.message, /simple sequence/);
  }
  assert.deepEqual(checkPassword("abcdefgh9"), { ok: true });
  assert.deepEqual(checkPassword("acegikmo"), { ok: true });
});

test("a password containing the email's name part is refused as pwned", () => {
  const verdict = refused(checkPassword("Margaret-1987!", { email: "margaret@example.com" }));
  assert.deepEqual(verdict.reasons, ["pwned"]);
  assert.equal(verdict.message, "password contains the name in your email address; choose one that does not");
  // A name under four characters is too likely to occur by chance to refuse...
  assert.deepEqual(checkPassword("bobsleigh-team", { email: "bob@example.com" }), { ok: true });
  // ...but the whole address is still refused.
  assert.equal(refused(checkPassword("bob@example.com", { email: "Bob@Example.com" })).reasons[0], "pwned");
  assert.deepEqual(checkPassword("Margaret-1987!"), { ok: true });
});

test("the common-password list is sorted, unique, lower-case and holds the famous ones", () => {
  assert.ok(COMMON_PASSWORDS_SORTED.length >= 500, `${COMMON_PASSWORDS_SORTED.length} entries`);
  assert.deepEqual([...COMMON_PASSWORDS_SORTED].sort(), COMMON_PASSWORDS_SORTED);
  assert.equal(COMMON_PASSWORDS.size, COMMON_PASSWORDS_SORTED.length);
  for (const entry of COMMON_PASSWORDS_SORTED) {
    assert.equal(entry, entry.toLowerCase());
    assert.match(entry, /^\S+$/);
  }
  for (const famous of [
    "123456",
    "password",
    "qwerty",
    "iloveyou",
    "letmein",
    "monkey",
    "dragon",
    "111111",
  ]) {
    assert.ok(COMMON_PASSWORDS.has(famous), famous);
  }
});
