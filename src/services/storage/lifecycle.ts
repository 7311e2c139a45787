/**
 * The lifecycle sweep: for each bucket with a lifecycle configuration (`lifecycle-config.ts`),
 * applies its enabled rules as S3 does, on the platform's clock, once shortly after start and
 * then every hour. Ages run out at the first midnight UTC at least N days after they began
 * (`dueAt`); a Date rule at its date.
 *
 * - A current version past its Expiration goes as a DELETE without a version id would take it:
 *   removed in an unversioned bucket, hidden under a delete marker in a versioned one.
 * - A noncurrent version (a delete marker included) past NoncurrentDays since it became
 *   noncurrent (the creation of the version after it) is removed, unless it is one of the
 *   NewerNoncurrentVersions newest noncurrent ones.
 * - A delete marker that is a key's only version is removed when ExpiredObjectDeleteMarker says so.
 * - A multipart upload (tus uploads included) older than DaysAfterInitiation is aborted.
 *
 * Removals go through the storage service (blobs released, usage kept) and report
 * `LifecycleExpiration:Delete` or `LifecycleExpiration:DeleteMarkerCreated`. Versions and
 * uploads are read with the repository's paging queries, 1,000 at a time, the next page read
 * before anything of the one before it is removed (the paging marker must still exist); the
 * sweep yields to the event loop between pages. One bucket's failure is logged and the others
 * go on.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Clock, TimerHandle } from "../../shared/clock.js";
import { newRequestId } from "../../shared/ids.js";
import type { Logger } from "../../shared/logger.js";
import { S3Error } from "./errors.js";
import {
  dueAt,
  enabledRules,
  filterMatches,
  filterOf,
  type LifecycleRule,
  lifecycleOf,
} from "./lifecycle-config.js";
import type { BucketRecord, ObjectVersionRecord } from "./model.js";
import type { Multipart } from "./multipart.js";
import type { RequestOrigin } from "./notifications.js";
import type { StorageService } from "./storage.js";

/** How often the sweep runs, and how soon after start the first time. */
export const LIFECYCLE_SWEEP_EVERY_MS = 60 * 60 * 1000;
export const LIFECYCLE_FIRST_SWEEP_MS = 60 * 1000;
const PAGE = 1000;

/** What one sweep removed. */
export interface LifecycleCounts {
  /** Current versions removed (unversioned buckets). */
  expired: number;
  /** Delete markers placed over expired current versions (versioned buckets). */
  deleteMarkers: number;
  /** Noncurrent versions removed. */
  noncurrent: number;
  /** Expired object delete markers removed. */
  expiredMarkers: number;
  uploadsAborted: number;
}

export interface LifecycleDeps {
  readonly storage: StorageService;
  readonly multipart: Multipart;
  readonly clock: Clock;
  readonly logger: Logger;
}

const none = (): LifecycleCounts => ({
  expired: 0,
  deleteMarkers: 0,
  noncurrent: 0,
  expiredMarkers: 0,
  uploadsAborted: 0,
});

export class LifecycleSweep {
  readonly name = "lifecycle expiration";
  readonly #d: LifecycleDeps;
  #timers: TimerHandle[] = [];
  #running: Promise<LifecycleCounts> | undefined;
  #stopped = false;

  constructor(d: LifecycleDeps) {
    this.#d = d;
  }

