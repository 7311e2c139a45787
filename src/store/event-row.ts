/** The async queue's row, as both stores keep it (same columns), and the event it reads as. */
import type { QueuedEvent } from "../control/async/queue.js";

export interface EventRow {
  id: string;
  function_name: string;
  qualifier: string | null;
  payload: Buffer;
  trace_id: string;
  accepted_at: number;
  status: QueuedEvent["status"];
  attempts: number;
  not_before: number;
  updated_at: number;
  last_error: string | null;
  result: Buffer | null;
  hops: number;
  idempotency_key: string | null;
  init_phases: string | null;
  held_ms: number;
}

/** Every field present, unset ones as undefined. */
export function toEvent(r: EventRow): QueuedEvent {
  return {
    id: r.id,
    functionName: r.function_name,
    qualifier: r.qualifier ?? undefined,
    payload: r.payload,
    traceId: r.trace_id,
    acceptedAt: r.accepted_at,
    status: r.status,
    attempts: r.attempts,
    notBefore: r.not_before,
    updatedAt: r.updated_at,
    lastError: r.last_error ?? undefined,
    initPhases: r.init_phases ? (JSON.parse(r.init_phases) as QueuedEvent["initPhases"]) : undefined,
    result: r.result ?? undefined,
    hops: r.hops,
    idempotencyKey: r.idempotency_key ?? undefined,
    heldMs: r.held_ms,
  };
}
