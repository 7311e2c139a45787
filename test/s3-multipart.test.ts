/**
 * End to end: multipart uploads through `@aws-sdk/lib-storage` (parts of 5 MiB, sent four at
 * a time, each with its CRC32) and through the commands themselves, with S3's refusals.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { bytesOf, s3Client, s3Failure } from "./helpers/s3.js";

const MiB = 1024 * 1024;

let t: TestPlatform;
let s3: S3Client;

before(async () => {
  t = await startPlatform();
  s3 = s3Client(t);
  await s3.send(new CreateBucketCommand({ Bucket: "uploads" }));
});
after(async () => {
  s3.destroy();
  await t.close();
});

const md5 = (b: Buffer) => createHash("md5").update(b).digest();

describe("multipart uploads", () => {
  test("lib-storage's Upload of 12 MiB in parts of 5 MiB gives the object whole, its ETag `…-3`", async () => {
    const body = randomBytes(12 * MiB + 12_345);
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: "uploads",
        Key: "big/file.bin",
        Body: body,
        ContentType: "application/x-big",
        Metadata: { a: "b" },
      },
      partSize: 5 * MiB,
    });
    const done = await upload.done();
    const parts = [body.subarray(0, 5 * MiB), body.subarray(5 * MiB, 10 * MiB), body.subarray(10 * MiB)];
    const expected = `"${createHash("md5")
      .update(Buffer.concat(parts.map(md5)))
      .digest("hex")}-3"`;
    assert.equal(done.ETag, expected);
    assert.match(done.Location ?? "", /\/s3\/uploads\/big\/file\.bin$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: "uploads", Key: "big/file.bin" }));
    assert.equal(got.ETag, expected);
    assert.equal(got.ContentType, "application/x-big");
    assert.deepEqual(got.Metadata, { a: "b" });
    const bytes = await bytesOf(got.Body);
    assert.equal(bytes.length, body.length);
    assert.ok(bytes.equals(body), "the object is the bytes uploaded");
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: "uploads", Key: "big/file.bin", PartNumber: undefined }),
    );
    assert.equal(head.ContentLength, body.length);
    const left = await s3.send(new ListMultipartUploadsCommand({ Bucket: "uploads" }));
    assert.equal(left.Uploads, undefined, "the completed upload is gone");
  });

  test("parts listed, uploads listed; complete refuses parts out of order, unknown or too small", async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "uploads", Key: "manual" }),
    );
    assert.ok(UploadId);
    const small = Buffer.alloc(1024, "s");
    const big = Buffer.alloc(5 * MiB, "b");
    const p1 = await s3.send(
      new UploadPartCommand({ Bucket: "uploads", Key: "manual", UploadId, PartNumber: 1, Body: small }),
    );
    const p2 = await s3.send(
      new UploadPartCommand({ Bucket: "uploads", Key: "manual", UploadId, PartNumber: 2, Body: big }),
    );
    assert.equal(p1.ETag, `"${md5(small).toString("hex")}"`);
    const parts = await s3.send(new ListPartsCommand({ Bucket: "uploads", Key: "manual", UploadId }));
    assert.deepEqual(
      parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
      [
        [1, 1024, p1.ETag],
        [2, 5 * MiB, p2.ETag],
      ],
    );
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: "uploads" }));
    assert.deepEqual(
      uploads.Uploads?.map((u) => [u.Key, u.UploadId]),
      [["manual", UploadId]],
    );
    const complete = (Parts: { PartNumber: number; ETag: string | undefined }[]) =>
      s3Failure(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: "uploads",
            Key: "manual",
            UploadId,
            MultipartUpload: { Parts },
          }),
        ),
      );
    const order = await complete([
      { PartNumber: 2, ETag: p2.ETag },
      { PartNumber: 1, ETag: p1.ETag },
    ]);
    assert.deepEqual([order.name, order.status], ["InvalidPartOrder", 400]);
    const unknown = await complete([{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }]);
    assert.deepEqual([unknown.name, unknown.status], ["InvalidPart", 400]);
    const missing = await complete([{ PartNumber: 3, ETag: p1.ETag }]);
    assert.deepEqual([missing.name, missing.status], ["InvalidPart", 400]);
    const tooSmall = await complete([
      { PartNumber: 1, ETag: p1.ETag },
      { PartNumber: 2, ETag: p2.ETag },
    ]);
    assert.deepEqual([tooSmall.name, tooSmall.status], ["EntityTooSmall", 400]);
    // A part uploaded again replaces the earlier one; then the upload completes.
    const p1again = await s3.send(
      new UploadPartCommand({
        Bucket: "uploads",
        Key: "manual",
        UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(5 * MiB, "a"),
      }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "uploads",
        Key: "manual",
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1again.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );
    assert.match(done.ETag ?? "", /^"[0-9a-f]{32}-2"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: "uploads", Key: "manual" }));
    assert.equal(head.ContentLength, 10 * MiB);
  });

  test("an aborted upload is NoSuchUpload to every later call", async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "uploads", Key: "aborted" }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: "uploads",
        Key: "aborted",
        UploadId,
        PartNumber: 1,
        Body: Buffer.from("x"),
      }),
    );
    const aborted = await s3.send(
      new AbortMultipartUploadCommand({ Bucket: "uploads", Key: "aborted", UploadId }),
    );
    assert.equal(aborted.$metadata.httpStatusCode, 204);
    const calls = [
      () =>
        s3.send(
          new UploadPartCommand({
            Bucket: "uploads",
            Key: "aborted",
            UploadId,
            PartNumber: 2,
            Body: Buffer.from("y"),
          }),
        ),
      () =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: "uploads",
            Key: "aborted",
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        ),
      () => s3.send(new ListPartsCommand({ Bucket: "uploads", Key: "aborted", UploadId })),
      () => s3.send(new AbortMultipartUploadCommand({ Bucket: "uploads", Key: "aborted", UploadId })),
    ];
    for (const call of calls) {
      const failed = await s3Failure(call());
      assert.deepEqual([failed.name, failed.status], ["NoSuchUpload", 404]);
    }
    const head = await s3Failure(s3.send(new HeadObjectCommand({ Bucket: "uploads", Key: "aborted" })));
    assert.equal(head.status, 404);
  });

  test("a CRC64NVME multipart upload, which S3 keeps FULL_OBJECT only, is refused at its start", async () => {
    const failed = await s3Failure(
      s3.send(
        new CreateMultipartUploadCommand({ Bucket: "uploads", Key: "nvme", ChecksumAlgorithm: "CRC64NVME" }),
      ),
    );
    assert.deepEqual([failed.name, failed.status], ["InvalidRequest", 400]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: "uploads", Prefix: "nvme" }));
    assert.equal(uploads.Uploads, undefined);
  });

  test("a part number outside 1 to 10,000 is refused", async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "uploads", Key: "numbers" }),
    );
    const failed = await s3Failure(
      s3.send(
        new UploadPartCommand({
          Bucket: "uploads",
          Key: "numbers",
          UploadId,
          PartNumber: 10_001,
          Body: Buffer.from("x"),
        }),
      ),
    );
    assert.deepEqual([failed.name, failed.status], ["InvalidArgument", 400]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: "uploads", Key: "numbers", UploadId }));
  });
});
