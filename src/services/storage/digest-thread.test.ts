import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, test } from "node:test";
import { DigestThread, localDigester, THREADED_DIGEST_MIN_BYTES } from "./digest-thread.js";
import type { ChecksumAlgorithm } from "./model.js";

const thread = new DigestThread();
after(() => thread.close());

const ALL: ChecksumAlgorithm[] = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"];

test("the thread's digests of a large body are the same as the caller's own, and its buffers come back", async () => {
  const body = randomBytes(3 * THREADED_DIGEST_MIN_BYTES + 12345);
  const returned: Uint8Array[] = [];
  const remote = thread.digester(ALL, undefined, (b) => returned.push(b));
  const local = localDigester(ALL);
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < body.length; at += 1 << 20) {
    const piece = new Uint8Array(body.subarray(at, at + (1 << 20)));
    pieces.push(piece);
    local.update(piece);
    remote.update(piece, { handOver: true });
    await remote.ready();
  }
  const [mine, theirs] = await Promise.all([local.digest(), remote.digest()]);
  assert.deepEqual(theirs, mine);
  assert.equal(theirs.size, body.length);
  assert.equal(returned.length, pieces.length, "every buffer handed over came back");
  assert.ok(
    returned.every((b) => b.byteLength > 0),
    "handed over, then given back whole",
  );
  assert.ok(
    pieces.every((p) => p.byteLength === 0),
    "a handed-over buffer moved to the thread",
  );
});

test("a view of a larger buffer is sent as a copy, and the caller's bytes stay", async () => {
  const big = randomBytes(2 * THREADED_DIGEST_MIN_BYTES);
  const view = big.subarray(10, 10 + THREADED_DIGEST_MIN_BYTES);
  const remote = thread.digester(["CRC32"], THREADED_DIGEST_MIN_BYTES);
  remote.update(view, { handOver: true });
  const local = localDigester(["CRC32"]);
  local.update(view);
  assert.deepEqual(await remote.digest(), await local.digest());
  assert.equal(view.byteLength, THREADED_DIGEST_MIN_BYTES);
});

test("small bodies are hashed where they are; an empty stream has the empty digests", async () => {
  const small = thread.digester(["SHA256"], THREADED_DIGEST_MIN_BYTES - 1);
  const returned: Uint8Array[] = [];
  const withReturn = thread.digester([], 10, (b) => returned.push(b));
  const bytes = new Uint8Array(10);
  withReturn.update(bytes, { handOver: true });
  assert.deepEqual(returned, [bytes], "given back at once");
  assert.equal((await small.digest()).md5, "d41d8cd98f00b204e9800998ecf8427e");
  assert.equal((await thread.digester([], undefined).digest()).md5, "d41d8cd98f00b204e9800998ecf8427e");
});

test("a thread that stops fails the streams it was hashing, and the next body starts another", async () => {
  const own = new DigestThread();
  const stream = own.digester(["CRC32"], undefined);
  stream.update(new Uint8Array(100));
  await own.close();
  // Closed while hashing: the stream's digest fails instead of waiting forever.
  await assert.rejects(stream.digest(), /digest thread stopped/);
  const again = own.digester(["CRC32"], undefined);
  again.update(new Uint8Array(100));
  assert.equal((await again.digest()).size, 100);
  await own.close();
});
