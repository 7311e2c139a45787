/**
 * The metadata store: functions, versions, aliases and function logs. Asynchronous so that
 * the PostgreSQL implementation fits the same interface as the embedded SQLite one.
 */
import type { Alias, FunctionRecord, FunctionVersion } from "../protocol/function.js";
import type { LogEntry } from "../protocol/invoke.js";

export interface StoredLog extends LogEntry {
  /** Monotonic position in the log, for paging and following. */
  readonly seq: number;
}

export interface LogQuery {
  readonly functionName: string;
  readonly requestId?: string | undefined;
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
  provisionedSpans(functionName: string, from: number, to: number): Promise<ProvisionedSpan[]>;

  /** Every package id a function version still references. */
  referencedPackages(): Promise<Set<string>>;

  appendLogs(entries: readonly LogEntry[]): Promise<void>;
  queryLogs(query: LogQuery): Promise<StoredLog[]>;
  /** Deletes log entries older than the cutoff (epoch ms); returns how many. */
  pruneLogs(olderThan: number): Promise<number>;

  close(): Promise<void>;
}
