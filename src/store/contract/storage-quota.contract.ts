/**
 * What a bucket's quota relies on from every store: a write given a `UsageGuard` is judged once,
 * in the transaction that stores it and moves the usage, with the bucket's usage as it is there
 * and what the write adds net of the version it replaces, so that of writes racing for the last
 * room exactly as many as the guard lets through are stored, whichever order they commit in; a
 * refused write stores nothing and moves nothing (the version it would replace, an upload it
 * would complete, other writes of the same commit stay) and answers the guard's refusal; the
 * guard alone decides; a write without one (a delete marker's) is never judged nor refused.
 * The guards here are the test's own: the quota's rule (`services/storage/quota.ts`) is not the
 * store's to import.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { BucketUsage, ObjectVersionRecord } from "../../services/storage/model.js";
import type { GuardedWrite, StorageRepo, UsageGuard, UsageRefusal } from "../../services/storage/repo.js";
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

/** A call of a guard's `judge`, as the store made it. */
interface Judged {
  readonly usage: BucketUsage;
  readonly write: GuardedWrite;
}

/** A guard whose `judged` records each call of its judge, in order. */
type Recorded = UsageGuard & { readonly judged: Judged[] };

/** A guard answering `verdict`'s answer, each call recorded. */
function recorded(verdict: (usage: BucketUsage, write: GuardedWrite) => UsageRefusal | undefined): Recorded {
  const judged: Judged[] = [];
  return {
    judged,
    judge(usage, write) {
      judged.push({ usage, write });
      return verdict(usage, write);
    },
  };
}

/**
 * A guard as a bucket's quota makes one: a write that adds objects (bytes) past `maxObjects`
 * (`maxBytes`) is refused, objects first.
 */
function limits(max: { maxObjects?: number; maxBytes?: number }): Recorded {
  const passes = (added: number, held: number, limit: number | undefined): limit is number =>
    limit !== undefined && added > 0 && held + added > limit;
  return recorded((usage, w) => {
    const found = { bucket: w.bucket, usage, size: w.size, replacedBytes: w.replacedBytes };
    if (passes(w.delta.objects, usage.objects, max.maxObjects))
      return { refused: "objects", max: max.maxObjects, ...found };
    if (passes(w.delta.bytes, usage.bytes, max.maxBytes))
      return { refused: "bytes", max: max.maxBytes, ...found };
    return undefined;
  });
}

