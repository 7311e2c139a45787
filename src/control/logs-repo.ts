/** The function logs' storage: appended in batches, queried and followed, pruned by age. */
import type { LogEntry } from "../protocol/invoke.js";
import type { UsageRecord } from "./usage-repo.js";

/**
 * A log entry as stored. An invocation's REPORT line carries its usage record (when the
 * platform meters): the store keeps the record apart from the line (it outlives the log's
 * retention) but commits both in one transaction, so they cannot disagree.
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

export interface LogsRepo {
  /**
   * Stores log entries and the usage records REPORT lines carry, all in one transaction (off
   * the caller's thread where the store has one). Entries get seqs in order, and a batch
   * committed later never gets lower ones: a follower paging by `afterSeq` misses none.
   */
  appendLogs(entries: readonly LogRecord[]): Promise<void>;
  /** A function's entries matching every filter given, by seq, at most `limit`. */
  queryLogs(query: LogQuery): Promise<StoredLog[]>;
  /** Deletes log entries older than the cutoff (epoch ms), whatever they carried; usage records stay. Returns how many. */
  pruneLogs(olderThan: number): Promise<number>;
}
