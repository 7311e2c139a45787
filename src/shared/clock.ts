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
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
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
  fn: () => void;
  every: number | undefined;
  cancelled: boolean;
}

/** A clock that moves only when told to. Timers fire in order of their due time. */
export class FakeClock implements Clock {
  #now: number;
  #mono = 0;
  #timers: FakeTimer[] = [];

  constructor(startMs = Date.UTC(2026, 10, 24, 12, 0, 0)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
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
      due.fn();
    }
    this.#set(target);
    this.#timers = this.#timers.filter((t) => !t.cancelled);
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
