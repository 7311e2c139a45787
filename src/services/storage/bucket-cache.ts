/**
 * Bucket records cached in front of the repository: every request reads its bucket (existence,
 * versioning, policy, CORS, quota…), and reading one means a query and parsing each setting's
 * JSON. A change made through this process invalidates its entry at once; one made by another
 * node of a cluster is seen once the entry is older than `ttlMs` (a second by default), so a
 * policy or CORS change reaches every node within that time.
 */
import type { Clock } from "../../shared/clock.js";
import type { BucketRecord } from "./model.js";
import type { StorageRepo } from "./repo.js";

export const BUCKET_CACHE_TTL_MS = 1_000;
/** A platform with more buckets than this reads the rest from the store each time. */
const MAX_CACHED = 10_000;

/** The repository's methods that change a bucket's record: each takes its name (or record) first. */
const CHANGES = new Set<PropertyKey>([
  "createBucket",
  "deleteBucket",
  "setVersioning",
  "setPublicRead",
  "putSetting",
]);

/** `repo` with `getBucket` answered from memory while fresh; everything else passes through. */
export function withBucketCache(repo: StorageRepo, clock: Clock, ttlMs = BUCKET_CACHE_TTL_MS): StorageRepo {
  const entries = new Map<string, { record: BucketRecord; at: number }>();
  /** Bumped by every change: a read that began before it does not store what it read. */
  let generation = 0;
  const invalidate = (name: string) => {
    generation++;
    entries.delete(name);
  };
  const getBucket = async (name: string): Promise<BucketRecord | undefined> => {
    const hit = entries.get(name);
    if (hit !== undefined && clock.now() - hit.at < ttlMs) return hit.record;
    const began = generation;
    const record = await repo.getBucket(name);
    if (record !== undefined && began === generation) {
      if (entries.size >= MAX_CACHED) entries.delete(entries.keys().next().value!);
      entries.set(name, { record, at: clock.now() });
    }
    return record;
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(repo, {
    get(target, prop) {
      if (prop === "getBucket") return getBucket;
      let fn = bound.get(prop);
      if (fn !== undefined) return fn;
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      fn = CHANGES.has(prop)
        ? async (first: string | BucketRecord, ...rest: unknown[]) => {
            const name = typeof first === "string" ? first : first.name;
            invalidate(name);
            try {
              return await method.call(target, first, ...rest);
            } finally {
              invalidate(name);
            }
          }
        : method.bind(target);
      bound.set(prop, fn);
      return fn;
    },
  });
}
