/**
 * Function logs: every line an instance writes, and the START / END / REPORT lines, kept per
 * function. Lines are written to the store in batches off the invoke path, and handed at once
 * to anyone following the function.
 */

import type { LogEntry, LogSink } from "../protocol/invoke.js";
import type { Clock, TimerHandle } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { LogQuery, MetadataStore, StoredLog } from "../store/types.js";

const FLUSH_EVERY_MS = 100;
const FLUSH_AT_ENTRIES = 1000;
/** Entries kept in memory if the store falls behind; beyond this the oldest are dropped. */
const MAX_PENDING_ENTRIES = 100_000;

export type LogFollower = (entry: LogEntry) => void;

export class LogService implements LogSink {
  readonly #store: MetadataStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #retentionMs: number;
  #pending: LogEntry[] = [];
  #flushing: Promise<void> | undefined;
  readonly #followers = new Map<string, Set<LogFollower>>();
  readonly #enders = new Set<() => void>();
  readonly #timer: TimerHandle;
  readonly #pruner: TimerHandle;

  constructor(deps: { store: MetadataStore; clock: Clock; logger: Logger; retentionMs: number }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#retentionMs = deps.retentionMs;
    this.#timer = deps.clock.setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.#pruner = deps.clock.setInterval(() => void this.prune(), 60 * 60 * 1000);
  }

  write(entry: LogEntry): void {
    this.#pending.push(entry);
    if (this.#pending.length > MAX_PENDING_ENTRIES)
      this.#pending.splice(0, this.#pending.length - MAX_PENDING_ENTRIES);
    if (this.#pending.length >= FLUSH_AT_ENTRIES) void this.flush();
    const followers = this.#followers.get(entry.functionName);
    if (followers) for (const f of followers) f(entry);
  }

  /** Writes what is pending; concurrent calls share one write. */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#pending.length === 0) return Promise.resolve();
    const batch = this.#pending;
    this.#pending = [];
    this.#flushing = this.#store
      .appendLogs(batch)
      .catch((err: unknown) =>
        this.#logger.error("could not store function logs", { err, lost: batch.length }),
      )
      .finally(() => {
        this.#flushing = undefined;
      });
    return this.#flushing;
  }

  async query(q: LogQuery): Promise<StoredLog[]> {
    await this.flush();
    return this.#store.queryLogs(q);
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
    // Entries written while a batch was being stored form the next batch: write until none.
    while (this.#flushing || this.#pending.length > 0) await this.flush();
  }
}
