/** A stored log line's row and a provisioned span's row, as both stores read them, and what they read as. */
import type { StoredLog } from "../control/logs-repo.js";
import type { ProvisionedSpan } from "../control/provisioned-repo.js";

export interface StoredLogRow {
  seq: number;
  function_name: string;
  version: string;
  instance_id: string;
  request_id: string | null;
  ts: number;
  message: string;
}

/** The line; `message` as the store kept it when it is not the column's text (PostgreSQL's NUL-safe copy). */
export function toStoredLog(r: StoredLogRow, message: string = r.message): StoredLog {
  return {
    seq: r.seq,
    functionName: r.function_name,
    version: r.version,
    instanceId: r.instance_id,
    requestId: r.request_id ?? undefined,
    timestamp: r.ts,
    message,
  };
}

export interface SpanRow {
  function_name: string;
  version: string;
  instance_id: string;
  memory_mb: number;
  started_at: number;
  stopped_at: number;
}

export function toSpan(r: SpanRow): ProvisionedSpan {
  return {
    functionName: r.function_name,
    version: r.version,
    instanceId: r.instance_id,
    memoryMb: r.memory_mb,
    startedAt: r.started_at,
    stoppedAt: r.stopped_at,
  };
}