/** What a guarded put of a new `size`-byte object into "b" is judged as. */
const adding = (size: number): GuardedWrite => ({
  bucket: "b",
  size,
  delta: { objects: 1, bytes: size },
  replacedBytes: undefined,
});

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
  test("of ten guarded puts at once with room for one more object, each is judged once with the usage its transaction finds: exactly one is stored, the others are refused and write nothing", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      assert.equal(await repo.createBucket(bucket("c")), true);
      await fill(repo, "k", 4, 11);
      const expected = ["k0:11", "k1:11", "k2:11", "k3:11"];
      const blobs = ["k0", "k1", "k2", "k3"];
      for (let round = 0; round < ROUNDS; round++) {
        const maxObjects = 5 + round;
        const guard = limits({ maxObjects });
        const { outcomes, stored, others } = await race(repo, `r${round}-`, guard, 7);
        assert.equal(stored.length, 1, `round ${round}: stored exactly one`);
        const winner = stored[0]?.key ?? "";
        const usage = { objects: maxObjects, bytes: 44 + 7 * (round + 1) };
        assert.deepEqual(
          guard.judged.map((j) => j.usage),
          [{ objects: maxObjects - 1, bytes: 44 + 7 * round }, ...Array(9).fill(usage)],
          `round ${round}: each judged once, finding every write judged before it committed`,
        );
        assert.deepEqual(
          guard.judged.map((j) => j.write),
          Array(10).fill(adding(7)),
        );
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
        const guard = limits({ maxBytes, maxObjects: 1000 });
        const { outcomes, stored } = await race(repo, `r${round}-`, guard, 15);
        assert.equal(stored.length, 1, `round ${round}: stored exactly one`);
        const usage = { objects: 5 + round, bytes: maxBytes - 5 };
        assert.deepEqual(
          guard.judged.map((j) => j.usage),
          [{ objects: 4 + round, bytes: maxBytes - 20 }, ...Array(9).fill(usage)],
          `round ${round}: each judged once, finding every write judged before it committed`,
        );
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
      const last = await repo.putVersion(object("b", "last", { size: 5 }), undefined, limits({ maxBytes }));
      assert.deepEqual(last, { blobIds: [] });
      assert.deepEqual(await repo.usage("b"), { objects: 5 + ROUNDS, bytes: maxBytes });
    }));

  test("a refused put of a key's null version keeps the version it would replace, its blob, the usage and the outbox as they were", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      const old = object("b", "k", { size: 50, blobId: "old" });
      await repo.putVersion(old);
      await repo.putVersion(object("b", "other", { size: 10, blobId: "other" }));
      const guard = limits({ maxBytes: 100, maxObjects: 2 });
      const bigger = object("b", "k", { size: 91, blobId: "new", createdAt: T0_MS + 1 });
      assert.deepEqual(await repo.putVersion(bigger, objectEvent("e1", "k"), guard), {
        refused: "bytes",
        bucket: "b",
        max: 100,
        usage: { objects: 2, bytes: 60 },
        size: 91,
        replacedBytes: 50,
      });
      const replacing = { bucket: "b", size: 91, delta: { objects: 0, bytes: 41 }, replacedBytes: 50 };
      assert.deepEqual(guard.judged, [{ usage: { objects: 2, bytes: 60 }, write: replacing }]);
      assert.deepEqual(await repo.getVersion("b", "k"), old);
      assert.deepEqual(await repo.usage("b"), { objects: 2, bytes: 60 });
      assert.deepEqual(await repo.dueEvents(T0_MS, 10), []);
      assert.deepEqual(await referenced(repo), ["old", "other"]);
      // Net of the version it replaces (objects +0, bytes +40), a put of 90 bytes fits exactly.
      const fits = object("b", "k", { size: 90, blobId: "new", createdAt: T0_MS + 2 });
      assert.deepEqual(await repo.putVersion(fits, undefined, guard), { blobIds: ["old"] });
      assert.deepEqual(await repo.usage("b"), { objects: 2, bytes: 100 });
    }));

  test("the guard alone decides: it judges every guarded write, one that adds nothing too, net of the version it replaces; writes without one, a delete marker among them, are never refused", () =>
    withRepo(open, async ({ repo }) => {
      await withBucket(repo);
      await fill(repo, "k", 3, 40);
      const put = (key: string, size: number, guard: UsageGuard) =>
        repo.putVersion(object("b", key, { size, blobId: `${key}-${size}` }), undefined, guard);
      const passing = recorded(() => undefined);
      assert.deepEqual(await put("k0", 40, passing), { blobIds: ["k0"] });
      assert.deepEqual(await put("k1", 5, passing), { blobIds: ["k1"] });
      assert.deepEqual(await put("new", 0, passing), { blobIds: [] });
      const replacing = (size: number) => ({
        bucket: "b",
        size,
        delta: { objects: 0, bytes: size - 40 },
        replacedBytes: 40,
      });
      assert.deepEqual(passing.judged, [
        { usage: { objects: 3, bytes: 120 }, write: replacing(40) },
        { usage: { objects: 3, bytes: 120 }, write: replacing(5) },
        { usage: { objects: 3, bytes: 85 }, write: adding(0) },
      ]);
      assert.deepEqual(await repo.usage("b"), { objects: 4, bytes: 85 });
      const no: UsageRefusal = {
        refused: "bytes",
        bucket: "b",
        max: 1,
        usage: { objects: 4, bytes: 85 },
        size: 1,
        replacedBytes: 40,
      };
      const refusing = recorded(() => no);
      assert.deepEqual(await put("k2", 1, refusing), no, "a refusal of a write that frees bytes holds too");
      assert.deepEqual(refusing.judged, [{ usage: { objects: 4, bytes: 85 }, write: replacing(1) }]);
      assert.equal((await repo.getVersion("b", "k2"))?.blobId, "k2");
      assert.deepEqual(await repo.usage("b"), { objects: 4, bytes: 85 });
      for (let i = 0; i < 5; i++) await repo.putVersion(object("b", `u${i}`, { size: 100 }));
      assert.deepEqual(await repo.usage("b"), { objects: 9, bytes: 585 }, "unguarded puts are never refused");
      await repo.setVersioning("b", "Enabled");
      assert.deepEqual(await repo.putVersion(deleteMarker("b", "u0", "v1")), { blobIds: [] });
      assert.deepEqual(
        await repo.usage("b"),
        { objects: 10, bytes: 585 },
        "a delete marker is never refused",
      );
      for (let i = 0; i < 5; i++) await repo.deleteVersion("b", `u${i}`, "null");
      await repo.deleteVersion("b", "u0", "v1");
      const room = limits({ maxBytes: 100, maxObjects: 5 });
      const beside = await repo.putVersion(object("b", "k0", { versionId: "v2", size: 15 }), undefined, room);
      assert.deepEqual(beside, { blobIds: [] }, "room freed by deletions is taken again");
      assert.deepEqual(
        room.judged,
        [{ usage: { objects: 4, bytes: 85 }, write: adding(15) }],
        "a version beside the key's null one replaces nothing",
      );
      assert.deepEqual(await repo.usage("b"), { objects: 5, bytes: 100 });
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
      const guard = limits({ maxBytes: 100 });
      const done = (uploadId: string) => object("b", `m-${uploadId}`, { size: 30, blobId: `a-${uploadId}` });
      const [first, second] = await Promise.all(
        ["u1", "u2"].map((id) => repo.completeUpload(id, done(id), objectEvent(`e-${id}`, `m-${id}`), guard)),
      );
      const outcomes = [first, second];
      const won = outcomes.findIndex((o) => typeof o === "object" && "blobIds" in o);
      assert.notEqual(won, -1, "one completes");
      const [winner, loser] = won === 0 ? ["u1", "u2"] : ["u2", "u1"];
      assert.deepEqual(guard.judged, [
        { usage: { objects: 2, bytes: 60 }, write: adding(30) },
        { usage: { objects: 3, bytes: 90 }, write: adding(30) },
      ]);
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
