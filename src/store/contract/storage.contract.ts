/**
 * What object storage relies on from every store: buckets and versions read back exactly as
 * written (unset fields undefined, JSON deep-equal, sizes and times past 2^32); a bucket is
 * deleted only empty; a put of the "null" version replaces it and one with an id adds beside the
 * others, the newest being the latest (a delete marker too), and a deletion of the latest makes
 * the next newest the latest; the blobs no record names any more are released, and no other;
 * usage counts every version (a delete marker as an object of no bytes) and moves with every
 * write; an event goes in with its write and leaves the outbox when delivered; every blob named
 * is found by the sweep's scan. Listings: `storage-listing.contract.ts`; multipart uploads:
 * `storage-uploads.contract.ts`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  BucketRecord,
  ContentHeaders,
  ObjectEventRecord,
  ObjectVersionRecord,
} from "../../services/storage/model.js";
import type { StorageRepo } from "../../services/storage/repo.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";

/** 5 TiB, S3's largest object: past 2^32, so a store that narrowed it would show. */
export const LARGE_SIZE = 5 * 2 ** 40;

export const NO_HEADERS: ContentHeaders = {
  contentType: undefined,
  contentEncoding: undefined,
  contentDisposition: undefined,
  contentLanguage: undefined,
  cacheControl: undefined,
  expires: undefined,
};

export const ALL_HEADERS: ContentHeaders = {
  contentType: "text/plain; charset=utf-8",
  contentEncoding: "gzip",
  contentDisposition: 'attachment; filename="Grüße 📦.txt"',
  contentLanguage: "de-CH",
  cacheControl: "public, max-age=60",
  expires: "Wed, 21 Oct 2026 07:28:00 GMT",
};

/** User metadata and tags a client could send: several scripts, quotes, `%` and `_`, an empty value. */
export const METADATA = { author: "Zoë 📦", "x_y%z": 'say "hi" \\ bye', empty: "" };

/** An unversioned bucket made at T0, nothing configured; `patch` overrides. */
export function bucket(name: string, patch: Partial<BucketRecord> = {}): BucketRecord {
  return { name, createdAt: T0_MS, versioning: "Unversioned", publicRead: false, settings: {}, ...patch };
}

/** The "null" version of `key` in `bucketName`, 11 bytes in blob `blob-<key>`, every optional field unset. */
export function object(
  bucketName: string,
  key: string,
  patch: Partial<ObjectVersionRecord> = {},
): ObjectVersionRecord {
  return {
    bucket: bucketName,
    key,
    versionId: "null",
    isDeleteMarker: false,
    size: 11,
    etag: '"5eb63bbbe01eeed093cb22bb8f5acdc3"',
    blobId: `blob-${key}`,
    headers: NO_HEADERS,
    userMetadata: {},
    checksum: undefined,
    partsCount: 0,
    tags: {},
    createdAt: T0_MS,
    ...patch,
  };
}

/** A delete marker of `key`, version `versionId`. */
export function deleteMarker(bucketName: string, key: string, versionId: string, createdAt = T0_MS) {
  const dm = { isDeleteMarker: true, size: 0, etag: "", blobId: undefined, createdAt };
  return object(bucketName, key, { versionId, ...dm });
}

/** An ObjectCreated:Put event of `key` in "b", due at its creation; `patch` overrides. */
export function objectEvent(
  id: string,
  key: string,
  patch: Partial<ObjectEventRecord> = {},
): ObjectEventRecord {
  const what = {
    eventName: "ObjectCreated:Put",
    bucket: "b",
    key,
    size: 11,
    etag: "5eb63bbb",
    versionId: undefined,
  };
  const who = { sequencer: "0066A1B2C3D4E5F601", sourceIp: "203.0.113.7", requestId: `req-${id}` };
  return { id, ...what, ...who, createdAt: T0_MS, attempts: 0, dueAt: T0_MS, ...patch };
}

