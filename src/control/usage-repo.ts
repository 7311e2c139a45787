/**
 * Metering's storage: the usage record of every invocation, summed per group on demand, and
 * the monthly budgets. Implemented by each store (`store/sqlite.ts`; PostgreSQL beside it).
 */
import type { InitPhases } from "../protocol/invoke.js";

/**
 * One invocation's metered usage. Its billed figures are the REPORT line's: `billedMs` is
 * `Billed Duration` (duration plus init, rounded up to the millisecond), `restoreBilledMs`
 * is `Billed Restore Duration`.
 */
export interface UsageRecord {
  readonly requestId: string;
  readonly functionName: string;
  readonly version: string;
  readonly type: "sync" | "async";
  readonly cold: boolean;
  /** It ran on a provisioned-concurrency instance (duration priced at that rate). */
  readonly provisioned: boolean;
  /** Epoch ms at which the invocation reached the dispatcher. */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly billedMs: number;
  readonly memoryMb: number;
  /** (billedMs + restoreBilledMs) / 1000 × memoryMb / 1024. */
  readonly gbSeconds: number;
  /** Init Duration of a cold start (inside billedMs). */
  readonly initMs: number | undefined;
  /** Restore Duration of a snapshot restore, and what of it is billed. */
  readonly restoreMs: number | undefined;
  readonly restoreBilledMs: number | undefined;
  readonly maxMemoryMb: number | undefined;
  /** "success", or the error type the caller saw. */
  readonly outcome: string;
  /** Its trace, kept as the few times its spans are made of (`control/trace.ts`). */
  readonly traceId: string;
  /** Epoch ms the gateway received it (sync) or the event was accepted (async). */
  readonly arrivedAt: number | undefined;
  /** Ms from startedAt until the event was handed to the instance, and until the result. */
  readonly handedAfterMs: number | undefined;
  readonly totalMs: number;
  /** A cold start's phases. */
  readonly initPhases: InitPhases | undefined;
}

/** A monthly spending cap: for one function, or (scope "*") for the whole platform. */
export interface Budget {
  readonly scope: string;
  readonly monthlyUsd: number;
  /** Epoch ms. */
  readonly updatedAt: number;
}

export type UsageGrouping = "function" | "version" | "day" | "month";

export interface UsageQuery {
  readonly functionName?: string | undefined;
  /** Epoch ms, [from, to). */
  readonly from: number;
  readonly to: number;
  readonly groupBy: UsageGrouping;
}

/** Sums of the usage records of one group. */
export interface UsageSums {
  /** The function name, "function\u0000version", the UTC day (YYYY-MM-DD) or month (YYYY-MM). */
  readonly key: string;
  readonly requests: number;
  readonly errors: number;
  readonly coldStarts: number;
  readonly durationMs: number;
  readonly billedMs: number;
  /** GB-seconds of invocations on on-demand instances, and on provisioned ones. */
  readonly gbSeconds: number;
  readonly provisionedDurationGbSeconds: number;
}

/**
 * Usage records are written with the log rows of their REPORT lines (`LogsRepo.appendLogs`),
 * and kept after the log's retention has deleted those lines.
 */
export interface UsageRepo {
  /** Usage summed per group over a window. */
  queryUsage(query: UsageQuery): Promise<UsageSums[]>;
  /** The usage records of one request id (one per attempt of an async event), oldest first. */
  usageOf(requestId: string): Promise<UsageRecord[]>;
}

export interface BudgetsRepo {
  listBudgets(): Promise<Budget[]>;
  putBudget(budget: Budget): Promise<void>;
  /** False if there was none. */
  deleteBudget(scope: string): Promise<boolean>;
}
