/**
 * Function logs in PostgreSQL (`LogsRepo`): appended in batches with the usage records of their
 * REPORT lines (`usage.ts`'s table), queried and followed by seq, pruned by age.
 */
import type { LogQuery, LogRecord, LogsRepo, StoredLog } from "../../control/logs-repo.js";
import { type StoredLogRow, toStoredLog } from "../log-row.js";
import type { Sql, Tx } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";
import { fromNulSafe, nulSafe } from "./nul-text.js";
import { USAGE_COLUMNS, type UsageRow, usageRow } from "./usage.js";

/** The indexes are SQLite's: a function's lines by seq, one request's lines, and lines by age for pruning. */
export const LOGS_MIGRATIONS: ModuleMigrations = {
  module: "logs",
  steps: [
    `CREATE TABLE logs (
       seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       function_name text COLLATE "C" NOT NULL,
       version text COLLATE "C" NOT NULL,
       instance_id text NOT NULL,
       request_id text COLLATE "C",
       ts bigint NOT NULL,
       message text NOT NULL,
       message_bytes bytea
     );
     CREATE INDEX logs_by_function ON logs (function_name, seq);
     CREATE INDEX logs_by_request ON logs (request_id) WHERE request_id IS NOT NULL;
     CREATE INDEX logs_by_time ON logs (ts);`,
  ],
};

interface LogRow {
  function_name: string;
  version: string;
  instance_id: string;
  request_id: string | null;
  ts: number;
  message: string;
  message_bytes: Buffer | null;
}

const LOG_COLUMNS = [
  "function_name",
  "version",
  "instance_id",
  "request_id",
  "ts",
  "message",
  "message_bytes",
] as const satisfies ReadonlyArray<keyof LogRow>;

/**
 * The most rows one INSERT carries (well under the protocol's 65,535 parameters). A batch is
 * cut into inserts of powers of two up to this, so that a connection prepares at most ten
 * statements per table, not one per batch size.
 */
const MAX_ROWS_PER_INSERT = 512;

/** `rows` in slices of MAX_ROWS_PER_INSERT, then of decreasing powers of two. */
export function insertSlices<T>(rows: readonly T[]): T[][] {
  const slices: T[][] = [];
  let at = 0;
  const take = (size: number) => {
    slices.push(rows.slice(at, at + size));
    at += size;
  };
  while (rows.length - at >= MAX_ROWS_PER_INSERT) take(MAX_ROWS_PER_INSERT);
  for (let size = MAX_ROWS_PER_INSERT / 2; size >= 1; size /= 2) if (rows.length - at >= size) take(size);
  return slices;
}

function logRow(e: LogRecord): LogRow {
  const [message, bytes] = nulSafe(e.message);
  return {
    function_name: e.functionName,
    version: e.version,
    instance_id: e.instanceId,
    request_id: e.requestId ?? null,
    ts: e.timestamp,
    message,
    message_bytes: bytes,
  };
}

/**
 * Serializes appends to one schema: held from before the first row gets its seq until the
 * transaction commits (PostgreSQL releases transaction locks after the commit is visible).
 */
const APPEND_LOCK = "SELECT pg_advisory_xact_lock(hashtext('nimbus_logs:' || current_schema()))";

export class PostgresLogsRepo implements LogsRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /**
   * One transaction: the log rows, and the usage rows of the entries that carry a record.
   *
   * A follower reads "after seq" and must never skip a row. Seqs come from a sequence, taken as
   * rows are inserted; two transactions taking them at once could commit in the other order,
   * and a follower reading between the two commits would see the higher seqs, move past them,
   * and never see the lower ones. So an append takes a transaction-level advisory lock before
   * its first row: appends to one schema run one at a time, each commits (and is visible)
   * before the next takes a seq, and seqs rise in commit order. Appends come in batches (every
   * 100 ms per platform), so waiting for that lock costs little; a rolled-back append leaves a
   * gap in the seqs, which paging does not mind.
   */
  async appendLogs(entries: readonly LogRecord[]): Promise<void> {
    if (entries.length === 0) return;
    const logs = entries.map(logRow);
    const usage: UsageRow[] = [];
    for (const e of entries) if (e.usage) usage.push(usageRow(e.usage));
    // The statements go out together, pipelined on the transaction's connection.
    await this.#sql.begin((tx: Tx) => [
      tx.unsafe(APPEND_LOCK),
      ...insertSlices(logs).map((rows) => tx`INSERT INTO logs ${tx(rows, LOG_COLUMNS)}`),
      ...insertSlices(usage).map((rows) => tx`INSERT INTO usage ${tx(rows, USAGE_COLUMNS)}`),
    ]);
  }

  async queryLogs(q: LogQuery): Promise<StoredLog[]> {
    const sql = this.#sql;
    const rows = await sql<(StoredLogRow & { message_bytes: Buffer | null })[]>`
      SELECT seq, function_name, version, instance_id, request_id, ts, message, message_bytes FROM logs
      WHERE function_name = ${q.functionName} AND seq > ${q.afterSeq ?? 0}
        ${q.requestId === undefined ? sql`` : sql`AND request_id = ${q.requestId}`}
        ${q.version === undefined ? sql`` : sql`AND version = ${q.version}`}
        ${q.contains === undefined ? sql`` : containing(sql, q.contains)}
        ${q.from === undefined ? sql`` : sql`AND ts >= ${q.from}`}
        ${q.to === undefined ? sql`` : sql`AND ts < ${q.to}`}
      ORDER BY seq LIMIT ${q.limit}`;
    return rows.map((r) => toStoredLog(r, fromNulSafe(r.message, r.message_bytes)));
  }

  async pruneLogs(olderThan: number): Promise<number> {
    return (await this.#sql`DELETE FROM logs WHERE ts < ${olderThan}`).count;
  }
}

/**
 * Lines containing `text` literally (strpos, not LIKE: `%` and `_` are plain characters). A
 * line that holds a NUL is searched in its exact bytes (UTF-8 matches on character boundaries
 * only, so a byte match is a character match); text with a NUL can only be in those lines.
 */
function containing(sql: Sql, text: string) {
  const bytes = Buffer.from(text, "utf8");
  if (text.includes("\u0000")) return sql`AND position(${bytes} IN message_bytes) > 0`;
  return sql`AND CASE WHEN message_bytes IS NULL THEN strpos(message, ${text}) > 0
    ELSE position(${bytes} IN message_bytes) > 0 END`;
}
