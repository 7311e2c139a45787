import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import { FsBlobStore } from "./blobs-fs.js";
import { S3Error } from "./errors.js";
import type { BucketRecord, BucketUsage, ObjectVersionRecord } from "./model.js";
import { type BucketQuota, checkContentType, parseQuota, usageGuard } from "./quota.js";
import type { GuardedWrite, Released, StorageRepo, UsageGuard, UsageRefusal } from "./repo.js";
import { EMPTY_HEADERS, type PutInput, StorageService } from "./storage.js";

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const bucketWith = (quota: BucketQuota | undefined, versioning: BucketRecord["versioning"] = "Unversioned") =>
  ({
    name: "photos",
    createdAt: 0,
    versioning,
    publicRead: false,
    settings: quota === undefined ? {} : { quota: JSON.stringify(quota) },
  }) satisfies BucketRecord;

/** What a refused call threw, for its code and message. */
async function refusal(p: Promise<unknown> | (() => unknown)): Promise<S3Error> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
  throw new Error("it was not refused");
}

describe("parseQuota", () => {
  test("takes the four settings, content types lower-cased", () => {
    assert.deepEqual(
      parseQuota({
        maxBytes: 1000,
        maxObjects: 10,
        maxObjectBytes: 100,
        allowedContentTypes: ["Image/*", "application/pdf"],
      }),
      {
        maxBytes: 1000,
        maxObjects: 10,
        maxObjectBytes: 100,
        allowedContentTypes: ["image/*", "application/pdf"],
      },
    );
    assert.deepEqual(parseQuota({}), {});
  });

  test("lists every problem at once: unknown fields, limits that are not positive integers, bad content types", () => {
    let err: unknown;
    try {
      parseQuota({
        maxBytes: 0,
        maxObjects: 1.5,
        maxObjectBytes: "10",
        allowedContentTypes: ["image/*", "pdf", "*/*", 7],
        maxFiles: 3,
      });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof NimbusError);
    assert.equal(err.code, "InvalidParameter");
    assert.deepEqual(
      err.problems.map((p) => p.field),
      [
        "quota",
        "maxBytes",
        "maxObjects",
        "maxObjectBytes",
        "allowedContentTypes.1",
        "allowedContentTypes.2",
        "allowedContentTypes.3",
      ],
    );
    assert.match(err.message, /quota has the key "maxFiles"/);
    assert.match(err.message, /maxBytes is 0: it must be a positive integer/);
    assert.match(err.message, /allowedContentTypes\.1 is "pdf": it must be type\/subtype or type\/\*/);
  });

  test("an empty list of content types is refused: it would refuse every write", () => {
    assert.throws(() => parseQuota({ allowedContentTypes: [] }), /allowedContentTypes is \[\]/);
  });
});

describe("checkContentType", () => {
  const b = bucketWith({ allowedContentTypes: ["image/*", "application/pdf"] });
  const quota = { allowedContentTypes: ["image/*", "application/pdf"] };

  test("allows a listed type or one of a listed whole type, without case or parameters", () => {
    checkContentType(b, quota, "image/png");
    checkContentType(b, quota, "IMAGE/JPEG");
    checkContentType(b, quota, "application/pdf; charset=binary");
    checkContentType(b, undefined, "text/html");
  });

  test("refuses any other with 415 UnsupportedMediaType, a missing one as application/octet-stream", async () => {
    const err = await refusal(() => checkContentType(b, quota, "text/html"));
    assert.equal(err.code, "UnsupportedMediaType");
    assert.equal(err.status, 415);
    assert.equal(
      err.message,
      'bucket "photos" takes objects of content type image/*, application/pdf; this one is "text/html"',
    );
    assert.match(
      (await refusal(() => checkContentType(b, quota, undefined))).message,
      /"application\/octet-stream"/,
    );
    assert.equal(
      (await refusal(() => checkContentType(b, quota, "application/pdfx"))).code,
      "UnsupportedMediaType",
    );
  });
});

describe("usageGuard", () => {
  /** A write of a `size`-byte version into "photos", replacing one of `replacedBytes` if given. */
  const write = (size: number, replacedBytes?: number): GuardedWrite => ({
    bucket: "photos",
    size,
    delta: { objects: replacedBytes === undefined ? 1 : 0, bytes: size - (replacedBytes ?? 0) },
    replacedBytes,
  });

  test("a quota without maxBytes or maxObjects has no guard", () => {
    assert.equal(usageGuard(undefined), undefined);
    assert.equal(usageGuard({ maxObjectBytes: 10, allowedContentTypes: ["image/*"] }), undefined);
  });

  test("a write that adds an object past maxObjects is refused for objects, before its bytes are counted", () => {
    const guard = usageGuard({ maxObjects: 2, maxBytes: 100 });
    const usage = { objects: 2, bytes: 100 };
    assert.deepEqual(guard?.judge(usage, write(10)), {
      refused: "objects",
      bucket: "photos",
      max: 2,
      usage,
      size: 10,
      replacedBytes: undefined,
    });
    assert.equal(guard?.judge({ objects: 1, bytes: 0 }, write(100)), undefined, "the last object fits");
  });

  test("a write that adds bytes past maxBytes is refused for bytes, net of the version it replaces", () => {
    const guard = usageGuard({ maxBytes: 100 });
    const usage = { objects: 2, bytes: 90 };
    assert.equal(guard?.judge(usage, write(10)), undefined, "the last bytes fit");
    assert.deepEqual(guard?.judge(usage, write(31, 20)), {
      refused: "bytes",
      bucket: "photos",
      max: 100,
      usage,
      size: 31,
      replacedBytes: 20,
    });
    assert.equal(guard?.judge(usage, write(30, 20)), undefined);
  });

  test("a write that adds nothing is never refused, even past lowered limits; one that adds an object or a byte is", () => {
    const guard = usageGuard({ maxBytes: 100, maxObjects: 1 });
    const usage = { objects: 5, bytes: 500 };
    assert.equal(guard?.judge(usage, write(40, 40)), undefined);
    assert.equal(guard?.judge(usage, write(5, 40)), undefined);
    assert.equal(guard?.judge(usage, write(0))?.refused, "objects", "an empty object adds an object");
    assert.equal(guard?.judge(usage, write(41, 40))?.refused, "bytes");
  });
});

