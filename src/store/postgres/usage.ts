/**
 * Usage records in PostgreSQL (`UsageRepo`): inserted by `PostgresLogsRepo.appendLogs` in the
 * transaction of their REPORT lines, summed per group here, kept whatever the log's retention.
 */
import type {
  UsageGrouping,
  UsageQuery,
  UsageRecord,
  UsageRepo,
  UsageSums,
} from "../../control/usage-repo.js";
import { type UsageRow as SharedUsageRow, toUsageRecord } from "../usage-row.js";
import type { Sql } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";
import { fromNulSafe, nulSafe } from "./nul-text.js";

/**
 * Epoch ms and whole figures (billed ms, MB) are `bigint`/`integer`, durations and GB-seconds
 * `double precision`: a JavaScript number either way, exactly. `id` orders the attempts of
 * one request id that started in the same millisecond as they were stored (SQLite's rowid);
 * nothing looks a record up by it, so it has no index. The indexes serve reports over a window
 * (all functions, or one) and the lookup of one invocation's records.
 */
export const USAGE_MIGRATIONS: ModuleMigrations = {
  module: "usage",
  steps: [
    `CREATE TABLE usage (
       id bigint GENERATED ALWAYS AS IDENTITY,
       request_id text COLLATE "C" NOT NULL,
       function_name text COLLATE "C" NOT NULL,
       version text COLLATE "C" NOT NULL,
       type text NOT NULL,
       outcome text NOT NULL,
       outcome_bytes bytea,
       trace_id text NOT NULL,
       init_phases text,
       started_at bigint NOT NULL,
       cold boolean NOT NULL,
       provisioned boolean NOT NULL,
       duration_ms double precision NOT NULL,
       billed_ms bigint NOT NULL,
       memory_mb integer NOT NULL,
       gb_seconds double precision NOT NULL,
       init_ms double precision,
       restore_ms double precision,
       restore_billed_ms bigint,
       max_memory_mb integer,
       arrived_at bigint,
       handed_after_ms double precision,
       total_ms double precision NOT NULL
     );
     CREATE INDEX usage_by_time ON usage (started_at);
     CREATE INDEX usage_by_function ON usage (function_name, started_at);
     CREATE INDEX usage_by_request ON usage (request_id);`,
  ],
};

/** A usage row as inserted and read, by column: the shared columns and the NUL-safe outcome. */
export interface UsageRow extends SharedUsageRow {
  cold: boolean;
  provisioned: boolean;
  outcome_bytes: Buffer | null;
}

export const USAGE_COLUMNS = [
  "request_id",
  "function_name",
  "version",
  "type",
  "outcome",
  "outcome_bytes",
  "trace_id",
  "init_phases",
  "started_at",
  "cold",
  "provisioned",
  "duration_ms",
  "billed_ms",
  "memory_mb",
  "gb_seconds",
  "init_ms",
  "restore_ms",
  "restore_billed_ms",
  "max_memory_mb",
  "arrived_at",
  "handed_after_ms",
  "total_ms",
] as const satisfies ReadonlyArray<keyof UsageRow>;

/** A record as its row (absent fields as NULL: the driver refuses undefined). */
export function usageRow(u: UsageRecord): UsageRow {
  const [outcome, outcomeBytes] = nulSafe(u.outcome);
  return {
    request_id: u.requestId,
    function_name: u.functionName,
    version: u.version,
    type: u.type,
    outcome,
    outcome_bytes: outcomeBytes,
    trace_id: u.traceId,
    init_phases: u.initPhases ? JSON.stringify(u.initPhases) : null,
    started_at: u.startedAt,
    cold: u.cold,
    provisioned: u.provisioned,
    duration_ms: u.durationMs,
    billed_ms: u.billedMs,
    memory_mb: u.memoryMb,
    gb_seconds: u.gbSeconds,
    init_ms: u.initMs ?? null,
    restore_ms: u.restoreMs ?? null,
    restore_billed_ms: u.restoreBilledMs ?? null,
    max_memory_mb: u.maxMemoryMb ?? null,
    arrived_at: u.arrivedAt ?? null,
    handed_after_ms: u.handedAfterMs ?? null,
    total_ms: u.totalMs,
  };
}

function toRecord(r: UsageRow): UsageRecord {
  return toUsageRecord(r, fromNulSafe(r.outcome, r.outcome_bytes));
}

/**
 * Each grouping's columns and its GROUP BY (also its ORDER BY). A version's key joins name and
 * version with NUL, which `text` cannot hold: it is joined here. Days and months are UTC, of
 * whole seconds as SQLite's strftime takes them, and sort as bytes.
 */
function grouping(sql: Sql, by: UsageGrouping) {
  switch (by) {
    case "function":
      return { columns: sql`function_name AS key`, group: sql`key` };
    case "version":
      return { columns: sql`function_name, version`, group: sql`function_name, version` };
    case "day":
      return {
        columns: sql`to_char(to_timestamp(started_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') COLLATE "C" AS key`,
        group: sql`key`,
      };
    case "month":
      return {
        columns: sql`to_char(to_timestamp(started_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM') COLLATE "C" AS key`,
        group: sql`key`,
      };
  }
}

interface SumsRow {
  key?: string;
  function_name?: string;
  version?: string;
  requests: number;
  errors: number;
  cold_starts: number;
  duration_ms: number;
  billed_ms: number;
  gb_seconds: number;
  provisioned_gb_seconds: number;
}

export class PostgresUsageRepo implements UsageRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async queryUsage(q: UsageQuery): Promise<UsageSums[]> {
    const sql = this.#sql;
    const { columns, group } = grouping(sql, q.groupBy);
    // Counts are bigint and a bigint's sum numeric (a string to the driver): cast back to bigint.
    const rows = await sql<SumsRow[]>`
      SELECT ${columns},
        count(*) AS requests,
        count(*) FILTER (WHERE outcome <> 'success') AS errors,
        count(*) FILTER (WHERE cold) AS cold_starts,
        sum(duration_ms) AS duration_ms,
        sum(billed_ms)::bigint AS billed_ms,
        coalesce(sum(gb_seconds) FILTER (WHERE NOT provisioned), 0) AS gb_seconds,
        coalesce(sum(gb_seconds) FILTER (WHERE provisioned), 0) AS provisioned_gb_seconds
      FROM usage
      WHERE started_at >= ${q.from} AND started_at < ${q.to}
        ${q.functionName === undefined ? sql`` : sql`AND function_name = ${q.functionName}`}
      GROUP BY ${group} ORDER BY ${group}`;
    return rows.map((r) => ({
      key: r.key ?? `${r.function_name}\u0000${r.version}`,
      requests: r.requests,
      errors: r.errors,
      coldStarts: r.cold_starts,
      durationMs: r.duration_ms,
      billedMs: r.billed_ms,
      gbSeconds: r.gb_seconds,
      provisionedDurationGbSeconds: r.provisioned_gb_seconds,
    }));
  }

  async usageOf(requestId: string): Promise<UsageRecord[]> {
    const rows = await this.#sql<UsageRow[]>`
      SELECT * FROM usage WHERE request_id = ${requestId} ORDER BY started_at, id`;
    return rows.map(toRecord);
  }
}
