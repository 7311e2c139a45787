/**
 * Time is passed in: everything that waits or expires gets a Clock, so tests advance a fake
 * one instead of sleeping.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** A monotonic reading in milliseconds with sub-millisecond precision, for durations. */
  monotonic(): number;
  /**
   * `fn` may return the promise of the work it starts: a fake clock can then wait for that
   * work (`FakeClock.settle`); the system clock ignores it.
   */
  setTimeout(fn: () => unknown, ms: number): TimerHandle;
  setInterval(fn: () => unknown, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

interface FakeTimer {
  at: number;
  fn: () => unknown;
  every: number | undefined;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Timers fire in order of their due time; `settle()`
 * waits for the work they started, so a test advances time and then asserts, without sleeping.
 */
export class FakeClock implements Clock {
  #now: number;
  #mono = 0;
  #timers: FakeTimer[] = [];
  /** Promises returned by timers that fired, until settled. */
  readonly #work = new Set<Promise<unknown>>();

  constructor(startMs = Date.UTC(2026, 10, 24, 12, 0, 0)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#mono;
  }

  setTimeout(fn: () => unknown, ms: number): TimerHandle {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => unknown, ms: number): TimerHandle {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  /** Moves time forward, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.#mono + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#set(due.at);
      if (due.every === undefined) due.cancelled = true;
      else due.at += due.every;
      const result = due.fn();
      if (result instanceof Promise) {
        const work: Promise<unknown> = result.then(
          (): void => void this.#work.delete(work),
          (): void => void this.#work.delete(work),
        );
        this.#work.add(work);
      }
    }
    this.#set(target);
    this.#timers = this.#timers.filter((t) => !t.cancelled);
  }

  /** Resolves once the work the fired timers returned has finished (failed or not). */
  async settle(): Promise<void> {
    while (this.#work.size > 0) await Promise.all([...this.#work]);
  }

  #set(mono: number): void {
    this.#now += mono - this.#mono;
    this.#mono = mono;
  }

  #add(fn: () => void, ms: number, every: number | undefined): TimerHandle {
    const timer: FakeTimer = { at: this.#mono + Math.max(0, ms), fn, every, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
}
