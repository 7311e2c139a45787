import assert from "node:assert/strict";
import { test } from "node:test";
import { chunksOf, MAX_PARTS, PART_SIZE_BYTES, planParts } from "./storage-transfer.js";

const MiB = 1024 * 1024;

test("a 70 MiB file is five parts of 16 MiB but the last, covering it exactly", () => {
  const parts = planParts(70 * MiB);
  assert.equal(PART_SIZE_BYTES, 16 * MiB);
  assert.deepEqual(
    parts.map((p) => [p.partNumber, p.end - p.start]),
    [
      [1, 16 * MiB],
      [2, 16 * MiB],
      [3, 16 * MiB],
      [4, 16 * MiB],
      [5, 6 * MiB],
    ],
  );
  assert.equal(parts[0]?.start, 0);
  assert.equal(parts.at(-1)?.end, 70 * MiB);
  for (let i = 1; i < parts.length; i++) assert.equal(parts[i]?.start, parts[i - 1]?.end);
});

test("a file too large for 10,000 parts of 16 MiB gets larger parts, in whole MiB", () => {
  const size = 200 * 1024 * MiB + 1;
  const parts = planParts(size);
  assert.ok(parts.length <= MAX_PARTS, `${parts.length} parts`);
  const first = parts[0]!;
  assert.equal((first.end - first.start) % MiB, 0);
  assert.ok(first.end - first.start > 16 * MiB);
  assert.equal(parts.at(-1)?.end, size);
});

test("a size that is a whole number of parts has no empty last part", () => {
  assert.deepEqual(
    planParts(32 * MiB).map((p) => p.end - p.start),
    [16 * MiB, 16 * MiB],
  );
  assert.deepEqual(planParts(0), []);
});

async function* source(...chunks: string[]) {
  yield* chunks.map((c) => Buffer.from(c));
}

async function collect(it: AsyncIterable<Buffer>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of it) out.push(c.toString());
  return out;
}

test("a stream is cut into chunks of the size asked, whatever the pieces it arrives in", async () => {
  assert.deepEqual(await collect(chunksOf(source("ab", "cdefg", "h", "ij"), 3)), ["abc", "def", "ghi", "j"]);
  assert.deepEqual(await collect(chunksOf(source("abcdef"), 3)), ["abc", "def"]);
  assert.deepEqual(await collect(chunksOf(source(), 3)), [""], "an empty stream is one empty chunk");
});
