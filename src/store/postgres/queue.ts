/**
 * The asynchronous event queue in PostgreSQL (`EventQueue`): the work queue and the records of
 * invocations in one table, as in SQLite, so that platforms sharing one database share one
 * queue. Every write is one autocommit statement: postgres.js resolves it once the server has
 * committed it, which is the durability `enqueue` promises (the server's synchronous_commit,
 * on by default, decides whether a commit also survives a crash of the database's machine).
 */
import type {
  Backlog,
  EventFilter,
  EventQueue,
  NewEvent,
  QueuedEvent,
  Settlement,
} from "../../control/async/queue.js";
import { type EventRow, toEvent } from "../event-row.js";
import type { Sql, Tx } from "./connect.js";
import { GroupCommit } from "./group-commit.js";
import type { ModuleMigrations } from "./migrate.js";

/**
 * One row per accepted event, kept as its invocation record once it has run (as in SQLite).
 * Events reference no function: records outlive the function, and an event of a deleted
 * function is failed by the poller, not by the database. `seq` orders events accepted in the
 * same millisecond as they arrived (SQLite's rowid). Payloads and results are bytea: the
 * bytes a client sent, whatever their encoding. Function names collate as bytes ("C"), so the
 * walk of waiting functions in a claim and the backlog's order match SQLite's.
 */
export const QUEUE_MIGRATIONS: ModuleMigrations = {
  module: "queue",
  steps: [
    `CREATE TABLE events (
       id text COLLATE "C" PRIMARY KEY,
       seq bigint GENERATED ALWAYS AS IDENTITY,
       function_name text COLLATE "C" NOT NULL,
       qualifier text,
       payload bytea NOT NULL,
       trace_id text NOT NULL,
       accepted_at bigint NOT NULL,
       status text NOT NULL CHECK (status IN ('queued', 'running', 'retrying', 'succeeded', 'failed')),
       attempts integer NOT NULL,
       not_before bigint NOT NULL,
       updated_at bigint NOT NULL,
       last_error text,
       result bytea,
       hops integer NOT NULL,
       idempotency_key text COLLATE "C",
       init_phases text,
       held_ms bigint NOT NULL DEFAULT 0
     );
     -- A key is kept once per function for as long as its record is.
     CREATE UNIQUE INDEX events_by_idempotency_key ON events (function_name, idempotency_key)
       WHERE idempotency_key IS NOT NULL;
     -- Waiting events per function, due first: a claim walks the functions that have any and
     -- reads the head of each, so a deep or skipped backlog is never scanned.
     CREATE INDEX events_waiting ON events (function_name, not_before, seq)
       WHERE status IN ('queued', 'retrying');
     -- Listing newest first, over all functions or one.
     CREATE INDEX events_by_time ON events (accepted_at, seq);
     CREATE INDEX events_by_function ON events (function_name, accepted_at, seq);
     -- Pruning finished records.
     CREATE INDEX events_finished ON events (updated_at) WHERE status IN ('succeeded', 'failed');`,
  ],
};

