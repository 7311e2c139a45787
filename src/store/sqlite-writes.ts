/**
 * The rows the writing thread inserts (function logs, and the usage records REPORT lines
 * carry): their packed shapes (`packed-rows.ts`) and their insert, shared by the thread and,
 * for an in-memory database that has none, the store itself; and the query that reads the
 * logs back.
 */
import type Database from "better-sqlite3";
import type { LogQuery, LogRecord, StoredLog } from "../control/logs-repo.js";
import type { UsageRecord } from "../control/usage-repo.js";
import { type StoredLogRow, toStoredLog } from "./log-row.js";
import { type PackedRows, packRows, RowReader, type RowShape, rowShape } from "./packed-rows.js";

/** A log entry's fields, by column of `logs`. */
export const LOG_SHAPE: RowShape<LogRecord> = rowShape({
  strings: {
    function_name: (e) => e.functionName,
    version: (e) => e.version,
    instance_id: (e) => e.instanceId,
    request_id: (e) => e.requestId,
    message: (e) => e.message,
  },
  numbers: { ts: (e) => e.timestamp },
});

/** A usage record's fields, by column of `usage`. */
export const USAGE_SHAPE: RowShape<UsageRecord> = rowShape({
  strings: {
    request_id: (u) => u.requestId,
    function_name: (u) => u.functionName,
    version: (u) => u.version,
    type: (u) => u.type,
    outcome: (u) => u.outcome,
    trace_id: (u) => u.traceId,
    init_phases: (u) => (u.initPhases ? JSON.stringify(u.initPhases) : undefined),
  },
  numbers: {
    started_at: (u) => u.startedAt,
    cold: (u) => u.cold,
    provisioned: (u) => u.provisioned,
    duration_ms: (u) => u.durationMs,
    billed_ms: (u) => u.billedMs,
    memory_mb: (u) => u.memoryMb,
    gb_seconds: (u) => u.gbSeconds,
    init_ms: (u) => u.initMs,
    restore_ms: (u) => u.restoreMs,
    restore_billed_ms: (u) => u.restoreBilledMs,
    max_memory_mb: (u) => u.maxMemoryMb,
    arrived_at: (u) => u.arrivedAt,
    handed_after_ms: (u) => u.handedAfterMs,
    total_ms: (u) => u.totalMs,
  },
});

/** A batch as the writing thread gets it: the log rows, and the usage records of its REPORT lines. */
export interface PackedBatch {
  readonly logs: PackedRows;
  readonly usage: PackedRows;
}

/** Packs a batch of entries: every entry is a log row; the ones that carry a usage record add a usage row. */
export function packBatch(entries: readonly LogRecord[]): PackedBatch {
  const records: UsageRecord[] = [];
  for (const e of entries) if (e.usage) records.push(e.usage);
  return { logs: packRows(entries, LOG_SHAPE), usage: packRows(records, USAGE_SHAPE) };
}

/** Rows per INSERT statement: one statement per row spent more in binding calls than in SQLite. */
const ROWS_PER_INSERT = 32;

/** Inserts packed rows of `shape` into `table`, many per statement (the caller holds the transaction). */
function inserter<T>(db: Database.Database, table: string, shape: RowShape<T>): (rows: PackedRows) => void {
  const width = shape.columns.length;
  const one = `(${Array(width).fill("?").join(", ")})`;
  const sql = (n: number) =>
    `INSERT INTO ${table} (${shape.columns.join(", ")}) VALUES ${Array(n).fill(one).join(", ")}`;
  const insertOne = db.prepare(sql(1));
  const insertMany = db.prepare(sql(ROWS_PER_INSERT));
  const many: Array<string | number | null> = new Array(ROWS_PER_INSERT * width);
  const single: Array<string | number | null> = new Array(width);
  return (p) => {
    const rows = new RowReader(p);
    let r = 0;
    for (; r + ROWS_PER_INSERT <= p.count; r += ROWS_PER_INSERT) {
      for (let k = 0; k < ROWS_PER_INSERT; k++) rows.next(many, k * width);
      insertMany.run(many);
    }
    for (; r < p.count; r++) {
      rows.next(single, 0);
      insertOne.run(single);
    }
  };
}

/**
 * Inserts a packed batch in one transaction: its log rows and usage rows commit together, so a
 * REPORT line and its usage record are stored both or neither.
 */
export function batchWriter(db: Database.Database): (batch: PackedBatch) => void {
  const logs = inserter(db, "logs", LOG_SHAPE);
  const usage = inserter(db, "usage", USAGE_SHAPE);
  return db.transaction((batch: PackedBatch) => {
    logs(batch.logs);
    usage(batch.usage);
  });
}

/** A function's log entries matching the query, in order. */
export function queryLogs(db: Database.Database, q: LogQuery): StoredLog[] {
  const where = ["function_name = ?", "seq > ?"];
  const args: (string | number)[] = [q.functionName, q.afterSeq ?? 0];
  const filters: Array<[unknown, string]> = [
    [q.requestId, "request_id = ?"],
    [q.version, "version = ?"],
    [q.contains, "instr(message, ?) > 0"],
    [q.from, "ts >= ?"],
    [q.to, "ts < ?"],
  ];
  for (const [value, clause] of filters) {
    if (value === undefined) continue;
    where.push(clause);
    args.push(value as string | number);
  }
  const rows = db
    .prepare(
      `SELECT seq, function_name, version, instance_id, request_id, ts, message FROM logs WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`,
    )
    .all(...args, q.limit) as StoredLogRow[];
  return rows.map((r) => toStoredLog(r));
}
