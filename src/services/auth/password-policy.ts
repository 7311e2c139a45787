/**
 * What a new password must be, after NIST SP 800-63B (section 3.1.1.2) and OWASP's
 * Authentication Cheat Sheet: long enough, not absurdly long, any characters at all, and not
 * one an attacker tries first. There are no composition rules (a digit, a symbol, upper and
 * lower case): NIST advises against them, since they make passwords harder to remember and
 * barely harder to guess.
 *
 * - Length is counted in Unicode code points after NFKC normalisation (what is hashed): at
 *   least `minLength` (8 by default), at most 1,024. scrypt has no 72-byte limit (bcrypt's), so
 *   a passphrase is never cut; the maximum only bounds the work of one sign-in.
 * - Any character is allowed, but the text must be well-formed Unicode: an unpaired surrogate
 *   would be replaced by U+FFFD when encoded, making distinct passwords hash alike.
 * - Refused as guessable: one of the most common passwords (`common-passwords.ts`, compared
 *   lower-cased), one character or a group of up to three repeated (`aaaaaaaa`, `abcabcabc`),
 *   a simple sequence (`abcdefgh`, `87654321`) or keyboard run (`qwertyui`, `asdfghjk`), and a
 *   password containing the name part of the user's email address (when it has at least four
 *   characters) or the whole address.
 *
 * Reasons use Supabase's `weak_password.reasons` names: `length`, `characters` (Supabase: a
 * required character class is missing; here: text that is not valid Unicode), and `pwned`
 * (Supabase: found in Have I Been Pwned; here: every "guessable" finding above, which is what
 * clients show the user as "choose a less common password").
 */
import { COMMON_PASSWORDS } from "./common-passwords.js";

export type WeakReason = "length" | "characters" | "pwned";

export type PasswordVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reasons: readonly WeakReason[]; readonly message: string };

export interface PasswordPolicyOptions {
  /** The user's address: a password containing its name part is refused. */
  readonly email?: string | undefined;
  /** At least this many characters; defaults to `DEFAULT_MIN_PASSWORD_LENGTH`. */
  readonly minLength?: number | undefined;
}

/** NIST SP 800-63B's minimum for a password that is the only factor. */
export const DEFAULT_MIN_PASSWORD_LENGTH = 8;
/** Long enough for any passphrase; bounds the normalisation and hashing work of one request. */
export const MAX_PASSWORD_LENGTH = 1024;
/** An email name part shorter than this is too likely to occur by chance to be refused. */
const MIN_EMAIL_NAME_LENGTH = 4;

/** Keyboard rows and columns (QWERTY, QWERTZ, AZERTY); a run along one is a sequence. */
const KEYBOARD_RUNS = [
  "1234567890",
  "qwertyuiopasdfghjklzxcvbnm",
  "qwertzuiopasdfghjklyxcvbnm",
  "azertyuiopqsdfghjklmwxcvbn",
  "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
  "qazwsxedcrfvtgbyhnujmikolp",
];

/** NFKC, as NIST advises, so that the same password typed on two keyboards hashes alike. */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

/** Checks a new password (sign-up, change, reset) against the policy; lists every problem. */
export function checkPassword(password: string, options: PasswordPolicyOptions = {}): PasswordVerdict {
  const minLength = options.minLength ?? DEFAULT_MIN_PASSWORD_LENGTH;
  if (!Number.isInteger(minLength) || minLength < 1 || minLength > MAX_PASSWORD_LENGTH) {
    throw new RangeError(
      `password minLength is ${minLength}; expected an integer from 1 to ${MAX_PASSWORD_LENGTH}`,
    );
  }
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  const problems: { reason: WeakReason; message: string }[] = [];

  if (length === 0) {
    problems.push({
      reason: "length",
      message: `password is empty; at least ${minLength} ${plural(minLength)} are required`,
    });
  } else if (length < minLength) {
    problems.push({
      reason: "length",
      message: `password is ${length} ${plural(length)}; at least ${minLength} are required`,
    });
  } else if (length > MAX_PASSWORD_LENGTH) {
    problems.push({
      reason: "length",
      message: `password is ${length} characters; at most ${MAX_PASSWORD_LENGTH} are allowed`,
    });
  }
  if (/\p{Cs}/u.test(normalized)) {
    problems.push({
      reason: "characters",
      message:
        "password is not valid Unicode text (it has an unpaired surrogate); any valid characters are allowed",
    });
  }
  const guessable = length > 0 ? guessability(normalized.toLowerCase(), options.email) : undefined;
  if (guessable) problems.push({ reason: "pwned", message: guessable });

  if (problems.length === 0) return { ok: true };
  return {
    ok: false,
    reasons: problems.map((p) => p.reason),
    message: problems.map((p) => p.message).join(". "),
  };
}

/** Why a lower-cased, normalised password is easy to guess; undefined when it is not. */
function guessability(lower: string, email: string | undefined): string | undefined {
  if (COMMON_PASSWORDS.has(lower)) {
    return "password is one of the most common passwords; choose one that is harder to guess";
  }
  if (/^(.{1,3})\1+$/su.test(lower)) {
    return "password is one character or a short group repeated; choose one that is harder to guess";
  }
  if (isSequence(lower)) {
    return "password is a simple sequence (like abcdefgh, 87654321 or qwertyui); choose one that is harder to guess";
  }
  if (email) {
    const address = normalizePassword(email).toLowerCase();
    const at = address.lastIndexOf("@");
    const name = at >= 0 ? address.slice(0, at) : address;
    const containsName = [...name].length >= MIN_EMAIL_NAME_LENGTH && lower.includes(name);
    if (containsName || (address.length > 0 && lower.includes(address))) {
      return "password contains the name in your email address; choose one that does not";
    }
  }
  return undefined;
}

/** Each code point one above (or one below) the last, or a run along a keyboard row. */
function isSequence(lower: string): boolean {
  const points = [...lower].map((c) => c.codePointAt(0)!);
  if (points.length < 3) return false;
  const step = points[1]! - points[0]!;
  if ((step === 1 || step === -1) && points.every((p, i) => i === 0 || p - points[i - 1]! === step))
    return true;
  const reversed = [...lower].reverse().join("");
  return KEYBOARD_RUNS.some((run) => run.includes(lower) || run.includes(reversed));
}

function plural(n: number): string {
  return n === 1 ? "character" : "characters";
}
