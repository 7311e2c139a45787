import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { storageOnSqlite } from "../../../test/helpers/storage-service.js";
import { S3Error } from "./errors.js";
import { INLINE_MAX_BYTES } from "./inline-body.js";
import { EMPTY_HEADERS, type PutInput, type StorageService } from "./storage.js";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function service() {
  const { storage, blobsDir } = await storageOnSqlite({ name: "inline", cleanups });
  await storage.createBucket("docs");
  const blobFiles = async () => {
    const shards = await readdir(join(blobsDir, "blobs"));
    return (await Promise.all(shards.map((s) => readdir(join(blobsDir, "blobs", s))))).flat().length;
  };
  return { storage, blobFiles };
}

function put(bytes: Buffer, declared: number | undefined = bytes.length): PutInput {
  return {
    body: (async function* () {
      // In pieces, as a socket delivers them.
      for (let at = 0; at < bytes.length; at += 1000) yield bytes.subarray(at, at + 1000);
    })(),
    size: declared,
    headers: EMPTY_HEADERS,
    userMetadata: {},
    tags: {},
    checks: { checksumAlgorithm: "CRC32" },
  };
}

async function readBack(storage: StorageService, key: string, range?: string): Promise<Buffer> {
  const { version, range: r } = await storage.read("docs", key, { range, conditions: {} });
  const out: Buffer[] = [];
  for await (const c of storage.stream(version, r)) out.push(c as Buffer);
  return Buffer.concat(out);
}

const md5 = (b: Buffer) => `"${createHash("md5").update(b).digest("hex")}"`;

describe("small objects kept in their record", () => {
  test("an object up to the inline size reads back whole and in ranges, with its ETag, and takes no blob", async () => {
    const { storage, blobFiles } = await service();
    const small = Buffer.from(Array.from({ length: INLINE_MAX_BYTES }, (_, i) => i % 251));
    const result = await storage.putObject("docs", "small.bin", put(small));
    assert.equal(result.etag, md5(small));
    assert.equal(result.checksum?.algorithm, "CRC32");
    assert.deepEqual(await readBack(storage, "small.bin"), small);
    assert.deepEqual(await readBack(storage, "small.bin", "bytes=10-19"), small.subarray(10, 20));
    assert.deepEqual(await readBack(storage, "small.bin", "bytes=-5"), small.subarray(-5));
    assert.equal(await blobFiles(), 0);

    // One byte more is a blob; a copy of the small one is inline too; a listing carries no bodies.
    const large = Buffer.alloc(INLINE_MAX_BYTES + 1, 7);
    await storage.putObject("docs", "large.bin", put(large));
    assert.equal(await blobFiles(), 1);
    assert.deepEqual(await readBack(storage, "large.bin"), large);
    await storage.copyObject(
      { bucket: "docs", key: "small.bin", versionId: undefined, conditions: {} },
      { bucket: "docs", key: "copy.bin", replace: undefined },
    );
    assert.deepEqual(await readBack(storage, "copy.bin"), small);
    const page = await storage.list("docs", {
      prefix: "",
      delimiter: undefined,
      after: undefined,
      maxKeys: 10,
    });
    assert.deepEqual(
      page.contents.map((o) => [o.key, o.size, o.body]),
      [
        ["copy.bin", INLINE_MAX_BYTES, undefined],
        ["large.bin", INLINE_MAX_BYTES + 1, undefined],
        ["small.bin", INLINE_MAX_BYTES, undefined],
      ],
    );
  });

  test("a body shorter or longer than declared is refused and nothing is stored", async () => {
    const { storage } = await service();
    for (const [sent, declared] of [
      [100, 101],
      [102, 101],
    ] as const) {
      const err = await storage
        .putObject("docs", "lie.bin", put(Buffer.alloc(sent), declared))
        .catch((e) => e);
      assert.ok(err instanceof S3Error);
      assert.equal(err.code, "IncompleteBody");
    }
    await assert.rejects(storage.read("docs", "lie.bin", { conditions: {} }), { code: "NoSuchKey" });
  });
});
