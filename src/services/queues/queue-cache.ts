/**
 * Queue records cached in front of the repository (`shared/record-cache.ts`): every send,
 * receive and delete reads its queue (existence, delay, size limit, visibility timeout, redrive
 * policy), and an event source mapping's reader does on every poll, its dead-letter queue's too.
 * A change made through this process (SetQueueAttributes, tags, DeleteQueue) invalidates its
 * entry at once; one made by another node of a cluster is seen once the entry is older than
 * `ttlMs` (a second by default).
 */
import type { Clock } from "../../shared/clock.js";
import { withRecordCache } from "../../shared/record-cache.js";
import type { QueuesRepo } from "./repo.js";

export const QUEUE_CACHE_TTL_MS = 1_000;

/** `repo` with `getQueue` answered from memory while fresh; everything else passes through. */
export function withQueueCache(repo: QueuesRepo, clock: Clock, ttlMs = QUEUE_CACHE_TTL_MS): QueuesRepo {
  return withRecordCache(repo, {
    get: "getQueue",
    changes: ["createQueue", "updateQueue", "deleteQueue"],
    clock,
    ttlMs,
  });
}
