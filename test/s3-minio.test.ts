/**
 * End to end with a second S3 client, minio-js: it cannot put a path in its endpoint, so it
 * addresses the platform virtual-host style at `{bucket}.s3.localhost:<port>` (docs/storage.md),
 * its connections pointed at the loopback as a browser or curl would send them. Its own
 * multipart upload of a stream, its listing (with `encoding-type=url`), its copy, its bulk
 * delete, its presigned URLs and its errors, as a user of minio-js sees them.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { Client, CopyConditions, S3Error } from "minio";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";

const MiB = 1024 * 1024;
/** minio-js sends a stream larger than this as a multipart upload of parts this size. */
const PART_BYTES = 5 * MiB;
const BUCKET = "minio-bucket";

let t: TestPlatform;
let agent: Agent;
let minio: Client;

/** Every name minio-js looks up is one of the platform's `*.s3.localhost`: the loopback. */
function loopbackAgent(): Agent {
  return new Agent({
    keepAlive: true,
    lookup: ((_host: string, opts: { all?: boolean }, cb: (err: null, ...answer: unknown[]) => void) =>
      opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)) as never,
  });
}

before(async () => {
  t = await startPlatform();
  agent = loopbackAgent();
  minio = new Client({
    endPoint: "s3.localhost",
    port: Number(new URL(t.url).port),
    useSSL: false,
    pathStyle: false,
    region: "us-east-1",
    accessKey: t.platform.credentials.accessKeyId,
    secretKey: t.platform.credentials.secretAccessKey,
    transportAgent: agent,
    partSize: PART_BYTES,
  });
  await minio.makeBucket(BUCKET);
});
after(async () => {
  agent.destroy();
  await t.close();
});

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The S3Error a call rejected with. */
async function minioError(p: Promise<unknown>): Promise<S3Error> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
  throw new Error("the call succeeded; expected it to fail");
}

/**
 * A URL as it is, over the loopback agent: Node's fetch resolves `*.localhost` itself (and
 * fails) and sets Host from the URL, so a presigned virtual-host URL goes by node:http.
 */
