/**
 * The loop of a worker that drains what a store holds due (an outbox of events, schedules'
 * ticks): one pass at a time; a change during a pass makes one more; after its passes it sleeps
 * on the platform's clock until the time `next()` gives, and passes again at once if that time
 * has already come. A pass that throws is logged and tried again a second later.
 */
import type { Clock, TimerHandle } from "./clock.js";
import type { Logger } from "./logger.js";

export interface WakeLoopWork {
  /** Names the worker in the log ("object events: a pass failed…"). */
  readonly what: string;
  /** Handles what is due now. */
  pass(): Promise<void>;
  /** When to pass next, epoch ms (the worker caps it with its poll interval). */
  next(): Promise<number>;
}

/** Wait before retry `n` (1-based): 1 s doubling up to 5 minutes, how hand-overs are retried. */
export function retryDelayMs(n: number): number {
  return Math.min(1000 * 2 ** (n - 1), 300_000);
}

export class WakeLoop {
  readonly #work: WakeLoopWork;
  #on: { clock: Clock; logger: Logger } | undefined;
  #stopped = false;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  /** When the timer is set to pass next (infinite: not set). */
  #armedAt = Number.POSITIVE_INFINITY;
  /** The soonest `wakeBy` asked for during the run under way. */
  #soonest = Number.POSITIVE_INFINITY;

  constructor(work: WakeLoopWork) {
    this.#work = work;
  }

  /** Whether `stop()` was called: a pass under way ends early when it sees it. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Starts passing; resolves when the first run of passes has ended (callers may not wait). */
  start(clock: Clock, logger: Logger): Promise<void> {
    this.#on = { clock, logger };
    this.#stopped = false;
    return this.#run();
  }

  /** No more passes; resolves once the one under way has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#running;
  }

  /** Something became due: pass now (or once more after the pass under way). */
  changed(): void {
    if (!this.#on || this.#stopped) return;
    void this.#run();
  }

  /**
   * Something becomes due at `at` (work done beside the passes rescheduled itself): pass then,
   * if the loop would sleep longer. Cheaper than `changed()`, which passes at once.
   */
  wakeBy(at: number): void {
    if (!this.#on || this.#stopped) return;
    if (this.#running) this.#soonest = Math.min(this.#soonest, at);
    else if (at < this.#armedAt) this.#arm(at);
  }

  /** Resolves once the run under way (if any) has ended: for tests, which then assert. */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  #run(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const { clock, logger } = this.#on!;
    this.#armedAt = Number.POSITIVE_INFINITY;
    this.#running = (async () => {
      let wake: number;
      try {
        do {
          this.#again = false;
          await this.#work.pass();
          wake = await this.#work.next();
          if (wake <= clock.now()) this.#again = true;
        } while (this.#again && !this.#stopped);
      } catch (err) {
        logger.error(`${this.#work.what}: a pass failed; trying again shortly`, { err });
        wake = clock.now() + 1000;
      }
      this.#running = undefined;
      wake = Math.min(wake, this.#soonest);
      this.#soonest = Number.POSITIVE_INFINITY;
      this.#arm(wake);
    })();
    return this.#running;
  }

  #arm(at: number): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    const { clock } = this.#on!;
    this.#armedAt = at;
    this.#timer = clock.setTimeout(() => this.#run(), Math.max(0, at - clock.now()));
  }
}
