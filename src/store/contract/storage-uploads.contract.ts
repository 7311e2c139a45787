/**
 * What object storage's multipart uploads rely on from every store: an upload and its parts read
 * back as written; uploads list by key (bytes) then creation, paged after a key and upload; a
 * part of the same number replaces the earlier, whose blob is released; completing stores the
 * object as a put would and takes the upload and every part with it, releasing their blobs (not
 * one the object itself names) and the replaced version's; of completions and aborts at once,
 * exactly one takes the upload and the others find it gone, nothing written.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { MultipartUploadRecord, PartRecord } from "../../services/storage/model.js";
import type { StorageRepo } from "../../services/storage/repo.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";
import {
  ALL_HEADERS,
  ids,
  LARGE_SIZE,
  METADATA,
  NO_HEADERS,
  object,
  objectEvent,
  referenced,
  withBucket,
} from "./storage.contract.js";

/** An upload of `key` in "b" started at T0, every optional field unset; `patch` overrides. */
function upload(
  uploadId: string,
  key: string,
  patch: Partial<MultipartUploadRecord> = {},
): MultipartUploadRecord {
  const unset = { headers: NO_HEADERS, userMetadata: {}, checksumAlgorithm: undefined, tags: {} };
  return { uploadId, bucket: "b", key, ...unset, createdAt: T0_MS, ...patch };
}

/** Part `partNumber` of `uploadId`, 5 MiB in blob `p-<upload>-<number>`; `patch` overrides. */
function part(uploadId: string, partNumber: number, patch: Partial<PartRecord> = {}): PartRecord {
  const bytes = {
    size: 5 * 2 ** 20,
    etag: '"b54357faf0632cce46e942fa68356b38"',
    blobId: `p-${uploadId}-${partNumber}`,
  };
  return { uploadId, partNumber, ...bytes, checksum: undefined, createdAt: T0_MS, ...patch };
}

/** `calls` all at once. */
const race = <T>(calls: readonly (() => Promise<T>)[]): Promise<T[]> => Promise.all(calls.map((c) => c()));