  /** Sweeps shortly after start, then every hour of the clock. */
  async start(): Promise<void> {
    this.#stopped = false;
    const run = () =>
      this.runOnce().catch((err: unknown) =>
        this.#d.logger.error("object storage: the lifecycle sweep failed", { err }),
      );
    this.#timers = [
      this.#d.clock.setTimeout(run, LIFECYCLE_FIRST_SWEEP_MS),
      this.#d.clock.setInterval(run, LIFECYCLE_SWEEP_EVERY_MS),
    ];
  }

  /** Stops the timers and lets a sweep under way end at its next page. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) t.cancel();
    this.#timers = [];
    await this.#running?.catch(() => undefined);
  }

  /** One sweep of every bucket (the one under way, if there is one); what it removed. */
  runOnce(): Promise<LifecycleCounts> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(): Promise<LifecycleCounts> {
    const total = none();
    for (const b of await this.#d.storage.listBuckets()) {
      if (this.#stopped) break;
      try {
        const config = lifecycleOf(b);
        if (config === undefined) continue;
        const rules = enabledRules(config);
        if (rules.length === 0) continue;
        const counts = none();
        const origin = { requestId: newRequestId(this.#d.clock.now()), sourceIp: "127.0.0.1" };
        await this.#versions(b, rules, counts, origin);
        await this.#uploads(b, rules, counts);
        for (const k of Object.keys(total) as (keyof LifecycleCounts)[]) total[k] += counts[k];
        if (Object.values(counts).some((n) => n > 0))
          this.#d.logger.info(`object storage: lifecycle rules of bucket "${b.name}" removed what expired`, {
            bucket: b.name,
            ...counts,
          });
      } catch (err) {
        this.#d.logger.error(`object storage: the lifecycle sweep of bucket "${b.name}" failed`, {
          bucket: b.name,
          err,
        });
      }
    }
    return total;
  }

  /** Every version of the bucket, by key then newest first: what has expired goes. */
  async #versions(
    b: BucketRecord,
    rules: readonly LifecycleRule[],
    counts: LifecycleCounts,
    origin: RequestOrigin,
  ): Promise<void> {
    const { storage } = this.#d;
    const now = this.#d.clock.now();
    const repo = storage.deps.repo;
    // Of the key being walked: the creation of the version before (newer), and its position.
    let key: string | undefined;
    let newerCreatedAt = 0;
    let index = 0;
    const pages = walk(
      (after: ObjectVersionRecord | undefined) =>
        repo.listVersions(b.name, {
          prefix: "",
          afterKey: after?.key,
          afterVersionId: after?.versionId,
          limit: PAGE,
        }),
      () => this.#stopped,
    );
    for await (const { item: v, next } of pages) {
      if (v.key !== key) {
        key = v.key;
        index = 0;
      } else index += 1;
      const since = newerCreatedAt;
      newerCreatedAt = v.createdAt;
      if (index === 0) {
        if (v.isDeleteMarker) {
          const alone = next === undefined || next.key !== v.key;
          const wanted = rules.some(
            (r) => r.Expiration?.ExpiredObjectDeleteMarker && filterMatches(filterOf(r), v, true),
          );
          if (alone && wanted && (await this.#stillAlone(b, v)) && (await this.#remove(b, v, origin)))
            counts.expiredMarkers += 1;
          continue;
        }
        if (!currentExpired(rules, v, now)) continue;
        // A version written since the listing is not the one that expired.
        const latest = await repo.getVersion(b.name, v.key);
        if (latest?.versionId !== v.versionId || latest.createdAt !== v.createdAt) continue;
        const done = await storage.deleteObject(b.name, v.key, undefined, origin, "lifecycle");
        if (done.deleteMarker) counts.deleteMarkers += 1;
        else counts.expired += 1;
        continue;
      }
      // Noncurrent: `index - 1` noncurrent versions are newer than this one.
      if (noncurrentExpired(rules, v, since, index - 1, now) && (await this.#remove(b, v, origin)))
        counts.noncurrent += 1;
    }
  }

  /** Whether a delete marker is still its key's only version (a PUT since would have added one). */
  async #stillAlone(b: BucketRecord, marker: ObjectVersionRecord): Promise<boolean> {
    const repo = this.#d.storage.deps.repo;
    const o = { prefix: marker.key, afterKey: undefined, afterVersionId: undefined, limit: 2 };
    const versions = (await repo.listVersions(b.name, o)).filter((v) => v.key === marker.key);
    return versions.length === 1 && versions[0]?.versionId === marker.versionId;
  }

  /** Removes one version (permanently); false if it was gone already. */
  async #remove(b: BucketRecord, v: ObjectVersionRecord, origin: RequestOrigin): Promise<boolean> {
    const repo = this.#d.storage.deps.repo;
    if ((await repo.getVersion(b.name, v.key, v.versionId)) === undefined) return false;
    await this.#d.storage.deleteObject(b.name, v.key, v.versionId, origin, "lifecycle");
    return true;
  }

  /** Every multipart upload of the bucket: those past DaysAfterInitiation are aborted. */
  async #uploads(b: BucketRecord, rules: readonly LifecycleRule[], counts: LifecycleCounts): Promise<void> {
    const now = this.#d.clock.now();
    const abortRules = rules.filter((r) => r.AbortIncompleteMultipartUpload !== undefined);
    if (abortRules.length === 0) return;
    const repo = this.#d.storage.deps.repo;
    const pages = walk(
      (after: { key: string; uploadId: string } | undefined) =>
        repo.listUploads(b.name, {
          prefix: "",
          afterKey: after?.key,
          afterUploadId: after?.uploadId,
          limit: PAGE,
        }),
      () => this.#stopped,
    );
    for await (const { item: u } of pages) {
      const due = abortRules.some(
        (r) =>
          filterMatches(filterOf(r), { key: u.key, size: 0, tags: {} }, true) &&
          now >= dueAt(u.createdAt, r.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? 0),
      );
      if (!due) continue;
      try {
        await this.#d.multipart.abort(b.name, u.key, u.uploadId);
        counts.uploadsAborted += 1;
      } catch (err) {
        // Completed or aborted meanwhile.
        if (!(err instanceof S3Error && err.code === "NoSuchUpload")) throw err;
      }
    }
  }
}

/** Whether a rule's Expiration (Days or Date) has come for a current version. */
export function currentExpired(
  rules: readonly LifecycleRule[],
  v: ObjectVersionRecord,
  now: number,
): boolean {
  return rules.some((r) => {
    const e = r.Expiration;
    if (e === undefined || !filterMatches(filterOf(r), v)) return false;
    if (e.Days !== undefined) return now >= dueAt(v.createdAt, e.Days);
    if (e.Date !== undefined) return now >= Date.parse(e.Date);
    return false;
  });
}

/**
 * Whether a rule's NoncurrentVersionExpiration has come for a version noncurrent since
 * `since`, with `newer` noncurrent versions newer than it.
 */
export function noncurrentExpired(
  rules: readonly LifecycleRule[],
  v: ObjectVersionRecord,
  since: number,
  newer: number,
  now: number,
): boolean {
  return rules.some((r) => {
    const n = r.NoncurrentVersionExpiration;
    if (n === undefined || !filterMatches(filterOf(r), v, v.isDeleteMarker)) return false;
    if (newer < (n.NewerNoncurrentVersions ?? 0)) return false;
    return now >= dueAt(since, n.NoncurrentDays);
  });
}

/**
 * The items of a paged listing, each with the one after it. A page is read before the items of
 * the page before it are handed out, so acting on an item never removes the marker the next
 * page is read after; the event loop gets a turn between pages.
 */
async function* walk<T>(
  page: (after: T | undefined) => Promise<T[]>,
  stopped: () => boolean,
): AsyncGenerator<{ item: T; next: T | undefined }> {
  let items = await page(undefined);
  while (items.length > 0 && !stopped()) {
    const last = items[items.length - 1];
    await nextTurn();
    const following = items.length < PAGE ? [] : await page(last);
    for (let i = 0; i < items.length; i++) {
      if (stopped()) return;
      yield { item: items[i] as T, next: items[i + 1] ?? following[0] };
    }
    items = following;
  }
}
