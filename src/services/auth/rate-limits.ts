/**
 * Keyed rate limits for the auth endpoints (per client address, per account), in memory, on
 * the injected clock.
 *
 * The algorithm is GCRA (the generic cell rate algorithm), which behaves as a token bucket of
 * `limit` tokens refilled at `limit` per `windowMs`: an idle key may make `limit` requests at
 * once, then one every `windowMs / limit`. That is how Supabase Auth's own limits behave, and it
 * keeps one number per key (the "theoretical arrival time"), where an exact sliding window
 * keeps every request's time. The cost of a bucket: a key that starts idle can pass up to
 * `2·limit − 1` requests in its first window (the burst, then the refill); sustained, it gets
 * `limit` per window. A refused request spends nothing.
 *
 * Memory is bounded: a key whose bucket is full again is forgotten (swept a little on every
 * call, oldest first), and at most `maxKeys` are kept, the least recently used dropped first.
 * Time is the clock's monotonic reading, so a wall-clock step cannot reset or freeze a limit.
 * One process's limits: several platform nodes each count their own.
 */
import type { Clock } from "../../shared/clock.js";

export interface RateRule {
  /** Requests allowed at once, and per window when sustained. */
  readonly limit: number;
  readonly windowMs: number;
}

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

export interface RateLimiterOptions<A extends string> {
  readonly clock: Clock;
  readonly rules: Readonly<Record<A, RateRule>>;
  /** Keys remembered at most, over all actions; defaults to `DEFAULT_MAX_RATE_KEYS`. */
  readonly maxKeys?: number;
}

/** ~100 bytes a key: about 10 MB at most. */
export const DEFAULT_MAX_RATE_KEYS = 100_000;
/** Forgotten keys looked at per call: more than one, so the sweep outpaces new keys. */
const SWEEP_PER_CALL = 2;
/** Float rounding of `windowMs / limit` must not refuse the last request of a burst. */
const EPSILON_MS = 1e-6;

interface Cell {
  /** `windowMs / limit`: the time one request costs. */
  readonly interval: number;
  /** How far ahead of now the arrival time may run: `limit − 1` intervals of burst. */
  readonly tolerance: number;
}

export class RateLimiter<A extends string> {
  readonly #clock: Clock;
  readonly #cells = new Map<string, Cell>();
  readonly #maxKeys: number;
  /** `<action>\n<key>` → theoretical arrival time (monotonic ms); least recently used first. */
  readonly #tats = new Map<string, number>();

  constructor(options: RateLimiterOptions<A>) {
    this.#clock = options.clock;
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_RATE_KEYS;
    if (!Number.isInteger(this.#maxKeys) || this.#maxKeys < 1) {
      throw new RangeError(`rate limiter maxKeys is ${this.#maxKeys}; expected a positive integer`);
    }
    for (const [action, rule] of Object.entries<RateRule>(options.rules)) {
      if (!Number.isInteger(rule.limit) || rule.limit < 1) {
        throw new RangeError(`rate limit "${action}" has limit ${rule.limit}; expected a positive integer`);
      }
      if (!Number.isFinite(rule.windowMs) || rule.windowMs <= 0) {
        throw new RangeError(
          `rate limit "${action}" has windowMs ${rule.windowMs}; expected a positive number`,
        );
      }
      const interval = rule.windowMs / rule.limit;
      this.#cells.set(action, { interval, tolerance: rule.windowMs - interval });
    }
  }

  /** Spends one request of `key` under `action`'s rule, or says how long until one is free. */
  take(action: A, key: string): RateDecision {
    const cell = this.#cells.get(action);
    if (!cell) throw new Error(`no rate limit rule for action "${action}"`);
    const now = this.#clock.monotonic();
    this.#sweep(now);
    const id = `${action}\n${key}`;
    const stored = this.#tats.get(id);
    const tat = stored === undefined || stored < now ? now : stored;
    const allowedAt = tat - cell.tolerance;
    // Touched on refusal too: a key being hammered is the last one to evict.
    this.#tats.delete(id);
    if (allowedAt - now > EPSILON_MS) {
      this.#tats.set(id, tat);
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((allowedAt - now) / 1000)) };
    }
    this.#tats.set(id, tat + cell.interval);
    if (this.#tats.size > this.#maxKeys) this.#tats.delete(this.#tats.keys().next().value!);
    return { ok: true };
  }

  /** Forgets `key` under `action`: its bucket is full again (e.g. after a successful sign-in). */
  reset(action: A, key: string): void {
    this.#tats.delete(`${action}\n${key}`);
  }

  /** Keys remembered now. */
  get size(): number {
    return this.#tats.size;
  }

  #sweep(now: number): void {
    let looked = 0;
    for (const [id, tat] of this.#tats) {
      if (looked++ >= SWEEP_PER_CALL) break;
      if (tat <= now) this.#tats.delete(id);
    }
  }
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * The auth service's limits: `<action>:ip` keyed by the client's address, `<action>:account`
 * by the lower-cased email (or user id, once known). A request takes both; either refusing is a
 * 429 with `Retry-After`. Address limits follow Supabase Auth's defaults where it has them;
 * account limits stop a spread-out attack (many addresses) against one account, and a flood of
 * mail to one inbox.
 */
export const DEFAULT_AUTH_LIMITS = {
  /** Password sign-in. Supabase: 30 per 5 minutes per address. */
  "signin:ip": { limit: 30, windowMs: 5 * MINUTE_MS },
  /** Guessing one account's password: a burst of 10, then 2 a minute (~2,900 a day at most). */
  "signin:account": { limit: 10, windowMs: 5 * MINUTE_MS },
  /** Accounts are made once; a classroom or an office behind one address still fits. */
  "signup:ip": { limit: 30, windowMs: HOUR_MS },
  /** Signing up again with an unconfirmed address mails the confirmation again. */
  "signup:account": { limit: 5, windowMs: HOUR_MS },
  /** Magic links and emailed codes sent. */
  "otp:ip": { limit: 30, windowMs: HOUR_MS },
  "otp:account": { limit: 5, windowMs: HOUR_MS },
  /** Password-reset mails sent. */
  "recover:ip": { limit: 30, windowMs: HOUR_MS },
  "recover:account": { limit: 5, windowMs: HOUR_MS },
  /** Links and codes checked. Supabase: 360 an hour per address, i.e. 30 per 5 minutes. */
  "verify:ip": { limit: 30, windowMs: 5 * MINUTE_MS },
  /** Guessing a mailed 6-digit code (each also locks after a few wrong tries). */
  "verify:account": { limit: 10, windowMs: 5 * MINUTE_MS },
  /** Refresh-token exchanges. Supabase: 1,800 an hour per address, i.e. 150 per 5 minutes. */
  "refresh:ip": { limit: 150, windowMs: 5 * MINUTE_MS },
  /** A user's devices and tabs together refresh a few times an hour each. */
  "refresh:account": { limit: 60, windowMs: 5 * MINUTE_MS },
  /** MFA challenges and verifications. Supabase: 15 a minute per address. */
  "mfa:ip": { limit: 15, windowMs: MINUTE_MS },
  /**
   * TOTP codes tried for one user (take it on verify): 5, then one a minute, so at most ~1,440
   * guesses a day, each matching with odds of 3 in 10^6 (three steps are accepted).
   */
  "mfa:account": { limit: 5, windowMs: 5 * MINUTE_MS },
} as const satisfies Record<string, RateRule>;

export type AuthRateAction = keyof typeof DEFAULT_AUTH_LIMITS;
