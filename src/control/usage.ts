/**
 * Metering: one usage record per invocation, written in batches off the invocation's path,
 * and the cost of what was recorded under a pricing table. The billed figures are the REPORT
 * line's (`report.ts`), so a record and its invocation's log always agree.
 *
 * Durability: records are kept in memory and stored every FLUSH_EVERY_MS (by the store's
 * writing thread); a crash loses at most the records of that last interval.
 */
import type { FunctionVersion } from "../protocol/function.js";
import type { Clock, TimerHandle } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { MetadataStore, UsageRecord } from "../store/types.js";
import {
  billedDurationMs,
  billedRestoreMs,
  type DispatchObserver,
  type DispatchResult,
  type InvocationTiming,
} from "./report.js";

const FLUSH_EVERY_MS = 250;
/**
 * Stored at once past this many: records kept for a whole interval under load outlive V8's
 * young generation and cost old-space collections; small batches die young.
 */
const FLUSH_AT_RECORDS = 256;
/** If storage fails for long, the oldest unsaved records are dropped beyond this (and logged). */
const MAX_PENDING_RECORDS = 200_000;

export interface Pricing {
  /** USD per request. */
  readonly request: number;
  /** USD per GB-second of duration on an on-demand instance. */
  readonly gbSecond: number;
  /** USD per GB-second a provisioned instance is up. */
  readonly provisionedGbSecond: number;
  /** USD per GB-second of duration on a provisioned instance. */
  readonly provisionedDurationGbSecond: number;
  /** Deduct Lambda's monthly free tier. */
  readonly freeTier: boolean;
}

/** Lambda's monthly free tier: requests, and GB-seconds of on-demand duration. */
export const FREE_TIER = { requests: 1_000_000, gbSeconds: 400_000 } as const;

/** GB-seconds of `ms` at `memoryMb` (GB = 1,024 MB, as Lambda counts). */
export function gbSeconds(ms: number, memoryMb: number): number {
  return (ms / 1000) * (memoryMb / 1024);
}

/** One invocation's usage, from the figures its REPORT line shows. */
export function usageRecord(fn: FunctionVersion, result: DispatchResult, how: InvocationTiming): UsageRecord {
  const f = result.figures;
  const billedMs = billedDurationMs(f);
  const restoreBilledMs = billedRestoreMs(f);
  const o = result.outcome;
  return {
    requestId: f.requestId,
    functionName: fn.functionName,
    version: fn.version,
    type: how.type,
    cold: result.cold,
    provisioned: result.provisioned ?? false,
    startedAt: how.startedAt,
    durationMs: f.durationMs,
    billedMs,
    memoryMb: f.memoryMb,
    gbSeconds: gbSeconds(billedMs + (restoreBilledMs ?? 0), f.memoryMb),
    initMs: f.restored ? undefined : f.initDurationMs,
    restoreMs: f.restored ? f.initDurationMs : undefined,
    restoreBilledMs,
    maxMemoryMb: f.maxMemoryUsedMb,
    outcome:
      o.kind === "success"
        ? "success"
        : o.kind === "error" || o.kind === "crash"
          ? o.errorType
          : o.kind === "timeout"
            ? "Sandbox.Timedout"
            : "Function.ResponseSizeTooLarge",
    traceId: how.traceId,
    arrivedAt: how.receivedAt ?? how.acceptedAt,
    handedAfterMs: how.handedAfterMs,
    totalMs: how.totalMs,
    initPhases: result.initPhases,
  };
}

/** What one record costs: its request and its duration at the rate of the instance it ran on. */
export function recordCost(r: Pick<UsageRecord, "gbSeconds" | "provisioned">, p: Pricing): number {
  return p.request + r.gbSeconds * (r.provisioned ? p.provisionedDurationGbSecond : p.gbSecond);
}

export class UsageMeter implements DispatchObserver {
  readonly #store: Pick<MetadataStore, "appendUsage">;
  readonly #logger: Logger;
  readonly #onRecord: ((r: UsageRecord) => void) | undefined;
  #pending: UsageRecord[] = [];
  #flushing: Promise<void> | undefined;
  readonly #timer: TimerHandle;

  readonly #enabled: boolean;

  constructor(deps: {
    /** False: no records at all (to measure what metering costs). */
    enabled?: boolean;
    store: Pick<MetadataStore, "appendUsage">;
    clock: Clock;
    logger: Logger;
    /** Called with each record as it is made (budgets count spend from it). */
    onRecord?: (r: UsageRecord) => void;
  }) {
    this.#store = deps.store;
    this.#logger = deps.logger;
    this.#onRecord = deps.onRecord;
    this.#enabled = deps.enabled ?? true;
    this.#timer = deps.clock.setInterval(() => void this.flush(), FLUSH_EVERY_MS);
  }

  invoked(fn: FunctionVersion, result: DispatchResult, how: InvocationTiming): void {
    if (!this.#enabled) return;
    const record = usageRecord(fn, result, how);
    this.#pending.push(record);
    this.#onRecord?.(record);
    if (this.#pending.length >= FLUSH_AT_RECORDS) void this.flush();
  }

  throttled(): void {
    // A refused invocation ran nothing and costs nothing.
  }

  /** Stores what is pending now; a write already under way is waited for first, then this one. */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => this.flush());
    if (this.#pending.length === 0) return Promise.resolve();
    const batch = this.#pending;
    this.#pending = [];
    this.#flushing = this.#store
      .appendUsage(batch)
      .catch((err: unknown) => {
        // Kept for the next flush: a failing disk should not lose what it can still save.
        this.#pending = [...batch, ...this.#pending];
        const over = this.#pending.length - MAX_PENDING_RECORDS;
        if (over > 0) this.#pending.splice(0, over);
        this.#logger.error("could not store usage records", { err, pending: this.#pending.length });
      })
      .finally(() => {
        this.#flushing = undefined;
      });
    return this.#flushing;
  }

  async close(): Promise<void> {
    this.#timer.cancel();
    await this.flush();
  }
}
