/**
 * Billing data in SQLite: usage records (table `usage`, inserted by the log thread with the
 * log rows of their REPORT lines) and their sums, provisioned instances' up-time spans, and
 * budgets. Migrations of `sqlite-migrations.ts`.
 */
import type Database from "better-sqlite3";
import type { ProvisionedSpan } from "../control/provisioned-repo.js";
import type { Budget, UsageQuery, UsageRecord, UsageSums } from "../control/usage-repo.js";
import { type SpanRow, toSpan } from "./log-row.js";
import { toUsageRecord, type UsageRow } from "./usage-row.js";

/**
 * Released: usage records as columns of their REPORT line's row in `logs`. Replaced by
 * USAGE_TABLE_MIGRATION, which moves them out; kept as it was for the databases it made.
 */
export const USAGE_MIGRATION = `ALTER TABLE logs ADD COLUMN started_at INTEGER;
   ALTER TABLE logs ADD COLUMN type TEXT;
   ALTER TABLE logs ADD COLUMN outcome TEXT;
   ALTER TABLE logs ADD COLUMN trace_id TEXT;
   ALTER TABLE logs ADD COLUMN init_phases TEXT;
   ALTER TABLE logs ADD COLUMN cold INTEGER;
   ALTER TABLE logs ADD COLUMN provisioned INTEGER;
   ALTER TABLE logs ADD COLUMN duration_ms REAL;
   ALTER TABLE logs ADD COLUMN billed_ms INTEGER;
   ALTER TABLE logs ADD COLUMN memory_mb INTEGER;
   ALTER TABLE logs ADD COLUMN gb_seconds REAL;
   ALTER TABLE logs ADD COLUMN init_ms REAL;
   ALTER TABLE logs ADD COLUMN restore_ms REAL;
   ALTER TABLE logs ADD COLUMN restore_billed_ms INTEGER;
   ALTER TABLE logs ADD COLUMN max_memory_mb INTEGER;
   ALTER TABLE logs ADD COLUMN arrived_at INTEGER;
   ALTER TABLE logs ADD COLUMN handed_after_ms REAL;
   ALTER TABLE logs ADD COLUMN total_ms REAL;
   CREATE INDEX usage_by_time ON logs (started_at) WHERE started_at IS NOT NULL;`;

/**
 * Usage records get a table of their own, so that pruning the log is by age alone and a
 * record's life is not tied to a log line's. Existing records move out of the log's REPORT
 * rows; `logs` is rebuilt without the usage columns (one pass over it: dropping 18 columns one
 * by one would rewrite it 18 times), keeping every row's seq and AUTOINCREMENT's high-water
 * mark, so that a follower's "after seq" never meets a number again. The usage indexes serve
 * reports over a window (all functions, or one) and the lookup of one invocation's records.
 * Request ids are time-ordered (`shared/ids.ts`), so the last grows at one end; random ids
 * dirtied a page of it per record (`bench/log-writer.ts` measures what each costs).
 */
export const USAGE_TABLE_MIGRATION = `CREATE TABLE usage (
     request_id TEXT NOT NULL,
     function_name TEXT NOT NULL,
     version TEXT NOT NULL,
     type TEXT NOT NULL,
     outcome TEXT NOT NULL,
     trace_id TEXT NOT NULL,
     init_phases TEXT,
     started_at INTEGER NOT NULL,
     cold INTEGER NOT NULL,
     provisioned INTEGER NOT NULL,
     duration_ms REAL NOT NULL,
     billed_ms INTEGER NOT NULL,
     memory_mb INTEGER NOT NULL,
     gb_seconds REAL NOT NULL,
     init_ms REAL,
     restore_ms REAL,
     restore_billed_ms INTEGER,
     max_memory_mb INTEGER,
     arrived_at INTEGER,
     handed_after_ms REAL,
     total_ms REAL NOT NULL
   );
   INSERT INTO usage (request_id, function_name, version, type, outcome, trace_id, init_phases,
       started_at, cold, provisioned, duration_ms, billed_ms, memory_mb, gb_seconds, init_ms,
       restore_ms, restore_billed_ms, max_memory_mb, arrived_at, handed_after_ms, total_ms)
     SELECT request_id, function_name, version, type, outcome, trace_id, init_phases,
       started_at, cold, provisioned, duration_ms, billed_ms, memory_mb, gb_seconds, init_ms,
       restore_ms, restore_billed_ms, max_memory_mb, arrived_at, handed_after_ms, total_ms
     FROM logs WHERE started_at IS NOT NULL ORDER BY seq;
   CREATE TABLE logs_kept (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     function_name TEXT NOT NULL,
     version TEXT NOT NULL,
     instance_id TEXT NOT NULL,
     request_id TEXT,
     ts INTEGER NOT NULL,
     message TEXT NOT NULL
   );
   INSERT INTO logs_kept (seq, function_name, version, instance_id, request_id, ts, message)
     SELECT seq, function_name, version, instance_id, request_id, ts, message FROM logs ORDER BY seq;
   DELETE FROM sqlite_sequence WHERE name = 'logs_kept';
   INSERT INTO sqlite_sequence (name, seq) SELECT 'logs_kept', seq FROM sqlite_sequence WHERE name = 'logs';
   DROP TABLE logs;
   ALTER TABLE logs_kept RENAME TO logs;
   CREATE INDEX logs_by_function ON logs (function_name, seq);
   CREATE INDEX logs_by_request ON logs (request_id) WHERE request_id IS NOT NULL;
   CREATE INDEX logs_by_time ON logs (ts);
   CREATE INDEX usage_by_time ON usage (started_at);
   CREATE INDEX usage_by_function ON usage (function_name, started_at);
   CREATE INDEX usage_by_request ON usage (request_id);`;

