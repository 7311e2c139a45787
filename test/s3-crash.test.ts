/**
 * End to end: kill -9 the platform while an object's bytes are arriving, start it again on the
 * same data, and check what a client sees and what the data directory keeps. A PutObject cut
 * short leaves no object, no committed blob, and only a temporary file, which the restart's
 * sweep removes.
 * A multipart upload cut short during its third part keeps its first two, whole.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { resolveClientOptions } from "../src/cli/client.js";
import { exited, startUp } from "./helpers/cli.js";
import { bytesOf, s3Failure } from "./helpers/s3.js";
import { testStore } from "./helpers/store.js";

const MiB = 1024 * 1024;

function s3Of(dataDir: string): S3Client {
  const o = resolveClientOptions({ data: dataDir }, {});
  return new S3Client({
    endpoint: `${o.endpoint}/s3`,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: { accessKeyId: o.accessKeyId!, secretAccessKey: o.secretAccessKey! },
    maxAttempts: 1,
  });
}

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

/** Writes in progress: `<dataDir>/objects/tmp`, name → size. */
function temporaryFiles(dataDir: string): Map<string, number> {
  const dir = join(dataDir, "objects", "tmp");
  return new Map(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).size]));
}

/** Committed blobs: every file under `<dataDir>/objects/blobs/<shard>/`. */
function committedBlobs(dataDir: string): string[] {
  const dir = join(dataDir, "objects", "blobs");
  return readdirSync(dir).flatMap((shard) => readdirSync(join(dir, shard)));
}

/**
 * A body of `total` bytes of which only the first `sent` ever come: the rest waits for a kill
 * that never lets it through. `bytes` is what it sends, for the test to compare.
 */
function stalledBody(total: number, sent: number): { stream: Readable; bytes: Buffer } {
  const bytes = randomBytes(sent);
  const stream = Readable.from(
    (async function* () {
      for (let i = 0; i < sent; i += MiB) yield bytes.subarray(i, i + MiB);
      await new Promise(() => {});
    })(),
  );
  assert.ok(sent < total);
  return { stream, bytes };
}

/** Waits until the platform has written at least `bytes` of one temporary file. */
async function untilWritten(dataDir: string, bytes: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (![...temporaryFiles(dataDir).values()].some((size) => size >= bytes)) {
    if (Date.now() > deadline)
      throw new Error(`no temporary file reached ${bytes} bytes: ${[...temporaryFiles(dataDir)]}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A platform on `dataDir` for the test's body, stopped and removed at its end. */
async function withPlatform(
  name: string,
  body: (o: { dataDir: string; up: () => Promise<S3Client>; kill: () => Promise<void> }) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), `nimbus-s3-crash-${name}-`));
  chmodSync(dataDir, 0o711);
  const { store, drop } = await testStore();
  let running: ReturnType<typeof startUp> | undefined;
  const alive = () =>
    running !== undefined && running.child.exitCode === null && running.child.signalCode === null;
  const end = async (signal: NodeJS.Signals) => {
    if (!running || !alive()) return;
    running.child.kill(signal);
    await exited(running.child);
  };
  try {
    await body({
      dataDir,
      up: async () => {
        running = startUp(dataDir, "--store", store);
        await running.out.waitFor(/Nimbus is running at/);
        return s3Of(dataDir);
      },
      kill: () => end("SIGKILL"),
    });
  } finally {
    await end("SIGTERM");
    await rm(dataDir, { recursive: true, force: true });
    await drop();
  }
}

test("a PutObject cut short by a kill -9 leaves no object and no blob after the restart", async () => {
  await withPlatform("put", async ({ dataDir, up, kill }) => {
    let s3 = await up();
    await s3.send(new CreateBucketCommand({ Bucket: "big" }));
    const total = 64 * MiB;
    const { stream } = stalledBody(total, 24 * MiB);
    const put = s3
      .send(new PutObjectCommand({ Bucket: "big", Key: "half.bin", Body: stream, ContentLength: total }))
      .then(
        () => "answered",
        () => "failed",
      );
    await untilWritten(dataDir, 16 * MiB);
    await kill();
    assert.equal(await put, "failed");
    s3.destroy();
    const partial = [...temporaryFiles(dataDir).values()];
    assert.equal(partial.length, 1, "the interrupted write's temporary file");
    assert.ok(partial[0]! >= 16 * MiB && partial[0]! < total, `temporary file of ${partial[0]} bytes`);

    // The restart's sweep removes it: nothing can be writing while the platform starts.
    s3 = await up();
    assert.deepEqual([...temporaryFiles(dataDir).keys()], []);
    const head = await s3Failure(s3.send(new HeadObjectCommand({ Bucket: "big", Key: "half.bin" })));
    assert.deepEqual([head.name, head.status], ["NotFound", 404]);
    const get = await s3Failure(s3.send(new GetObjectCommand({ Bucket: "big", Key: "half.bin" })));
    assert.equal(get.name, "NoSuchKey");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "big" }));
    assert.equal(listed.KeyCount, 0);
    assert.deepEqual(committedBlobs(dataDir), [], "no blob was committed for the interrupted put");
    // The bucket still works: the same key stored whole.
    const whole = randomBytes(MiB);
    await s3.send(new PutObjectCommand({ Bucket: "big", Key: "half.bin", Body: whole }));
    assert.equal(
      md5(await bytesOf((await s3.send(new GetObjectCommand({ Bucket: "big", Key: "half.bin" }))).Body)),
      md5(whole),
    );
    s3.destroy();
  });
});

test("a multipart upload cut short during part 3 keeps parts 1 and 2 and completes after the restart", async () => {
  await withPlatform("multipart", async ({ dataDir, up, kill }) => {
    let s3 = await up();
    const Bucket = "parts";
    const Key = "three.bin";
    await s3.send(new CreateBucketCommand({ Bucket }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 123)];
    const etags: string[] = [];
    for (const [i, Body] of parts.entries()) {
      const out = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }));
      etags.push(out.ETag!);
    }
    assert.deepEqual(
      etags,
      parts.map((p) => `"${md5(p)}"`),
    );
    const { stream } = stalledBody(16 * MiB, 8 * MiB);
    const third = s3
      .send(
        new UploadPartCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber: 3,
          Body: stream,
          ContentLength: 16 * MiB,
        }),
      )
      .then(
        () => "answered",
        () => "failed",
      );
    await untilWritten(dataDir, 4 * MiB);
    await kill();
    assert.equal(await third, "failed");
    s3.destroy();

    s3 = await up();
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.deepEqual(
      (listed.Parts ?? []).map((p) => ({ n: p.PartNumber, etag: p.ETag, size: p.Size })),
      parts.map((p, i) => ({ n: i + 1, etag: `"${md5(p)}"`, size: p.length })),
    );
    const last = randomBytes(3 * MiB);
    const again = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 3, Body: last }));
    assert.equal(again.ETag, `"${md5(last)}"`);
    etags.push(again.ETag!);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const whole = Buffer.concat([...parts, last]);
    const partMd5s = [...parts, last].map((p) => createHash("md5").update(p).digest());
    assert.equal(done.ETag, `"${md5(Buffer.concat(partMd5s))}-3"`);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    assert.equal(got.ContentLength, whole.length);
    assert.equal(md5(await bytesOf(got.Body)), md5(whole));
    s3.destroy();
  });
});
