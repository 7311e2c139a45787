/**
 * Bucket records cached in front of the repository (`shared/record-cache.ts`): every request
 * reads its bucket (existence, versioning, policy, CORS, quota…), and reading one means a query
 * and parsing each setting's JSON. A change made through this process invalidates its entry at
 * once; one made by another node of a cluster is seen once the entry is older than `ttlMs` (a
 * second by default), so a policy or CORS change reaches every node within that time.
 */
import type { Clock } from "../../shared/clock.js";
import { withRecordCache } from "../../shared/record-cache.js";
import type { StorageRepo } from "./repo.js";

export const BUCKET_CACHE_TTL_MS = 1_000;

/** `repo` with `getBucket` answered from memory while fresh; everything else passes through. */
export function withBucketCache(repo: StorageRepo, clock: Clock, ttlMs = BUCKET_CACHE_TTL_MS): StorageRepo {
  return withRecordCache(repo, {
    get: "getBucket",
    changes: ["createBucket", "deleteBucket", "setVersioning", "setPublicRead", "putSetting"],
    clock,
    ttlMs,
  });
}