export class PostgresEventQueue implements EventQueue {
  readonly #sql: Sql;
  readonly #enqueues = new GroupCommit<NewEvent, string>((events) => this.#enqueueAll(events));
  readonly #settles = new GroupCommit<{ id: string; outcome: Settlement; now: number }, undefined>((items) =>
    this.#settleAll(items),
  );

  /** `sql`: a pool on a schema migrated with `QUEUE_MIGRATIONS`; whoever opened it closes it. */
  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /**
   * Enqueues under load share their commit (`GroupCommit`): the events accepted while one
   * transaction commits go together in the next, each resolved once that transaction has
   * committed, so every 202 still follows a durable write.
   */
  enqueue(event: NewEvent): Promise<string> {
    return this.#enqueues.submit(event);
  }

  /**
   * One multi-row INSERT for the batch (PostgreSQL parses, plans and commits it once). An event
   * whose idempotency key repeats a kept one (or an earlier one of the batch) inserts nothing:
   * it gets the kept event's id. Several platforms inserting the same key at once: the later
   * waits for the earlier to commit, then inserts nothing.
   */
  async #enqueueAll(events: readonly NewEvent[]): Promise<string[]> {
    const sql = this.#sql;
    const rows = events.map((e) => ({
      id: e.id,
      function_name: e.functionName,
      qualifier: e.qualifier ?? null,
      payload: e.payload,
      trace_id: e.traceId,
      accepted_at: e.acceptedAt,
      status: "queued",
      attempts: 0,
      not_before: e.acceptedAt,
      updated_at: e.acceptedAt,
      hops: e.hops,
      idempotency_key: e.idempotencyKey ?? null,
    }));
    // Without idempotency keys nothing can conflict (ids are new): no rows come back to parse.
    if (events.every((e) => e.idempotencyKey === undefined)) {
      await sql`INSERT INTO events ${sql(rows)}`;
      return events.map((e) => e.id);
    }
    const inserted = await sql<{ id: string }[]>`INSERT INTO events ${sql(rows)}
      ON CONFLICT (function_name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING id`;
    const fresh = new Set(inserted.map((r) => r.id));
    return Promise.all(
      events.map(async (e) => {
        if (fresh.has(e.id)) return e.id;
        const [first] = await sql<{ id: string }[]>`SELECT id FROM events
          WHERE function_name = ${e.functionName} AND idempotency_key = ${e.idempotencyKey ?? null}`;
        // The kept event's record was pruned meanwhile: its key is free again.
        return first?.id ?? (await this.#enqueueAll([e]))[0]!;
      }),
    );
  }

  /**
   * One statement: walk the functions that have waiting events (a skip scan of
   * `events_waiting`, one index seek per function), lock the due head of each one not skipped
   * (at most `perFunction`, FOR UPDATE SKIP LOCKED), keep the oldest due `max` of those heads,
   * mark them running. A lateral head per function rather than a window function over every
   * due event: the window would read, and lock, each function's whole backlog on every claim
   * (PostgreSQL refuses FOR UPDATE beside a window function, so the locking would have to go
   * in a subquery without a limit), while the heads cost the same however deep the backlogs
   * are. Rows another platform's claim has locked are skipped, not waited for, so platforms
   * polling one database take disjoint events. Heads locked but beyond `max` are left as
   * they were; their locks end with the statement.
   */
  async claim(
    max: number,
    now: number,
    skipFunctions: readonly string[] = [],
    perFunction = max,
  ): Promise<QueuedEvent[]> {
    const sql = this.#sql;
    const perHead = Math.min(max, perFunction);
    if (perHead <= 0) return [];
    const rows = await sql<EventRow[]>`
      WITH RECURSIVE waiting_functions (name) AS (
        (SELECT function_name FROM events WHERE status IN ('queued', 'retrying') ORDER BY function_name LIMIT 1)
        UNION ALL
        SELECT (SELECT e.function_name FROM events e
                WHERE e.status IN ('queued', 'retrying') AND e.function_name > w.name
                ORDER BY e.function_name LIMIT 1)
        FROM waiting_functions w WHERE w.name IS NOT NULL
      ),
      picked AS (
        SELECT head.id, head.not_before, head.seq
        FROM waiting_functions w
        CROSS JOIN LATERAL (
          SELECT e.id, e.not_before, e.seq FROM events e
          WHERE e.function_name = w.name AND e.status IN ('queued', 'retrying') AND e.not_before <= ${now}
            -- Here, not after the join: a skipped function's head is never read, nor locked.
            AND w.name <> ALL(${sql.array([...skipFunctions])}::text[])
          ORDER BY e.not_before, e.seq
          LIMIT ${perHead}
          FOR UPDATE SKIP LOCKED
        ) head
        WHERE w.name IS NOT NULL
        ORDER BY head.not_before, head.seq
        LIMIT ${max}
      ),
      claimed AS (
        UPDATE events e SET status = 'running', updated_at = ${now}
        FROM picked WHERE e.id = picked.id AND e.status IN ('queued', 'retrying')
        RETURNING e.*
      )
      SELECT * FROM claimed ORDER BY not_before, seq`;
    return rows.map(toEvent);
  }

  /** Settles under load share their commit, as enqueues do. */
  async settle(id: string, outcome: Settlement, now: number): Promise<void> {
    await this.#settles.submit({ id, outcome, now });
  }

  async #settleAll(items: readonly { id: string; outcome: Settlement; now: number }[]): Promise<undefined[]> {
    await this.#sql.begin((tx) => Promise.all(items.map((i) => settleEvent(tx, i.id, i.outcome, i.now))));
    return items.map(() => undefined);
  }

  async recover(now: number): Promise<number> {
    const sql = this.#sql;
    const result = await sql`UPDATE events SET status = 'queued', not_before = ${now}, updated_at = ${now}
      WHERE status = 'running'`;
    return result.count;
  }

  async backlog(): Promise<Backlog[]> {
    const sql = this.#sql;
    const rows = await sql<Backlog[]>`SELECT function_name AS "functionName",
        count(*)::integer AS waiting, min(accepted_at) AS "oldestAcceptedAt"
      FROM events WHERE status IN ('queued', 'retrying') GROUP BY function_name ORDER BY function_name`;
    // A plain array, as the other stores return: the driver's result carries extra fields.
    return [...rows];
  }

  async redrive(id: string, now: number): Promise<boolean> {
    const result = await this.#sql`UPDATE events
      SET status = 'queued', attempts = 0, accepted_at = ${now}, not_before = ${now}, updated_at = ${now}
      WHERE id = ${id} AND status = 'failed'`;
    return result.count === 1;
  }

  async get(id: string): Promise<QueuedEvent | undefined> {
    const [row] = await this.#sql<EventRow[]>`SELECT * FROM events WHERE id = ${id}`;
    return row && toEvent(row);
  }

  async list(filter: EventFilter): Promise<QueuedEvent[]> {
    const sql = this.#sql;
    const fn = filter.functionName === undefined ? sql`` : sql`AND function_name = ${filter.functionName}`;
    const status = filter.status === undefined ? sql`` : sql`AND status = ${filter.status}`;
    const rows = await sql<EventRow[]>`SELECT * FROM events WHERE true ${fn} ${status}
      ORDER BY accepted_at DESC, seq DESC LIMIT ${filter.limit}`;
    return rows.map(toEvent);
  }

  async record(
    event: NewEvent,
    outcome: Exclude<Settlement, { status: "retrying" }>,
    now: number,
  ): Promise<void> {
    const o = outcome;
    await this.#sql`INSERT INTO events (id, function_name, qualifier, payload, trace_id, accepted_at, status,
        attempts, not_before, updated_at, hops, last_error, result, init_phases)
      VALUES (${event.id}, ${event.functionName}, ${event.qualifier ?? null}, ${event.payload}, ${event.traceId},
        ${event.acceptedAt}, ${o.status}, ${o.attempts}, 0, ${now}, ${event.hops},
        ${o.status === "failed" ? o.error : null}, ${o.status === "succeeded" ? o.result : null},
        ${phasesText(o)})`;
  }

  async prune(olderThan: number): Promise<number> {
    const result = await this.#sql`DELETE FROM events
      WHERE status IN ('succeeded', 'failed') AND updated_at < ${olderThan}`;
    return result.count;
  }

  /** The pool is not the queue's: the repositories that opened it close it. */
  async close(): Promise<void> {}
}

/** Only a running event: one that recovery put back in the queue meanwhile waits for its next claim. */
async function settleEvent(tx: Tx, id: string, o: Settlement, now: number): Promise<void> {
  await tx`UPDATE events SET status = ${o.status}, attempts = ${o.attempts},
      not_before = ${o.status === "retrying" ? o.notBefore : 0},
      last_error = ${o.status === "succeeded" ? null : o.error},
      result = ${o.status === "succeeded" ? o.result : null},
      init_phases = COALESCE(${phasesText(o)}, init_phases),
      held_ms = COALESCE(${o.status === "retrying" ? (o.heldMs ?? null) : null}::bigint, held_ms),
      updated_at = ${now}
    WHERE id = ${id} AND status = 'running'`;
}

function phasesText(o: Settlement): string | null {
  return o.initPhases ? JSON.stringify(o.initPhases) : null;
}
