/**
 * The asynchronous event queue: events accepted with `InvocationType: Event` wait here until
 * a poller runs them. An implementation must make an event durable before `enqueue` resolves
 * (the caller's 202 depends on it) and must deliver every event at least once: an event a
 * poller claimed but never settled (the platform died) is delivered again after recovery.
 * The embedded implementation is SQLite (`store/sqlite-queue.ts`); a NATS JetStream work
 * queue fits `WorkQueue` for cluster mode.
 */

import type { InitPhases } from "../../protocol/invoke.js";

export type EventStatus = "queued" | "running" | "retrying" | "succeeded" | "failed";

export interface NewEvent {
  /** The request id returned to the caller; unique. */
  readonly id: string;
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly payload: Buffer;
  readonly traceId: string;
  /** Epoch ms at which the event was accepted. */
  readonly acceptedAt: number;
  /** Invocations this event's chain has made before it (0 for an event a client sent). */
  readonly hops: number;
  /** A client's key: an event repeating a kept key of the same function is not queued again. */
  readonly idempotencyKey?: string | undefined;
}

export interface QueuedEvent extends NewEvent {
  readonly status: EventStatus;
  /** Attempts that ran the function (a throttle or platform error does not count). */
  readonly attempts: number;
  /** Epoch ms before which the event is not delivered. */
  readonly notBefore: number;
  readonly updatedAt: number;
  /** The last error, as the caller would have seen it (Lambda's error body). */
  readonly lastError: string | undefined;
  /** The function's result, once it succeeded. */
  readonly result: Buffer | undefined;
  /** Where the time of the cold start went, when an attempt started a new instance (the last such). */
  readonly initPhases: InitPhases | undefined;
  /** Time it was held back by a spent budget: it does not count towards the event's age. */
  readonly heldMs: number;
}

/** How a claimed event ends, or when it runs again; `initPhases` when the attempt was a cold start. */
export type Settlement = (
  | { readonly status: "succeeded"; readonly attempts: number; readonly result: Buffer }
  | { readonly status: "failed"; readonly attempts: number; readonly error: string }
  | {
      /** Back in the queue, delivered again from `notBefore`. */
      readonly status: "retrying";
      readonly attempts: number;
      readonly notBefore: number;
      readonly error: string;
      /** The event's new total of time held back by a budget (unchanged without). */
      readonly heldMs?: number;
    }
) & { readonly initPhases?: InitPhases | undefined };

export interface Backlog {
  readonly functionName: string;
  readonly waiting: number;
  /** Epoch ms. */
  readonly oldestAcceptedAt: number;
}

/** The work: events waiting to run, claimed by pollers, settled or scheduled again. */
export interface WorkQueue {
  /**
   * Resolves once the event survives a crash of the process (and, embedded, of the machine),
   * with its request id: the event's own, or, when its idempotency key repeats a kept one,
   * the first event's (and nothing is queued).
   */
  enqueue(event: NewEvent): Promise<string>;
  /**
   * Takes up to `max` events due at `now` (queued or retrying, oldest due first) and marks them
   * running; each stays claimed until settled or until recovery after a restart. Events of
   * `skipFunctions` (throttled just now) stay where they are, and no more than `perFunction`
   * events of one function are taken at once.
   */
  claim(
    max: number,
    now: number,
    skipFunctions?: readonly string[],
    perFunction?: number,
  ): Promise<QueuedEvent[]>;
  settle(id: string, outcome: Settlement, now: number): Promise<void>;
  /** At start: events left running by a previous process are delivered again. Returns how many. */
  recover(now: number): Promise<number>;
  /** Events waiting (queued or retrying) per function, and when the oldest of them was accepted. */
  backlog(): Promise<Backlog[]>;
  /**
   * Puts a failed event back in the queue with a fresh retry budget and age; false when it is
   * not failed (or unknown).
   */
  redrive(id: string, now: number): Promise<boolean>;
}

/**
 * What became of each invocation, kept for a while: every async event, and (when configured)
 * every synchronous invocation. Embedded, the records are the queue's own rows; a cluster
 * keeps its work queue in NATS and these in PostgreSQL.
 */
export interface InvocationRecords {
  get(id: string): Promise<QueuedEvent | undefined>;
  /** Newest first. */
  list(filter: EventFilter): Promise<QueuedEvent[]>;
  /** Keeps the record of an invocation that did not go through the queue (a synchronous one). */
  record(event: NewEvent, outcome: Exclude<Settlement, { status: "retrying" }>, now: number): Promise<void>;
  /** Deletes records of finished invocations last updated before `olderThan`; returns how many. */
  prune(olderThan: number): Promise<number>;
}

/** A store that keeps both (SQLite does, in one table). */
export interface EventQueue extends WorkQueue, InvocationRecords {
  close(): Promise<void>;
}

export interface EventFilter {
  readonly functionName?: string | undefined;
  readonly status?: EventStatus | undefined;
  readonly limit: number;
}