/** A fresh repository with bucket "b" (`versioning` as given). */
export async function withBucket(
  repo: StorageRepo,
  versioning: BucketRecord["versioning"] = "Unversioned",
): Promise<void> {
  assert.equal(await repo.createBucket(bucket("b", { versioning })), true);
}

/** The version ids of `versions`, as `key@id` (a delete marker `key@id*`). */
export const ids = (versions: readonly ObjectVersionRecord[]): string[] =>
  versions.map((v) => `${v.key}@${v.versionId}${v.isDeleteMarker ? "*" : ""}`);

/** Every blob `repo` names, sorted. */
export async function referenced(repo: StorageRepo): Promise<string[]> {
  const all: string[] = [];
  for await (const id of repo.referencedBlobs()) all.push(id);
  return all.sort();
}

export function storageContract(open: OpenRepo<StorageRepo>): void {
  test("a bucket reads back as created; a name is taken once; buckets list by name in byte order", () =>
    withRepo(open, async ({ repo }) => {
      const settings = {
        cors: '{ "CORSRules": [ { "AllowedOrigins": ["*"] } ] }',
        quota: '{"maxBytes":1e12}',
      };
      const full = bucket("b.one", {
        versioning: "Enabled",
        publicRead: true,
        settings,
        createdAt: T0_MS + 1,
      });
      for (const b of [full, bucket("b-two"), bucket("b0"), bucket("a")])
        assert.equal(await repo.createBucket(b), true);
      assert.equal(await repo.createBucket(bucket("b.one")), false);
      assert.deepEqual(await repo.getBucket("b.one"), full);
      assert.deepEqual(await repo.getBucket("a"), bucket("a"));
      assert.equal(await repo.getBucket("missing"), undefined);
      assert.deepEqual(
        (await repo.listBuckets()).map((b) => b.name),
        ["a", "b-two", "b.one", "b0"],
      );
    }));

  test("versioning, public read and each setting change alone; a setting's text is kept exactly; a missing bucket answers false", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      const policy = '{\n  "Statement": [ {"Effect": "Allow", "Resource": "arn:aws:s3:::b/ü*"} ]\n}';
      assert.equal(await repo.setVersioning("b", "Enabled"), true);
      assert.equal(await repo.setPublicRead("b", true), true);
      assert.equal(await repo.putSetting("b", "policy", policy), true);
      assert.equal(await repo.putSetting("b", "tagging", '{"TagSet":[]}'), true);
      assert.equal(await repo.putSetting("b", "tagging", '{"TagSet":[{"Key":"k","Value":"v"}]}'), true);
      const settings = { policy, tagging: '{"TagSet":[{"Key":"k","Value":"v"}]}' };
      assert.deepEqual(
        await repo.getBucket("b"),
        bucket("b", { versioning: "Enabled", publicRead: true, settings }),
      );
      assert.equal(await repo.putSetting("b", "policy", undefined), true);
      assert.equal(await repo.putSetting("b", "cors", undefined), true, "removing an unset setting");
      assert.equal(await repo.setVersioning("b", "Suspended"), true);
      assert.equal(await repo.setPublicRead("b", false), true);
      assert.deepEqual(
        await repo.getBucket("b"),
        bucket("b", { versioning: "Suspended", settings: { tagging: settings.tagging } }),
      );
      assert.equal(await repo.setVersioning("missing", "Enabled"), false);
      assert.equal(await repo.setPublicRead("missing", true), false);
      assert.equal(await repo.putSetting("missing", "cors", "{}"), false);
      assert.equal(await repo.getBucket("missing"), undefined);
    }));

  test("a bucket is deleted only once it holds no version (a delete marker included) and no upload", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo, "Enabled");
      await repo.putVersion(deleteMarker("b", "k", "v1"));
      assert.equal(await repo.deleteBucket("b"), "not-empty");
      assert.deepEqual(
        ids(
          await repo.listVersions("b", {
            prefix: "",
            afterKey: undefined,
            afterVersionId: undefined,
            limit: 9,
          }),
        ),
        ["k@v1*"],
      );
      await repo.deleteVersion("b", "k", "v1");
      const upload = { uploadId: "u1", bucket: "b", key: "k", headers: NO_HEADERS, userMetadata: {} };
      await repo.createUpload({ ...upload, checksumAlgorithm: undefined, tags: {}, createdAt: T0_MS });
      assert.equal(await repo.deleteBucket("b"), "not-empty");
      assert.equal((await repo.getUpload("u1"))?.key, "k");
      await repo.abortUpload("u1");
      assert.equal(await repo.deleteBucket("b"), "deleted");
      assert.equal(await repo.getBucket("b"), undefined);
      assert.equal(await repo.deleteBucket("b"), "missing");
      assert.equal(await repo.createBucket(bucket("b")), true, "the name is free again");
      assert.deepEqual(await repo.usage("b"), { objects: 0, bytes: 0 });
    }));

  test("a version reads back as put, every optional field set or none, by id and as the latest; a 1,024-byte key too", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo, "Enabled");
      const checksum = { algorithm: "CRC64NVME", value: "AAAAAAAAAAA=-3", type: "COMPOSITE" } as const;
      const full = object("b", "dir/ü 📦+%_.txt", {
        versionId: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
        size: LARGE_SIZE,
        etag: '"d41d8cd98f00b204e9800998ecf8427e-3"',
        blobId: "blob-full",
        headers: ALL_HEADERS,
        userMetadata: METADATA,
        checksum,
        partsCount: 3,
        tags: { "project/ü": "a b+c", empty: "" },
        createdAt: T0_MS + 5,
      });
      const bare = object("b", "😀".repeat(256));
      assert.equal(Buffer.byteLength(bare.key), 1024);
      for (const v of [full, bare]) assert.deepEqual(await repo.putVersion(v), { blobIds: [] });
      assert.deepEqual(await repo.getVersion("b", full.key), full);
      assert.deepEqual(await repo.getVersion("b", full.key, full.versionId), full);
      assert.deepEqual(await repo.getVersion("b", bare.key, "null"), bare);
      assert.deepEqual(await repo.getVersion("b", bare.key), bare);
      const sha = {
        algorithm: "SHA256",
        value: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
        type: "FULL_OBJECT",
      } as const;
      const other = object("b", "k", { checksum: sha, headers: { ...NO_HEADERS, contentType: "image/png" } });
      await repo.putVersion(other);
      assert.deepEqual(await repo.getVersion("b", "k"), other);
      assert.equal(await repo.getVersion("b", "k", "other"), undefined);
      assert.equal(await repo.getVersion("b", "missing"), undefined);
      assert.equal(await repo.getVersion("other", "k"), undefined);
    }));

  test("a small object's inline body reads back by key, byte for byte, and never with a listing", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo, "Enabled");
      const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
      const small = {
        ...object("b", "small", { versionId: "v1", size: bytes.length }),
        blobId: undefined,
        body: bytes,
      };
      const empty = {
        ...object("b", "empty", { versionId: "v2", size: 0 }),
        blobId: undefined,
        body: Buffer.alloc(0),
      };
      for (const v of [small, empty]) assert.deepEqual(await repo.putVersion(v), { blobIds: [] });
      assert.deepEqual(await repo.getVersion("b", "small"), small);
      assert.deepEqual(await repo.getVersion("b", "small", "v1"), small);
      assert.deepEqual(await repo.getVersion("b", "empty"), empty);
      const listed = (v: ObjectVersionRecord) => ({ ...v, body: undefined });
      const unlisted = ({ body: _, ...v }: ObjectVersionRecord) => v;
      const latest = await repo.listLatest("b", { prefix: "", after: undefined, limit: 10 });
      assert.deepEqual(latest.map(listed), [empty, small].map(listed));
      assert.deepEqual(latest, [empty, small].map(unlisted), "a listed version has no body field");
      const versions = await repo.listVersions("b", {
        prefix: "s",
        afterKey: undefined,
        afterVersionId: undefined,
        limit: 10,
      });
      assert.deepEqual(versions, [unlisted(small)]);
      assert.deepEqual(await repo.usage("b"), { objects: 2, bytes: 4096 });
    }));

  test("a put of the null version replaces it, its blob released; one still named by a record is not", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      assert.deepEqual(await repo.putVersion(object("b", "k", { blobId: "b1", size: 10 })), { blobIds: [] });
      const second = object("b", "k", { blobId: "b2", size: 20, createdAt: T0_MS + 1 });
      assert.deepEqual(await repo.putVersion(second), { blobIds: ["b1"] });
      assert.deepEqual(await repo.getVersion("b", "k"), second);
      assert.deepEqual(await repo.usage("b"), { objects: 1, bytes: 20 });
      // A copy onto itself (new metadata, the same bytes) keeps the blob.
      const copy = { ...second, userMetadata: METADATA, createdAt: T0_MS + 2 };
      assert.deepEqual(await repo.putVersion(copy), { blobIds: [] });
      assert.deepEqual(await repo.getVersion("b", "k"), copy);
      await repo.putVersion(object("b", "other", { blobId: "b2" }));
      assert.deepEqual(
        await repo.putVersion(object("b", "k", { blobId: "b3" })),
        { blobIds: [] },
        "b2 is other's too",
      );
      assert.deepEqual(await repo.deleteVersion("b", "other", "null"), {
        removed: object("b", "other", { blobId: "b2" }),
        blobIds: ["b2"],
      });
      assert.deepEqual(await referenced(repo), ["b3"]);
      assert.deepEqual(await repo.usage("b"), { objects: 1, bytes: 11 });
    }));

  test("in a versioned bucket a put adds a version that becomes the latest; a suspended bucket's put replaces only the null one", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      const all = { prefix: "", afterKey: undefined, afterVersionId: undefined, limit: 100 };
      await repo.putVersion(object("b", "k", { blobId: "b-null" }));
      await repo.setVersioning("b", "Enabled");
      // Ids in the opposite order of age: the newest is the last put, not the greatest id.
      for (const [id, n] of [
        ["zz", 1],
        ["mm", 2],
      ] as const)
        assert.deepEqual(
          await repo.putVersion(object("b", "k", { versionId: id, blobId: `b-${id}`, createdAt: T0_MS + n })),
          {
            blobIds: [],
          },
        );
      assert.equal((await repo.getVersion("b", "k"))?.versionId, "mm");
      assert.deepEqual(ids(await repo.listVersions("b", all)), ["k@mm", "k@zz", "k@null"]);
      await repo.setVersioning("b", "Suspended");
      const suspended = object("b", "k", { blobId: "b-null2", createdAt: T0_MS + 3 });
      assert.deepEqual(await repo.putVersion(suspended), { blobIds: ["b-null"] });
      assert.deepEqual(await repo.getVersion("b", "k"), suspended);
      assert.deepEqual(ids(await repo.listVersions("b", all)), ["k@null", "k@mm", "k@zz"]);
      assert.deepEqual(await repo.usage("b"), { objects: 3, bytes: 33 });
      assert.deepEqual(await referenced(repo), ["b-mm", "b-null2", "b-zz"]);
    }));

  test("deleting the latest version makes the next newest the latest; a delete marker is the latest until removed", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo, "Enabled");
      const latest = { prefix: "", after: undefined, limit: 10 };
      const [v1, v2] = [1, 2].map((n) =>
        object("b", "k", { versionId: `v${n}`, blobId: `b${n}`, createdAt: T0_MS + n }),
      );
      for (const v of [v1!, v2!]) await repo.putVersion(v);
      const removed = await repo.deleteVersion("b", "k", "v2");
      assert.deepEqual(removed, { removed: v2, blobIds: ["b2"] });
      assert.deepEqual(await repo.getVersion("b", "k"), v1);
      assert.deepEqual(ids(await repo.listLatest("b", latest)), ["k@v1"]);
      const dm = deleteMarker("b", "k", "v3", T0_MS + 3);
      assert.deepEqual(await repo.putVersion(dm), { blobIds: [] });
      assert.deepEqual(await repo.getVersion("b", "k"), dm);
      assert.deepEqual(
        await repo.listLatest("b", latest),
        [],
        "a key whose latest is a delete marker is not listed",
      );
      assert.deepEqual(
        await repo.usage("b"),
        { objects: 2, bytes: 11 },
        "a delete marker is an object of no bytes",
      );
      // An older version goes without changing which is the latest.
      await repo.putVersion(object("b", "k", { versionId: "v4", blobId: "b4", createdAt: T0_MS + 4 }));
      assert.deepEqual((await repo.deleteVersion("b", "k", "v3")).blobIds, []);
      assert.equal((await repo.getVersion("b", "k"))?.versionId, "v4");
      assert.deepEqual((await repo.deleteVersion("b", "k", "v4")).blobIds, ["b4"]);
      assert.deepEqual(await repo.getVersion("b", "k"), v1);
      assert.deepEqual(ids(await repo.listLatest("b", latest)), ["k@v1"]);
      assert.deepEqual(await repo.deleteVersion("b", "k", "v4"), { removed: undefined, blobIds: [] });
      assert.deepEqual(await repo.deleteVersion("b", "missing", "null"), { removed: undefined, blobIds: [] });
      await repo.deleteVersion("b", "k", "v1");
      assert.equal(await repo.getVersion("b", "k"), undefined);
      assert.deepEqual(await repo.usage("b"), { objects: 0, bytes: 0 });
    }));

  test("usage counts every version's bytes past 2^32, bucket by bucket, and moves with every write", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo, "Enabled");
      await repo.createBucket(bucket("c"));
      await repo.putVersion(object("b", "big", { versionId: "v1", size: LARGE_SIZE }));
      await repo.putVersion(object("b", "big", { versionId: "v2", size: LARGE_SIZE - 1 }));
      await repo.putVersion(object("c", "small", { size: 7 }));
      assert.deepEqual(await repo.usage("b"), { objects: 2, bytes: 2 * LARGE_SIZE - 1 });
      assert.deepEqual(await repo.usage("c"), { objects: 1, bytes: 7 });
      await repo.putVersion(object("c", "small", { size: 3 }));
      await repo.deleteVersion("b", "big", "v1");
      assert.deepEqual(await repo.usage("b"), { objects: 1, bytes: LARGE_SIZE - 1 });
      assert.deepEqual(await repo.usage("c"), { objects: 1, bytes: 3 });
      assert.deepEqual(await repo.usage("missing"), { objects: 0, bytes: 0 });
    }));

  test("a version's tags are replaced whole; a version gone answers false", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo, "Enabled");
      const v1 = object("b", "k", { versionId: "v1", tags: { a: "1" } });
      await repo.putVersion(v1);
      await repo.putVersion(object("b", "k", { versionId: "v2" }));
      assert.equal(await repo.putTags("b", "k", "v1", METADATA), true);
      assert.deepEqual(await repo.getVersion("b", "k", "v1"), { ...v1, tags: METADATA });
      assert.deepEqual((await repo.getVersion("b", "k"))?.tags, {}, "another version's stay");
      assert.equal(await repo.putTags("b", "k", "v1", {}), true);
      assert.deepEqual((await repo.getVersion("b", "k", "v1"))?.tags, {});
      assert.equal(await repo.putTags("b", "k", "v9", { a: "1" }), false);
      assert.equal(await repo.putTags("b", "other", "v1", { a: "1" }), false);
    }));

  test("an event goes in with its write and lists when due, oldest first; a retry counts and defers it; a delivered one goes", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo, "Enabled");
      const full = objectEvent("e1", "k", {
        versionId: "v1",
        size: LARGE_SIZE,
        createdAt: T0_MS + 1,
        dueAt: T0_MS + 1,
      });
      await repo.putVersion(object("b", "k", { versionId: "v1" }), full);
      const removedEvent = objectEvent("e2", "k", {
        eventName: "ObjectRemoved:Delete",
        createdAt: T0_MS + 2,
        dueAt: T0_MS + 2,
      });
      await repo.deleteVersion("b", "k", "v1", removedEvent);
      const early = objectEvent("e0", "other", { createdAt: T0_MS, dueAt: T0_MS + 3 });
      await repo.putVersion(object("b", "other", { versionId: "v1" }), early);
      // A deletion that removed nothing reports nothing.
      await repo.deleteVersion("b", "missing", "v1", objectEvent("e-none", "missing"));
      assert.deepEqual(await repo.dueEvents(T0_MS + 10, 10), [early, full, removedEvent]);
      assert.deepEqual(await repo.dueEvents(T0_MS + 2, 10), [full, removedEvent], "not before due");
      assert.deepEqual(await repo.dueEvents(T0_MS + 10, 2), [early, full]);
      await repo.retryEvent("e1", T0_MS + 100);
      assert.deepEqual(await repo.dueEvents(T0_MS + 10, 10), [early, removedEvent]);
      await repo.retryEvent("e1", T0_MS + 200);
      assert.deepEqual(await repo.dueEvents(T0_MS + 200, 10), [
        early,
        { ...full, attempts: 2, dueAt: T0_MS + 200 },
        removedEvent,
      ]);
      await repo.deleteEvent("e0");
      await repo.deleteEvent("e0");
      await repo.retryEvent("missing", T0_MS);
      assert.deepEqual(await repo.dueEvents(T0_MS + 200, 10), [
        { ...full, attempts: 2, dueAt: T0_MS + 200 },
        removedEvent,
      ]);
    }));

  test("a write into a bucket that does not exist, or of a key holding NUL, is refused and writes nothing", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      await assert.rejects(
        repo.putVersion(object("missing", "k"), objectEvent("e1", "k")),
        /bucket "missing"/,
      );
      assert.equal(await repo.getVersion("missing", "k"), undefined);
      assert.deepEqual(await repo.dueEvents(T0_MS, 10), []);
      await assert.rejects(repo.putVersion(object("b", "a\u0000b")), /NUL/);
      const upload = {
        uploadId: "u1",
        headers: NO_HEADERS,
        userMetadata: {},
        checksumAlgorithm: undefined,
        tags: {},
      };
      await assert.rejects(
        repo.createUpload({ ...upload, bucket: "missing", key: "k", createdAt: T0_MS }),
        /"missing"/,
      );
      await assert.rejects(
        repo.createUpload({ ...upload, bucket: "b", key: "\u0000", createdAt: T0_MS }),
        /NUL/,
      );
      assert.equal(await repo.getUpload("u1"), undefined);
      assert.deepEqual(await repo.usage("b"), { objects: 0, bytes: 0 });
      assert.deepEqual(await repo.listLatest("b", { prefix: "a\u0000", after: undefined, limit: 10 }), []);
    }));

  test("the sweep's scan names every blob of a version or a part, page after page, and none of a version gone", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo, "Enabled");
      const keys = Array.from({ length: 1_030 }, (_, i) => `k${i}`);
      await Promise.all(
        keys.map((k) => repo.putVersion(object("b", k, { versionId: "v1", blobId: `v-${k}` }))),
      );
      await repo.putVersion(deleteMarker("b", "k0", "v2"));
      await repo.deleteVersion("b", "k1", "v1");
      for (const uploadId of ["u1", "u2"]) {
        const upload = { uploadId, bucket: "b", key: "k", headers: NO_HEADERS, userMetadata: {}, tags: {} };
        await repo.createUpload({ ...upload, checksumAlgorithm: undefined, createdAt: T0_MS });
        for (const partNumber of [1, 2]) {
          const part = { uploadId, partNumber, size: 5, etag: '"x"', blobId: `p-${uploadId}-${partNumber}` };
          await repo.putPart({ ...part, checksum: undefined, createdAt: T0_MS });
        }
      }
      const expected = [
        ...keys.filter((k) => k !== "k1").map((k) => `v-${k}`),
        "p-u1-1",
        "p-u1-2",
        "p-u2-1",
        "p-u2-2",
      ];
      assert.deepEqual(await referenced(repo), expected.sort());
    }));
}
