/**
 * scrypt password hashes: what `passwords.ts` verifies besides its own argon2id, for hashes made
 * with scrypt (imported from another system, or stored before argon2id became the default);
 * their next sign-in re-hashes them with argon2id. Stored as a PHC string (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`).
 * The parameters are OWASP's for scrypt (N = 2^17, r = 8, p = 1: 128 MiB and a few hundred
 * milliseconds per hash), so the async `crypto.scrypt` is used: it runs on libuv's thread pool
 * and the event loop stays free. The pool has four threads unless UV_THREADPOOL_SIZE says
 * otherwise, so at most four hashes run at once (512 MiB) and the rest queue.
 *
 * The stored string carries its own parameters, so raising them later only makes
 * `verifyPassword` report `needsRehash`, and the service re-hashes at the next sign-in. A
 * sign-in for an address with no password hash spends the same work (`verifyAgainstNothing`),
 * so the answer's timing does not tell which addresses have an account. Passwords are
 * normalised (NFKC) here, on both sides, so a caller cannot hash one form and verify another.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { normalizePassword } from "./password-policy.js";

/** scrypt's cost: N = 2^ln (CPU and memory), r (block size), p (parallelism). */
export interface ScryptParams {
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

/** OWASP Password Storage Cheat Sheet, scrypt: N = 2^17, r = 8, p = 1 (128 MiB). */
export const CURRENT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ ln: 17, r: 8, p: 1 });

export interface PasswordCheckResult {
  readonly ok: boolean;
  /** The password matched a hash made with other parameters: store a fresh hash of it. */
  readonly needsRehash: boolean;
}

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on what a stored string may ask for, so a corrupt row cannot exhaust memory. */
const MAX_LN = 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_SCRYPT_MEMORY_BYTES = 512 * 1024 * 1024;
/** Bounds on a stored key's length (ours is 32 bytes) and a stored salt's (ours is 16). */
const MIN_STORED_BYTES = 16;
const MAX_STORED_BYTES = 64;
/** Headroom above what OpenSSL computes scrypt needs, `128·r·(N + p + 2)` bytes. */
const MAXMEM_SLACK_BYTES = 1024 * 1024;

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Hashes a password with a fresh 16-byte salt; `params` is for tests (a cheap setting). */
export async function hashPassword(
  password: string,
  params: ScryptParams = CURRENT_SCRYPT_PARAMS,
): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return format(params, salt, key);
}

/**
 * Checks a password against a stored PHC string in constant time. A malformed or unsupported
 * string (another algorithm, a corrupt row) is `ok: false`: it never throws.
 */
export async function verifyPassword(
  password: string,
  stored: string,
  params: ScryptParams = CURRENT_SCRYPT_PARAMS,
): Promise<PasswordCheckResult> {
  const parsed = parseScryptHash(stored);
  if (!parsed) return { ok: false, needsRehash: false };
  let derived: Buffer;
  try {
    derived = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  } catch {
    return { ok: false, needsRehash: false };
  }
  const ok = timingSafeEqual(derived, parsed.hash);
  const outdated =
    parsed.params.ln !== params.ln ||
    parsed.params.r !== params.r ||
    parsed.params.p !== params.p ||
    parsed.hash.length !== KEY_BYTES ||
    parsed.salt.length !== SALT_BYTES;
  return { ok, needsRehash: ok && outdated };
}

/** A fixed salt and key (no known password) to spend a real verification's work on. */
const DUMMY_SALT = Buffer.from("9c0f3b7e51a2d84c6e17f0b3a95d2c48", "hex");
const DUMMY_KEY = Buffer.from("4e8a1d7c92f05b3e6a1c8d4f07b29e5a3c6d1f8e0b7a4c2d9e5f1a3b6c8d0e27", "hex");

/** A hash with the current parameters that no password matches. */
export const DUMMY_HASH = format(CURRENT_SCRYPT_PARAMS, DUMMY_SALT, DUMMY_KEY);

/**
 * Spends what `verifyPassword` spends for a real user, and fails: for a sign-in whose address
 * is unknown or has no password, so the response time does not reveal which addresses exist.
 */
export async function verifyAgainstNothing(
  password: string,
  params: ScryptParams = CURRENT_SCRYPT_PARAMS,
): Promise<PasswordCheckResult & { readonly ok: false }> {
  const stored = params === CURRENT_SCRYPT_PARAMS ? DUMMY_HASH : format(params, DUMMY_SALT, DUMMY_KEY);
  await verifyPassword(password, stored, params);
  return { ok: false, needsRehash: false };
}

/** The parts of a stored `$scrypt$` PHC string; undefined when it is not one we can verify. */
export function parseScryptHash(
  stored: string,
): { readonly params: ScryptParams; readonly salt: Buffer; readonly hash: Buffer } | undefined {
  if (typeof stored !== "string") return undefined;
  const m = PHC.exec(stored);
  if (!m) return undefined;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (paramsProblem(params)) return undefined;
  const salt = fromB64(m[4]!);
  const hash = fromB64(m[5]!);
  if (
    !salt ||
    !hash ||
    salt.length > MAX_STORED_BYTES ||
    hash.length < MIN_STORED_BYTES ||
    hash.length > MAX_STORED_BYTES
  ) {
    return undefined;
  }
  return { params, salt, hash };
}

function derive(password: string, salt: Buffer, params: ScryptParams, keylen: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  const options: ScryptOptions = {
    N,
    r: params.r,
    p: params.p,
    // Node's default cap is 32 MiB; N = 2^17, r = 8 needs 128 MiB and a little more.
    maxmem: 128 * params.r * (N + params.p + 2) + MAXMEM_SLACK_BYTES,
  };
  const input = Buffer.from(normalizePassword(password), "utf8");
  return new Promise((resolve, reject) => {
    scrypt(input, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function checkParams(params: ScryptParams): void {
  const problem = paramsProblem(params);
  if (problem) throw new RangeError(`invalid scrypt parameters ${JSON.stringify(params)}: ${problem}`);
}

function paramsProblem({ ln, r, p }: ScryptParams): string | undefined {
  if (!Number.isInteger(ln) || ln < 1 || ln > MAX_LN) return `ln must be an integer from 1 to ${MAX_LN}`;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R) return `r must be an integer from 1 to ${MAX_R}`;
  if (!Number.isInteger(p) || p < 1 || p > MAX_P) return `p must be an integer from 1 to ${MAX_P}`;
  if (128 * r * 2 ** ln > MAX_SCRYPT_MEMORY_BYTES) {
    return `128·r·N must be at most ${MAX_SCRYPT_MEMORY_BYTES} bytes`;
  }
  return undefined;
}

function format(params: ScryptParams, salt: Buffer, key: Buffer): string {
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${toB64(salt)}$${toB64(key)}`;
}

/** PHC strings use standard base64 without padding. */
function toB64(bytes: Buffer): string {
  return bytes.toString("base64").replace(/=+$/, "");
}

function fromB64(text: string): Buffer | undefined {
  // A length of 1 mod 4 is not base64; Node's decoder would silently drop the last character.
  if (text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, "base64");
  return toB64(bytes) === text ? bytes : undefined;
}
