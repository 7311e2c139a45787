/** The embedded event queue: a table in the platform's SQLite file, written by its own thread. */
import { Worker } from "node:worker_threads";
import type {
  Backlog,
  EventFilter,
  EventQueue,
  NewEvent,
  QueuedEvent,
  Settlement,
} from "../control/async/queue.js";
import { ThreadRpc } from "../shared/thread-rpc.js";
import type { QueueRequest } from "./sqlite-queue-worker.js";

export class SqliteEventQueue implements EventQueue {
  readonly #thread: ThreadRpc<QueueRequest>;

  /** `path`: the platform's database, already migrated by the metadata store. */
  constructor(path: string) {
    const worker = new Worker(new URL("./sqlite-queue-worker.js", import.meta.url), { workerData: { path } });
    this.#thread = new ThreadRpc(worker, "event queue");
  }

  enqueue(event: NewEvent): Promise<string> {
    return this.#thread.call({ op: "enqueue", event }) as Promise<string>;
  }

  async claim(
    max: number,
    now: number,
    skipFunctions: readonly string[] = [],
    perFunction = max,
  ): Promise<QueuedEvent[]> {
    const events = (await this.#thread.call({
      op: "claim",
      max,
      now,
      skip: skipFunctions,
      perFunction,
    })) as QueuedEvent[];
    return events.map(withBuffers);
  }

  async settle(id: string, outcome: Settlement, now: number): Promise<void> {
    await this.#thread.call({ op: "settle", eventId: id, outcome, now });
  }

  recover(now: number): Promise<number> {
    return this.#thread.call({ op: "recover", now }) as Promise<number>;
  }

  async get(id: string): Promise<QueuedEvent | undefined> {
    const e = (await this.#thread.call({ op: "get", eventId: id })) as QueuedEvent | undefined;
    return e && withBuffers(e);
  }

  async list(filter: EventFilter): Promise<QueuedEvent[]> {
    const events = (await this.#thread.call({ op: "list", filter })) as QueuedEvent[];
    return events.map(withBuffers);
  }

  redrive(id: string, now: number): Promise<boolean> {
    return this.#thread.call({ op: "redrive", eventId: id, now }) as Promise<boolean>;
  }

  async record(
    event: NewEvent,
    outcome: Exclude<Settlement, { status: "retrying" }>,
    now: number,
  ): Promise<void> {
    await this.#thread.call({ op: "record", event, outcome, now });
  }

  backlog(): Promise<Backlog[]> {
    return this.#thread.call({ op: "backlog" }) as Promise<Backlog[]>;
  }

  prune(olderThan: number): Promise<number> {
    return this.#thread.call({ op: "prune", olderThan }) as Promise<number>;
  }

  close(): Promise<void> {
    return this.#thread.close({ op: "close" });
  }
}

function withBuffers(e: QueuedEvent): QueuedEvent {
  const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return { ...e, payload: buf(e.payload), result: e.result && buf(e.result) };
}
