/**
 * What stands in front of an HTTP API's Lambda (REQUEST) authorizer with simple responses
 * (`{ isAuthorized, context }`): the identity sources read first, a 401 without calling the
 * authorizer when one is missing or empty, and the cache of its answers keyed by those values.
 *
 * As API Gateway: an answer is cached for `ttlSeconds` (default 300, at most 3600, 0 turns
 * caching off), denials included, so a rejected caller does not re-run the function each time;
 * `isAuthorized: false` is a 403, a failed call or a malformed answer a 500 that is not cached.
 * Nimbus adds a bound on the entries (the least recently used goes first) and folds
 * concurrent requests with the same identity into one call.
 *
 * The call itself (invoking the authorizer function with the 2.0 authorizer event) is the
 * caller's: this module never imports the dispatcher.
 */
import type { Clock } from "../../shared/clock.js";
import { FORBIDDEN_BODY, INTERNAL_ERROR_BODY, UNAUTHORIZED_BODY } from "./answers.js";
import {
  evaluateIdentitySource,
  type IdentityRequest,
  type IdentitySource,
  parseIdentitySource,
} from "./identity-source.js";

export const DEFAULT_AUTHORIZER_TTL_SECONDS = 300;
export const MAX_AUTHORIZER_TTL_SECONDS = 3600;
export const DEFAULT_AUTHORIZER_CACHE_ENTRIES = 10_000;

export interface LambdaAuthorizerCacheConfig {
  /** `$request.header.Authorization`, `$request.querystring.token`…; every one must be present. */
  readonly identitySources: readonly string[];
  /** Default DEFAULT_AUTHORIZER_TTL_SECONDS; 0 calls the authorizer for every request. */
  readonly ttlSeconds?: number;
  /** Default DEFAULT_AUTHORIZER_CACHE_ENTRIES. */
  readonly maxEntries?: number;
}

/** A simple response, as the authorizer function returns it (unchecked). */
export interface SimpleAuthorizerResponse {
  readonly isAuthorized: boolean;
  readonly context?: Readonly<Record<string, unknown>>;
}

export type LambdaAuthDecision =
  | {
      readonly kind: "allow";
      /** What a function sees in `requestContext.authorizer`. */
      readonly authorizer: { readonly lambda: Readonly<Record<string, unknown>> };
      readonly cached: boolean;
    }
  | {
      readonly kind: "deny";
      readonly status: 401 | 403 | 500;
      readonly body: string;
      /** Why, for the logs; never sent to the caller. */
      readonly reason: string;
      readonly cached: boolean;
    };

interface Entry {
  readonly answer: SimpleAuthorizerResponse;
  readonly expiresAt: number;
}

export class LambdaAuthorizerCache {
  readonly #sources: readonly IdentitySource[];
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #clock: Clock;
  /** In recency order: the first entry is the least recently used. */
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<SimpleAuthorizerResponse>>();

  /** Throws `InvalidParameter` for a malformed identity source. */
  constructor(config: LambdaAuthorizerCacheConfig, clock: Clock) {
    this.#sources = config.identitySources.map(parseIdentitySource);
    const ttl = config.ttlSeconds ?? DEFAULT_AUTHORIZER_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_AUTHORIZER_TTL_SECONDS)
      throw new RangeError(
        `ttlSeconds is ${ttl}: it must be an integer from 0 to ${MAX_AUTHORIZER_TTL_SECONDS}`,
      );
    this.#ttlMs = ttl * 1000;
    this.#max = Math.max(1, config.maxEntries ?? DEFAULT_AUTHORIZER_CACHE_ENTRIES);
    this.#clock = clock;
  }

  /** How many answers are cached now (expired ones included until they are looked up or pushed out). */
  get size(): number {
    return this.#entries.size;
  }

  /** The decision for `req`; `call` invokes the authorizer function and is called only on a miss. */
  async authorize(req: IdentityRequest, call: () => Promise<unknown>): Promise<LambdaAuthDecision> {
    const values: string[] = [];
    for (const source of this.#sources) {
      const value = evaluateIdentitySource(source, req);
      if (value === undefined)
        return {
          kind: "deny",
          status: 401,
          body: UNAUTHORIZED_BODY,
          reason: `identity source ${source.expression} is missing or empty`,
          cached: false,
        };
      values.push(value);
    }
    // Caching needs a key: an authorizer without identity sources is called every time.
    if (this.#ttlMs === 0 || this.#sources.length === 0) return this.#settle(call, undefined);

    const key = JSON.stringify(values);
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      if (hit.expiresAt > this.#clock.now()) {
        this.#entries.set(key, hit);
        return decide(hit.answer, true);
      }
    }
    return this.#settle(call, key);
  }

  /** Forgets every cached answer (the authorizer's settings changed). */
  clear(): void {
    this.#entries.clear();
  }

  async #settle(call: () => Promise<unknown>, key: string | undefined): Promise<LambdaAuthDecision> {
    let pending = key === undefined ? undefined : this.#inFlight.get(key);
    if (pending === undefined) {
      pending = call().then(checkAnswer);
      if (key !== undefined) {
        const mine = pending;
        this.#inFlight.set(key, mine);
        const done = (): void => {
          if (this.#inFlight.get(key) === mine) this.#inFlight.delete(key);
        };
        mine.then((answer) => {
          done();
          this.#remember(key, answer);
        }, done);
      }
    }
    try {
      return decide(await pending, false);
    } catch (err) {
      return {
        kind: "deny",
        status: 500,
        body: INTERNAL_ERROR_BODY,
        reason: `the authorizer failed: ${err instanceof Error ? err.message : String(err)}`,
        cached: false,
      };
    }
  }

  #remember(key: string, answer: SimpleAuthorizerResponse): void {
    this.#entries.delete(key);
    this.#entries.set(key, { answer, expiresAt: this.#clock.now() + this.#ttlMs });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}

function decide(answer: SimpleAuthorizerResponse, cached: boolean): LambdaAuthDecision {
  if (answer.isAuthorized) return { kind: "allow", authorizer: { lambda: answer.context ?? {} }, cached };
  return {
    kind: "deny",
    status: 403,
    body: FORBIDDEN_BODY,
    reason: "the authorizer answered isAuthorized: false",
    cached,
  };
}

/** The answer when it is a simple response; throws, as a failed call does, when it is not. */
function checkAnswer(answer: unknown): SimpleAuthorizerResponse {
  if (
    answer === null ||
    typeof answer !== "object" ||
    typeof (answer as { isAuthorized?: unknown }).isAuthorized !== "boolean"
  )
    throw new Error(
      `the answer ${JSON.stringify(answer) ?? String(answer)} is not a simple response: expected { "isAuthorized": true or false, "context": {…} }`,
    );
  const context = (answer as { context?: unknown }).context;
  if (context !== undefined && (context === null || typeof context !== "object" || Array.isArray(context)))
    throw new Error(`the answer's context ${JSON.stringify(context)} is not an object`);
  return answer as SimpleAuthorizerResponse;
}