/**
 * The repository's object writes, in memory: one bucket, its versions by key, its usage. A put
 * runs to its end before another starts, so its guard holds as a store's transaction does.
 */
class FakeRepo {
  bucket: BucketRecord;
  readonly versions = new Map<string, ObjectVersionRecord>();
  constructor(bucket: BucketRecord) {
    this.bucket = bucket;
  }
  async getBucket(name: string) {
    return name === this.bucket.name ? this.bucket : undefined;
  }
  async usage(): Promise<BucketUsage> {
    const all = [...this.versions.values()];
    return { objects: all.length, bytes: all.reduce((n, v) => n + v.size, 0) };
  }
  async getVersion(_bucket: string, key: string) {
    return this.versions.get(key);
  }
  async putVersion(
    v: ObjectVersionRecord,
    _event?: unknown,
    guard?: UsageGuard,
  ): Promise<Released | UsageRefusal> {
    const old = this.versions.get(v.key);
    const delta = { objects: old === undefined ? 1 : 0, bytes: v.size - (old?.size ?? 0) };
    const write = { bucket: this.bucket.name, size: v.size, delta, replacedBytes: old?.size };
    const refusal = guard?.judge(await this.usage(), write);
    if (refusal !== undefined) return refusal;
    this.versions.set(v.key, v);
    return { blobIds: old?.blobId === undefined ? [] : [old.blobId] };
  }
}

/** Every body goes to a blob (`inlineMaxBytes: -1`), so that the files left say what was kept. */
async function service(quota: BucketQuota) {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-quota-"));
  dirs.push(dir);
  const clock = new FakeClock();
  const blobs = await FsBlobStore.open({ dir: join(dir, "objects"), clock });
  const repo = new FakeRepo(bucketWith(quota));
  const storage = new StorageService({
    repo: repo as unknown as StorageRepo,
    blobs,
    clock,
    log: () => undefined,
    inlineMaxBytes: -1,
  });
  const files = async () => {
    const shards = await readdir(join(dir, "objects", "blobs"));
    const inShards = await Promise.all(shards.map((s) => readdir(join(dir, "objects", "blobs", s))));
    return inShards.flat().length + (await readdir(join(dir, "objects", "tmp"))).length;
  };
  return { storage, repo, files };
}

/** A body read as it streams; `read` counts the bytes taken from it. */
function body(size: number, declared: number | undefined, contentType = "image/png") {
  const counter = { read: 0 };
  async function* chunks() {
    for (let sent = 0; sent < size; sent += 100) {
      const n = Math.min(100, size - sent);
      counter.read += n;
      yield new Uint8Array(n);
    }
  }
  const input: PutInput = {
    body: chunks(),
    size: declared,
    headers: { ...EMPTY_HEADERS, contentType },
    userMetadata: {},
    tags: {},
    checks: {},
  };
  return { input, counter };
}

