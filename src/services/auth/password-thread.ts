/**
 * Where password hashes run: threads of their own, at a lower scheduling priority than the
 * platform. An argon2id hash at OWASP's setting costs 15–30 ms of a core; on libuv's shared
 * thread pool, 50 sign-ins a second took most of a core from the event loop and the function
 * instances at the same priority, and held the pool's four threads away from file I/O. Here at
 * most `size` hashes run at once, each thread at nice 19 (`shared/thread-priority.ts`): when the
 * cores are busy, invocations go first and sign-ins wait longer; on an idle machine a hash
 * costs what it always did. Threads start on demand, are called through `shared/thread-rpc.ts`,
 * and keep no process alive.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { ThreadRpc } from "../../shared/thread-rpc.js";

export interface HashOptions {
  readonly algorithm: number;
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export type HashRequest =
  | {
      readonly op: "hash";
      readonly password: string;
      readonly salt: Uint8Array;
      readonly options: HashOptions;
    }
  | { readonly op: "verify"; readonly stored: string; readonly password: string }
  /** The thread's kernel id and the nice value it runs at. */
  | { readonly op: "priority" };

/**
 * The nice value of hashing threads: the lowest. At nice 10 a thread woken by a sign-in's
 * request, having slept, still took the core from the event loop that woke it: the post that
 * hands a hash over cost the event loop 125–360 µs a sign-in (a CPU profile's mean), against
 * 23 µs at nice 19 (as in the idle class, which Node cannot set), and invocations' p99 beside 50
 * sign-ins a second moved by +1.0 to +1.4 ms instead of +2.2 (bench figure 21, alternated). The
 * price: on cores that invocations keep busy, a hash gets ~1.5 % of a core (a sign-in of
 * ~0.5 s) where nice 10 gave it ~10 %.
 */
export const HASHING_NICE = 19;

/** Threads that hash passwords, up to one per core (at most four), each doing one hash at a time. */
export class PasswordThreads {
  readonly #threads: ThreadRpc<HashRequest>[] = [];

  constructor(
    readonly size = Math.min(4, Math.max(1, availableParallelism())),
    readonly nice = HASHING_NICE,
  ) {}

  hash(password: string, salt: Uint8Array, options: HashOptions): Promise<string> {
    return this.#pick().call({ op: "hash", password, salt, options }) as Promise<string>;
  }

  verify(stored: string, password: string): Promise<boolean> {
    return this.#pick().call({ op: "verify", stored, password }) as Promise<boolean>;
  }

  /** The threads started so far: their ids and nice values (for tests and diagnostics). */
  threads(): Promise<{ tid: number | undefined; nice: number }[]> {
    return Promise.all(
      this.#threads.map(
        (t) => t.call({ op: "priority" }) as Promise<{ tid: number | undefined; nice: number }>,
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.#threads.splice(0).map((t) => t.terminate()));
  }

  /** The least busy thread; a new one while there is room and every thread is busy. A dead thread is replaced. */
  #pick(): ThreadRpc<HashRequest> {
    for (let i = this.#threads.length - 1; i >= 0; i--)
      if (this.#threads[i]!.failed) void this.#threads.splice(i, 1)[0]!.terminate();
    let best: ThreadRpc<HashRequest> | undefined;
    for (const t of this.#threads) if (best === undefined || t.inFlight < best.inFlight) best = t;
    if (best !== undefined && (best.inFlight === 0 || this.#threads.length >= this.size)) return best;
    const worker = new Worker(new URL("./password-worker.js", import.meta.url), {
      workerData: { nice: this.nice },
      // None of the process's flags: a thread refuses many of them given explicitly (`--input-type`
      // of a script given with -e, `--perf-basic-prof`…), and this one needs none.
      execArgv: [],
    });
    const thread = new ThreadRpc<HashRequest>(worker, "a password hashing thread");
    this.#threads.push(thread);
    return thread;
  }
}
