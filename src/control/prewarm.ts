/**
 * Pre-warming (the adaptive keep-alive's other half): when a function's next call is predicted
 * to come late, its instance is stopped after the call and one is started again shortly before
 * the predicted call, instead of being kept idle all along. A pre-warm is a guess: when it
 * fails, the next call starts an instance itself (and gets any init error); failures are logged
 * so that one failing every time does not go unseen, and no room for it is routine on a full
 * worker.
 */
import type { FunctionVersion } from "../protocol/function.js";
import type { InstanceHandle, StartResult } from "../protocol/invoke.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Pool } from "./pools.js";

export interface PrewarmerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Starts an on-demand instance ahead of a call; undefined when no worker has the memory. */
  readonly start: (fn: FunctionVersion) => Promise<StartResult | undefined>;
  /** Whether the pre-warm must not start now: the platform drains, or the burst limit is spent. */
  readonly held: (pool: Pool) => boolean;
  /** The pool's bookkeeping once an instance stopped (the dispatcher's #forget). */
  readonly stopped: (pool: Pool, instance: InstanceHandle) => void;
}

export class Prewarmer {
  readonly #o: PrewarmerOptions;

  constructor(o: PrewarmerOptions) {
    this.#o = o;
  }

  /** After `afterMs`, starts an instance of the pool's version, idle until `keepAliveMs` past it. */
  schedule(pool: Pool, afterMs: number, keepAliveMs: number): void {
    const { clock } = this.#o;
    pool.prewarm?.cancel();
    pool.prewarm = clock.setTimeout(() => {
      pool.prewarm = undefined;
      if (pool.retired || pool.idle.length > 0 || this.#o.held(pool)) return;
      pool.warming = this.#o
        .start(pool.fn)
        .then((started) => {
          if (started?.kind !== "ready") return this.#failed(pool.fn, started);
          const warm = started.instance;
          if (pool.retired) return void warm.stop("its function version was replaced");
          pool.all.add(warm);
          warm.onStopped(() => this.#o.stopped(pool, warm));
          const at = clock.now();
          pool.idle.push({ instance: warm, lastUsed: at, keepUntil: at + keepAliveMs });
        })
        .catch((err: unknown) => this.#failed(pool.fn, undefined, err))
        .finally(() => {
          pool.warming = undefined;
        });
    }, afterMs);
  }

  #failed(fn: FunctionVersion, started: StartResult | undefined, err?: unknown): void {
    const { logger } = this.#o;
    const about = { function: fn.functionName, version: fn.version };
    if (err !== undefined) logger.warn("pre-warming an instance failed", { ...about, err });
    else if (started?.kind === "init-failed")
      logger.warn("pre-warming an instance failed: its init failed", {
        ...about,
        reason: `${started.errorType}: ${started.reason}`,
      });
    else logger.debug("no room to pre-warm an instance", { ...about, memoryMb: fn.memoryMb });
  }
}
