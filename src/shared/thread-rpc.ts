/**
 * Calls into a worker thread that owns a connection of its own (the log writer, the event
 * queue): each request carries an id, the thread answers `{ id, value?, error? }` in any order,
 * and the call's promise settles with it. It sits on the warm invoke path (every batch of log
 * lines passes here), so a call costs one message object, one promise and its pending entry.
 */
import type { Worker } from "node:worker_threads";

/** What the thread answers to request `id`: a value, or the message of what went wrong. */
export interface ThreadReply {
  readonly id: number;
  readonly value?: unknown;
  readonly error?: string;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class ThreadRpc<Request extends object> {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #closing = false;
  #failure: Error | undefined;

  /** `name` starts the message of every error: "event queue: SQLITE_FULL: …". */
  constructor(worker: Worker, name: string) {
    this.#worker = worker;
    worker.on("message", (r: ThreadReply) => {
      const p = this.#pending.get(r.id);
      this.#pending.delete(r.id);
      if (this.#pending.size === 0 && !this.#closing) worker.unref();
      if (r.error === undefined) p?.resolve(r.value);
      else p?.reject(new Error(`${name}: ${r.error}`));
    });
    worker.on("error", (err) => this.#fail(err));
    worker.on("exit", (code) => {
      if (!this.#closing) this.#fail(new Error(`${name}: its thread stopped (exit code ${code})`));
    });
    // An idle thread must not keep an otherwise finished process alive; one with work in flight must.
    worker.unref();
  }

  /** Calls sent and not answered yet. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Whether the thread died: every call fails from then on. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Sends `{ ...request, id }` (moving `transfer`), and resolves with the thread's answer. */
  call(request: Request, transfer?: readonly ArrayBuffer[]): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#seq++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ ...request, id }, transfer);
    });
  }

  /**
   * Sends the request that makes the thread answer and exit, and waits for it to exit. A thread
   * that died already has nothing left to close: its calls have failed with why.
   */
  async close(request: Request): Promise<void> {
    if (this.#failure) return;
    this.#closing = true;
    const exited = new Promise((r) => this.#worker.once("exit", r));
    await this.call(request);
    await exited;
  }

  /** Stops the thread now, whatever it is doing; calls in flight fail. */
  async terminate(): Promise<void> {
    this.#closing = true;
    this.#fail(new Error("the thread was stopped"));
    await this.#worker.terminate();
  }

  /** The thread died: every call now fails with why, instead of waiting forever. */
  #fail(err: Error): void {
    this.#failure ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}
