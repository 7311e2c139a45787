/**
 * Recovery codes: single-use codes a user writes down when enrolling a second factor, to sign
 * in when the authenticator is lost. Each is ten characters from Crockford's base32 alphabet
 * (digits and lower-case letters without i, l and o, which pass for 1 and 0, nor u), shown as
 * `xxxxx-xxxxx`: 50 random bits, beyond guessing under the MFA rate limit. Only their SHA-256
 * is stored; a plain hash (no salt, no scrypt) suffices because the codes are random, not
 * chosen by people. The hash is of the normalised code, so a user may type it in any case,
 * with or without the dash and spaces, and with o, i or l for 0, 1 and 1.
 */
import { createHash, randomBytes } from "node:crypto";

/** 32 symbols, so each random byte's low five bits pick one uniformly. */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const CODE_LENGTH = 10;
const GROUP_LENGTH = 5;

export const DEFAULT_RECOVERY_CODE_COUNT = 10;
/** Random bits per code: ten symbols of five bits. */
export const RECOVERY_CODE_BITS = CODE_LENGTH * 5;
const MAX_RECOVERY_CODE_COUNT = 100;

/** `n` distinct fresh codes, formatted `xxxxx-xxxxx`, to show the user once. */
export function generateRecoveryCodes(n: number = DEFAULT_RECOVERY_CODE_COUNT): string[] {
  if (!Number.isInteger(n) || n < 1 || n > MAX_RECOVERY_CODE_COUNT) {
    throw new RangeError(
      `recovery code count is ${n}; expected an integer from 1 to ${MAX_RECOVERY_CODE_COUNT}`,
    );
  }
  const codes = new Set<string>();
  while (codes.size < n) codes.add(generateOne());
  return [...codes];
}

/** The code as stored and compared: lower case, without dashes or spaces, o → 0, i and l → 1. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[-\s]/g, "").replace(/o/g, "0").replace(/[il]/g, "1");
}

/** SHA-256 hex of the normalised code: what `RecoveryCodeRecord.codeHash` holds. */
export function hashCode(code: string): string {
  return createHash("sha256").update(normalizeRecoveryCode(code), "utf8").digest("hex");
}

function generateOne(): string {
  let code = "";
  for (const byte of randomBytes(CODE_LENGTH)) code += ALPHABET[byte & 31];
  return `${code.slice(0, GROUP_LENGTH)}-${code.slice(GROUP_LENGTH)}`;
}
