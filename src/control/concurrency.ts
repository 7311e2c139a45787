/**
 * Concurrent executions, as Lambda counts them: a function with reserved concurrency runs at
 * most that many at once; every other function shares what the reservations leave of the
 * account's limit. Admission is immediate: over a limit is a 429, never a wait.
 */
import { NimbusError } from "../shared/errors.js";

export class ConcurrencyLimits {
  readonly #account: number;
  readonly #active = new Map<string, number>();
  readonly #reservations = new Map<string, number>();
  #reservedSum = 0;
  #unreservedActive = 0;

  constructor(accountConcurrency: number) {
    this.#account = accountConcurrency;
  }

  /** Records a function's reserved concurrency (undefined: it uses the unreserved pool). */
  setReservation(functionName: string, reserved: number | undefined): void {
    this.#reservedSum -= this.#reservations.get(functionName) ?? 0;
    if (reserved === undefined) this.#reservations.delete(functionName);
    else this.#reservations.set(functionName, reserved);
    this.#reservedSum += reserved ?? 0;
  }

  /**
   * What reservations must leave unreserved: Lambda's 100 on its default 1,000, and the same
   * tenth (at least 1) on a smaller platform, so functions without a reservation can run.
   */
  unreservedMinimum(): number {
    return Math.max(1, Math.min(100, Math.floor(this.#account / 10)));
  }

  /** Concurrency not reserved by any function: what reservations may still take. */
  unreservedCapacity(excluding?: string): number {
    return this.#account - this.#reservedSum + (excluding ? (this.#reservations.get(excluding) ?? 0) : 0);
  }

  /** Executions of one function running now. */
  active(functionName: string): number {
    return this.#active.get(functionName) ?? 0;
  }

  /** Every function running at least one execution now, with how many. */
  activeByFunction(): ReadonlyMap<string, number> {
    return this.#active;
  }

  /**
   * Counts one execution of the function in, or throws the 429 Lambda answers with; the
   * returned function counts it out again (call it exactly once).
   */
  admit(functionName: string): () => void {
    const reserved = this.#reservations.get(functionName);
    const active = this.#active.get(functionName) ?? 0;
    if (reserved !== undefined) {
      if (active >= reserved) {
        throw throttle(
          "ReservedFunctionConcurrentInvocationLimitExceeded",
          `Rate Exceeded. Function ${functionName} is at its reserved concurrency of ${reserved}.`,
        );
      }
    } else if (this.#unreservedActive >= this.#account - this.#reservedSum) {
      throw throttle(
        "ConcurrentInvocationLimitExceeded",
        "Rate Exceeded. The platform's concurrency limit is reached.",
      );
    }
    this.#active.set(functionName, active + 1);
    if (reserved === undefined) this.#unreservedActive++;
    return () => {
      const left = (this.#active.get(functionName) ?? 1) - 1;
      if (left === 0) this.#active.delete(functionName);
      else this.#active.set(functionName, left);
      if (reserved === undefined) this.#unreservedActive--;
    };
  }
}

/** Lambda's 429: `reason` goes into the body's Reason field, and Retry-After is set. */
export function throttle(reason: string, message: string, retryAfterSeconds = 1): NimbusError {
  return new NimbusError("TooManyRequests", message, { Reason: reason, retryAfterSeconds });
}
