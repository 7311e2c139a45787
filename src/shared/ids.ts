/**
 * Request ids: UUIDs like Lambda's, but version 7 (RFC 9562): time-ordered, so the indexes
 * that hold them (logs by request, queued events) grow at one end instead of taking a write in
 * a random page per id. Clients treat request ids as opaque strings; nothing reads the time
 * back out of them.
 *
 * The random bits come from a pool filled 4 KB at a time: the `uuid` package draws 16 bytes
 * from the system per id (a system call, and OpenSSL's fork check, on every request). Within one
 * millisecond ids follow a counter seeded from the random bits, as the package's own does, so
 * ids made by this process stay in order.
 */
import { randomFillSync } from "node:crypto";
import { v7 } from "uuid";

const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let next = POOL_BYTES;
let lastMs = Number.NEGATIVE_INFINITY;
let seq = 0;

/** `bytes` random bytes from the pool (at most 16). */
function draw(bytes: number): Uint8Array {
  if (next + bytes > POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  const random = pool.subarray(next, next + bytes);
  next += bytes;
  return random;
}

/** `chars` random hex digits (an even number, at most 32), from the same pool. */
export function randomHex(chars: number): string {
  const random = draw(chars / 2);
  return Buffer.from(random.buffer, random.byteOffset, random.byteLength).toString("hex");
}

export function newRequestId(now: number = Date.now()): string {
  const random = draw(16);
  if (now > lastMs) {
    lastMs = now;
    // 31 random bits leave room to count up within the millisecond.
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
  }
  return v7({ random, msecs: lastMs, seq });
}
