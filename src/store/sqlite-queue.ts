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
import type { QueueReply, QueueRequest } from "./sqlite-queue-worker.js";

type Request = QueueRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

export class SqliteEventQueue implements EventQueue {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #seq = 0;
  #closing = false;
  #failure: Error | undefined;

  /** `path`: the platform's database, already migrated by the metadata store. */
  constructor(path: string) {
    this.#worker = new Worker(new URL("./sqlite-queue-worker.js", import.meta.url), { workerData: { path } });
    this.#worker.on("message", (r: QueueReply) => {
      const p = this.#pending.get(r.id);
      this.#pending.delete(r.id);
      if (this.#pending.size === 0 && !this.#closing) this.#worker.unref();
      if (r.error === undefined) p?.resolve(r.value);
      else p?.reject(new Error(`event queue: ${r.error}`));
    });
    this.#worker.on("error", (err) => this.#fail(err));
    this.#worker.on("exit", (code) => {
      if (!this.#closing) this.#fail(new Error(`event queue: its thread stopped (exit code ${code})`));
    });
    this.#worker.unref();
  }

  enqueue(event: NewEvent): Promise<string> {
    return this.#call({ op: "enqueue", event }) as Promise<string>;
  }

  async claim(
    max: number,
    now: number,
    skipFunctions: readonly string[] = [],
    perFunction = max,
  ): Promise<QueuedEvent[]> {
    const events = (await this.#call({
      op: "claim",
      max,
      now,
      skip: skipFunctions,
      perFunction,
    })) as QueuedEvent[];
    return events.map(withBuffers);
  }

  async settle(id: string, outcome: Settlement, now: number): Promise<void> {
    await this.#call({ op: "settle", eventId: id, outcome, now });
  }

  recover(now: number): Promise<number> {
    return this.#call({ op: "recover", now }) as Promise<number>;
  }

  async get(id: string): Promise<QueuedEvent | undefined> {
    const e = (await this.#call({ op: "get", eventId: id })) as QueuedEvent | undefined;
    return e && withBuffers(e);
  }

  async list(filter: EventFilter): Promise<QueuedEvent[]> {
    const events = (await this.#call({ op: "list", filter })) as QueuedEvent[];
    return events.map(withBuffers);
  }

  redrive(id: string, now: number): Promise<boolean> {
    return this.#call({ op: "redrive", eventId: id, now }) as Promise<boolean>;
  }

  async record(
    event: NewEvent,
    outcome: Exclude<Settlement, { status: "retrying" }>,
    now: number,
  ): Promise<void> {
    await this.#call({ op: "record", event, outcome, now });
  }

  backlog(): Promise<Backlog[]> {
    return this.#call({ op: "backlog" }) as Promise<Backlog[]>;
  }

  prune(olderThan: number): Promise<number> {
    return this.#call({ op: "prune", olderThan }) as Promise<number>;
  }

  async close(): Promise<void> {
    this.#closing = true;
    const exited = new Promise((r) => this.#worker.once("exit", r));
    await this.#call({ op: "close" });
    await exited;
  }

  /** The thread died: every call now fails with why, instead of waiting forever. */
  #fail(err: Error): void {
    this.#failure ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #call(req: Request): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#seq++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // A thread with work in flight keeps the process alive; an idle one does not.
      this.#worker.ref();
      this.#worker.postMessage({ ...req, id });
    });
  }
}

function withBuffers(e: QueuedEvent): QueuedEvent {
  const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return { ...e, payload: buf(e.payload), result: e.result && buf(e.result) };
}
