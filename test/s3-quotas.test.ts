/**
 * End to end: a bucket's quota set with Nimbus's API and enforced on S3's writes, seen through
 * `@aws-sdk/client-s3`: refusals before the body is stored, usage unchanged, room freed by a
 * delete, and the limits held exactly by writes racing for the last room.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { NimbusClient } from "../src/cli/client.js";
import { nimbusClient } from "./helpers/auth.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { s3Client, s3Failure } from "./helpers/s3.js";

const MiB = 1024 * 1024;
/** Past the largest object kept in its record (64 KiB), so that each object stored is a blob file. */
const BLOB_BYTES = 100_000;

let t: TestPlatform;
let s3: S3Client;
let nimbus: NimbusClient;

before(async () => {
  t = await startPlatform({ poolSize: 0 });
  s3 = s3Client(t);
  nimbus = nimbusClient(t);
});
after(async () => {
  s3.destroy();
  await t.close();
});

interface QuotaAnswer {
  bucket: string;
  quota: Record<string, unknown> | null;
  usage: { objects: number; bytes: number };
}

const quotaPath = (bucket: string) => `/nimbus/v1/storage/buckets/${bucket}/quota`;

async function bucketWithQuota(bucket: string, quota: Record<string, unknown>): Promise<QuotaAnswer> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return nimbus.json<QuotaAnswer>("PUT", quotaPath(bucket), { body: JSON.stringify(quota) });
}

const usage = async (bucket: string) => (await nimbus.json<QuotaAnswer>("GET", quotaPath(bucket))).usage;

/** Files in the blob store, committed or in progress. */
async function blobFiles(): Promise<number> {
  const dir = join(t.dataDir, "objects");
  const shards = await readdir(join(dir, "blobs"));
  const files = await Promise.all(shards.map((s) => readdir(join(dir, "blobs", s))));
  return files.flat().length + (await readdir(join(dir, "tmp"))).length;
}

const put = (bucket: string, key: string, size: number, contentType = "application/octet-stream") =>
  s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(size, 7), ContentType: contentType }),
  );

describe("the quota API", () => {
  test("PUT sets a bucket's quota, GET answers it with the usage, DELETE removes it", async () => {
    const set = await bucketWithQuota("settings", {
      maxBytes: 1000,
      maxObjects: 5,
      maxObjectBytes: 100,
      allowedContentTypes: ["image/*", "application/pdf"],
    });
    assert.deepEqual(set, {
      bucket: "settings",
      quota: {
        maxBytes: 1000,
        maxObjects: 5,
        maxObjectBytes: 100,
        allowedContentTypes: ["image/*", "application/pdf"],
      },
      usage: { objects: 0, bytes: 0 },
    });
    await put("settings", "a.png", 40, "image/png");
    assert.deepEqual(await usage("settings"), { objects: 1, bytes: 40 });
    const deleted = await nimbus.request("DELETE", quotaPath("settings"));
    assert.equal(deleted.status, 204);
    assert.equal((await nimbus.json<QuotaAnswer>("GET", quotaPath("settings"))).quota, null);
    await put("settings", "b.txt", 400, "text/plain");
  });

  test("a quota with problems is refused with every one listed, and nothing changes", async () => {
    const res = await nimbus.request("PUT", quotaPath("settings"), {
      body: JSON.stringify({ maxBytes: -1, maxObjects: "ten", allowedContentTypes: ["images"] }),
    });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as {
      error: { code: string; message: string; problems: { field: string }[] };
    };
    assert.equal(error.code, "InvalidParameter");
    assert.deepEqual(
      error.problems.map((p) => p.field),
      ["maxBytes", "maxObjects", "allowedContentTypes.0"],
    );
    assert.match(error.message, /maxBytes is -1: it must be a positive integer/);
    assert.equal((await nimbus.json<QuotaAnswer>("GET", quotaPath("settings"))).quota, null);
  });

  test("a bucket that does not exist is 404", async () => {
    const res = await nimbus.request("GET", quotaPath("no-such-bucket"));
    assert.equal(res.status, 404);
    const set = await nimbus.request("PUT", quotaPath("no-such-bucket"), { body: "{}" });
    assert.equal(set.status, 404);
  });
});

