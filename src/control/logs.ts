/**
 * Function logs: every line an instance writes, and the START / END / REPORT lines, kept per
 * function. Lines are written to the store in batches off the invoke path, and published at
 * once on the function's live topic (`logs.<name>`) for anyone following it, on this node or,
 * in a cluster, on another (only while someone does: `FanOut.hasSubscribers`). A REPORT line carries its invocation's usage record.
 *
 * Durability: entries are stored every FLUSH_EVERY_MS; a crash loses at most that interval's.
 */

import type { LogEntry, LogSink } from "../protocol/invoke.js";
import type { Clock, TimerHandle } from "../shared/clock.js";
import { type FanOut, type FanOutMessage, isTopic } from "../shared/fanout.js";
import type { Logger } from "../shared/logger.js";
import type { LogQuery, LogRecord, LogsRepo, StoredLog } from "./logs-repo.js";

const FLUSH_EVERY_MS = 100;
const FLUSH_AT_ENTRIES = 1000;
/**
 * Entries kept in memory if the store fails or falls behind; beyond this the oldest are
 * dropped (and the loss logged).
 */
const MAX_PENDING_ENTRIES = 100_000;

export type LogFollower = (entry: LogEntry) => void;

/** A log line as followers receive it: plain JSON, to cross the network in a cluster (no usage record). */
type LiveLine = {
  readonly functionName: string;
  readonly version: string;
  readonly instanceId: string;
  readonly requestId: string | null;
  readonly timestamp: number;
  readonly message: string;
};

export class LogService implements LogSink {
  readonly #store: LogsRepo;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #retentionMs: number;
  #pending: LogRecord[] = [];
  #flushing: Promise<void> | undefined;
  readonly #live: FanOut;
  readonly #enders = new Set<() => void>();
  readonly #timer: TimerHandle;
  readonly #pruner: TimerHandle;

  constructor(deps: {
    store: LogsRepo;
    clock: Clock;
    logger: Logger;
    retentionMs: number;
    /** Where new lines are published for followers. */
    live: FanOut;
  }) {
    this.#store = deps.store;
    this.#live = deps.live;
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
    // Most lines have no follower: no message, no promise for them.
    const topic = liveTopic(entry.functionName);
    if (!this.#live.hasSubscribers(topic)) return;
    const line: LiveLine = {
      functionName: entry.functionName,
      version: entry.version,
      instanceId: entry.instanceId,
      requestId: entry.requestId ?? null,
      timestamp: entry.timestamp,
      message: entry.message,
    };
    this.#live.publish(topic, line).catch((err: unknown) => {
      this.#logger.warn("could not hand a log line to its followers", { err, function: entry.functionName });
    });
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
   * A name no function can have is followed too, and gets nothing.
   */
  follow(functionName: string, follower: LogFollower, onEnd?: () => void): () => void {
    const topic = liveTopic(functionName);
    // Our own lines on our own topic: the cast names the shape `write` publishes.
    const unsubscribe = isTopic(topic)
      ? this.#live.subscribe(topic, (m: FanOutMessage) => follower(fromLive(m as LiveLine)))
      : () => {};
    if (onEnd) this.#enders.add(onEnd);
    return () => {
      unsubscribe();
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

function liveTopic(functionName: string): string {
  return `logs.${functionName}`;
}

function fromLive(line: LiveLine): LogEntry {
  return { ...line, requestId: line.requestId ?? undefined };
}
