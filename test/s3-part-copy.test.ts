/**
 * End to end: UploadPartCopy through `@aws-sdk/client-s3`: parts copied from (ranges of) objects,
 * assembled with uploaded ones, and S3's refusals: ranges, missing sources, preconditions, and a
 * user who may write the target but not read the source.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { checksumOf } from "../src/services/storage/checksums.js";
import { authClient, authKeys, nimbusClient } from "./helpers/auth.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { bytesOf, s3Client, s3Failure } from "./helpers/s3.js";

const MiB = 1024 * 1024;
const BUCKET = "copies";
const SOURCE = "sources/six mib+.bin";
const source = randomBytes(6 * MiB);

let t: TestPlatform;
let s3: S3Client;

before(async () => {
  t = await startPlatform({ poolSize: 0 });
  s3 = s3Client(t);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: SOURCE, Body: source }));
});
after(async () => {
  s3.destroy();
  await t.close();
});

const md5 = (b: Buffer) => createHash("md5").update(b).digest();
const etagOf = (b: Buffer) => `"${md5(b).toString("hex")}"`;
/** The copy source as client-s3 takes it: `bucket/key`, the key URL-encoded. */
const from = (key: string, bucket = BUCKET) => `${bucket}/${encodeURIComponent(key)}`;

async function upload(key: string, bucket = BUCKET, checksum?: "CRC32"): Promise<string> {
  const created = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: checksum }),
  );
  return created.UploadId ?? "";
}

function copyPart(
  key: string,
  uploadId: string,
  partNumber: number,
  o: Partial<{ source: string; range: string; ifMatch: string; ifNoneMatch: string; bucket: string }>,
) {
  return s3.send(
    new UploadPartCopyCommand({
      Bucket: o.bucket ?? BUCKET,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      CopySource: o.source ?? from(SOURCE),
      CopySourceRange: o.range,
      CopySourceIfMatch: o.ifMatch,
      CopySourceIfNoneMatch: o.ifNoneMatch,
    }),
  );
}

async function read(key: string, bucket = BUCKET) {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { etag: got.ETag, bytes: await bytesOf(got.Body) };
}

