/** Comparing secrets without telling, by the time it takes, how much of a guess was right. */
import { timingSafeEqual } from "node:crypto";

/** Whether two secrets (keys, MACs, hashes as text) are equal, in time independent of where they differ. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