function send(url: string, method: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("buckets through minio-js", () => {
  test("makeBucket and bucketExists", async () => {
    await minio.makeBucket("minio-made");
    assert.equal(await minio.bucketExists("minio-made"), true);
    assert.equal(await minio.bucketExists("minio-never-made"), false);
    const again = await minioError(minio.makeBucket("minio-made"));
    assert.equal(again.code, "BucketAlreadyOwnedByYou");
    await minio.removeBucket("minio-made");
    assert.equal(await minio.bucketExists("minio-made"), false);
  });

  // minio-js (as client-s3 with forcePathStyle: false) sends ListBuckets to the bare
  // `s3.localhost:<port>`, the S3 service's own host.
  test("listBuckets at s3.localhost", async () => {
    const buckets = await minio.listBuckets();
    const names = buckets.map((b) => b.name);
    assert.ok(names.includes(BUCKET), String(names));
    assert.ok(buckets[0]?.creationDate instanceof Date);
  });
});

describe("objects through minio-js", () => {
  test("a Buffer is put in one request and read back whole and in part", async () => {
    const body = randomBytes(100_000);
    const put = await minio.putObject(BUCKET, "buffers/one.bin", body, body.length, {
      "Content-Type": "application/x-test",
      colour: "blue",
    });
    assert.equal(put.etag, md5(body));
    assert.deepEqual(await bytesOf(await minio.getObject(BUCKET, "buffers/one.bin")), body);
    const middle = await bytesOf(await minio.getPartialObject(BUCKET, "buffers/one.bin", 1000, 500));
    assert.deepEqual(middle, body.subarray(1000, 1500));
    const tail = await bytesOf(await minio.getPartialObject(BUCKET, "buffers/one.bin", 99_000));
    assert.deepEqual(tail, body.subarray(99_000));
    const stat = await minio.statObject(BUCKET, "buffers/one.bin");
    assert.equal(stat.size, body.length);
    assert.equal(stat.etag, md5(body));
    assert.equal(stat.metaData["content-type"], "application/x-test");
    assert.equal(stat.metaData.colour, "blue");
    assert.ok(stat.lastModified instanceof Date);
  });

  test("a 12 MiB stream goes as minio-js's multipart upload of 5 MiB parts and reads back", async () => {
    const body = randomBytes(12 * MiB);
    const stream = Readable.from(
      (function* () {
        // Pieces smaller than a part: minio-js assembles its parts from the stream.
        for (let i = 0; i < body.length; i += 256 * 1024) yield body.subarray(i, i + 256 * 1024);
      })(),
    );
    const put = await minio.putObject(BUCKET, "streams/twelve.bin", stream, body.length);
    const partMd5s = [0, 1, 2].map((i) =>
      createHash("md5")
        .update(body.subarray(i * PART_BYTES, (i + 1) * PART_BYTES))
        .digest(),
    );
    assert.equal(put.etag, `${md5(Buffer.concat(partMd5s))}-3`);
    const stat = await minio.statObject(BUCKET, "streams/twelve.bin");
    assert.equal(stat.size, body.length);
    const back = await bytesOf(await minio.getObject(BUCKET, "streams/twelve.bin"));
    assert.equal(md5(back), md5(body));
    const across = await bytesOf(
      await minio.getPartialObject(BUCKET, "streams/twelve.bin", PART_BYTES - 10, 20),
    );
    assert.deepEqual(across, body.subarray(PART_BYTES - 10, PART_BYTES + 10));
    // Nothing of the upload is left behind.
    const incomplete: unknown[] = [];
    for await (const u of minio.listIncompleteUploads(BUCKET, "streams/", true)) incomplete.push(u);
    assert.deepEqual(incomplete, []);
  });

  test("listObjectsV2 decodes the url-encoded keys, by prefix, with a delimiter and after a key", async () => {
    // In UTF-8 byte order: "é" (0xC3 0xA9) after "s".
    const keys = ["list/a b.txt", "list/c+d.txt", "list/sub/1.txt", "list/sub/2.txt", "list/é.txt"];
    for (const key of keys) await minio.putObject(BUCKET, key, Buffer.from(key));
    const listed = async (prefix: string, recursive: boolean, startAfter?: string) => {
      const items: { name?: string; prefix?: string; size?: number }[] = [];
      for await (const item of minio.listObjectsV2(BUCKET, prefix, recursive, startAfter)) items.push(item);
      return items;
    };
    const all = await listed("list/", true);
    assert.deepEqual(
      all.map((i) => i.name),
      keys,
    );
    assert.equal(all[0]?.size, Buffer.byteLength(keys[0]!));
    const top = await listed("list/", false);
    assert.deepEqual(
      top.map((i) => i.name ?? `prefix:${i.prefix}`),
      ["list/a b.txt", "list/c+d.txt", "list/é.txt", "prefix:list/sub/"],
    );
    const after = await listed("list/", true, "list/c+d.txt");
    assert.deepEqual(
      after.map((i) => i.name),
      ["list/sub/1.txt", "list/sub/2.txt", "list/é.txt"],
    );
  });

  test("copyObject copies bytes and metadata", async () => {
    const body = Buffer.from("copied by minio-js");
    await minio.putObject(BUCKET, "copy/source.txt", body, body.length, { "Content-Type": "text/plain" });
    const conditions = new CopyConditions();
    conditions.setMatchETag(md5(body));
    const copied = await minio.copyObject(
      BUCKET,
      "copy/target.txt",
      `/${BUCKET}/copy/source.txt`,
      conditions,
    );
    assert.equal("etag" in copied ? copied.etag : copied.Etag, md5(body));
    assert.deepEqual(await bytesOf(await minio.getObject(BUCKET, "copy/target.txt")), body);
    const stat = await minio.statObject(BUCKET, "copy/target.txt");
    assert.equal(stat.metaData["content-type"], "text/plain");
    const refused = new CopyConditions();
    refused.setMatchETag("0123456789abcdef0123456789abcdef");
    const failed = await minioError(
      minio.copyObject(BUCKET, "copy/never.txt", `/${BUCKET}/copy/source.txt`, refused),
    );
    assert.equal(failed.code, "PreconditionFailed");
  });

  test("removeObject and removeObjects delete what they name", async () => {
    const keys = ["gone/1", "gone/2", "gone/3", "gone/4"];
    for (const key of keys) await minio.putObject(BUCKET, key, Buffer.from(key));
    await minio.removeObject(BUCKET, "gone/1");
    // A key that is not there is no error, as in S3.
    await minio.removeObject(BUCKET, "gone/never");
    const errors = await minio.removeObjects(BUCKET, ["gone/2", "gone/3", "gone/never"]);
    assert.deepEqual(
      errors.filter((e) => e?.Error !== undefined),
      [],
    );
    const left: string[] = [];
    for await (const item of minio.listObjectsV2(BUCKET, "gone/", true)) left.push(item.name ?? "");
    assert.deepEqual(left, ["gone/4"]);
    assert.equal((await minioError(minio.statObject(BUCKET, "gone/2"))).code, "NotFound");
  });

  test("a missing key is minio's S3Error NoSuchKey, a missing bucket NoSuchBucket", async () => {
    const missing = await minioError(minio.getObject(BUCKET, "nowhere/at-all.txt"));
    assert.equal(missing.code, "NoSuchKey");
    assert.match(missing.message, /key does not exist/i);
    // A HEAD has no body: minio-js names a 404 itself.
    assert.equal((await minioError(minio.statObject(BUCKET, "nowhere/at-all.txt"))).code, "NotFound");
    const noBucket = await minioError(minio.getObject("minio-no-such-bucket", "k"));
    assert.equal(noBucket.code, "NoSuchBucket");
  });
});

describe("presigned URLs from minio-js", () => {
  test("a presigned PUT stores the body, a presigned GET reads it back", async () => {
    const body = Buffer.from("uploaded through a link minio-js signed");
    const putUrl = await minio.presignedPutObject(BUCKET, "links/file name.txt", 600);
    assert.match(putUrl, /^http:\/\/minio-bucket\.s3\.localhost:\d+\/links\/file%20name\.txt\?X-Amz-/);
    const put = await send(putUrl, "PUT", body);
    assert.equal(put.status, 200, put.body.toString());
    const getUrl = await minio.presignedGetObject(BUCKET, "links/file name.txt", 600);
    const got = await send(getUrl, "GET");
    assert.equal(got.status, 200, got.body.toString());
    assert.deepEqual(got.body, body);
    // Unsigned, the same object is refused.
    const anonymous = await send(getUrl.slice(0, getUrl.indexOf("?")), "GET");
    assert.equal(anonymous.status, 403);
  });

  test("a presigned GET that has expired is AccessDenied", async () => {
    await minio.putObject(BUCKET, "links/old.txt", Buffer.from("old"));
    const signedAt = new Date(Date.now() - 120_000);
    const url = await minio.presignedGetObject(BUCKET, "links/old.txt", 60, {}, signedAt);
    const res = await send(url, "GET");
    assert.equal(res.status, 403);
    assert.match(res.body.toString(), /<Code>AccessDenied<\/Code>[\s\S]*Request has expired/);
  });
});
