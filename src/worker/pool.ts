/**
 * The warm pool: Node runtimes started in their sandboxes before any function is chosen for
 * them, so that a cold start skips the process start (~20 ms of Node booting here). A pooled
 * runtime has its own uid, /tmp, Runtime API and control group; it connects to its Runtime API
 * and waits there for a function (`await-function` in `protocol/runtime-frames.ts`). The worker
 * assigns it one on a cold start and the pool starts a replacement.
 *
 * Pools are kept per key: a runtime and, where the driver does not bound memory itself, the
 * V8 heap limit the runtime was started with (a memory size). Each key's pool holds `size`
 * runtimes, started one at a time.
 */
import type { Clock, TimerHandle } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { RuntimeApiServer } from "./runtime-api/server.js";
import type { LateTarget } from "./runtime-api/target.js";
import type { Sandbox } from "./sandbox/types.js";

/** After failures in a row, the next start waits this long, doubling, up to the maximum. */
const RESTART_DELAY_MS = 1000;
const MAX_RESTART_DELAY_MS = 30_000;

export interface PooledRuntime {
  readonly id: string;
  readonly instanceDir: string;
  readonly tmpDir: string;
  /** Empty until hand-over: where its code is linked when its sandbox sees only its own directories. */
  readonly taskDir: string;
  /** The instance's private Runtime API directory and socket. */
  readonly apiDir: string;
  readonly apiSocket: string;
  /** Its Runtime API, listening (and the runtime connected) before any function is assigned. */
  readonly api: RuntimeApiServer;
  readonly target: LateTarget;
  readonly sandbox: Sandbox;
}

interface Entry {
  readonly runtime: PooledRuntime;
  ready: boolean;
  taken: boolean;
}

interface KeyPool {
  readonly entries: Set<Entry>;
  starting: boolean;
  /** Starts that failed in a row, or runtimes that died unused: the next start waits. */
  failures: number;
}

export interface PoolOptions {
  /** Runtimes kept ready per key; 0 turns the pool off. */
  readonly size: number;
  /** Starts one pooled runtime for `key` (directories, sandbox, process). */
  readonly start: (key: string) => Promise<PooledRuntime>;
  /** Removes what `start` made, once the runtime is gone without having been used. */
  readonly discard: (runtime: PooledRuntime) => void;
  /** A runtime not waiting for a function by then is killed (and another started later). */
  readonly readyTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class RuntimePool {
  readonly #o: PoolOptions;
  readonly #pools = new Map<string, KeyPool>();
  /** Delayed restarts, cancelled at close so that they do not keep the process alive. */
  readonly #retries = new Set<TimerHandle>();
  #closed = false;

  constructor(o: PoolOptions) {
    this.#o = o;
  }

  /** Keeps `size` runtimes ready for `key` from now on, starting them in the background. */
  keep(key: string): void {
    if (this.#o.size === 0 || this.#closed) return;
    if (!this.#pools.has(key)) this.#pools.set(key, { entries: new Set(), starting: false, failures: 0 });
    this.#refill(key);
  }

  /**
   * A ready runtime of `key`, taken out of the pool, or undefined. The caller calls
   * `replenish(key)` once it is done with the hand-over: starting a replacement at once would
   * compete with the cold start it serves for the CPU.
   */
  take(key: string): PooledRuntime | undefined {
    const pool = this.#pools.get(key);
    if (!pool) {
      this.keep(key);
      return undefined;
    }
    for (const entry of pool.entries) {
      if (!entry.ready) continue;
      entry.taken = true;
      pool.entries.delete(entry);
      return entry.runtime;
    }
    return undefined;
  }

  /** Starts replacements for the runtimes taken from `key`'s pool. */
  replenish(key: string): void {
    this.#refill(key);
  }

  /** Runtimes ready to be taken for `key`. */
  ready(key: string): number {
    let n = 0;
    for (const e of this.#pools.get(key)?.entries ?? []) if (e.ready) n++;
    return n;
  }

  /** Every pooled runtime's process id (for measurement). */
  pids(): number[] {
    return [...this.#pools.values()].flatMap((p) => [...p.entries].map((e) => e.runtime.sandbox.pid));
  }

  /** Stops every pooled runtime. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const r of this.#retries) r.cancel();
    const entries = [...this.#pools.values()].flatMap((p) => [...p.entries]);
    this.#pools.clear();
    for (const e of entries) e.runtime.sandbox.kill();
    await Promise.all(entries.map((e) => e.runtime.sandbox.exited));
  }

  /** Kills them at once, synchronously: the platform is exiting without a shutdown. */
  abort(): void {
    this.#closed = true;
    for (const r of this.#retries) r.cancel();
    for (const p of this.#pools.values()) for (const e of p.entries) e.runtime.sandbox.kill();
  }

  #refill(key: string): void {
    const pool = this.#pools.get(key);
    if (!pool || pool.starting || this.#closed || pool.entries.size >= this.#o.size) return;
    pool.starting = true;
    void this.#startOne(key, pool).then((ok) => {
      pool.starting = false;
      if (!ok) {
        this.#retryLater(key, pool);
        return;
      }
      pool.failures = 0;
      this.#refill(key);
    });
  }

  /** Starts one runtime and waits until it is ready; false when it could not be. Never throws. */
  async #startOne(key: string, pool: KeyPool): Promise<boolean> {
    let runtime: PooledRuntime;
    try {
      runtime = await this.#o.start(key);
    } catch (err) {
      this.#o.logger.warn("could not start a pooled runtime", { key, err });
      return false;
    }
    if (this.#closed) {
      runtime.sandbox.kill();
      this.#o.discard(runtime);
      return false;
    }
    const entry: Entry = { runtime, ready: false, taken: false };
    pool.entries.add(entry);
    void runtime.sandbox.exited.then(() => {
      if (entry.taken) return;
      pool.entries.delete(entry);
      this.#o.discard(runtime);
      // One that dies while starting is #startOne's failure; one that dies waiting is replaced.
      if (!entry.ready || this.#closed) return;
      this.#o.logger.warn("a pooled runtime exited before it was used", { key, id: runtime.id });
      this.#retryLater(key, pool);
    });
    let timer: TimerHandle | undefined;
    const failed = Promise.race([
      runtime.sandbox.exited.then(() => Promise.reject(new Error("the runtime exited"))),
      new Promise<never>((_, reject) => {
        timer = this.#o.clock.setTimeout(
          () => reject(new Error(`not waiting for a function after ${this.#o.readyTimeoutMs} ms`)),
          this.#o.readyTimeoutMs,
        );
      }),
    ]);
    failed.catch(() => {});
    const ready = await Promise.all([
      Promise.race([runtime.target.awaiting, failed]),
      runtime.sandbox.limited,
    ]).then(
      () => true,
      (err: unknown) => {
        // Stopped by close() while it started: nothing went wrong.
        if (!this.#closed) this.#o.logger.warn("a pooled runtime did not start", { key, err });
        return false;
      },
    );
    timer?.cancel();
    if (!ready) {
      runtime.sandbox.kill();
      return false;
    }
    entry.ready = true;
    return true;
  }

  /** A lone failure is replaced at once; failures in a row back off, so a broken runtime does not spin. */
  #retryLater(key: string, pool: KeyPool): void {
    if (this.#closed) return;
    pool.failures++;
    if (pool.failures === 1) {
      this.#refill(key);
      return;
    }
    const delay = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** (pool.failures - 2));
    const retry = this.#o.clock.setTimeout(() => {
      this.#retries.delete(retry);
      this.#refill(key);
    }, delay);
    this.#retries.add(retry);
  }
}