describe("UploadPartCopy", () => {
  test("an object assembled from two copied ranges of a 6 MiB source and an uploaded part", async () => {
    const key = "assembled.bin";
    const uploadId = await upload(key);
    const first = source.subarray(1 * MiB, 6 * MiB);
    const second = source.subarray(0, 5 * MiB);
    const tail = Buffer.from("and a tail uploaded as it is");
    const one = await copyPart(key, uploadId, 1, { range: `bytes=${1 * MiB}-${6 * MiB - 1}` });
    assert.equal(one.CopyPartResult?.ETag, etagOf(first), "a copied part's ETag is the MD5 of its bytes");
    assert.ok(one.CopyPartResult?.LastModified instanceof Date);
    assert.equal(one.CopySourceVersionId, undefined, "an unversioned source has no version id");
    const two = await copyPart(key, uploadId, 2, { range: `bytes=0-${5 * MiB - 1}` });
    assert.equal(two.CopyPartResult?.ETag, etagOf(second));
    const three = await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 3, Body: tail }),
    );
    const parts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.deepEqual(
      parts.Parts?.map((p) => [p.PartNumber, p.Size]),
      [
        [1, 5 * MiB],
        [2, 5 * MiB],
        [3, tail.length],
      ],
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: one.CopyPartResult?.ETag },
            { PartNumber: 2, ETag: two.CopyPartResult?.ETag },
            { PartNumber: 3, ETag: three.ETag },
          ],
        },
      }),
    );
    const expected = `"${createHash("md5")
      .update(Buffer.concat([md5(first), md5(second), md5(tail)]))
      .digest("hex")}-3"`;
    assert.equal(done.ETag, expected);
    const got = await read(key);
    assert.equal(got.etag, expected);
    assert.ok(got.bytes.equals(Buffer.concat([first, second, tail])), "the object is the parts' bytes");
  });

  test("without a range the whole source is the part", async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "small.txt", Body: "a small source" }));
    const key = "whole.txt";
    const uploadId = await upload(key);
    const copied = await copyPart(key, uploadId, 1, { source: from("small.txt") });
    assert.equal(copied.CopyPartResult?.ETag, etagOf(Buffer.from("a small source")));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: copied.CopyPartResult?.ETag }] },
      }),
    );
    assert.equal((await read(key)).bytes.toString(), "a small source");
  });

  test("a version of the source by its id; a delete marker or an unknown version is refused", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "versioned" }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: "versioned", VersioningConfiguration: { Status: "Enabled" } }),
    );
    const v1 = await s3.send(new PutObjectCommand({ Bucket: "versioned", Key: "doc", Body: "first" }));
    await s3.send(new PutObjectCommand({ Bucket: "versioned", Key: "doc", Body: "second" }));
    const key = "from-version.txt";
    const uploadId = await upload(key);
    const copied = await copyPart(key, uploadId, 1, {
      source: `${from("doc", "versioned")}?versionId=${v1.VersionId}`,
    });
    assert.equal(copied.CopySourceVersionId, v1.VersionId);
    assert.equal(copied.CopyPartResult?.ETag, etagOf(Buffer.from("first")));
    const latest = await copyPart(key, uploadId, 2, { source: from("doc", "versioned") });
    assert.equal(latest.CopyPartResult?.ETag, etagOf(Buffer.from("second")));

    const marker = await s3.send(new DeleteObjectCommand({ Bucket: "versioned", Key: "doc" }));
    const deleted = await s3Failure(copyPart(key, uploadId, 3, { source: from("doc", "versioned") }));
    assert.deepEqual([deleted.name, deleted.status], ["NoSuchKey", 404]);
    const byMarker = await s3Failure(
      copyPart(key, uploadId, 3, { source: `${from("doc", "versioned")}?versionId=${marker.VersionId}` }),
    );
    assert.deepEqual([byMarker.name, byMarker.status], ["InvalidRequest", 400]);
    assert.match(byMarker.message, /may not specifically refer to a delete marker/);
    // CopyObject answers the same.
    const objectByMarker = await s3Failure(
      s3.send(
        new CopyObjectCommand({
          Bucket: "versioned",
          Key: "copy-of-marker",
          CopySource: `${from("doc", "versioned")}?versionId=${marker.VersionId}`,
        }),
      ),
    );
    assert.deepEqual([objectByMarker.name, objectByMarker.status], ["InvalidRequest", 400]);
    const unknown = await s3Failure(
      copyPart(key, uploadId, 3, { source: `${from("doc", "versioned")}?versionId=0000nosuchversion` }),
    );
    assert.deepEqual([unknown.name, unknown.status], ["NoSuchVersion", 404]);
  });

  test("a range past the source's end, a malformed one, a missing source or upload is refused", async () => {
    const key = "refused.bin";
    const uploadId = await upload(key);
    const size = source.length;
    const beyond = await s3Failure(copyPart(key, uploadId, 1, { range: `bytes=0-${size}` }));
    assert.deepEqual([beyond.name, beyond.status], ["InvalidArgument", 400]);
    assert.equal(beyond.message, `Range specified is not valid for source object of size: ${size}`);
    const past = await s3Failure(copyPart(key, uploadId, 1, { range: `bytes=${size}-${size + 10}` }));
    assert.deepEqual([past.name, past.status], ["InvalidRequest", 400]);
    for (const range of ["bytes=10-", "bytes=-10", "bytes=9-3", "items=0-1", "bytes=0-1,4-5"]) {
      const malformed = await s3Failure(copyPart(key, uploadId, 1, { range }));
      assert.deepEqual([malformed.name, malformed.status], ["InvalidArgument", 400], range);
      assert.match(malformed.message, /must be of the form bytes=first-last/);
    }
    const missing = await s3Failure(copyPart(key, uploadId, 1, { source: from("no/such/key") }));
    assert.deepEqual([missing.name, missing.status], ["NoSuchKey", 404]);
    const noBucket = await s3Failure(copyPart(key, uploadId, 1, { source: from("a", "no-such-bucket") }));
    assert.deepEqual([noBucket.name, noBucket.status], ["NoSuchBucket", 404]);
    const noUpload = await s3Failure(copyPart(key, "no-such-upload", 1, {}));
    assert.deepEqual([noUpload.name, noUpload.status], ["NoSuchUpload", 404]);
    const parts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.equal(parts.Parts, undefined, "no refused copy left a part");
  });

  test("the copy-source conditions: a failing If-Match or a matching If-None-Match is 412", async () => {
    const key = "conditional.bin";
    const uploadId = await upload(key);
    const etag = etagOf(source);
    const wrong = await s3Failure(copyPart(key, uploadId, 1, { range: "bytes=0-9", ifMatch: '"0000"' }));
    assert.deepEqual([wrong.name, wrong.status], ["PreconditionFailed", 412]);
    const same = await s3Failure(copyPart(key, uploadId, 1, { range: "bytes=0-9", ifNoneMatch: etag }));
    assert.deepEqual([same.name, same.status], ["PreconditionFailed", 412]);
    const held = await copyPart(key, uploadId, 1, { range: "bytes=0-9", ifMatch: etag });
    assert.equal(held.CopyPartResult?.ETag, etagOf(source.subarray(0, 10)));
  });

  test("an upload created with CRC32 answers each copied part's CRC32, and completes with it", async () => {
    const key = "with-crc32.bin";
    const uploadId = await upload(key, BUCKET, "CRC32");
    const first = source.subarray(0, 5 * MiB);
    const rest = source.subarray(5 * MiB);
    const one = await copyPart(key, uploadId, 1, { range: `bytes=0-${5 * MiB - 1}` });
    const two = await copyPart(key, uploadId, 2, { range: `bytes=${5 * MiB}-${6 * MiB - 1}` });
    assert.equal(one.CopyPartResult?.ChecksumCRC32, await checksumOf("CRC32", first));
    assert.equal(two.CopyPartResult?.ChecksumCRC32, await checksumOf("CRC32", rest));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            {
              PartNumber: 1,
              ETag: one.CopyPartResult?.ETag,
              ChecksumCRC32: one.CopyPartResult?.ChecksumCRC32,
            },
            {
              PartNumber: 2,
              ETag: two.CopyPartResult?.ETag,
              ChecksumCRC32: two.CopyPartResult?.ChecksumCRC32,
            },
          ],
        },
      }),
    );
    assert.ok((await read(key)).bytes.equals(source));
  });
});

