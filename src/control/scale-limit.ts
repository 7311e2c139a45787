/**
 * The burst limit: how fast one function may start new instances. Each function has a token
 * bucket holding up to `burst` tokens, refilled at `perSecond`; a cold start takes one. A
 * spike of calls to one function starts `burst` instances at once and then `perSecond` more
 * each second, instead of a process per call all at the same moment; the calls over it get
 * 429 at once, as Lambda throttles a function scaling faster than it allows (1,000 instances
 * per 10 seconds there). Warm instances are never limited.
 */
import type { Clock } from "../shared/clock.js";

export interface ScaleLimitOptions {
  /** New instances one function may start at once, from rest. */
  readonly burst: number;
  /** New instances per second after the burst. */
  readonly perSecond: number;
  readonly clock: Clock;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets back at their full burst are forgotten: an idle function costs no memory here. */
const MAX_IDLE_BUCKETS = 1024;

export class ScaleLimiter {
  readonly #o: ScaleLimitOptions;
  readonly #buckets = new Map<string, Bucket>();

  constructor(o: ScaleLimitOptions) {
    this.#o = o;
  }

  /**
   * Takes a token for a new instance of `functionName`: undefined when it may start one,
   * otherwise how many ms until it may.
   */
  take(functionName: string): number | undefined {
    const now = this.#o.clock.monotonic();
    const b = this.#refilled(functionName, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    // (Less a hair of floating-point dust, so that 1 ms short reads 1, not 2.)
    return Math.max(1, Math.ceil(((1 - b.tokens) / this.#o.perSecond) * 1000 - 1e-6));
  }

  /** Gives back a token taken for an instance that was not started after all. */
  giveBack(functionName: string): void {
    const b = this.#buckets.get(functionName);
    if (b) b.tokens = Math.min(this.#o.burst, b.tokens + 1);
  }

  #refilled(functionName: string, now: number): Bucket {
    let b = this.#buckets.get(functionName);
    if (!b) {
      if (this.#buckets.size >= MAX_IDLE_BUCKETS) this.#forgetFull(now);
      b = { tokens: this.#o.burst, at: now };
      this.#buckets.set(functionName, b);
      return b;
    }
    b.tokens = Math.min(this.#o.burst, b.tokens + ((now - b.at) / 1000) * this.#o.perSecond);
    b.at = now;
    return b;
  }

  #forgetFull(now: number): void {
    for (const [name, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.#o.perSecond >= this.#o.burst) this.#buckets.delete(name);
    }
  }
}
