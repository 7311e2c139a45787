/**
 * Time-based one-time passwords (RFC 6238) as authenticator apps make them: HMAC-SHA1 over the
 * number of 30-second steps since the epoch, cut to 6 digits by RFC 4226's dynamic truncation.
 * Written on node:crypto alone: the algorithm is a dozen lines, and the parts worth care
 * (constant-time comparison, refusing a step already used, base32 without padding) are ours to
 * get right either way. Time is passed in (epoch ms), so tests and the service's clock decide.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** 160 bits, RFC 4226's recommended length and the size of an SHA-1 block's key. */
export const TOTP_SECRET_BYTES = 20;

const PERIOD_MS = TOTP_PERIOD_SECONDS * 1000;
const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** A fresh shared secret: 20 random bytes as base32 without padding (32 characters). */
export function generateSecret(): string {
  return base32Encode(randomBytes(TOTP_SECRET_BYTES));
}

/** RFC 4648 base32, upper case, without `=` padding (what otpauth URIs carry). */
export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >>> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes RFC 4648 base32, as a person may type it: any case, spaces and `=` padding ignored.
 * Throws a RangeError on any other character.
 */
export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/[\s=]/g, "").toUpperCase();
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0)
      throw new RangeError(`invalid base32 character ${JSON.stringify(char)}; expected A-Z or 2-7`);
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >>> bits) & 0xff;
    }
  }
  return out;
}

/** The 30-second step an instant falls in (RFC 6238's T, with T0 = 0). */
export function stepOf(epochMs: number): number {
  return Math.floor(epochMs / PERIOD_MS);
}

/**
 * The code for one step: HOTP (RFC 4226) with the step as its counter. `secret` is base32 or
 * the raw key; `digits` is 6 for authenticator apps (8 for RFC 6238's test vectors).
 */
export function totpAt(
  secret: string | Uint8Array,
  stepNumber: number,
  digits: number = TOTP_DIGITS,
): string {
  if (!Number.isSafeInteger(stepNumber) || stepNumber < 0) {
    throw new RangeError(`TOTP step is ${stepNumber}; expected a non-negative integer`);
  }
  if (!Number.isInteger(digits) || digits < 6 || digits > 9) {
    throw new RangeError(`TOTP digits is ${digits}; expected 6 to 9`);
  }
  const key = typeof secret === "string" ? base32Decode(secret) : secret;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(stepNumber));
  const mac = createHmac("sha1", key).update(counter).digest();
  // RFC 4226 section 5.3: the low nibble of the last byte picks four bytes; drop the sign bit.
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

export interface VerifyTotpOptions {
  /** Steps accepted either side of the current one, for clock drift and typing time. */
  readonly window?: number;
  /** The last step accepted for this secret: it and earlier steps are refused (a replay). */
  readonly after?: number | undefined;
  readonly digits?: number;
}

/**
 * Checks a code against the steps around `nowMs`, comparing in constant time. Returns the step
 * it matched, to be stored as the factor's last step so the same code is not accepted twice;
 * undefined when it matches none (or is not a code at all). Spaces in the code are ignored.
 */
export function verifyTotp(
  secret: string | Uint8Array,
  code: string,
  nowMs: number,
  options: VerifyTotpOptions = {},
): number | undefined {
  const window = options.window ?? 1;
  const digits = options.digits ?? TOTP_DIGITS;
  if (!Number.isInteger(window) || window < 0 || window > 10) {
    throw new RangeError(`TOTP window is ${window}; expected an integer from 0 to 10`);
  }
  if (typeof code !== "string") return undefined;
  const typed = code.replace(/\s/g, "");
  if (typed.length !== digits || !/^\d+$/.test(typed)) return undefined;
  const key = typeof secret === "string" ? base32Decode(secret) : secret;
  const given = Buffer.from(typed);
  const now = stepOf(nowMs);
  let matched: number | undefined;
  // Every candidate is computed and compared, matched or not, so timing says nothing of which.
  for (let step = now - window; step <= now + window; step++) {
    if (step < 0) continue;
    const expected = Buffer.from(totpAt(key, step, digits));
    const equal = timingSafeEqual(expected, given);
    if (equal && matched === undefined && (options.after === undefined || step > options.after))
      matched = step;
  }
  return matched;
}

export interface OtpauthUriInput {
  /** Who the code is for, shown by the app: the project's name or host. */
  readonly issuer: string;
  /** Which account of the issuer: the user's email address. */
  readonly account: string;
  /** Base32, as `generateSecret` makes it. */
  readonly secret: string;
}

/**
 * The Key URI authenticator apps scan (Google Authenticator's key-uri-format):
 * `otpauth://totp/<Issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
 * Issuer and account are percent-encoded, spaces as `%20` (some apps show a `+` literally).
 */
export function otpauthUri({ issuer, account, secret }: OtpauthUriInput): string {
  const label = `${encode(issuer)}:${encode(account)}`;
  const query = [
    `secret=${encode(secret)}`,
    `issuer=${encode(issuer)}`,
    "algorithm=SHA1",
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ].join("&");
  return `otpauth://totp/${label}?${query}`;
}

/** encodeURIComponent, plus the sub-delimiters it leaves (`!'()*`), which RFC 3986 reserves. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
