/**
 * The thread that owns the event queue's SQLite connection. Its commits are synchronous=FULL
 * (the WAL is fsynced before an enqueue is acknowledged, so an accepted event survives power
 * loss too), and enqueues arriving together share one commit: one fsync for a batch of 202s.
 * The fsync waits here, never on the platform's event loop.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { EventFilter, NewEvent, Settlement } from "../control/async/queue.js";
import type { ThreadReply } from "../shared/thread-rpc.js";
import { type EventRow, toEvent } from "./event-row.js";

/** What the queue asks its thread (sent with an `id`, `thread-rpc.ts`). */
export type QueueRequest =
  | { readonly op: "enqueue"; readonly event: NewEvent }
  | {
      readonly op: "claim";
      readonly max: number;
      readonly now: number;
      readonly skip: readonly string[];
      readonly perFunction: number;
    }
  | {
      readonly op: "settle";
      readonly eventId: string;
      readonly outcome: Settlement;
      readonly now: number;
    }
  | { readonly op: "recover"; readonly now: number }
  | { readonly op: "get"; readonly eventId: string }
  | { readonly op: "list"; readonly filter: EventFilter }
  | { readonly op: "redrive"; readonly eventId: string; readonly now: number }
  | {
      readonly op: "record";
      readonly event: NewEvent;
      readonly outcome: Exclude<Settlement, { status: "retrying" }>;
      readonly now: number;
    }
  | { readonly op: "prune"; readonly olderThan: number }
  | { readonly op: "backlog" }
  | { readonly op: "close" };

const db = new Database((workerData as { path: string }).path);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.pragma("busy_timeout = 5000");

const insert = db.prepare(
  `INSERT INTO events (id, function_name, qualifier, payload, trace_id, accepted_at, status, attempts, not_before,
     updated_at, hops, idempotency_key)
   VALUES (@id, @functionName, @qualifier, @payload, @traceId, @acceptedAt, 'queued', 0, @acceptedAt, @acceptedAt,
     @hops, @idempotencyKey)`,
);
const byKey = db.prepare(`SELECT id FROM events WHERE function_name = ? AND idempotency_key = ?`);
// A claim reads each function's head of waiting events from events_waiting: the functions
// with waiting events (one index seek each), then each one's oldest due events. Its cost
// grows with the number of such functions, not with the depth of their backlogs: a whole
// queue filtering through a skip list (a throttled function with 40,000 events waiting) made
// every claim scan all of it, and accepting events slowed as the backlog grew.
const WAITING = "status IN ('queued', 'retrying')";
const firstWaitingFunction = db.prepare(`SELECT MIN(function_name) AS name FROM events WHERE ${WAITING}`);
const nextWaitingFunction = db.prepare(
  `SELECT MIN(function_name) AS name FROM events WHERE ${WAITING} AND function_name > ?`,
);
const dueOf = db.prepare(
  `SELECT *, rowid AS seq FROM events WHERE ${WAITING} AND function_name = ? AND not_before <= ?
   ORDER BY not_before, rowid LIMIT ?`,
);
const markRunning = db.prepare(`UPDATE events SET status = 'running', updated_at = ? WHERE id = ?`);
const settleStmt = db.prepare(
  `UPDATE events SET status = @status, attempts = @attempts, not_before = @notBefore, last_error = @error,
     result = @result, init_phases = COALESCE(@initPhases, init_phases), updated_at = @now,
     held_ms = COALESCE(@heldMs, held_ms)
   WHERE id = @id AND status = 'running'`,
);
const recoverStmt = db.prepare(
  `UPDATE events SET status = 'queued', not_before = ?, updated_at = ? WHERE status = 'running'`,
);
const getStmt = db.prepare(`SELECT * FROM events WHERE id = ?`);
const recordStmt = db.prepare(
  `INSERT INTO events (id, function_name, qualifier, payload, trace_id, accepted_at, status, attempts, not_before,
     updated_at, hops, last_error, result, init_phases)
   VALUES (@id, @functionName, @qualifier, @payload, @traceId, @acceptedAt, @status, @attempts, 0, @now, @hops,
     @error, @result, @initPhases)`,
);
const backlogStmt = db.prepare(
  `SELECT function_name AS functionName, COUNT(*) AS waiting, MIN(accepted_at) AS oldestAcceptedAt
   FROM events WHERE ${WAITING} GROUP BY function_name`,
);
const pruneStmt = db.prepare(`DELETE FROM events WHERE status IN ('succeeded', 'failed') AND updated_at < ?`);
const listStmt = db.prepare(
  `SELECT * FROM events WHERE (@fn IS NULL OR function_name = @fn) AND (@status IS NULL OR status = @status)
   ORDER BY accepted_at DESC, rowid DESC LIMIT @limit`,
);
const redriveStmt = db.prepare(
  `UPDATE events SET status = 'queued', attempts = 0, accepted_at = @now, not_before = @now, updated_at = @now
   WHERE id = @id AND status = 'failed'`,
);

