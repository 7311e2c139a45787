/**
 * The usage table's row, as both stores keep it (same columns; SQLite's booleans are 0 or 1),
 * and the record it reads as.
 */
import type { UsageRecord } from "../control/usage-repo.js";

export interface UsageRow {
  request_id: string;
  function_name: string;
  version: string;
  type: "sync" | "async";
  outcome: string;
  trace_id: string;
  init_phases: string | null;
  started_at: number;
  cold: boolean | number;
  provisioned: boolean | number;
  duration_ms: number;
  billed_ms: number;
  memory_mb: number;
  gb_seconds: number;
  init_ms: number | null;
  restore_ms: number | null;
  restore_billed_ms: number | null;
  max_memory_mb: number | null;
  arrived_at: number | null;
  handed_after_ms: number | null;
  total_ms: number;
}

/** The record; `outcome` as the store kept it when it is not the column's text (PostgreSQL's NUL-safe copy). */
export function toUsageRecord(r: UsageRow, outcome: string = r.outcome): UsageRecord {
  return {
    requestId: r.request_id,
    functionName: r.function_name,
    version: r.version,
    type: r.type,
    cold: Boolean(r.cold),
    provisioned: Boolean(r.provisioned),
    startedAt: r.started_at,
    durationMs: r.duration_ms,
    billedMs: r.billed_ms,
    memoryMb: r.memory_mb,
    gbSeconds: r.gb_seconds,
    initMs: r.init_ms ?? undefined,
    restoreMs: r.restore_ms ?? undefined,
    restoreBilledMs: r.restore_billed_ms ?? undefined,
    maxMemoryMb: r.max_memory_mb ?? undefined,
    outcome,
    traceId: r.trace_id,
    arrivedAt: r.arrived_at ?? undefined,
    handedAfterMs: r.handed_after_ms ?? undefined,
    totalMs: r.total_ms,
    initPhases: r.init_phases ? (JSON.parse(r.init_phases) as UsageRecord["initPhases"]) : undefined,
  };
}
