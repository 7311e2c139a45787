/**
 * What a bucket's quota relies on from every store: a write given a `UsageGuard` is checked in
 * the transaction that stores it and moves the usage, so that of writes racing for the last room
 * exactly as many as fit are stored, whichever order they commit in; a refused write stores
 * nothing and moves nothing (the version it would replace, an upload it would complete, other
 * writes of the same commit stay) and says which limit and what it found; only what a write adds
 * is checked, net of the version it replaces; a write without a guard is never refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ObjectVersionRecord } from "../../services/storage/model.js";
import type { StorageRepo, UsageGuard } from "../../services/storage/repo.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";
import { bucket, deleteMarker, object, objectEvent, referenced, withBucket } from "./storage.contract.js";

/** Every latest object of "b" listed, as `key:size`. */
async function listed(repo: StorageRepo): Promise<string[]> {
  const latest = await repo.listLatest("b", { prefix: "", after: undefined, limit: 100 });
  return latest.map((v) => `${v.key}:${v.size}`);
}

/** `n` objects of "b", keys `<prefix>0…`, `size` bytes each, put one after another. */
async function fill(repo: StorageRepo, prefix: string, n: number, size: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await repo.putVersion(object("b", `${prefix}${i}`, { size, blobId: `${prefix}${i}` }));
}

/** Rounds of a race: one on a store's fresh pool may see few writers overlap, the later ones many. */
const ROUNDS = 5;

/**
 * Ten guarded puts of new keys `<prefix>0…9` (`size` bytes, each with its event) at once, with
 * two unguarded puts into bucket "c" (keys `<prefix>x`, `<prefix>y`).
 */
async function race(repo: StorageRepo, prefix: string, guard: UsageGuard, size: number) {
  const racers = Array.from({ length: 10 }, (_, i) =>
    object("b", `${prefix}${i}`, { size, blobId: `${prefix}${i}` }),
  );
  const put = (v: ObjectVersionRecord) => repo.putVersion(v, objectEvent(`e-${v.key}`, v.key), guard);
  const others = ["x", "y"].map((k) => repo.putVersion(object("c", `${prefix}${k}`)));
  const outcomes = await Promise.all([...racers.map(put), ...others]);
  const stored = racers.filter((_, i) => !("refused" in (outcomes[i] ?? {})));
  return { outcomes: outcomes.slice(0, racers.length), stored, others: outcomes.slice(racers.length) };
}

