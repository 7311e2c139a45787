/**
 * Metering: one usage record per invocation, and the cost of what was recorded under a pricing
 * table. The billed figures are the REPORT line's (`report.ts`), and the record is stored on
 * that line's row, so a record and its invocation's log always agree.
 *
 * Durability: as function logs (`logs.ts`), records are kept in memory and stored every 100 ms
 * by the store's writing thread; a crash loses at most the records of that last interval.
 */
import type { FunctionVersion } from "../protocol/function.js";
import type { ProvisionedSpan } from "./provisioned-repo.js";
import {
  billedDurationMs,
  billedRestoreMs,
  type DispatchResult,
  errorTypeOf,
  type InvocationTiming,
} from "./report.js";
import type { UsageRecord, UsageSums } from "./usage-repo.js";

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
    outcome: errorTypeOf(result.outcome) ?? "success",
    traceId: how.traceId,
    arrivedAt: how.receivedAt ?? how.acceptedAt,
    handedAfterMs: how.handedAfterMs,
    totalMs: how.totalMs,
    initPhases: result.initPhases,
  };
}

/** GB-seconds of a provisioned instance's up-time inside [from, to) (a running one's until `to`). */
export function spanGbSeconds(span: ProvisionedSpan, from: number, to: number): number {
  const ms = Math.max(0, Math.min(span.stoppedAt ?? to, to) - Math.max(span.startedAt, from));
  return gbSeconds(ms, span.memoryMb);
}

/** A cost in USD, by what it is for. */
export interface Cost {
  readonly requests: number;
  readonly duration: number;
  readonly provisioned: number;
  readonly total: number;
}

/** What summed usage costs: requests, duration at each instance kind's rate, provisioned up-time. */
export function costOf(
  u: Pick<UsageSums, "requests" | "gbSeconds" | "provisionedDurationGbSeconds"> & {
    readonly provisionedGbSeconds: number;
  },
  p: Pricing,
): Cost {
  const c = {
    requests: u.requests * p.request,
    duration: u.gbSeconds * p.gbSecond + u.provisionedDurationGbSeconds * p.provisionedDurationGbSecond,
    provisioned: u.provisionedGbSeconds * p.provisionedGbSecond,
  };
  return { ...c, total: c.requests + c.duration + c.provisioned };
}

/** What one record costs: its request and its duration at the rate of the instance it ran on. */
export function recordCost(r: Pick<UsageRecord, "gbSeconds" | "provisioned">, p: Pricing): number {
  return p.request + r.gbSeconds * (r.provisioned ? p.provisionedDurationGbSecond : p.gbSecond);
}

/**
 * Makes each invocation's usage record, which the dispatcher stores on its REPORT line's row
 * (`LogRecord`), and tells budgets and trace export of it.
 */
export class UsageMeter {
  readonly #enabled: boolean;
  readonly #onRecord: ((r: UsageRecord) => void) | undefined;

  constructor(deps: {
    /** False: no records at all (to measure what metering costs). */
    enabled?: boolean;
    /** Called with each record as it is made (budgets count spend from it). */
    onRecord?: (r: UsageRecord) => void;
  }) {
    this.#enabled = deps.enabled ?? true;
    this.#onRecord = deps.onRecord;
  }

  /** The invocation's record; undefined when the platform does not meter. */
  record(fn: FunctionVersion, result: DispatchResult, how: InvocationTiming): UsageRecord | undefined {
    if (!this.#enabled) return undefined;
    const record = usageRecord(fn, result, how);
    this.#onRecord?.(record);
    return record;
  }
}
