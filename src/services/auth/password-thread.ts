/**
 * Where password hashes run: threads of their own, at a lower scheduling priority than the
 * platform. An argon2id hash at OWASP's setting costs 15–30 ms of a core; on libuv's shared
 * thread pool, 50 sign-ins a second took most of a core from the event loop and the function
 * instances at the same priority, and held the pool's four threads away from file I/O. Here at
 * most `size` hashes run at once, each thread at nice 10 (Linux gives threads their own nice
 * value): when the cores are busy, invocations go first and sign-ins wait a little longer; on an
 * idle machine a hash costs what it always did. Off Linux the threads keep the process's
 * priority. Threads start on demand and keep no process alive.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

export type HashRequest =
  | {
      readonly op: "hash";
      readonly id: number;
      readonly password: string;
      readonly salt: Uint8Array;
      readonly options: {
        readonly algorithm: number;
        readonly memoryCost: number;
        readonly timeCost: number;
        readonly parallelism: number;
      };
    }
  | { readonly op: "verify"; readonly id: number; readonly stored: string; readonly password: string };

export type HashReply =
  | { readonly op: "started"; readonly tid: number | undefined; readonly nice: number }
  | { readonly op: "done"; readonly id: number; readonly result: string | boolean }
  | { readonly op: "failed"; readonly id: number; readonly error: string };

/** The nice value of hashing threads: below the platform's 0, above the idle class. */
export const HASHING_NICE = 10;

type Pending = { resolve(v: string | boolean): void; reject(err: Error): void };

class HashingThread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  /** The thread's id and nice value, once it has started. */
  started: { tid: number | undefined; nice: number } | undefined;

  constructor(nice: number, gone: (t: HashingThread) => void) {
    this.worker = new Worker(new URL("./password-worker.js", import.meta.url), {
      workerData: { nice },
      // None of the process's flags: a thread refuses many of them given explicitly (`--input-type`
      // of a script given with -e, `--perf-basic-prof`…), and this one needs none.
      execArgv: [],
    });
    this.worker.on("message", (r: HashReply) => {
      if (r.op === "started") {
        this.started = { tid: r.tid, nice: r.nice };
        return;
      }
      const p = this.pending.get(r.id);
      if (p === undefined) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      if (r.op === "done") p.resolve(r.result);
      else p.reject(new Error(r.error));
    });
    const fail = (err: Error) => {
      gone(this);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) =>
      fail(new Error(`a password hashing thread stopped (exit code ${code})`)),
    );
    this.worker.unref();
  }

  run(req: HashRequest): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(req.id, { resolve, reject });
      this.worker.postMessage(req);
    });
  }
}

/** Threads that hash passwords, up to one per core (at most four), each doing one hash at a time. */
export class PasswordThreads {
  readonly #threads: HashingThread[] = [];
  #seq = 0;

  constructor(
    readonly size = Math.min(4, Math.max(1, availableParallelism())),
    readonly nice = HASHING_NICE,
  ) {}

  hash(
    password: string,
    salt: Uint8Array,
    options: Extract<HashRequest, { op: "hash" }>["options"],
  ): Promise<string> {
    return this.#run({ op: "hash", id: ++this.#seq, password, salt, options }) as Promise<string>;
  }

  verify(stored: string, password: string): Promise<boolean> {
    return this.#run({ op: "verify", id: ++this.#seq, stored, password }) as Promise<boolean>;
  }

  /** The threads started so far: their ids and nice values (for tests and diagnostics). */
  threads(): readonly { tid: number | undefined; nice: number }[] {
    return this.#threads.flatMap((t) => (t.started === undefined ? [] : [t.started]));
  }

  async close(): Promise<void> {
    await Promise.all(this.#threads.splice(0).map((t) => t.worker.terminate()));
  }

  #run(req: HashRequest): Promise<string | boolean> {
    // The least busy thread; a new one while there is room and every thread is busy.
    let best: HashingThread | undefined;
    for (const t of this.#threads) if (best === undefined || t.pending.size < best.pending.size) best = t;
    if (best === undefined || (best.pending.size > 0 && this.#threads.length < this.size)) {
      best = new HashingThread(this.nice, (gone) => {
        const i = this.#threads.indexOf(gone);
        if (i >= 0) this.#threads.splice(i, 1);
      });
      this.#threads.push(best);
    }
    return best.run(req);
  }
}