describe("UploadPartCopy's size", () => {
  test("a copied part is held to the largest part the bucket takes, before a byte is copied", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "small-parts" }));
    await nimbusClient(t).json("PUT", "/nimbus/v1/storage/buckets/small-parts/quota", {
      body: JSON.stringify({ maxObjectBytes: 1 * MiB }),
    });
    const key = "capped.bin";
    const uploadId = await upload(key, "small-parts");
    const tooLarge = await s3Failure(
      copyPart(key, uploadId, 1, { bucket: "small-parts", range: `bytes=0-${1 * MiB}` }),
    );
    assert.deepEqual([tooLarge.name, tooLarge.status], ["EntityTooLarge", 400]);
    const fits = await copyPart(key, uploadId, 1, { bucket: "small-parts", range: `bytes=0-${1 * MiB - 1}` });
    assert.equal(fits.CopyPartResult?.ETag, etagOf(source.subarray(0, 1 * MiB)));
  });
});

describe("UploadPartCopy by a signed-in user", () => {
  test("needs s3:PutObject on the target and s3:GetObject on the source", async () => {
    const bucket = "app-copies";
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Nimbus: ["authenticated"] },
              Action: ["s3:GetObject", "s3:PutObject"],
              Resource: `arn:aws:s3:::${bucket}/users/\${auth.sub}/*`,
            },
          ],
        }),
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "private/secret.txt", Body: "secret" }));
    const { serviceKey } = await authKeys(t);
    const admin = authClient(t, { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` }).admin;
    const password = "correct horse battery staple";
    const made = await admin.createUser({ email: "carol@example.com", password, email_confirm: true });
    assert.equal(made.error, null);
    const { data } = await authClient(t).signInWithPassword({ email: "carol@example.com", password });
    const me = data.user?.id ?? "";
    const token = data.session?.access_token ?? "";
    const as = (method: string, path: string, headers: Record<string, string> = {}) =>
      fetch(`${t.url}/s3/${bucket}/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...headers },
      });
    assert.equal((await as("PUT", `users/${me}/mine.txt`, {})).status, 200);
    const created = await as("POST", `users/${me}/big.bin?uploads`);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())?.[1] ?? "";
    const part = `users/${me}/big.bin?partNumber=1&uploadId=${encodeURIComponent(uploadId)}`;
    const refused = await as("PUT", part, { "x-amz-copy-source": `${bucket}/private/secret.txt` });
    const body = await refused.text();
    assert.equal(refused.status, 403, body);
    assert.match(body, /<Code>AccessDenied<\/Code>/);
    const allowed = await as("PUT", part, { "x-amz-copy-source": `${bucket}/users/${me}/mine.txt` });
    assert.equal(allowed.status, 200, await allowed.clone().text());
    assert.match(await allowed.text(), /<CopyPartResult [^>]*><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag>/);
  });
});
