/**
 * An HTTP API stage's throttling: a token bucket per route, with API Gateway's route settings.
 * The stage's default route settings give every route its own bucket of that size; a route's
 * own settings replace either limit for that route; a route with neither is not throttled here.
 * `burstLimit` is the bucket's size (requests at once), `rateLimit` its refill in requests per
 * second; a bucket starts full. A limit of 0 refuses every request, as API Gateway does.
 *
 * Past the limit: a 429 with API Gateway's body. One `take` is a map lookup and a little
 * arithmetic on the injected clock's monotonic reading; build a new `Throttle` when the stage's
 * settings change (the buckets start full again).
 */
import type { Clock } from "../../shared/clock.js";
import { invalidInput, type Problem } from "../../shared/errors.js";
import { TOO_MANY_REQUESTS_BODY } from "./answers.js";

export interface ThrottleSettings {
  /** Requests at once: the bucket's size, an integer. */
  readonly burstLimit?: number;
  /** Requests per second: the bucket's refill rate. */
  readonly rateLimit?: number;
}

export interface StageThrottleConfig {
  /** Every route's limits unless its own say otherwise. */
  readonly defaultRouteSettings?: ThrottleSettings;
  /** By route key (`GET /items`, `$default`). */
  readonly routeSettings?: Readonly<Record<string, ThrottleSettings>>;
}

export type ThrottleDecision =
  | { readonly kind: "pass" }
  | {
      readonly kind: "throttled";
      readonly status: 429;
      readonly body: string;
      /** When one request would pass again, for a Retry-After the surface may add; Infinity under a limit of 0. */
      readonly retryAfterMs: number;
    };

interface Bucket {
  readonly burst: number;
  /** Tokens per millisecond. */
  readonly perMs: number;
  tokens: number;
  at: number;
}

const PASS: ThrottleDecision = { kind: "pass" };

export class Throttle {
  readonly #clock: Clock;
  readonly #default: ThrottleSettings | undefined;
  readonly #routes: ReadonlyMap<string, ThrottleSettings>;
  readonly #buckets = new Map<string, Bucket | null>();

  /** Throws `InvalidParameter` naming each limit that is negative or not a number. */
  constructor(config: StageThrottleConfig, clock: Clock) {
    const problems: Problem[] = [];
    check("defaultRouteSettings", config.defaultRouteSettings, problems);
    for (const [key, s] of Object.entries(config.routeSettings ?? {}))
      check(`routeSettings["${key}"]`, s, problems);
    if (problems.length > 0) throw invalidInput(problems);
    this.#default = config.defaultRouteSettings;
    this.#routes = new Map(Object.entries(config.routeSettings ?? {}));
    this.#clock = clock;
  }

  /** Takes one request's token from `routeKey`'s bucket. */
  take(routeKey: string): ThrottleDecision {
    let bucket = this.#buckets.get(routeKey);
    const now = this.#clock.monotonic();
    if (bucket === undefined) {
      bucket = this.#newBucket(routeKey, now);
      this.#buckets.set(routeKey, bucket);
    }
    if (bucket === null) return PASS;
    if (bucket.tokens < bucket.burst) {
      bucket.tokens = Math.min(bucket.burst, bucket.tokens + (now - bucket.at) * bucket.perMs);
    }
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return PASS;
    }
    const retryAfterMs =
      bucket.burst < 1 || bucket.perMs === 0 ? Infinity : Math.ceil((1 - bucket.tokens) / bucket.perMs);
    return { kind: "throttled", status: 429, body: TOO_MANY_REQUESTS_BODY, retryAfterMs };
  }

  /** Null when the route has no limit. */
  #newBucket(routeKey: string, now: number): Bucket | null {
    const own = this.#routes.get(routeKey);
    const burst = own?.burstLimit ?? this.#default?.burstLimit;
    const rate = own?.rateLimit ?? this.#default?.rateLimit;
    if (burst === undefined && rate === undefined) return null;
    // One limit set without the other (here or in the default): the bucket is sized by the one set.
    const size = burst ?? Math.max(1, Math.ceil(rate ?? 0));
    const perSecond = rate ?? size;
    return { burst: size, perMs: perSecond / 1000, tokens: size, at: now };
  }
}

function check(field: string, s: ThrottleSettings | undefined, problems: Problem[]): void {
  if (s === undefined) return;
  if (s.burstLimit !== undefined && !(Number.isInteger(s.burstLimit) && s.burstLimit >= 0))
    problems.push({
      field: `${field}.burstLimit`,
      value: s.burstLimit,
      rule: "range",
      expected: "be an integer of 0 or more",
    });
  if (s.rateLimit !== undefined && !(Number.isFinite(s.rateLimit) && s.rateLimit >= 0))
    problems.push({
      field: `${field}.rateLimit`,
      value: s.rateLimit,
      rule: "range",
      expected: "be a number of 0 or more (requests per second)",
    });
}