/** Stores the events in one commit; returns each one's request id (the first one's for a repeated key). */
// Transactions that read before they write run with BEGIN IMMEDIATE: a deferred one would
// fail at once with SQLITE_BUSY, without waiting, when another connection wrote in between.
const enqueueAll = db.transaction((events: NewEvent[]): string[] =>
  events.map((e) => {
    if (e.idempotencyKey !== undefined) {
      const seen = byKey.get(e.functionName, e.idempotencyKey) as { id: string } | undefined;
      if (seen) return seen.id;
    }
    insert.run({
      ...e,
      qualifier: e.qualifier ?? null,
      payload: bytes(e.payload),
      idempotencyKey: e.idempotencyKey ?? null,
    });
    return e.id;
  }),
);
/** Oldest due first over all functions not skipped, at most `perFunction` of each. */
function dueEvents(max: number, now: number, skip: readonly string[], perFunction: number): EventRow[] {
  const skipped = new Set(skip);
  const heads: Array<EventRow & { seq: number }> = [];
  let name = (firstWaitingFunction.get() as { name: string | null }).name;
  while (name !== null) {
    if (!skipped.has(name))
      heads.push(...(dueOf.all(name, now, Math.min(max, perFunction)) as Array<EventRow & { seq: number }>));
    name = (nextWaitingFunction.get(name) as { name: string | null }).name;
  }
  heads.sort((a, b) => a.not_before - b.not_before || a.seq - b.seq);
  return heads.slice(0, max);
}

const claimDue = db.transaction(
  (max: number, now: number, skip: readonly string[], perFunction: number): EventRow[] => {
    const rows = dueEvents(max, now, skip, perFunction);
    for (const r of rows) markRunning.run(now, r.id);
    return rows.map((r) => ({ ...r, status: "running" as const, updated_at: now }));
  },
);

let batch: Array<{ id: number; event: NewEvent }> = [];

function flush(): void {
  const pending = batch;
  batch = [];
  try {
    const ids = enqueueAll.immediate(pending.map((p) => p.event));
    for (const [i, p] of pending.entries()) reply({ id: p.id, value: ids[i] });
  } catch {
    // One bad event must not fail the others: store them one by one.
    for (const p of pending) {
      try {
        reply({ id: p.id, value: enqueueAll.immediate([p.event])[0] });
      } catch (e) {
        reply({ id: p.id, error: (e as Error).message });
      }
    }
  }
}

function reply(r: ThreadReply): void {
  parentPort!.postMessage(r);
}

parentPort!.on("message", (req: QueueRequest & { readonly id: number }) => {
  try {
    switch (req.op) {
      case "enqueue":
        if (batch.length === 0) setImmediate(flush);
        batch.push({ id: req.id, event: req.event });
        return;
      case "claim":
        return reply({
          id: req.id,
          value: claimDue.immediate(req.max, req.now, req.skip, req.perFunction).map(toEvent),
        });
      case "settle": {
        const o = req.outcome;
        const changed = settleStmt.run({
          id: req.eventId,
          status: o.status,
          attempts: o.attempts,
          notBefore: o.status === "retrying" ? o.notBefore : 0,
          error: o.status === "succeeded" ? null : o.error,
          result: o.status === "succeeded" ? bytes(o.result) : null,
          initPhases: o.initPhases ? JSON.stringify(o.initPhases) : null,
          heldMs: o.status === "retrying" ? (o.heldMs ?? null) : null,
          now: req.now,
        }).changes;
        return reply({ id: req.id, value: changed });
      }
      case "recover":
        return reply({ id: req.id, value: recoverStmt.run(req.now, req.now).changes });
      case "get": {
        const row = getStmt.get(req.eventId) as EventRow | undefined;
        return reply({ id: req.id, value: row && toEvent(row) });
      }
      case "list": {
        const rows = listStmt.all({
          fn: req.filter.functionName ?? null,
          status: req.filter.status ?? null,
          limit: req.filter.limit,
        }) as EventRow[];
        return reply({ id: req.id, value: rows.map(toEvent) });
      }
      case "redrive":
        return reply({ id: req.id, value: redriveStmt.run({ id: req.eventId, now: req.now }).changes === 1 });
      case "record": {
        const o = req.outcome;
        recordStmt.run({
          ...req.event,
          qualifier: req.event.qualifier ?? null,
          payload: bytes(req.event.payload),
          status: o.status,
          attempts: o.attempts,
          now: req.now,
          error: o.status === "failed" ? o.error : null,
          result: o.status === "succeeded" ? bytes(o.result) : null,
          initPhases: o.initPhases ? JSON.stringify(o.initPhases) : null,
        });
        return reply({ id: req.id });
      }
      case "backlog":
        return reply({ id: req.id, value: backlogStmt.all() });
      case "prune":
        return reply({ id: req.id, value: pruneStmt.run(req.olderThan).changes });
      case "close":
        if (batch.length > 0) flush();
        db.close();
        reply({ id: req.id });
        parentPort!.close();
        return;
    }
  } catch (err) {
    reply({ id: req.id, error: (err as Error).message });
  }
});

/** Buffers arrive from the other thread as plain Uint8Arrays. */
function bytes(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