export const BUDGET_MIGRATION = `CREATE TABLE budgets (
     scope TEXT PRIMARY KEY,
     monthly_usd REAL NOT NULL,
     updated_at INTEGER NOT NULL
   );`;

export function listBudgets(db: Database.Database): Budget[] {
  return (
    db.prepare("SELECT scope, monthly_usd, updated_at FROM budgets ORDER BY scope").all() as {
      scope: string;
      monthly_usd: number;
      updated_at: number;
    }[]
  ).map((r) => ({ scope: r.scope, monthlyUsd: r.monthly_usd, updatedAt: r.updated_at }));
}

export function putBudget(db: Database.Database, b: Budget): void {
  db.prepare(
    `INSERT INTO budgets (scope, monthly_usd, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (scope) DO UPDATE SET monthly_usd = excluded.monthly_usd, updated_at = excluded.updated_at`,
  ).run(b.scope, b.monthlyUsd, b.updatedAt);
}

export function deleteBudget(db: Database.Database, scope: string): boolean {
  return db.prepare("DELETE FROM budgets WHERE scope = ?").run(scope).changes === 1;
}

const GROUP_KEY: Record<UsageQuery["groupBy"], string> = {
  function: "function_name",
  version: "function_name || char(0) || version",
  day: "strftime('%Y-%m-%d', started_at / 1000, 'unixepoch')",
  month: "strftime('%Y-%m', started_at / 1000, 'unixepoch')",
};

/** Sums over the window by start time: by the index of one function's records, or of all. */
export function queryUsage(db: Database.Database, q: UsageQuery): UsageSums[] {
  const byFunction = q.functionName !== undefined;
  const sql = `SELECT ${GROUP_KEY[q.groupBy]} AS key, COUNT(*) AS requests,
      SUM(outcome != 'success') AS errors, SUM(cold) AS coldStarts, SUM(duration_ms) AS durationMs,
      SUM(billed_ms) AS billedMs, SUM(CASE WHEN provisioned = 0 THEN gb_seconds ELSE 0 END) AS gbSeconds,
      SUM(CASE WHEN provisioned = 1 THEN gb_seconds ELSE 0 END) AS provisionedDurationGbSeconds
    FROM usage WHERE started_at >= ? AND started_at < ?${byFunction ? " AND function_name = ?" : ""}
    GROUP BY key ORDER BY key`;
  const args: (string | number)[] = [q.from, q.to];
  if (byFunction) args.push(q.functionName!);
  return db.prepare(sql).all(...args) as UsageSums[];
}

export function recordProvisionedSpan(db: Database.Database, span: ProvisionedSpan): void {
  db.prepare(
    "INSERT INTO provisioned_spans (function_name, version, instance_id, memory_mb, started_at, stopped_at) VALUES (?, ?, ?, ?, ?, ?)",
  ).run(
    span.functionName,
    span.version,
    span.instanceId,
    span.memoryMb,
    span.startedAt,
    span.stoppedAt ?? Date.now(),
  );
}

/** Spans overlapping [from, to), of one function or of all. */
export function provisionedSpans(
  db: Database.Database,
  functionName: string | undefined,
  from: number,
  to: number,
): ProvisionedSpan[] {
  const rows = db
    .prepare(
      `SELECT * FROM provisioned_spans WHERE stopped_at > ? AND started_at < ?${functionName === undefined ? "" : " AND function_name = ?"} ORDER BY started_at`,
    )
    .all(from, to, ...(functionName === undefined ? [] : [functionName])) as SpanRow[];
  return rows.map(toSpan);
}

/** The records of one request id (an async event has one per attempt), oldest first. */
export function usageOf(db: Database.Database, requestId: string): UsageRecord[] {
  const rows = db
    .prepare("SELECT * FROM usage WHERE request_id = ? ORDER BY started_at, rowid")
    .all(requestId) as UsageRow[];
  return rows.map((r) => toUsageRecord(r));
}
