/**
 * The rows the writing thread inserts (function logs, with the usage records REPORT lines
 * carry): their packed shape (`packed-rows.ts`) and their insert, shared by the thread and,
 * for an in-memory database that has none, the store itself; and the query that reads the
 * logs back.
 */
import type Database from "better-sqlite3";
import type { LogQuery, LogRecord, StoredLog } from "../control/logs-repo.js";
import { type PackedRows, RowReader, type RowShape } from "./packed-rows.js";

/** A log entry's fields, and those of the usage record a REPORT line carries (absent on others). */
export const LOG_SHAPE: RowShape<LogRecord> = {
  strings: [
    (e) => e.functionName,
    (e) => e.version,
    (e) => e.instanceId,
    (e) => e.requestId,
    (e) => e.message,
    (e) => e.usage?.type,
    (e) => e.usage?.outcome,
    (e) => e.usage?.traceId,
    (e) => (e.usage?.initPhases ? JSON.stringify(e.usage.initPhases) : undefined),
  ],
  numbers: [
    (e) => e.timestamp,
    (e) => e.usage?.startedAt,
    (e) => e.usage?.cold,
    (e) => e.usage?.provisioned,
    (e) => e.usage?.durationMs,
    (e) => e.usage?.billedMs,
    (e) => e.usage?.memoryMb,
    (e) => e.usage?.gbSeconds,
    (e) => e.usage?.initMs,
    (e) => e.usage?.restoreMs,
    (e) => e.usage?.restoreBilledMs,
    (e) => e.usage?.maxMemoryMb,
    (e) => e.usage?.arrivedAt,
    (e) => e.usage?.handedAfterMs,
    (e) => e.usage?.totalMs,
  ],
};
const LOG_COLUMNS = `function_name, version, instance_id, request_id, message, type, outcome, trace_id, init_phases,
  ts, started_at, cold, provisioned, duration_ms, billed_ms, memory_mb, gb_seconds, init_ms, restore_ms,
  restore_billed_ms, max_memory_mb, arrived_at, handed_after_ms, total_ms`;

/** Rows per INSERT statement: one statement per row spent more in binding calls than in SQLite. */
const ROWS_PER_INSERT = 32;

/** Inserts packed log rows in one transaction, many per statement. */
export function logWriter(db: Database.Database): (rows: PackedRows) => void {
  const width = LOG_SHAPE.strings.length + LOG_SHAPE.numbers.length;
  const one = `(${Array(width).fill("?").join(", ")})`;
  const sql = (n: number) => `INSERT INTO logs (${LOG_COLUMNS}) VALUES ${Array(n).fill(one).join(", ")}`;
  const insertOne = db.prepare(sql(1));
  const insertMany = db.prepare(sql(ROWS_PER_INSERT));
  const many: Array<string | number | null> = new Array(ROWS_PER_INSERT * width);
  const single: Array<string | number | null> = new Array(width);
  return db.transaction((p: PackedRows) => {
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
  });
}

interface LogRow {
  seq: number;
  function_name: string;
  version: string;
  instance_id: string;
  request_id: string | null;
  ts: number;
  message: string;
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
    .all(...args, q.limit) as LogRow[];
  return rows.map((r) => ({
    seq: r.seq,
    functionName: r.function_name,
    version: r.version,
    instanceId: r.instance_id,
    requestId: r.request_id ?? undefined,
    timestamp: r.ts,
    message: r.message,
  }));
}
