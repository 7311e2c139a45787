import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { storageOnSqlite } from "../../../test/helpers/storage-service.js";
import { Multipart } from "./multipart.js";
import { EMPTY_HEADERS, type StorageService } from "./storage.js";
import { parseTusMetadata, TUS_EXPIRY_MS, TusError, type TusTarget, TusUploads, tusTarget } from "./tus.js";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function service() {
  const { storage, clock } = await storageOnSqlite({ name: "tus", cleanups });
  const multipart = new Multipart(storage);
  await storage.createBucket("photos");
  return { storage, multipart, clock, tus: new TusUploads({ storage, multipart, clock }) };
}

const target = (key = "a/cat.bin"): TusTarget => ({
  bucket: "photos",
  key,
  headers: { ...EMPTY_HEADERS, contentType: "image/png" },
});

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

async function objectText(storage: StorageService, key: string): Promise<string> {
  const { version } = await storage.read("photos", key, { conditions: {} });
  const out: Buffer[] = [];
  for await (const c of storage.stream(version, undefined)) out.push(c as Buffer);
  return Buffer.concat(out).toString();
}

async function refusal(p: Promise<unknown>): Promise<TusError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TusError) return err;
    throw err;
  }
  throw new Error("it was not refused");
}

describe("tus uploads", () => {
  test("PATCHes of any size append at growing offsets, and the last completes the object without tus's state in its metadata", async () => {
    const { tus, storage } = await service();
    const created = await tus.create(target(), 10, "filename Y2F0LmJpbg==", { overwrite: true });
    assert.deepEqual([created.offset, created.length, created.metadata], [0, 10, "filename Y2F0LmJpbg=="]);
    const first = await tus.append(created.uploadId, 0, chunks("ab", "c"), 3);
    assert.equal(first.upload.offset, 3);
    // An empty PATCH stores nothing.
    assert.equal((await tus.append(created.uploadId, 3, chunks(), 0)).upload.offset, 3);
    assert.equal((await tus.get(created.uploadId)).parts, 1);
    const last = await tus.append(created.uploadId, 3, chunks("defghij"), 7);
    assert.equal(last.upload.offset, 10);
    assert.equal(await objectText(storage, "a/cat.bin"), "abcdefghij");
    const { version } = await storage.read("photos", "a/cat.bin", { conditions: {} });
    assert.deepEqual(version.userMetadata, {});
    assert.equal(version.headers.contentType, "image/png");
    assert.equal(version.partsCount, 2);
    assert.equal((await refusal(tus.get(created.uploadId))).status, 404);
  });

  test("an offset that is not the upload's is 409, and bytes past Upload-Length 413, keeping nothing", async () => {
    const { tus } = await service();
    const { uploadId } = await tus.create(target(), 5, undefined, { overwrite: true });
    await tus.append(uploadId, 0, chunks("ab"), 2);
    assert.equal((await refusal(tus.append(uploadId, 0, chunks("ab"), 2))).status, 409);
    assert.equal((await refusal(tus.append(uploadId, 2, chunks("cdef"), 4))).status, 413);
    // Without a length, the body is cut at the limit.
    assert.equal((await refusal(tus.append(uploadId, 2, chunks("cd", "ef"), undefined))).status, 413);
    assert.equal((await tus.get(uploadId)).offset, 2);
  });

  test("a body its client cut keeps the bytes that arrived, and the upload resumes after them", async () => {
    const { tus, storage } = await service();
    const { uploadId } = await tus.create(target(), 6, undefined, { overwrite: true });
    async function* cut(): AsyncIterable<Uint8Array> {
      yield Buffer.from("abcd");
      throw new Error("aborted");
    }
    const { upload, cut: wasCut } = await tus.append(uploadId, 0, cut(), 6);
    assert.deepEqual([upload.offset, wasCut], [4, true]);
    await tus.append(uploadId, 4, chunks("ef"), 2);
    assert.equal(await objectText(storage, "a/cat.bin"), "abcdef");
  });

  test("a zero-length upload is the object at its creation; an existing object is refused when it may not be replaced", async () => {
    const { tus, storage } = await service();
    await tus.create(target("empty"), 0, undefined, { overwrite: true });
    assert.equal(await objectText(storage, "empty"), "");
    const err = await refusal(tus.create(target("empty"), 3, undefined, { overwrite: false }));
    assert.equal(err.status, 409);
  });

  test("an Upload-Length past the bucket's quota is 413", async () => {
    const { tus, storage } = await service();
    await storage.deps.repo.putSetting("photos", "quota", JSON.stringify({ maxObjectBytes: 100 }));
    assert.equal(await tus.maxSize("photos"), 100);
    assert.equal((await refusal(tus.create(target(), 101, undefined, { overwrite: true }))).status, 413);
  });

  test("uploads expire 24 h after their creation: 410, then the sweep aborts them and leaves S3's uploads", async () => {
    const { tus, multipart, clock, storage } = await service();
    const { uploadId } = await tus.create(target(), 5, undefined, { overwrite: true });
    await tus.append(uploadId, 0, chunks("ab"), 2);
    const s3Upload = await multipart.create("photos", "other", {
      headers: EMPTY_HEADERS,
      userMetadata: {},
      tags: {},
      checksumAlgorithm: undefined,
    });
    clock.advance(TUS_EXPIRY_MS - 1);
    assert.equal((await tus.get(uploadId)).offset, 2);
    assert.equal(await tus.sweep(), 0);
    clock.advance(1);
    assert.equal((await refusal(tus.get(uploadId))).status, 410);
    assert.equal((await refusal(tus.append(uploadId, 2, chunks("c"), 1))).status, 410);
    assert.equal(await tus.sweep(), 1);
    assert.equal((await refusal(tus.get(uploadId))).status, 404);
    assert.equal(await storage.deps.repo.getUpload(uploadId), undefined);
    assert.ok(await storage.deps.repo.getUpload(s3Upload));
  });
});

describe("Upload-Metadata", () => {
  test("pairs are base64 values, a key alone has none, and a malformed header is refused", () => {
    const m = parseTusMetadata("bucketName cGhvdG9z,objectName YS9jYXQucG5n, empty ,flag");
    assert.deepEqual(
      [...m],
      [
        ["bucketName", "photos"],
        ["objectName", "a/cat.png"],
        ["empty", undefined],
        ["flag", undefined],
      ],
    );
    assert.throws(
      () => parseTusMetadata("a b c"),
      (e: TusError) => e.status === 400,
    );
    assert.throws(() => parseTusMetadata("a YQ==,a YQ=="), /names a twice/);
  });

  test("the target is Supabase's names; cacheControl in seconds becomes max-age, and filetype stands in for contentType", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const meta = (pairs: Record<string, string>) =>
      parseTusMetadata(
        Object.entries(pairs)
          .map(([k, v]) => `${k} ${b64(v)}`)
          .join(","),
      );
    const t = tusTarget(
      meta({ bucketName: "photos", objectName: "a.png", contentType: "image/png", cacheControl: "3600" }),
    );
    assert.deepEqual(
      [t.bucket, t.key, t.headers.contentType, t.headers.cacheControl],
      ["photos", "a.png", "image/png", "max-age=3600"],
    );
    assert.equal(
      tusTarget(meta({ bucketName: "p", objectName: "k", filetype: "text/plain" })).headers.contentType,
      "text/plain",
    );
    assert.throws(() => tusTarget(meta({ objectName: "k" })), /bucketName and objectName/);
    assert.throws(
      () => tusTarget(meta({ bucketName: "p", objectName: "k", contentType: "a\r\nb" })),
      /printable/,
    );
  });
});
