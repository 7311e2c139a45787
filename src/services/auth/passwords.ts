/**
 * Password hashing: argon2id, OWASP's first choice (Password Storage Cheat Sheet: m = 19 MiB,
 * t = 2, p = 1), stored as its PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
 * Hashes run on threads of their own at a lower priority than the platform
 * (`password-thread.ts`), so the event loop never waits for one and invocations go first when
 * the cores are busy. At these parameters a hash costs 15–30 ms of one core here (scrypt at
 * OWASP's equivalent, N = 2^17, costs 440 ms): the cost is the design, and 50 sign-ins a
 * second fit on a small machine.
 *
 * A stored string carries its own parameters: when they differ from the current ones (or it is
 * a scrypt hash, `scrypt-hash.ts`), a matching password reports `needsRehash` and the service
 * stores a fresh hash at the next sign-in. A sign-in for an address with no password spends the
 * same work (`verifyAgainstNothing`), so timing does not tell which addresses have an account.
 * Passwords are normalised (NFKC) here, on both sides.
 */
import { randomBytes } from "node:crypto";
import { normalizePassword } from "./password-policy.js";
import { PasswordThreads } from "./password-thread.js";
import { verifyPassword as verifyScrypt } from "./scrypt-hash.js";

export interface Argon2Params {
  /** Memory in KiB. */
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: number;
}

/** OWASP Password Storage Cheat Sheet, argon2id: 19 MiB, 2 iterations, 1 lane. */
export const CURRENT_PASSWORD_PARAMS: Argon2Params = Object.freeze({
  memoryKiB: 19_456,
  iterations: 2,
  parallelism: 1,
});

export interface PasswordCheckResult {
  readonly ok: boolean;
  /** The password matched a hash made otherwise (other parameters, scrypt): store a fresh hash of it. */
  readonly needsRehash: boolean;
}

/** Bounds on what a stored string may ask for, so a corrupt row cannot exhaust memory or time. */
const MAX_MEMORY_KIB = 1024 * 1024;
const MAX_ITERATIONS = 20;
const MAX_PARALLELISM = 16;

/** `Algorithm.Argon2id`: a const enum, which isolated modules cannot read. */
const ARGON2ID_ALGORITHM = 2;

/** The process's hashing threads, started on first use. */
export const passwordThreads = new PasswordThreads();
const ARGON2ID = /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,2}),p=(\d{1,2})\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/** Hashes a password with a fresh 16-byte salt; `params` is for tests (a cheap setting). */
export function hashPassword(
  password: string,
  params: Argon2Params = CURRENT_PASSWORD_PARAMS,
): Promise<string> {
  return passwordThreads.hash(normalizePassword(password), randomBytes(16), {
    algorithm: ARGON2ID_ALGORITHM,
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
  });
}

/** Checks a password against a stored hash (argon2id or scrypt); a malformed or foreign one is `ok: false`, never thrown. */
export async function verifyPassword(
  password: string,
  stored: string,
  params: Argon2Params = CURRENT_PASSWORD_PARAMS,
): Promise<PasswordCheckResult> {
  if (typeof stored !== "string") return { ok: false, needsRehash: false };
  if (stored.startsWith("$scrypt$")) {
    const r = await verifyScrypt(password, stored);
    return { ok: r.ok, needsRehash: r.ok };
  }
  const m = ARGON2ID.exec(stored);
  if (!m) return { ok: false, needsRehash: false };
  const used = { memoryKiB: Number(m[1]), iterations: Number(m[2]), parallelism: Number(m[3]) };
  if (
    used.memoryKiB > MAX_MEMORY_KIB ||
    used.iterations < 1 ||
    used.iterations > MAX_ITERATIONS ||
    used.parallelism < 1 ||
    used.parallelism > MAX_PARALLELISM
  )
    return { ok: false, needsRehash: false };
  let ok: boolean;
  try {
    ok = await passwordThreads.verify(stored, normalizePassword(password));
  } catch {
    return { ok: false, needsRehash: false };
  }
  const outdated =
    used.memoryKiB !== params.memoryKiB ||
    used.iterations !== params.iterations ||
    used.parallelism !== params.parallelism;
  return { ok, needsRehash: ok && outdated };
}

let dummy: Promise<string> | undefined;

/**
 * Spends what `verifyPassword` spends for a real user at the current parameters, and fails:
 * for a sign-in whose address is unknown or has no password.
 */
export async function verifyAgainstNothing(
  password: string,
): Promise<PasswordCheckResult & { readonly ok: false }> {
  dummy ??= hashPassword(randomBytes(32).toString("base64url"));
  await verifyPassword(password, await dummy);
  return { ok: false, needsRehash: false };
}