describe("a bucket's quota on PutObject", () => {
  test("a body declared larger than maxObjectBytes is EntityTooLarge before a byte is read", async () => {
    const { storage, files } = await service({ maxObjectBytes: 500 });
    const { input, counter } = body(501, 501);
    const err = await refusal(storage.putObject("photos", "a.png", input));
    assert.equal(err.code, "EntityTooLarge");
    assert.equal(err.fields.MaxSizeAllowed, "500");
    assert.equal(counter.read, 0);
    assert.equal(await files(), 0);
  });

  test("a write past maxBytes is QuotaExceeded before its body is read; one that replaces an object counts the difference", async () => {
    const { storage, repo, files } = await service({ maxBytes: 1000 });
    await storage.putObject("photos", "a.png", body(800, 800).input);
    const { input, counter } = body(300, 300);
    const err = await refusal(storage.putObject("photos", "b.png", input));
    assert.equal(err.code, "QuotaExceeded");
    assert.equal(err.status, 403);
    assert.equal(
      err.message,
      'bucket "photos" holds 800 of at most 1,000 bytes: an object of 300 bytes does not fit',
    );
    assert.equal(counter.read, 0);
    await storage.putObject("photos", "a.png", body(1000, 1000).input);
    assert.deepEqual(await repo.usage(), { objects: 1, bytes: 1000 });
    assert.equal(await files(), 1);
  });

  test("a write past maxObjects is QuotaExceeded; replacing an object is not", async () => {
    const { storage, repo } = await service({ maxObjects: 2 });
    await storage.putObject("photos", "a.png", body(1, 1).input);
    await storage.putObject("photos", "b.png", body(1, 1).input);
    const err = await refusal(storage.putObject("photos", "c.png", body(1, 1).input));
    assert.equal(err.message, 'bucket "photos" holds 2 of at most 2 objects: no room for one more');
    await storage.putObject("photos", "b.png", body(5, 5).input);
    assert.deepEqual(await repo.usage(), { objects: 2, bytes: 6 });
  });

  test("a body of unknown length is cut at the bucket's remaining room, and nothing is kept", async () => {
    const { storage, repo, files } = await service({ maxBytes: 1000 });
    await storage.putObject("photos", "a.png", body(600, 600).input);
    const { input, counter } = body(5000, undefined);
    const err = await refusal(storage.putObject("photos", "b.png", input));
    assert.equal(err.code, "QuotaExceeded");
    assert.equal(
      err.message,
      'bucket "photos" holds 600 of at most 1,000 bytes: a body of more than 400 bytes does not fit',
    );
    assert.ok(counter.read < 5000, `read all ${counter.read} bytes of a body past the room`);
    assert.deepEqual(await repo.usage(), { objects: 1, bytes: 600 });
    assert.equal(await files(), 1);
    await storage.putObject("photos", "b.png", body(400, undefined).input);
    assert.deepEqual(await repo.usage(), { objects: 2, bytes: 1000 });
  });

  test("a write that fit when it started but not once its body is in is refused by its record's write, and its blob discarded", async () => {
    const { storage, repo, files } = await service({ maxBytes: 1000 });
    const { input } = body(600, 600);
    // Another write takes the room while this body streams.
    const racing: PutInput = {
      ...input,
      body: (async function* () {
        await storage.putObject("photos", "other.png", body(500, 500).input);
        yield* input.body;
      })(),
    };
    const err = await refusal(storage.putObject("photos", "a.png", racing));
    assert.equal(err.code, "QuotaExceeded");
    assert.equal(err.status, 403);
    assert.equal(
      err.message,
      'bucket "photos" holds 500 of at most 1,000 bytes: an object of 600 bytes does not fit',
    );
    assert.deepEqual(await repo.usage(), { objects: 1, bytes: 500 });
    assert.equal(await files(), 1);
  });

  test("of 10 writes at once with room for one object, exactly one is stored; the others are QuotaExceeded and keep no blob", async () => {
    const { storage, repo, files } = await service({ maxObjects: 1 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => storage.putObject("photos", `${i}.png`, body(300, 300).input)),
    );
    assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, 1);
    for (const o of outcomes)
      if (o.status === "rejected") {
        assert.ok(o.reason instanceof S3Error);
        assert.equal(o.reason.message, 'bucket "photos" holds 1 of at most 1 objects: no room for one more');
      }
    assert.deepEqual(await repo.usage(), { objects: 1, bytes: 300 });
    assert.equal(await files(), 1);
  });

  test("a bucket over a lowered limit takes a replacement no larger than what it replaces, and refuses one that adds bytes", async () => {
    const { storage, repo } = await service({ maxBytes: 1000, maxObjects: 2 });
    await storage.putObject("photos", "a.png", body(600, 600).input);
    await storage.putObject("photos", "b.png", body(400, 400).input);
    repo.bucket = bucketWith({ maxBytes: 500, maxObjects: 1 });
    await storage.putObject("photos", "a.png", body(600, 600).input);
    await storage.putObject("photos", "b.png", body(100, undefined).input);
    assert.deepEqual(await repo.usage(), { objects: 2, bytes: 700 });
    const err = await refusal(storage.putObject("photos", "b.png", body(101, 101).input));
    assert.equal(
      err.message,
      'bucket "photos" holds 700 of at most 500 bytes: an object of 101 bytes does not fit, even in place of the 100 bytes it replaces',
    );
    const grown = await refusal(storage.putObject("photos", "b.png", body(101, undefined).input));
    assert.equal(grown.code, "QuotaExceeded");
    assert.equal(
      (await refusal(storage.putObject("photos", "c.png", body(1, 1).input))).message,
      'bucket "photos" holds 2 of at most 1 objects: no room for one more',
    );
    assert.deepEqual(await repo.usage(), { objects: 2, bytes: 700 });
  });

  test("a Content-Type outside allowedContentTypes is refused before the body is read", async () => {
    const { storage, files } = await service({ allowedContentTypes: ["image/*"] });
    const { input, counter } = body(10, 10, "text/html");
    assert.equal((await refusal(storage.putObject("photos", "a.html", input))).code, "UnsupportedMediaType");
    assert.equal(counter.read, 0);
    assert.equal(await files(), 0);
  });
});