describe("enforcement", () => {
  test("an object over maxObjectBytes is EntityTooLarge and no byte of it is stored", async () => {
    await bucketWithQuota("sizes", { maxObjectBytes: 1000 });
    const files = await blobFiles();
    const refused = await s3Failure(put("sizes", "big.bin", 1001));
    assert.deepEqual([refused.name, refused.status], ["EntityTooLarge", 400]);
    assert.deepEqual(await usage("sizes"), { objects: 0, bytes: 0 });
    assert.equal(await blobFiles(), files);
    await put("sizes", "fits.bin", 1000);
    assert.deepEqual(await usage("sizes"), { objects: 1, bytes: 1000 });
  });

  test("maxBytes and maxObjects: a put that fits, one that does not, and a delete that frees room", async () => {
    await bucketWithQuota("room", { maxBytes: 3000, maxObjects: 2 });
    await put("room", "a", 1000);
    const files = await blobFiles();
    const tooBig = await s3Failure(put("room", "b", 2500));
    assert.deepEqual([tooBig.name, tooBig.status], ["QuotaExceeded", 403]);
    assert.equal(
      tooBig.message,
      'bucket "room" holds 1,000 of at most 3,000 bytes: an object of 2,500 bytes does not fit',
    );
    assert.equal(await blobFiles(), files);
    await put("room", "b", 2000);
    const tooMany = await s3Failure(put("room", "c", 1));
    assert.deepEqual([tooMany.name, tooMany.status], ["QuotaExceeded", 403]);
    assert.equal(tooMany.message, 'bucket "room" holds 2 of at most 2 objects: no room for one more');
    assert.deepEqual(await usage("room"), { objects: 2, bytes: 3000 });
    await s3.send(new DeleteObjectCommand({ Bucket: "room", Key: "a" }));
    await put("room", "c", 1000);
    assert.deepEqual(await usage("room"), { objects: 2, bytes: 3000 });
  });

  test("allowedContentTypes: PutObject, CopyObject and CreateMultipartUpload of another type are 415", async () => {
    await bucketWithQuota("images", { allowedContentTypes: ["image/*", "application/pdf"] });
    await put("images", "a.png", 10, "image/png");
    await put("images", "a.pdf", 10, "application/pdf");
    const html = await s3Failure(put("images", "a.html", 10, "text/html"));
    assert.deepEqual([html.name, html.status], ["UnsupportedMediaType", 415]);
    assert.match(
      html.message,
      /takes objects of content type image\/\*, application\/pdf; this one is "text\/html"/,
    );
    const copy = await s3Failure(
      s3.send(
        new CopyObjectCommand({
          Bucket: "images",
          Key: "a.txt",
          CopySource: "images/a.png",
          MetadataDirective: "REPLACE",
          ContentType: "text/plain",
        }),
      ),
    );
    assert.equal(copy.name, "UnsupportedMediaType");
    await s3.send(new CopyObjectCommand({ Bucket: "images", Key: "b.png", CopySource: "images/a.png" }));
    const upload = await s3Failure(
      s3.send(
        new CreateMultipartUploadCommand({ Bucket: "images", Key: "c.txt", ContentType: "text/plain" }),
      ),
    );
    assert.equal(upload.name, "UnsupportedMediaType");
    assert.deepEqual(await usage("images"), { objects: 3, bytes: 30 });
  });

  test("a multipart upload: a part over maxObjectBytes is refused; a completion past maxBytes is QuotaExceeded, the upload kept", async () => {
    await bucketWithQuota("parts", { maxBytes: 8 * MiB, maxObjectBytes: 10 * MiB });
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: "parts", Key: "big" }));
    const part = (PartNumber: number, size: number) =>
      s3.send(
        new UploadPartCommand({
          Bucket: "parts",
          Key: "big",
          UploadId,
          PartNumber,
          Body: Buffer.alloc(size, 1),
        }),
      );
    const p1 = await part(1, 5 * MiB);
    const p2 = await part(2, 4 * MiB);
    const files = await blobFiles();
    const refused = await s3Failure(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "parts",
          Key: "big",
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: p1.ETag },
              { PartNumber: 2, ETag: p2.ETag },
            ],
          },
        }),
      ),
    );
    assert.deepEqual([refused.name, refused.status], ["QuotaExceeded", 403]);
    assert.match(
      refused.message,
      /holds 0 of at most 8,388,608 bytes: an object of 9,437,184 bytes does not fit/,
    );
    assert.deepEqual(await usage("parts"), { objects: 0, bytes: 0 });
    assert.equal(await blobFiles(), files);
    const listed = await s3.send(new ListPartsCommand({ Bucket: "parts", Key: "big", UploadId }));
    assert.equal(listed.Parts?.length, 2, "the upload is left to complete later or abort");
    await s3.send(new AbortMultipartUploadCommand({ Bucket: "parts", Key: "big", UploadId }));

    await bucketWithQuota("small-parts", { maxObjectBytes: 1000 });
    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: "small-parts", Key: "k" }));
    const tooLarge = await s3Failure(
      s3.send(
        new UploadPartCommand({
          Bucket: "small-parts",
          Key: "k",
          UploadId: small.UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(2000),
        }),
      ),
    );
    assert.equal(tooLarge.name, "EntityTooLarge");
  });

  test("a streamed aws-chunked body past the bucket's room is refused by its decoded length, nothing stored", async () => {
    await bucketWithQuota("stream", { maxBytes: 1000 });
    await put("stream", "first", 600);
    const files = await blobFiles();
    const streamed = (size: number) =>
      s3.send(
        new PutObjectCommand({
          Bucket: "stream",
          Key: "second",
          Body: Readable.from([Buffer.alloc(size / 2, 1), Buffer.alloc(size / 2, 2)]),
          ContentLength: size,
        }),
      );
    const refused = await s3Failure(streamed(500));
    assert.deepEqual([refused.name, refused.status], ["QuotaExceeded", 403]);
    assert.deepEqual(await usage("stream"), { objects: 1, bytes: 600 });
    assert.equal(await blobFiles(), files);
    await streamed(400);
    assert.deepEqual(await usage("stream"), { objects: 2, bytes: 1000 });
  });
});

