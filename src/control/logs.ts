/**
 * Function logs: every line an instance writes, and the START / END / REPORT lines, kept per
 * function. Lines are written to the store in batches off the invoke path, and handed at once
 * to anyone following the function. A REPORT line carries its invocation's usage record.
 *
 * Durability: entries are stored every FLUSH_EVERY_MS; a crash loses at most that interval's.
 */

import type { LogSink } from "../protocol/invoke.js";
import type { Clock, TimerHandle } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { LogQuery, LogRecord, LogsRepo, StoredLog } from "./logs-repo.js";

const FLUSH_EVERY_MS = 100;
const FLUSH_AT_ENTRIES = 1000;
/**
 * Entries kept in memory if the store fails or falls behind; beyond this the oldest are
 * dropped (and the loss logged).
 */
const MAX_PENDING_ENTRIES = 100_000;

export type LogFollower = (entry: LogRecord) => void;

export class LogService implements LogSink {
  readonly #store: LogsRepo;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #retentionMs: number;
  #pending: LogRecord[] = [];
  #flushing: Promise<void> | undefined;
  readonly #followers = new Map<string, Set<LogFollower>>();
  readonly #enders = new Set<() => void>();
  readonly #timer: TimerHandle;
  readonly #pruner: TimerHandle;

  constructor(deps: { store: LogsRepo; clock: Clock; logger: Logger; retentionMs: number }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#retentionMs = deps.retentionMs;
    // A tick during a write leaves its entries to the next.
    this.#timer = deps.clock.setInterval(() => {
      if (!this.#flushing) void this.flush();
    }, FLUSH_EVERY_MS);
    this.#pruner = deps.clock.setInterval(() => void this.prune(), 60 * 60 * 1000);
  }

  write(entry: LogRecord): void {
    this.#pending.push(entry);
    if (this.#pending.length > MAX_PENDING_ENTRIES) this.#drop();
    if (this.#pending.length >= FLUSH_AT_ENTRIES && !this.#flushing) void this.flush();
    const followers = this.#followers.get(entry.functionName);
    if (followers) for (const f of followers) f(entry);
  }

  /** Drops the oldest entries beyond MAX_PENDING_ENTRIES. */
  #drop(): void {
    const over = this.#pending.length - MAX_PENDING_ENTRIES;
    const dropped = this.#pending.splice(0, over);
    const records = dropped.filter((e) => e.usage).length;
    this.#logger.error("function logs dropped: the store is failing or behind", {
      lost: over,
      usageRecords: records,
    });
  }

  /**
   * Stores what is pending now; a write already under way is waited for first, then this one,
   * so that what was written before the call is stored when it resolves.
   */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => this.flush());
    if (this.#pending.length === 0) return Promise.resolve();
    const batch = this.#pending;
    this.#pending = [];
    this.#flushing = this.#store
      .appendLogs(batch)
      .catch((err: unknown) => {
        // Kept for the next flush: a failing disk should not lose what it can still save.
        this.#pending = [...batch, ...this.#pending];
        this.#logger.error("could not store function logs", { err, pending: this.#pending.length });
        if (this.#pending.length > MAX_PENDING_ENTRIES) this.#drop();
      })
      .finally(() => {
        this.#flushing = undefined;
      });
    return this.#flushing;
  }

  /** Entries within the retention (older ones may still be stored until the next pruning). */
  async query(q: LogQuery): Promise<StoredLog[]> {
    await this.flush();
    const floor = this.#clock.now() - this.#retentionMs;
    return this.#store.queryLogs({ ...q, from: Math.max(q.from ?? floor, floor) });
  }

  /**
   * Calls `follower` with every new entry of the function until the returned function is
   * called; `onEnd` is called if the service closes first (the platform is shutting down).
   */
  follow(functionName: string, follower: LogFollower, onEnd?: () => void): () => void {
    let set = this.#followers.get(functionName);
    if (!set) {
      set = new Set();
      this.#followers.set(functionName, set);
    }
    set.add(follower);
    if (onEnd) this.#enders.add(onEnd);
    return () => {
      set.delete(follower);
      if (set.size === 0) this.#followers.delete(functionName);
      if (onEnd) this.#enders.delete(onEnd);
    };
  }

  /** Ends every follow, so long-lived streams let the server close. */
  endFollowers(): void {
    for (const end of [...this.#enders]) end();
    this.#enders.clear();
  }

  async prune(): Promise<number> {
    return this.#store.pruneLogs(this.#clock.now() - this.#retentionMs);
  }

  async close(): Promise<void> {
    this.#timer.cancel();
    this.#pruner.cancel();
    this.endFollowers();
    await this.flush();
    // Written meanwhile, or kept after a failed write: one more try.
    if (this.#pending.length > 0) await this.flush();
    if (this.#pending.length > 0)
      this.#logger.error("function logs lost at shutdown: the store failed", { lost: this.#pending.length });
  }
}
