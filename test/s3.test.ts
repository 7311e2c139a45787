/**
 * End to end: object storage through `@aws-sdk/client-s3` at its default checksum settings
 * (a Buffer body carries a CRC32 header, a stream body travels aws-chunked with a CRC32
 * trailer), path style at `<platform>/s3` and virtual-host style at `{bucket}.s3.localhost`;
 * presigned URLs used with plain fetch; the platform's errors in S3's XML. Multipart uploads:
 * `s3-multipart.test.ts`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetBucketWebsiteCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { bytesOf, s3Client, s3Failure, virtualHostClient } from "./helpers/s3.js";

let t: TestPlatform;
let s3: S3Client;

before(async () => {
  t = await startPlatform();
  s3 = s3Client(t);
});
after(async () => {
  s3.destroy();
  await t.close();
});

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

async function bucket(name: string): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

describe("buckets", () => {
  test("create, head, list, locate and delete a bucket", async () => {
    const created = await s3.send(new CreateBucketCommand({ Bucket: "photos" }));
    assert.equal(created.Location, "/photos");
    await s3.send(
      new CreateBucketCommand({
        Bucket: "photos-eu",
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      }),
    );
    const head = await s3.send(new HeadBucketCommand({ Bucket: "photos" }));
    assert.equal(head.$metadata.httpStatusCode, 200);
    assert.equal(head.BucketRegion, "us-east-1");
    const list = await s3.send(new ListBucketsCommand({}));
    const names = (list.Buckets ?? []).map((b) => b.Name);
    assert.ok(names.includes("photos") && names.includes("photos-eu"), String(names));
    assert.ok(list.Buckets?.[0]?.CreationDate instanceof Date);
    assert.ok(list.Owner?.ID);
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: "photos" }));
    assert.equal(location.LocationConstraint, undefined);
    await s3.send(new DeleteBucketCommand({ Bucket: "photos-eu" }));
    assert.deepEqual(await s3Failure(s3.send(new HeadBucketCommand({ Bucket: "photos-eu" }))), {
      name: "NotFound",
      status: 404,
      message: "UnknownError",
    });
    const missing = await s3Failure(s3.send(new DeleteBucketCommand({ Bucket: "photos-eu" })));
    assert.deepEqual([missing.name, missing.status], ["NoSuchBucket", 404]);
  });

  test("refuses a taken name, an invalid name, and deleting a bucket that holds objects", async () => {
    await bucket("taken");
    const again = await s3Failure(s3.send(new CreateBucketCommand({ Bucket: "taken" })));
    assert.deepEqual([again.name, again.status], ["BucketAlreadyOwnedByYou", 409]);
    for (const name of ["UPPER", "ab", "a_b", "-dash", "192.168.1.1"]) {
      const bad = await s3Failure(s3.send(new CreateBucketCommand({ Bucket: name })));
      assert.deepEqual([bad.name, bad.status], ["InvalidBucketName", 400], name);
    }
    await s3.send(new PutObjectCommand({ Bucket: "taken", Key: "k", Body: "v" }));
    const notEmpty = await s3Failure(s3.send(new DeleteBucketCommand({ Bucket: "taken" })));
    assert.deepEqual([notEmpty.name, notEmpty.status], ["BucketNotEmpty", 409]);
    await s3.send(new DeleteObjectCommand({ Bucket: "taken", Key: "k" }));
    await s3.send(new DeleteBucketCommand({ Bucket: "taken" }));
  });

  test("an operation Nimbus does not implement answers 501 naming it", async () => {
    await bucket("no-website");
    const failed = await s3Failure(s3.send(new GetBucketWebsiteCommand({ Bucket: "no-website" })));
    assert.equal(failed.name, "NotImplemented");
    assert.equal(failed.status, 501);
    assert.match(failed.message, /GetBucketWebsite/);
  });
});

describe("objects", () => {
  before(() => bucket("objects"));

  test("a Buffer body round-trips with its ETag, checksum, metadata and content headers", async () => {
    const body = Buffer.from("hello, object storage");
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: "objects",
        Key: "greeting.txt",
        Body: body,
        ContentType: "text/plain; charset=utf-8",
        ContentDisposition: 'attachment; filename="greeting.txt"',
        ContentLanguage: "en",
        CacheControl: "max-age=60",
        Expires: new Date("2030-01-01T00:00:00Z"),
        Metadata: { owner: "ada", purpose: "test value" },
      }),
    );
    assert.equal(put.ETag, `"${md5(body)}"`);
    assert.ok(put.ChecksumCRC32, "the checksum is echoed");
    const got = await s3.send(new GetObjectCommand({ Bucket: "objects", Key: "greeting.txt" }));
    assert.deepEqual(await bytesOf(got.Body), body);
    assert.equal(got.ETag, put.ETag);
    assert.equal(got.ContentLength, body.length);
    assert.equal(got.ContentType, "text/plain; charset=utf-8");
    assert.equal(got.ContentDisposition, 'attachment; filename="greeting.txt"');
    assert.equal(got.ContentLanguage, "en");
    assert.equal(got.CacheControl, "max-age=60");
    assert.equal(got.ExpiresString, "Tue, 01 Jan 2030 00:00:00 GMT");
    assert.deepEqual(got.Metadata, { owner: "ada", purpose: "test value" });
    assert.equal(got.ChecksumCRC32, put.ChecksumCRC32, "the SDK asked for the checksum and verified it");
    assert.equal(got.AcceptRanges, "bytes");
    const head = await s3.send(new HeadObjectCommand({ Bucket: "objects", Key: "greeting.txt" }));
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.ETag, put.ETag);
    assert.ok(head.LastModified instanceof Date);
    const overridden = await s3.send(
      new GetObjectCommand({
        Bucket: "objects",
        Key: "greeting.txt",
        ResponseContentType: "application/x-greeting",
        ResponseCacheControl: "no-store",
      }),
    );
    assert.equal(overridden.ContentType, "application/x-greeting");
    assert.equal(overridden.CacheControl, "no-store");
    await bytesOf(overridden.Body);
  });

  test("a stream body travels aws-chunked with a CRC32 trailer, a large one with Expect: 100-continue", async () => {
    const sent: Record<string, string>[] = [];
    const recording = s3Client(t);
    recording.middlewareStack.add(
      (next) => async (args) => {
        sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: "finalizeRequest", priority: "low", name: "record" },
    );
    const pieces = [Buffer.alloc(70_000, "a"), Buffer.alloc(50_000, "b"), Buffer.from("end")];
    const whole = Buffer.concat(pieces);
    const put = await recording.send(
      new PutObjectCommand({
        Bucket: "objects",
        Key: "streamed.bin",
        Body: Readable.from(pieces),
        ContentLength: whole.length,
      }),
    );
    assert.equal(sent[0]?.["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    assert.equal(sent[0]?.["x-amz-trailer"], "x-amz-checksum-crc32");
    assert.equal(put.ETag, `"${md5(whole)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: "objects", Key: "streamed.bin" }));
    assert.equal(got.ContentEncoding, undefined, "aws-chunked is how it travelled, not what it is");
    assert.deepEqual(await bytesOf(got.Body), whole);

    const large = Buffer.alloc(3 * 1024 * 1024, "L");
    const bigPut = await recording.send(
      new PutObjectCommand({ Bucket: "objects", Key: "large.bin", Body: large }),
    );
    assert.equal(sent[1]?.Expect ?? sent[1]?.expect, "100-continue");
    assert.equal(bigPut.ETag, `"${md5(large)}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: "objects", Key: "large.bin" }));
    assert.equal(head.ContentLength, large.length);
    recording.destroy();
  });

  test("ranges answer 206 with Content-Range; a range past the end is 416", async () => {
    await s3.send(new PutObjectCommand({ Bucket: "objects", Key: "digits", Body: "0123456789" }));
    const read = async (Range: string) => {
      const r = await s3.send(new GetObjectCommand({ Bucket: "objects", Key: "digits", Range }));
      return [r.$metadata.httpStatusCode, r.ContentRange, (await bytesOf(r.Body)).toString()];
    };
    assert.deepEqual(await read("bytes=2-4"), [206, "bytes 2-4/10", "234"]);
    assert.deepEqual(await read("bytes=7-"), [206, "bytes 7-9/10", "789"]);
    assert.deepEqual(await read("bytes=-3"), [206, "bytes 7-9/10", "789"]);
    assert.deepEqual(await read("bytes=8-100"), [206, "bytes 8-9/10", "89"]);
    const past = await s3Failure(
      s3.send(new GetObjectCommand({ Bucket: "objects", Key: "digits", Range: "bytes=10-" })),
    );
    assert.deepEqual([past.name, past.status], ["InvalidRange", 416]);
  });

  test("conditional reads: 304 when not modified, 412 when a precondition fails", async () => {
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: "objects", Key: "cond", Body: "v1" }));
    const notModified = await s3Failure(
      s3.send(new GetObjectCommand({ Bucket: "objects", Key: "cond", IfNoneMatch: ETag })),
    );
    assert.equal(notModified.status, 304);
    const later = new Date(Date.now() + 60_000);
    const notSince = await s3Failure(
      s3.send(new HeadObjectCommand({ Bucket: "objects", Key: "cond", IfModifiedSince: later })),
    );
    assert.equal(notSince.status, 304);
    const failed = await s3Failure(
      s3.send(new GetObjectCommand({ Bucket: "objects", Key: "cond", IfMatch: '"0000"' })),
    );
    assert.deepEqual([failed.name, failed.status], ["PreconditionFailed", 412]);
    const ok = await s3.send(new GetObjectCommand({ Bucket: "objects", Key: "cond", IfMatch: ETag }));
    assert.equal((await bytesOf(ok.Body)).toString(), "v1");
  });

  test("keys with spaces, plus signs, percent signs and unicode are kept as given", async () => {
    const keys = ["dir/with space+plus%pct/ünï.txt", "a+b", "100%", "emoji 😀/x", "tilde~star*(paren)"];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: "objects", Key, Body: Key }));
    for (const Key of keys) {
      const got = await s3.send(new GetObjectCommand({ Bucket: "objects", Key }));
      assert.equal((await bytesOf(got.Body)).toString(), Key);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "objects", Prefix: "dir/" }));
    assert.deepEqual(
      listed.Contents?.map((c) => c.Key),
      ["dir/with space+plus%pct/ünï.txt"],
    );
    const missing = await s3Failure(s3.send(new GetObjectCommand({ Bucket: "objects", Key: "a b" })));
    assert.deepEqual([missing.name, missing.status], ["NoSuchKey", 404]);
  });

  test("a key of 1,024 bytes is accepted, one of 1,025 refused", async () => {
    const longest = `${"k".repeat(1022)}ü`;
    assert.equal(Buffer.byteLength(longest), 1024);
    await s3.send(new PutObjectCommand({ Bucket: "objects", Key: longest, Body: "x" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "objects", Key: longest }));
    assert.equal((await bytesOf(got.Body)).toString(), "x");
    const tooLong = await s3Failure(
      s3.send(new PutObjectCommand({ Bucket: "objects", Key: `${longest}k`, Body: "x" })),
    );
    assert.deepEqual([tooLong.name, tooLong.status], ["KeyTooLongError", 400]);
  });

  test("delete answers 204 even for a missing key; delete many reports each key", async () => {
    await s3.send(new PutObjectCommand({ Bucket: "objects", Key: "gone", Body: "x" }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: "objects", Key: "gone" }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    const again = await s3.send(new DeleteObjectCommand({ Bucket: "objects", Key: "gone" }));
    assert.equal(again.$metadata.httpStatusCode, 204);
    const head = await s3Failure(s3.send(new HeadObjectCommand({ Bucket: "objects", Key: "gone" })));
    assert.deepEqual([head.name, head.status], ["NotFound", 404]);

    for (const Key of ["many/1", "many/2", "many/3"])
      await s3.send(new PutObjectCommand({ Bucket: "objects", Key, Body: Key }));
    const many = await s3.send(
      new DeleteObjectsCommand({
        Bucket: "objects",
        Delete: { Objects: [{ Key: "many/1" }, { Key: "many/2" }, { Key: "many/never" }] },
      }),
    );
    assert.deepEqual(many.Deleted?.map((d) => d.Key).sort(), ["many/1", "many/2", "many/never"]);
    assert.equal(many.Errors, undefined);
    const quiet = await s3.send(
      new DeleteObjectsCommand({ Bucket: "objects", Delete: { Objects: [{ Key: "many/3" }], Quiet: true } }),
    );
    assert.equal(quiet.Deleted, undefined);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: "objects", Prefix: "many/" }));
    assert.equal(left.KeyCount, 0);
  });

  test("copy keeps the source's metadata, or replaces it with REPLACE", async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: "objects",
        Key: "src file",
        Body: "copied bytes",
        ContentType: "text/a",
        Metadata: { v: "1" },
      }),
    );
    const kept = await s3.send(
      new CopyObjectCommand({
        Bucket: "objects",
        Key: "copy-kept",
        CopySource: `objects/${encodeURIComponent("src file")}`,
      }),
    );
    assert.equal(kept.CopyObjectResult?.ETag, `"${md5("copied bytes")}"`);
    const k = await s3.send(new GetObjectCommand({ Bucket: "objects", Key: "copy-kept" }));
    assert.deepEqual(
      [k.ContentType, k.Metadata, (await bytesOf(k.Body)).toString()],
      ["text/a", { v: "1" }, "copied bytes"],
    );
    await s3.send(
      new CopyObjectCommand({
        Bucket: "objects",
        Key: "copy-replaced",
        CopySource: `/objects/${encodeURIComponent("src file")}`,
        MetadataDirective: "REPLACE",
        ContentType: "text/b",
        Metadata: { v: "2" },
      }),
    );
    const r = await s3.send(new HeadObjectCommand({ Bucket: "objects", Key: "copy-replaced" }));
    assert.deepEqual([r.ContentType, r.Metadata], ["text/b", { v: "2" }]);
    const noSource = await s3Failure(
      s3.send(new CopyObjectCommand({ Bucket: "objects", Key: "x", CopySource: "objects/no-such-source" })),
    );
    assert.deepEqual([noSource.name, noSource.status], ["NoSuchKey", 404]);
    const unmet = await s3Failure(
      s3.send(
        new CopyObjectCommand({
          Bucket: "objects",
          Key: "x",
          CopySource: "objects/copy-kept",
          CopySourceIfMatch: '"nope"',
        }),
      ),
    );
    assert.deepEqual([unmet.name, unmet.status], ["PreconditionFailed", 412]);
  });

  test("a wrong Content-MD5 is BadDigest, and nothing is stored", async () => {
    const failed = await s3Failure(
      s3.send(
        new PutObjectCommand({
          Bucket: "objects",
          Key: "bad-md5",
          Body: "the bytes",
          ContentMD5: createHash("md5").update("other bytes").digest("base64"),
        }),
      ),
    );
    assert.deepEqual([failed.name, failed.status], ["BadDigest", 400]);
    const head = await s3Failure(s3.send(new HeadObjectCommand({ Bucket: "objects", Key: "bad-md5" })));
    assert.equal(head.status, 404);
  });
});

describe("listing", () => {
  before(async () => {
    await bucket("listing");
    for (const Key of ["a.txt", "b/1", "b/2", "c/x/1", "c/y", "d", "e f+g"])
      await s3.send(new PutObjectCommand({ Bucket: "listing", Key, Body: Key }));
  });

  test("ListObjectsV2 rolls keys up at the delimiter; KeyCount counts keys and prefixes", async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: "listing", Delimiter: "/" }));
    assert.deepEqual(
      r.Contents?.map((c) => c.Key),
      ["a.txt", "d", "e f+g"],
    );
    assert.deepEqual(
      r.CommonPrefixes?.map((p) => p.Prefix),
      ["b/", "c/"],
    );
    assert.equal(r.KeyCount, 5);
    assert.equal(r.IsTruncated, false);
    const c = r.Contents?.[0];
    assert.deepEqual(
      [c?.Size, c?.ETag, c?.StorageClass, c?.Owner],
      [5, `"${md5("a.txt")}"`, "STANDARD", undefined],
    );
    const owned = await s3.send(
      new ListObjectsV2Command({ Bucket: "listing", FetchOwner: true, MaxKeys: 1 }),
    );
    assert.match(owned.Contents?.[0]?.Owner?.ID ?? "", /^[0-9a-f]{64}$/);
    const under = await s3.send(
      new ListObjectsV2Command({ Bucket: "listing", Prefix: "c/", Delimiter: "/" }),
    );
    assert.deepEqual(
      [under.Contents?.map((x) => x.Key), under.CommonPrefixes?.map((p) => p.Prefix)],
      [["c/y"], ["c/x/"]],
    );
  });

  test("pages with max-keys and continuation tokens, and starts after a key", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await s3.send(
        new ListObjectsV2Command({ Bucket: "listing", MaxKeys: 2, ContinuationToken: token }),
      );
      assert.ok((r.KeyCount ?? 0) <= 2);
      seen.push(...(r.Contents ?? []).map((c) => c.Key ?? ""));
      token = r.NextContinuationToken;
      assert.equal(r.IsTruncated, token !== undefined);
      pages++;
    } while (token);
    assert.deepEqual(seen, ["a.txt", "b/1", "b/2", "c/x/1", "c/y", "d", "e f+g"]);
    assert.equal(pages, 4);
    const withPrefixes = await s3.send(
      new ListObjectsV2Command({ Bucket: "listing", Delimiter: "/", MaxKeys: 2 }),
    );
    assert.deepEqual(
      [withPrefixes.Contents?.map((x) => x.Key), withPrefixes.CommonPrefixes?.map((p) => p.Prefix)],
      [["a.txt"], ["b/"]],
    );
    const next = await s3.send(
      new ListObjectsV2Command({
        Bucket: "listing",
        Delimiter: "/",
        MaxKeys: 2,
        ContinuationToken: withPrefixes.NextContinuationToken,
      }),
    );
    assert.deepEqual(
      [next.Contents?.map((x) => x.Key), next.CommonPrefixes?.map((p) => p.Prefix)],
      [["d"], ["c/"]],
    );
    const startAfter = await s3.send(new ListObjectsV2Command({ Bucket: "listing", StartAfter: "c/x/1" }));
    assert.deepEqual(
      startAfter.Contents?.map((c) => c.Key),
      ["c/y", "d", "e f+g"],
    );
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: "listing", Marker: "c/y", MaxKeys: 1 }));
    assert.deepEqual([v1.Contents?.map((c) => c.Key), v1.IsTruncated], [["d"], true]);
  });

  test("encoding-type=url encodes keys and prefixes as S3 does", async () => {
    const r = await s3.send(
      new ListObjectsV2Command({ Bucket: "listing", Prefix: "e", EncodingType: "url" }),
    );
    assert.equal(r.EncodingType, "url");
    assert.deepEqual(
      r.Contents?.map((c) => c.Key),
      ["e+f%2Bg"],
    );
  });

  test("listing a bucket that does not exist is NoSuchBucket", async () => {
    const r = await s3Failure(s3.send(new ListObjectsV2Command({ Bucket: "no-such-bucket" })));
    assert.deepEqual([r.name, r.status], ["NoSuchBucket", 404]);
  });
});

describe("versioning", () => {
  test("two puts keep two versions; a delete leaves a marker; each version reads by id", async () => {
    await bucket("versions");
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: "versions" }))).Status, undefined);
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: "versions", VersioningConfiguration: { Status: "Enabled" } }),
    );
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: "versions" }))).Status, "Enabled");
    const v1 = await s3.send(new PutObjectCommand({ Bucket: "versions", Key: "doc", Body: "first" }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: "versions", Key: "doc", Body: "second" }));
    assert.ok(v1.VersionId && v2.VersionId && v1.VersionId !== v2.VersionId);
    const latest = await s3.send(new GetObjectCommand({ Bucket: "versions", Key: "doc" }));
    assert.deepEqual([latest.VersionId, (await bytesOf(latest.Body)).toString()], [v2.VersionId, "second"]);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: "versions", Key: "doc" }));
    assert.equal(marker.DeleteMarker, true);
    assert.ok(marker.VersionId);
    const gone = await s3Failure(s3.send(new GetObjectCommand({ Bucket: "versions", Key: "doc" })));
    assert.deepEqual([gone.name, gone.status], ["NoSuchKey", 404]);
    const first = await s3.send(
      new GetObjectCommand({ Bucket: "versions", Key: "doc", VersionId: v1.VersionId }),
    );
    assert.equal((await bytesOf(first.Body)).toString(), "first");
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: "versions" }));
    assert.deepEqual(
      listed.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size]),
      [
        [v2.VersionId, false, 6],
        [v1.VersionId, false, 5],
      ],
    );
    assert.deepEqual(
      listed.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest]),
      [[marker.VersionId, true]],
    );
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: "versions",
        Key: "doc-v1",
        CopySource: `versions/doc?versionId=${v1.VersionId}`,
      }),
    );
    assert.equal(copied.CopySourceVersionId, v1.VersionId);
    const copy = await s3.send(new GetObjectCommand({ Bucket: "versions", Key: "doc-v1" }));
    assert.equal((await bytesOf(copy.Body)).toString(), "first");
    // Removing the marker brings the object back.
    await s3.send(new DeleteObjectCommand({ Bucket: "versions", Key: "doc", VersionId: marker.VersionId }));
    const back = await s3.send(new GetObjectCommand({ Bucket: "versions", Key: "doc" }));
    assert.equal((await bytesOf(back.Body)).toString(), "second");
  });
});

describe("tagging", () => {
  test("tags set on put, read, replaced and removed", async () => {
    await bucket("tags");
    await s3.send(
      new PutObjectCommand({ Bucket: "tags", Key: "t", Body: "x", Tagging: "team=shop&env=dev%20box" }),
    );
    const head = await s3.send(new GetObjectCommand({ Bucket: "tags", Key: "t" }));
    assert.equal(head.TagCount, 2);
    await bytesOf(head.Body);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: "tags", Key: "t" }));
    assert.deepEqual(tags.TagSet, [
      { Key: "team", Value: "shop" },
      { Key: "env", Value: "dev box" },
    ]);
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: "tags",
        Key: "t",
        Tagging: { TagSet: [{ Key: "only", Value: "one" }] },
      }),
    );
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: "tags", Key: "t" }))).TagSet, [
      { Key: "only", Value: "one" },
    ]);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: "tags", Key: "t" }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: "tags", Key: "t" }))).TagSet, []);
    const tooMany = await s3Failure(
      s3.send(
        new PutObjectTaggingCommand({
          Bucket: "tags",
          Key: "t",
          Tagging: { TagSet: Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: "v" })) },
        }),
      ),
    );
    assert.deepEqual([tooMany.name, tooMany.status], ["InvalidTag", 400]);
  });
});

describe("presigned URLs and signatures", () => {
  before(() => bucket("presigned"));

  test("a presigned PUT and GET work with plain fetch", async () => {
    const putUrl = await getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: "presigned", Key: "via link.txt" }),
      {
        expiresIn: 300,
      },
    );
    const put = await fetch(putUrl, { method: "PUT", body: "uploaded by link" });
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal(put.headers.get("etag"), `"${md5("uploaded by link")}"`);
    const getUrl = await getSignedUrl(
      s3,
      new GetObjectCommand({ Bucket: "presigned", Key: "via link.txt" }),
      {
        expiresIn: 300,
      },
    );
    const got = await fetch(getUrl);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), "uploaded by link");
  });

  test("an expired presigned URL is AccessDenied: Request has expired", async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "presigned", Key: "via link.txt" }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 10 * 60_000),
    });
    const res = await fetch(url);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("content-type"), "application/xml");
    const body = await res.text();
    assert.match(body, /<Code>AccessDenied<\/Code>/);
    assert.match(body, /<Message>Request has expired<\/Message>/);
  });

  test("a presigned URL may last at most 7 days", async () => {
    const url = new URL(
      await getSignedUrl(s3, new GetObjectCommand({ Bucket: "presigned", Key: "via link.txt" }), {
        expiresIn: 604_800,
      }),
    );
    assert.equal((await fetch(url)).status, 200);
    url.searchParams.set("X-Amz-Expires", "604801");
    const res = await fetch(url);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /<Code>AuthorizationQueryParametersError<\/Code>/);
  });

  test("a wrong secret is SignatureDoesNotMatch, an unknown key InvalidAccessKeyId, no signature AccessDenied", async () => {
    const wrong = s3Client(t, {
      credentials: { accessKeyId: t.platform.credentials.accessKeyId, secretAccessKey: "wrong" },
    });
    const mismatch = await s3Failure(wrong.send(new ListBucketsCommand({})));
    assert.deepEqual([mismatch.name, mismatch.status], ["SignatureDoesNotMatch", 403]);
    wrong.destroy();
    const unknown = s3Client(t, { credentials: { accessKeyId: "AKIDUNKNOWN", secretAccessKey: "x" } });
    const notKnown = await s3Failure(unknown.send(new ListBucketsCommand({})));
    assert.deepEqual([notKnown.name, notKnown.status], ["InvalidAccessKeyId", 403]);
    unknown.destroy();
    const anonymous = await fetch(`${t.url}/s3/presigned/via%20link.txt`);
    assert.equal(anonymous.status, 403);
    assert.ok(anonymous.headers.get("x-amz-request-id"));
    assert.match(await anonymous.text(), /<Error><Code>AccessDenied<\/Code>/);
  });
});

describe("virtual-host style", () => {
  test("{bucket}.s3.localhost addresses the bucket", async () => {
    const vh = virtualHostClient(t);
    await vh.send(new CreateBucketCommand({ Bucket: "vhost" }));
    await vh.send(new PutObjectCommand({ Bucket: "vhost", Key: "dir/a b.txt", Body: "by host" }));
    const got = await vh.send(new GetObjectCommand({ Bucket: "vhost", Key: "dir/a b.txt" }));
    assert.equal((await bytesOf(got.Body)).toString(), "by host");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "vhost" }));
    assert.deepEqual(
      listed.Contents?.map((c) => c.Key),
      ["dir/a b.txt"],
    );
    vh.destroy();
  });
});