describe("writes racing for the last room", () => {
  /** `count` PUTs of `size` bytes at once, keys `<prefix>0…`: the keys stored and the failures. */
  async function racingPuts(bucket: string, prefix: string, count: number, size: number) {
    const keys = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    const outcomes = await Promise.allSettled(keys.map((k) => put(bucket, k, size)));
    const stored = keys.filter((_, i) => outcomes[i]?.status === "fulfilled");
    const failures = await Promise.all(
      outcomes.flatMap((o) => (o.status === "rejected" ? [s3Failure(Promise.reject(o.reason))] : [])),
    );
    return { stored, failures };
  }

  /** What a listing of the bucket shows: how many objects, how many bytes. */
  async function listed(bucket: string) {
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    return { objects: Contents.length, bytes: Contents.reduce((n, o) => n + (o.Size ?? 0), 0) };
  }

  test("maxBytes: of 12 PUTs at once with room for 4, exactly 4 are stored; the others are 403 QuotaExceeded and leave no file", async () => {
    const maxBytes = 5 * BLOB_BYTES;
    await bucketWithQuota("race-bytes", { maxBytes });
    await put("race-bytes", "first", BLOB_BYTES);
    const files = await blobFiles();
    const { stored, failures } = await racingPuts("race-bytes", "k", 12, BLOB_BYTES);
    assert.equal(stored.length, 4, `stored ${stored.join(", ")}`);
    assert.equal(failures.length, 8);
    for (const f of failures) {
      assert.deepEqual([f.name, f.status], ["QuotaExceeded", 403]);
      assert.match(
        f.message,
        /^bucket "race-bytes" holds 500,000 of at most 500,000 bytes: an object of 100,000 bytes does not fit$/,
      );
    }
    assert.deepEqual(await listed("race-bytes"), { objects: 5, bytes: maxBytes });
    assert.deepEqual(await usage("race-bytes"), { objects: 5, bytes: maxBytes });
    assert.equal(await blobFiles(), files + 4, "a refused write's body is not kept");
  });

  test("maxObjects: of 10 PUTs at once with room for one, exactly one is stored; the others are 403 QuotaExceeded and leave no file", async () => {
    await bucketWithQuota("race-objects", { maxObjects: 5 });
    for (const k of ["a", "b", "c", "d"]) await put("race-objects", k, 10);
    const files = await blobFiles();
    const { stored, failures } = await racingPuts("race-objects", "k", 10, BLOB_BYTES);
    assert.equal(stored.length, 1, `stored ${stored.join(", ")}`);
    assert.equal(failures.length, 9);
    for (const f of failures) {
      assert.deepEqual([f.name, f.status], ["QuotaExceeded", 403]);
      assert.equal(f.message, 'bucket "race-objects" holds 5 of at most 5 objects: no room for one more');
    }
    assert.deepEqual(await listed("race-objects"), { objects: 5, bytes: 40 + BLOB_BYTES });
    assert.equal(await blobFiles(), files + 1, "a refused write's body is not kept");
  });

  test("of two multipart completions at once with room for one, one completes; the other is 403 QuotaExceeded, its upload kept, no file added", async () => {
    await bucketWithQuota("race-complete", { maxBytes: BLOB_BYTES });
    const uploads = await Promise.all(
      ["a", "b"].map(async (Key) => {
        const { UploadId } = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: "race-complete", Key }),
        );
        const Body = Buffer.alloc(BLOB_BYTES, 3);
        const { ETag } = await s3.send(
          new UploadPartCommand({ Bucket: "race-complete", Key, UploadId, PartNumber: 1, Body }),
        );
        return { Key, UploadId, Parts: [{ PartNumber: 1, ETag }] };
      }),
    );
    const files = await blobFiles();
    const outcomes = await Promise.allSettled(
      uploads.map(({ Key, UploadId, Parts }) =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: "race-complete",
            Key,
            UploadId,
            MultipartUpload: { Parts },
          }),
        ),
      ),
    );
    const lost = outcomes.findIndex((o) => o.status === "rejected");
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ["fulfilled", "rejected"]);
    const refused = await s3Failure(Promise.reject((outcomes[lost] as PromiseRejectedResult).reason));
    assert.deepEqual([refused.name, refused.status], ["QuotaExceeded", 403]);
    assert.equal(
      refused.message,
      'bucket "race-complete" holds 100,000 of at most 100,000 bytes: an object of 100,000 bytes does not fit',
    );
    assert.deepEqual(await usage("race-complete"), { objects: 1, bytes: BLOB_BYTES });
    const loser = uploads[lost];
    const kept = await s3.send(
      new ListPartsCommand({ Bucket: "race-complete", Key: loser?.Key, UploadId: loser?.UploadId }),
    );
    assert.equal(kept.Parts?.length, 1, "the refused upload is left to complete later or abort");
    // The winner's part became its object's file; the loser's assembled file is gone.
    assert.equal(await blobFiles(), files);
  });

  test("PUTs replacing one key at once count only the difference: each fits, and the bucket ends at the last one's size", async () => {
    await bucketWithQuota("race-replace", { maxBytes: 2 * BLOB_BYTES, maxObjects: 2 });
    await put("race-replace", "other", BLOB_BYTES);
    await put("race-replace", "same", BLOB_BYTES);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () => put("race-replace", "same", BLOB_BYTES)),
    );
    assert.deepEqual(
      outcomes.map((o) => o.status),
      Array(8).fill("fulfilled"),
    );
    assert.deepEqual(await listed("race-replace"), { objects: 2, bytes: 2 * BLOB_BYTES });
  });
});
