import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { openSqlite } from "../../store/contract/stores.js";
import { BUCKET_CACHE_TTL_MS, withBucketCache } from "./bucket-cache.js";
import type { BucketRecord } from "./model.js";
import type { StorageRepo } from "./repo.js";

const bucket = (name: string): BucketRecord => ({
  name,
  createdAt: 1,
  versioning: "Unversioned",
  publicRead: false,
  settings: {},
});

/** The repository, counting the reads of buckets that reach it. */
async function counted() {
  const store = await openSqlite();
  const reads = { n: 0 };
  const repo = store.storage;
  const counting = new Proxy(repo, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "getBucket") reads.n++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as StorageRepo;
  return { store, repo: counting, reads };
}

describe("the bucket cache", () => {
  test("reads come from memory while fresh; every change made through it is seen at once", async () => {
    const { store, repo, reads } = await counted();
    const clock = new FakeClock();
    const cached = withBucketCache(repo, clock);
    try {
      assert.equal(await cached.createBucket(bucket("photos")), true);
      assert.equal((await cached.getBucket("photos"))?.versioning, "Unversioned");
      await cached.getBucket("photos");
      assert.equal(reads.n, 1);

      await cached.setVersioning("photos", "Enabled");
      assert.equal((await cached.getBucket("photos"))?.versioning, "Enabled");
      await cached.putSetting("photos", "cors", '{"CORSRules":[]}');
      assert.equal((await cached.getBucket("photos"))?.settings.cors, '{"CORSRules":[]}');
      await cached.setPublicRead("photos", true);
      assert.equal((await cached.getBucket("photos"))?.publicRead, true);
      assert.equal(await cached.deleteBucket("photos"), "deleted");
      assert.equal(await cached.getBucket("photos"), undefined);
      assert.equal(await cached.getBucket("photos"), undefined, "a missing bucket is not remembered");
      assert.equal(await cached.createBucket(bucket("photos")), true);
      assert.equal((await cached.getBucket("photos"))?.versioning, "Unversioned");
      // Everything else passes through.
      assert.deepEqual(await cached.usage("photos"), { objects: 0, bytes: 0 });
    } finally {
      await store.close();
    }
  });

  test("a change made elsewhere (another node) is seen once the entry is older than the TTL", async () => {
    const { store, repo, reads } = await counted();
    const clock = new FakeClock();
    const cached = withBucketCache(repo, clock);
    try {
      await repo.createBucket(bucket("photos"));
      assert.equal((await cached.getBucket("photos"))?.publicRead, false);
      await repo.setPublicRead("photos", true);
      clock.advance(BUCKET_CACHE_TTL_MS - 1);
      assert.equal((await cached.getBucket("photos"))?.publicRead, false, "still fresh");
      clock.advance(1);
      assert.equal((await cached.getBucket("photos"))?.publicRead, true);
      assert.equal(reads.n, 2);
    } finally {
      await store.close();
    }
  });

  test("a read that began before a change does not keep what it read", async () => {
    const { store, repo } = await counted();
    const clock = new FakeClock();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const slow = new Proxy(repo, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as (...a: unknown[]) => Promise<unknown>;
        if (prop !== "getBucket") return typeof value === "function" ? value.bind(target) : value;
        return async (name: string) => {
          const record = await value.call(target, name);
          await gate;
          return record;
        };
      },
    }) as StorageRepo;
    const cached = withBucketCache(slow, clock);
    try {
      await repo.createBucket(bucket("photos"));
      const stale = cached.getBucket("photos");
      await cached.setPublicRead("photos", true);
      release();
      assert.equal((await stale)?.publicRead, false, "the read began before the change");
      assert.equal((await cached.getBucket("photos"))?.publicRead, true);
    } finally {
      await store.close();
    }
  });
});