export function storageQuotaContract(open: OpenRepo<StorageRepo>): void {
  test("of ten guarded puts at once with room for one more object, exactly one is stored; the others are refused and write nothing", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      assert.equal(await repo.createBucket(bucket("c")), true);
      await fill(repo, "k", 4, 11);
      const expected = ["k0:11", "k1:11", "k2:11", "k3:11"];
      const blobs = ["k0", "k1", "k2", "k3"];
      for (let round = 0; round < ROUNDS; round++) {
        const maxObjects = 5 + round;
        const { outcomes, stored, others } = await race(repo, `r${round}-`, { maxObjects }, 7);
        assert.equal(stored.length, 1, `round ${round}: stored exactly one`);
        const winner = stored[0]?.key ?? "";
        const usage = { objects: maxObjects, bytes: 44 + 7 * (round + 1) };
        const refusal = {
          refused: "objects",
          bucket: "b",
          max: maxObjects,
          usage,
          size: 7,
          replacedBytes: undefined,
        };
        assert.deepEqual(
          outcomes.filter((o) => "refused" in o),
          Array(9).fill(refusal),
        );
        assert.deepEqual(await repo.usage("b"), usage);
        expected.push(`${winner}:7`);
        assert.deepEqual(await listed(repo), expected);
        assert.deepEqual(
          (await repo.dueEvents(T0_MS, 100)).map((e) => e.id).sort(),
          expected.slice(4).map((e) => `e-${e.replace(/:7$/, "")}`),
          "a refused put's event is not written",
        );
        assert.deepEqual(others, [{ blobIds: [] }, { blobIds: [] }], "unguarded puts beside them are stored");
        blobs.push(winner);
      }
      assert.deepEqual(await repo.usage("c"), { objects: 2 * ROUNDS, bytes: 22 * ROUNDS });
      const others = Array.from({ length: ROUNDS }, (_, r) => [`blob-r${r}-x`, `blob-r${r}-y`]).flat();
      assert.deepEqual(await referenced(repo), [...blobs, ...others].sort());
    }));

  test("of ten guarded puts at once with room for one more object's bytes, exactly one is stored and the usage ends within the limit", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      assert.equal(await repo.createBucket(bucket("c")), true);
      await fill(repo, "k", 4, 20);
      for (let round = 0; round < ROUNDS; round++) {
        const maxBytes = 100 + 15 * round;
        const { outcomes, stored } = await race(repo, `r${round}-`, { maxBytes, maxObjects: 1000 }, 15);
        assert.equal(stored.length, 1, `round ${round}: stored exactly one`);
        const usage = { objects: 5 + round, bytes: maxBytes - 5 };
        const refusal = {
          refused: "bytes",
          bucket: "b",
          max: maxBytes,
          usage,
          size: 15,
          replacedBytes: undefined,
        };
        assert.deepEqual(
          outcomes.filter((o) => "refused" in o),
          Array(9).fill(refusal),
        );
        assert.deepEqual(await repo.usage("b"), usage);
        assert.equal((await listed(repo)).length, 5 + round);
      }
      // What is left fits exactly.
      const maxBytes = 100 + 15 * (ROUNDS - 1);
      assert.deepEqual(await repo.putVersion(object("b", "last", { size: 5 }), undefined, { maxBytes }), {
        blobIds: [],
      });
      assert.deepEqual(await repo.usage("b"), { objects: 5 + ROUNDS, bytes: maxBytes });
    }));

  test("a refused put of a key's null version keeps the version it would replace, its blob, the usage and the outbox as they were", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      const old = object("b", "k", { size: 50, blobId: "old" });
      await repo.putVersion(old);
      await repo.putVersion(object("b", "other", { size: 10, blobId: "other" }));
      const guard = { maxBytes: 100, maxObjects: 2 };
      const bigger = object("b", "k", { size: 91, blobId: "new", createdAt: T0_MS + 1 });
      assert.deepEqual(await repo.putVersion(bigger, objectEvent("e1", "k"), guard), {
        refused: "bytes",
        bucket: "b",
        max: 100,
        usage: { objects: 2, bytes: 60 },
        size: 91,
        replacedBytes: 50,
      });
      assert.deepEqual(await repo.getVersion("b", "k"), old);
      assert.deepEqual(await repo.usage("b"), { objects: 2, bytes: 60 });
      assert.deepEqual(await repo.dueEvents(T0_MS, 10), []);
      assert.deepEqual(await referenced(repo), ["old", "other"]);
      // Net of the version it replaces (objects +0, bytes +40), a put of 90 bytes fits exactly.
      const fits = object("b", "k", { size: 90, blobId: "new", createdAt: T0_MS + 2 });
      assert.deepEqual(await repo.putVersion(fits, undefined, guard), { blobIds: ["old"] });
      assert.deepEqual(await repo.usage("b"), { objects: 2, bytes: 100 });
    }));

  test("only what a write adds is checked: a smaller replacement past a lowered limit is stored, a deletion frees room, an unguarded put passes any limit", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      await fill(repo, "k", 3, 40);
      const lowered = { maxBytes: 50, maxObjects: 1 };
      assert.deepEqual(
        await repo.putVersion(object("b", "k0", { size: 40, blobId: "same" }), undefined, lowered),
        {
          blobIds: ["k0"],
        },
      );
      assert.deepEqual(
        await repo.putVersion(object("b", "k1", { size: 5, blobId: "less" }), undefined, lowered),
        {
          blobIds: ["k1"],
        },
      );
      const grown = await repo.putVersion(object("b", "k2", { size: 41 }), undefined, lowered);
      assert.ok("refused" in grown && grown.refused === "bytes", "a replacement that adds a byte is refused");
      const added = await repo.putVersion(object("b", "new", { size: 0 }), undefined, lowered);
      assert.ok("refused" in added && added.refused === "objects", "an empty new object adds an object");
      assert.deepEqual(await repo.usage("b"), { objects: 3, bytes: 85 });
      for (let i = 0; i < 5; i++) await repo.putVersion(object("b", `u${i}`, { size: 100 }));
      assert.deepEqual(await repo.usage("b"), { objects: 8, bytes: 585 }, "unguarded puts are never refused");
      await repo.setVersioning("b", "Enabled");
      assert.deepEqual(await repo.putVersion(deleteMarker("b", "u0", "v1")), { blobIds: [] });
      for (let i = 0; i < 5; i++) await repo.deleteVersion("b", `u${i}`, "null");
      await repo.deleteVersion("b", "u0", "v1");
      const room = { maxBytes: 100, maxObjects: 4 };
      const fits = await repo.putVersion(object("b", "k9", { versionId: "v2", size: 15 }), undefined, room);
      assert.deepEqual(fits, { blobIds: [] }, "room freed by deletions is taken again");
      assert.deepEqual(await repo.usage("b"), { objects: 4, bytes: 100 });
    }));

  test("a guarded completion that does not fit is refused and leaves the upload, its parts and the usage as they were", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      await fill(repo, "k", 2, 30);
      const unset = { headers: object("b", "k").headers, userMetadata: {}, checksumAlgorithm: undefined };
      for (const uploadId of ["u1", "u2"]) {
        await repo.createUpload({
          uploadId,
          bucket: "b",
          key: `m-${uploadId}`,
          ...unset,
          tags: {},
          createdAt: T0_MS,
        });
        const part = { uploadId, partNumber: 1, size: 30, etag: '"x"', blobId: `p-${uploadId}` };
        await repo.putPart({ ...part, checksum: undefined, createdAt: T0_MS });
      }
      const guard = { maxBytes: 100 };
      const done = (uploadId: string) => object("b", `m-${uploadId}`, { size: 30, blobId: `a-${uploadId}` });
      const [first, second] = await Promise.all(
        ["u1", "u2"].map((id) => repo.completeUpload(id, done(id), objectEvent(`e-${id}`, `m-${id}`), guard)),
      );
      const outcomes = [first, second];
      const won = outcomes.findIndex((o) => typeof o === "object" && "blobIds" in o);
      assert.notEqual(won, -1, "one completes");
      const [winner, loser] = won === 0 ? ["u1", "u2"] : ["u2", "u1"];
      assert.deepEqual(outcomes[1 - won], {
        refused: "bytes",
        bucket: "b",
        max: 100,
        usage: { objects: 3, bytes: 90 },
        size: 30,
        replacedBytes: undefined,
      });
      assert.deepEqual(await repo.usage("b"), { objects: 3, bytes: 90 });
      assert.equal(await repo.getUpload(winner ?? ""), undefined);
      assert.equal((await repo.getUpload(loser ?? ""))?.key, `m-${loser}`, "the refused upload is kept");
      assert.deepEqual(
        (await repo.listParts(loser ?? "", { after: 0, limit: 10 })).map((p) => p.blobId),
        [`p-${loser}`],
      );
      assert.equal(await repo.getVersion("b", `m-${loser}`), undefined);
      assert.deepEqual(
        (await repo.dueEvents(T0_MS, 10)).map((e) => e.id),
        [`e-${winner}`],
      );
    }));
}