export function storageUploadsContract(open: OpenRepo<StorageRepo>): void {
  test("an upload reads back as started, every optional field set or none; a gone one is undefined", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      const bare = upload("u-bare", "k");
      const extra = { headers: ALL_HEADERS, userMetadata: METADATA, tags: METADATA, createdAt: T0_MS + 1 };
      const full = upload("u-full", "dir/ü 📦+%_", { ...extra, checksumAlgorithm: "CRC32C" });
      for (const u of [bare, full]) await repo.createUpload(u);
      assert.deepEqual(await repo.getUpload("u-bare"), bare);
      assert.deepEqual(await repo.getUpload("u-full"), full);
      assert.equal(await repo.getUpload("missing"), undefined);
    }));

  test("uploads list by key (bytes) then creation, a prefix taken literally, page by page after a key and upload", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      await repo.createBucket({
        name: "c",
        createdAt: T0_MS,
        versioning: "Unversioned",
        publicRead: false,
        settings: {},
      });
      // Ids in the opposite order of creation.
      const started = [
        upload("u9", "k", { createdAt: T0_MS + 1 }),
        upload("u8", "k", { createdAt: T0_MS + 2 }),
        upload("u7", "k%", { createdAt: T0_MS }),
        upload("u6", "k_", { createdAt: T0_MS }),
        upload("u5", "😀", { createdAt: T0_MS }),
        upload("u4", "｡", { createdAt: T0_MS }),
        upload("u3", "k", { createdAt: T0_MS + 2 }),
        upload("c1", "k", { bucket: "c" }),
      ];
      for (const u of started) await repo.createUpload(u);
      const list = async (prefix: string, afterKey?: string, afterUploadId?: string, limit = 100) =>
        (await repo.listUploads("b", { prefix, afterKey, afterUploadId, limit })).map(
          (u) => `${u.key}@${u.uploadId}`,
        );
      const all = ["k@u9", "k@u3", "k@u8", "k%@u7", "k_@u6", "｡@u4", "😀@u5"];
      assert.deepEqual(await list(""), all);
      assert.deepEqual(await list("k%"), ["k%@u7"]);
      assert.deepEqual(await list("k_"), ["k_@u6"]);
      assert.deepEqual(await list("k", "k", "u3", 2), ["k@u8", "k%@u7"]);
      assert.deepEqual(await list("", "k", "u9"), all.slice(1));
      assert.deepEqual(await list("", "k"), all.slice(3), "after every upload of the key");
      assert.deepEqual(await list("", "｡"), ["😀@u5"]);
      const seen: string[] = [];
      let marker: { key?: string; id?: string } = {};
      for (;;) {
        const page = await repo.listUploads("b", {
          prefix: "",
          afterKey: marker.key,
          afterUploadId: marker.id,
          limit: 3,
        });
        seen.push(...page.map((u) => `${u.key}@${u.uploadId}`));
        const last = page.at(-1);
        if (!last) break;
        marker = { key: last.key, id: last.uploadId };
      }
      assert.deepEqual(seen, all);
      assert.deepEqual(
        (
          await repo.listUploads("b", { prefix: "", afterKey: undefined, afterUploadId: undefined, limit: 1 })
        )[0],
        started[0],
      );
    }));

  test("a part reads back; one of the same number replaces it, its blob released; parts list by number after a number", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      await repo.createUpload(upload("u1", "k"));
      await repo.createUpload(upload("u2", "k"));
      const checksum = { algorithm: "CRC32C", value: "yZRlqg==", type: "FULL_OBJECT" } as const;
      const p2 = part("u1", 2, { checksum, size: LARGE_SIZE, createdAt: T0_MS + 2 });
      for (const p of [part("u1", 10_000), p2, part("u1", 1), part("u2", 1)])
        assert.deepEqual(await repo.putPart(p), { blobIds: [] });
      const again = part("u1", 2, { blobId: "p-again", etag: '"e2"', createdAt: T0_MS + 3 });
      assert.deepEqual(await repo.putPart(again), { blobIds: ["p-u1-2"] });
      assert.deepEqual(await repo.listParts("u1", { after: 0, limit: 10 }), [
        part("u1", 1),
        again,
        part("u1", 10_000),
      ]);
      assert.deepEqual(await repo.listParts("u1", { after: 1, limit: 1 }), [again]);
      assert.deepEqual(await repo.listParts("u1", { after: 10_000, limit: 10 }), []);
      // The same bytes again keep their blob.
      assert.deepEqual(await repo.putPart({ ...again, createdAt: T0_MS + 4 }), { blobIds: [] });
      // A blob another part names is not released.
      await repo.putPart(part("u1", 3, { blobId: "p-u1-1" }));
      assert.deepEqual(await repo.putPart(part("u1", 3)), { blobIds: [] });
      assert.deepEqual(await repo.putPart(part("u1", 3, { blobId: "p-other" })), { blobIds: ["p-u1-3"] });
      assert.equal(await repo.putPart(part("missing", 1)), "no-upload");
      assert.deepEqual(await repo.listParts("missing", { after: 0, limit: 10 }), []);
    }));

  test("completing stores the object as the key's latest, takes the upload and its parts, and releases their blobs and the replaced version's", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      await repo.putVersion(object("b", "k", { blobId: "old", size: 3 }));
      await repo.createUpload(upload("u1", "k"));
      await repo.createUpload(upload("u2", "k"));
      for (const n of [1, 2, 3]) await repo.putPart(part("u1", n));
      await repo.putPart(part("u2", 1));
      const done = object("b", "k", {
        blobId: "assembled",
        size: 2 * 5 * 2 ** 20,
        partsCount: 2,
        createdAt: T0_MS + 9,
      });
      const event = objectEvent("e1", "k", { eventName: "ObjectCreated:CompleteMultipartUpload" });
      const released = await repo.completeUpload("u1", done, event);
      assert.ok(released !== "no-upload" && "blobIds" in released, "completed");
      assert.deepEqual([...released.blobIds].sort(), ["old", "p-u1-1", "p-u1-2", "p-u1-3"]);
      assert.deepEqual(await repo.getVersion("b", "k"), done);
      assert.equal(await repo.getUpload("u1"), undefined);
      assert.deepEqual(await repo.listParts("u1", { after: 0, limit: 10 }), []);
      assert.deepEqual(await repo.dueEvents(T0_MS, 10), [event]);
      assert.deepEqual(await repo.usage("b"), { objects: 1, bytes: done.size });
      assert.deepEqual(await referenced(repo), ["assembled", "p-u2-1"], "another upload's parts stay");
      assert.equal(await repo.completeUpload("u1", done), "no-upload");
      assert.equal(await repo.abortUpload("u1"), "no-upload");
      // In a versioned bucket it is added beside; an object made of a part's own blob keeps it.
      await repo.setVersioning("b", "Enabled");
      const single = object("b", "k", { versionId: "v1", blobId: "p-u2-1", partsCount: 1 });
      assert.deepEqual(await repo.completeUpload("u2", single), { blobIds: [] });
      const all = { prefix: "", afterKey: undefined, afterVersionId: undefined, limit: 10 };
      assert.deepEqual(ids(await repo.listVersions("b", all)), ["k@v1", "k@null"]);
      assert.deepEqual(await referenced(repo), ["assembled", "p-u2-1"]);
    }));

  test("of completions and an abort of one upload at once, exactly one takes it; the others find it gone and write nothing", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo, "Enabled");
      await repo.createUpload(upload("u1", "k"));
      for (const n of [1, 2]) await repo.putPart(part("u1", n));
      const attempts = [0, 1, 2, 3].map((i) => object("b", "k", { versionId: `v${i}`, blobId: `a${i}` }));
      const outcomes = await race<unknown>([
        ...attempts.map((v) => () => repo.completeUpload("u1", v, objectEvent(`e-${v.versionId}`, "k"))),
        () => repo.abortUpload("u1"),
      ]);
      const winners = outcomes.filter((o) => o !== "no-upload");
      assert.equal(winners.length, 1);
      const blobIds = (winners[0] as { blobIds: string[] }).blobIds;
      assert.deepEqual([...blobIds].sort(), ["p-u1-1", "p-u1-2"]);
      const won = outcomes.findIndex((o) => o !== "no-upload");
      const stored = await repo.listVersions("b", {
        prefix: "",
        afterKey: undefined,
        afterVersionId: undefined,
        limit: 10,
      });
      const events = await repo.dueEvents(T0_MS, 10);
      if (won < attempts.length) {
        assert.deepEqual(stored, [attempts[won]]);
        assert.deepEqual(
          events.map((e) => e.id),
          [`e-v${won}`],
        );
      } else {
        assert.deepEqual(stored, [], "aborted: no object");
        assert.deepEqual(events, []);
      }
      assert.deepEqual(await repo.usage("b"), { objects: stored.length, bytes: 11 * stored.length });
      assert.equal(await repo.getUpload("u1"), undefined);
      assert.deepEqual(
        await referenced(repo),
        stored.map((v) => v.blobId),
      );
    }));

  test("aborting takes the upload and its parts and releases their blobs; completing it as another key is refused", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      await repo.createUpload(upload("u1", "k"));
      await repo.createUpload(upload("u2", "k"));
      for (const n of [1, 2]) await repo.putPart(part("u1", n));
      await assert.rejects(repo.completeUpload("u1", object("b", "other")), /upload "u1"/);
      assert.equal((await repo.getUpload("u1"))?.key, "k", "a refused completion writes nothing");
      assert.equal(await repo.getVersion("b", "other"), undefined);
      const aborted = await repo.abortUpload("u1");
      assert.deepEqual(aborted === "no-upload" ? aborted : [...aborted.blobIds].sort(), ["p-u1-1", "p-u1-2"]);
      assert.equal(await repo.getUpload("u1"), undefined);
      assert.deepEqual(await repo.listParts("u1", { after: 0, limit: 10 }), []);
      assert.equal(await repo.abortUpload("u1"), "no-upload");
      assert.equal(await repo.putPart(part("u1", 3)), "no-upload");
      assert.deepEqual(await repo.abortUpload("u2"), { blobIds: [] });
      assert.equal(await repo.deleteBucket("b"), "deleted");
    }));
}
