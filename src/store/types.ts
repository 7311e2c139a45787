/**
 * The metadata store: functions, versions, aliases and function logs. Asynchronous so that
 * the PostgreSQL implementation fits the same interface as the embedded SQLite one.
 */
import type { Alias, FunctionRecord, FunctionVersion } from "../protocol/function.js";
import type { InitPhases, LogEntry } from "../protocol/invoke.js";
import type { FunctionSandbox } from "../protocol/sandbox.js";

/**
 * A log entry as stored. An invocation's REPORT line carries its usage record (when the
 * platform meters): one row per invocation holds both, so they cannot disagree.
 */
export interface LogRecord extends LogEntry {
  readonly usage?: UsageRecord | undefined;
}

export interface StoredLog extends LogEntry {
  /** Monotonic position in the log, for paging and following. */
  readonly seq: number;
}

export interface LogQuery {
  readonly functionName: string;
  readonly requestId?: string | undefined;
  /** Only entries of this version (`$LATEST`, a number). */
  readonly version?: string | undefined;
  /** Only entries whose message contains this text (case-sensitive). */
  readonly contains?: string | undefined;
  /** Epoch ms, inclusive. */
  readonly from?: number | undefined;
  /** Epoch ms, exclusive. */
  readonly to?: number | undefined;
  /** Only entries after this sequence number. */
  readonly afterSeq?: number | undefined;
  readonly limit: number;
}

/** How asynchronous invocations of a function (version or alias) are retried and routed. */
export interface EventInvokeConfig {
  readonly functionName: string;
  /** `$LATEST`, a version number or an alias name. */
  readonly qualifier: string;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeInSeconds: number;
  /** Function ARNs. */
  readonly onSuccess: string | undefined;
  readonly onFailure: string | undefined;
  /** Epoch ms. */
  readonly lastModified: number;
}

/** Provisioned concurrency asked for a published version or an alias. */
export interface ProvisionedConfig {
  readonly functionName: string;
  /** A version number or an alias name (never `$LATEST`). */
  readonly qualifier: string;
  readonly requested: number;
  /** Epoch ms. */
  readonly lastModified: number;
}

/** How long one provisioned instance was kept (billed by the time it is up, busy or not). */
export interface ProvisionedSpan {
  readonly functionName: string;
  readonly version: string;
  readonly instanceId: string;
  readonly memoryMb: number;
  /** Epoch ms: initialised, and stopped (undefined while it runs). */
  readonly startedAt: number;
  readonly stoppedAt: number | undefined;
}

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

/** What GetAccountSettings reports as used. */
export interface AccountUsage {
  readonly functionCount: number;
  /** Bytes: each version's package ($LATEST and published), even where versions share one. */
  readonly totalCodeSize: number;
}

export interface MetadataStore {
  getFunction(name: string): Promise<FunctionRecord | undefined>;
  /** Functions in name order, starting after `afterName`. */
  listFunctions(afterName: string | undefined, limit: number): Promise<FunctionRecord[]>;
  /** Creates the function with its $LATEST version in one transaction; false if it exists. */
  createFunction(latest: FunctionVersion, createdAt: number): Promise<boolean>;
  /**
   * Replaces $LATEST if its revision is still `expectedRevision`; false otherwise. Used for
   * every update so concurrent updates cannot overwrite each other unseen.
   */
  replaceLatest(next: FunctionVersion, expectedRevision: string): Promise<boolean>;
  /** Publishes a copy of $LATEST as the next version number, atomically. */
  publishVersion(functionName: string, make: (number: number) => FunctionVersion): Promise<FunctionVersion>;
  getVersion(functionName: string, version: string): Promise<FunctionVersion | undefined>;
  listVersions(functionName: string): Promise<FunctionVersion[]>;
  deleteVersion(functionName: string, version: string): Promise<void>;
  /** Deletes the function, its versions and aliases. */
  deleteFunction(name: string): Promise<boolean>;
  setReservedConcurrency(name: string, value: number | undefined): Promise<void>;
  /** Sets or (undefined) clears a function's sandbox settings. */
  setSandbox(name: string, value: FunctionSandbox | undefined): Promise<void>;

  getAlias(functionName: string, name: string): Promise<Alias | undefined>;
  listAliases(functionName: string): Promise<Alias[]>;
  /** Inserts when `expectedRevision` is null (false if it exists), else replaces if it matches. */
  putAlias(alias: Alias, expectedRevision: string | null): Promise<boolean>;
  deleteAlias(functionName: string, name: string): Promise<void>;

  getEventInvokeConfig(functionName: string, qualifier: string): Promise<EventInvokeConfig | undefined>;
  listEventInvokeConfigs(functionName: string): Promise<EventInvokeConfig[]>;
  /** Inserts or replaces the configuration of (function, qualifier). */
  putEventInvokeConfig(config: EventInvokeConfig): Promise<void>;
  deleteEventInvokeConfig(functionName: string, qualifier: string): Promise<boolean>;

  /** Of one function, or (no name) of every function. */
  listProvisionedConfigs(functionName?: string): Promise<ProvisionedConfig[]>;
  /** Inserts or replaces the configuration of (function, qualifier). */
  putProvisionedConfig(config: ProvisionedConfig): Promise<void>;
  deleteProvisionedConfig(functionName: string, qualifier: string): Promise<boolean>;
  recordProvisionedSpan(span: ProvisionedSpan): Promise<void>;
  /** Ended spans of a function that overlap [from, to), oldest first. */
  provisionedSpans(functionName: string | undefined, from: number, to: number): Promise<ProvisionedSpan[]>;

  /** Every package id a function version still references. */
  referencedPackages(): Promise<Set<string>>;
  /** How many functions there are, and the code size of every version summed, as Lambda counts storage. */
  accountUsage(): Promise<AccountUsage>;

  /** Stores log entries and the usage records REPORT lines carry (off the caller's thread where the store has one). */
  appendLogs(entries: readonly LogRecord[]): Promise<void>;
  /** Usage summed per group over a window. */
  queryUsage(query: UsageQuery): Promise<UsageSums[]>;
  /** The usage records of one request id (one per attempt of an async event), oldest first. */
  usageOf(requestId: string): Promise<UsageRecord[]>;
  listBudgets(): Promise<Budget[]>;
  putBudget(budget: Budget): Promise<void>;
  /** False if there was none. */
  deleteBudget(scope: string): Promise<boolean>;
  queryLogs(query: LogQuery): Promise<StoredLog[]>;
  /** Deletes log entries older than the cutoff (epoch ms), but not usage records; returns how many. */
  pruneLogs(olderThan: number): Promise<number>;

  close(): Promise<void>;
}
