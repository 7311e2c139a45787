/**
 * Events on their way to API destinations: an outbox the bus writes before PutEvents answers
 * (`ApiDestinationsRepo.enqueueHttpDeliveries`) and this drains, on the platform's clock. Each
 * delivery is claimed for a lease (a crash mid-request leaves it to be taken again: at least
 * once), sent as its destination and connection say (`httpRequest`), and then deleted, retried,
 * or sent to its dead-letter queue, as EventBridge treats an API destination's answer: 2xx
 * delivered; 401, 407, 409, 429, 5xx, a timeout (5 s) or a failed connection tried again after
 * 1 s, 2 s, 4 s… (at most 5 minutes apart, later if the answer's `Retry-After` says so) until
 * the target's RetryPolicy runs out; anything else at once to the dead-letter queue.
 *
 * An OAuth connection's requests carry a token from `oauth-tokens.ts`. Each destination's
 * `InvocationRateLimitPerSecond` holds: requests past it wait for the first second with room.
 * It wakes when the bus queued a delivery, when a retry is due, and every
 * POLL_INTERVAL_MS (for deliveries another process queued).
 */
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { retryDelayMs, WakeLoop } from "../../shared/wake-loop.js";
import { DEFAULT_RATE_LIMIT, pathParameterCount } from "./api-destinations.js";
import type { ApiDestinationRecord, ConnectionRecord, HttpDeliveryRecord } from "./model.js";
import { AuthorizationFailure, OAuthTokens } from "./oauth-tokens.js";
import type { ApiDestinationsRepo } from "./repo.js";
import { signsWebhooks, webhookHeaders, webhookKey } from "./webhook-signature.js";

export const POLL_INTERVAL_MS = 10_000;
/** How long an API destination has to answer (EventBridge's limit). */
export const REQUEST_TIMEOUT_MS = 5_000;
/** A claimed delivery is taken again after this if the platform stopped mid-request. */
const LEASE_MS = 10_000;
const BATCH = 64;
/** Deliveries under way at most: a pass claims no more than there is room for. */
const MAX_IN_FLIGHT = 256;
/** What of an answer's body is read (and kept for the log) before the connection is let go. */
const ANSWER_BYTES = 1024;
const USER_AGENT = "Nimbus-EventBridge-ApiDestinations/1";
const RETRIED = new Set([401, 407, 409, 429]);

export interface HttpDeliveryDeps {
  readonly repo: ApiDestinationsRepo;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Sends a message to a queue ARN (the dead-letter queue); durable when it resolves. */
  readonly deadLetter: (queueArn: string, body: string, attributes: Record<string, string>) => Promise<void>;
  /** How long an endpoint has to answer, in real time (REQUEST_TIMEOUT_MS; tests shorten it). */
  readonly timeoutMs?: number;
  /** Told when a refused OAuth client deauthorized a connection (it is published on the bus). */
  readonly deauthorized?: (c: ConnectionRecord) => Promise<void>;
  /** Told of each attempt's outcome (the platform's metrics). */
  readonly observe?: (destination: string, outcome: DeliveryOutcome, seconds: number | undefined) => void;
}

/** An attempt delivered; failed and to be tried again; or given up (to the dead-letter queue, or logged). */
export type DeliveryOutcome = "delivered" | "retried" | "dead-lettered";

/** One request as it goes out. */
export interface HttpRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** Why a delivery failed: `retry` false sends it to the dead-letter queue at once. */
class Failure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retry: boolean,
    readonly retryAfterMs = 0,
    /** The endpoint's answer, if it answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The request of one attempt: the destination's endpoint and method, the target's and connection's parameters, the authorization. */
export function httpRequest(
  d: HttpDeliveryRecord,
  dest: ApiDestinationRecord,
  conn: ConnectionRecord,
  now: number,
  /** An OAuth connection's access token. */
  token?: string,
): HttpRequest {
  const stars = pathParameterCount(dest.endpoint);
  if (stars !== d.spec.pathValues.length)
    throw new Failure(
      "INVALID_PARAMETER",
      `the endpoint ${dest.endpoint} has ${stars} path parameters (*) and the target gives ${d.spec.pathValues.length} PathParameterValues`,
      false,
    );
  let i = 0;
  const url = new URL(dest.endpoint.replace(/\*/g, () => encodeURIComponent(d.spec.pathValues[i++]!)));
  const inv = conn.auth.invocation;
  for (const [k, v] of Object.entries(d.spec.query)) url.searchParams.set(k, v);
  for (const p of inv.queryString) url.searchParams.set(p.key, p.value);
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "user-agent": USER_AGENT,
  };
  for (const [k, v] of Object.entries(d.spec.headers)) headers[k.toLowerCase()] = v;
  for (const p of inv.headers) headers[p.key.trim().toLowerCase()] = p.value;
  const hasBody = dest.httpMethod !== "GET" && dest.httpMethod !== "HEAD";
  const body = hasBody ? withBodyParameters(d.payload, inv.body) : undefined;
  const { basic, apiKey } = conn.auth;
  if (basic)
    headers.authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString("base64")}`;
  if (apiKey && signsWebhooks(apiKey.name))
    Object.assign(headers, webhookHeaders(webhookKey(apiKey.value), d.id, now, body ?? ""));
  else if (apiKey) headers[apiKey.name.trim().toLowerCase()] = apiKey.value;
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return { url: url.href, method: dest.httpMethod, headers, body };
}

/** A connection's body parameters join a JSON object body (the connection's win); other bodies go as they are. */
function withBodyParameters(payload: string, params: ConnectionRecord["auth"]["invocation"]["body"]): string {
  if (params.length === 0) return payload;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return payload;
  const out = parsed as Record<string, unknown>;
  for (const p of params) out[p.key] = p.value;
  return JSON.stringify(out);
}

export class HttpDeliveries {
  readonly #d: HttpDeliveryDeps;
  readonly #loop: WakeLoop;
  /** Per destination, the second (epoch s) requests are counted in and how many were due in it. */
  readonly #sent = new Map<string, { second: number; count: number }>();
  readonly #inFlight = new Set<AbortController>();
  /** Deliveries under way: they run beside the passes, so a slow endpoint holds up no other. */
  readonly #running = new Set<Promise<void>>();
  /** The last claim was cut short by MAX_IN_FLIGHT or BATCH: a delivery that ends looks for more. */
  #more = false;
  readonly #tokens: OAuthTokens;

  constructor(d: HttpDeliveryDeps) {
    this.#d = d;
    this.#tokens = new OAuthTokens(d.clock);
    this.#loop = new WakeLoop({
      what: "API destinations",
      pass: () => this.#pass(),
      next: async () =>
        Math.min(
          (await d.repo.nextHttpDeliveryAt()) ?? Number.POSITIVE_INFINITY,
          d.clock.now() + POLL_INTERVAL_MS,
        ),
    });
  }

  /** Starts delivering, what a crash left first; resolves without waiting for the backlog. */
  async start(): Promise<void> {
    void this.#loop.start(this.#d.clock, this.#d.logger);
  }

  /** Stops taking deliveries and cuts the requests under way (their leases bring them back). */
  async stop(): Promise<void> {
    const stopped = this.#loop.stop();
    for (const c of this.#inFlight) c.abort();
    await stopped;
    await Promise.all([...this.#running]);
  }

  /** Resolves once no pass and no delivery is under way: for tests, which then assert. */
  async idle(): Promise<void> {
    for (;;) {
      await this.#loop.idle();
      if (this.#running.size === 0) return;
      await Promise.all([...this.#running]);
    }
  }

  /** Deliveries were queued: deliver now (or after the pass under way). */
  changed(): void {
    this.#loop.changed();
  }

  /** Claims what is due, as far as there is room, and starts each delivery without waiting for it. */
  async #pass(): Promise<void> {
    const { clock, repo } = this.#d;
    this.#more = false;
    for (;;) {
      const room = Math.min(BATCH, MAX_IN_FLIGHT - this.#running.size);
      if (room <= 0 || this.#loop.stopped) {
        this.#more = true;
        return;
      }
      const now = clock.now();
      const due = await repo.claimHttpDeliveries(now, now + LEASE_MS, room);
      // A destination and its connection are read once a batch.
      const lookups = new Map<string, Promise<[ApiDestinationRecord?, ConnectionRecord?]>>();
      for (const d of due) {
        const running: Promise<void> = this.#deliver(d, lookups).finally(() => {
          this.#running.delete(running);
          if (this.#more) this.#loop.changed();
        });
        this.#running.add(running);
      }
      if (due.length < room) return;
    }
  }

  async #deliver(
    d: HttpDeliveryRecord,
    lookups: Map<string, Promise<[ApiDestinationRecord?, ConnectionRecord?]>>,
  ): Promise<void> {
    const { clock, repo, logger } = this.#d;
    let lookup = lookups.get(d.destinationName);
    if (!lookup) {
      lookup = this.#lookup(d.destinationName);
      lookups.set(d.destinationName, lookup);
    }
    try {
      const [dest, conn] = await lookup;
      if (!dest)
        throw new Failure("NO_RESOURCE", `the API destination ${d.destinationName} does not exist`, false);
      if (!conn)
        throw new Failure("NO_RESOURCE", `the connection ${dest.connectionName} does not exist`, false);
      if (conn.state !== "AUTHORIZED")
        throw new Failure("NO_PERMISSIONS", `the connection ${conn.name} is ${conn.state}`, false);
      const now = clock.now();
      const second = Math.floor(now / 1000);
      const window = this.#sent.get(dest.name);
      const count = window?.second === second ? window.count : 0;
      this.#sent.set(dest.name, { second, count: count + 1 });
      // Past the rate, a delivery waits for the first second with room, no attempt spent: the
      // n-th one over goes n ÷ rate seconds on, so a backlog is rescheduled once, not every second.
      const slot = Math.floor(count / (dest.rateLimitPerSecond ?? DEFAULT_RATE_LIMIT));
      if (slot > 0) {
        const at = (second + slot) * 1000;
        if (await repo.retryHttpDelivery(d.id, d.nextAt, d.attempts, at, d.lastError ?? ""))
          this.#loop.wakeBy(at);
        return;
      }
      const token = conn.auth.oauth ? await this.#token(conn) : undefined;
      const sent = clock.monotonic();
      try {
        await this.#send(httpRequest(d, dest, conn, now, token));
        this.#d.observe?.(d.destinationName, "delivered", (clock.monotonic() - sent) / 1000);
      } catch (err) {
        // EventBridge's rule: a 401 or 407 means the token is no longer good.
        if (token !== undefined && err instanceof Failure && (err.status === 401 || err.status === 407))
          this.#tokens.forget(conn.name);
        throw err;
      }
      if (!(await repo.deleteHttpDelivery(d.id, d.nextAt))) lostLease(logger, d, "delivered");
    } catch (err) {
      if (this.#loop.stopped) return; // cut by stop(): the lease brings it back
      const f =
        err instanceof Failure
          ? err
          : new Failure("INTERNAL_ERROR", (err as Error).message ?? String(err), true);
      await this.#failed(d, f).catch((e: unknown) =>
        logger.error("API destinations: a failed delivery could not be recorded; its lease brings it back", {
          err: e,
          id: d.id,
        }),
      );
    }
  }

  /**
   * An OAuth connection's token; an endpoint that refuses the client deauthorizes the connection
   * (saying why, as EventBridge does) and fails the delivery at once.
   */
  async #token(conn: ConnectionRecord): Promise<string> {
    try {
      return await this.#tokens.token(conn);
    } catch (err) {
      if (!(err instanceof AuthorizationFailure)) throw err;
      if (err.retry) throw new Failure("CONNECTION_FAILURE", err.message, true);
      const now = this.#d.clock.now();
      const latest = await this.#d.repo.getConnection(conn.name);
      if (latest?.uuid === conn.uuid && latest.modifiedAt === conn.modifiedAt) {
        const c: ConnectionRecord = {
          ...conn,
          state: "DEAUTHORIZED",
          stateReason: err.message,
          modifiedAt: now,
        };
        if (await this.#d.repo.updateConnection(c))
          await this.#d
            .deauthorized?.(c)
            .catch((e: unknown) =>
              this.#d.logger.error(
                "API destinations: a connection's deauthorization could not be published",
                { err: e },
              ),
            );
      }
      throw new Failure(
        "NO_PERMISSIONS",
        `the connection ${conn.name} could not be authorized: ${err.message}`,
        false,
      );
    }
  }

  async #lookup(name: string): Promise<[ApiDestinationRecord?, ConnectionRecord?]> {
    const dest = await this.#d.repo.getApiDestination(name);
    return [dest, dest ? await this.#d.repo.getConnection(dest.connectionName) : undefined];
  }

  async #send(req: HttpRequest): Promise<void> {
    const timeoutMs = this.#d.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new Failure("TIMEOUT", `no answer within ${timeoutMs / 1000} s`, true)),
      timeoutMs,
    );
    this.#inFlight.add(abort);
    try {
      let res: Response;
      try {
        res = await fetch(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body,
          redirect: "manual",
          signal: abort.signal,
        });
      } catch (err) {
        if (abort.signal.reason instanceof Failure) throw abort.signal.reason;
        // A request that could not be made at all (a header it cannot carry): no retry mends it.
        if (err instanceof TypeError && (err as { cause?: unknown }).cause === undefined)
          throw new Failure("INVALID_PARAMETER", `${req.method} ${req.url}: ${err.message}`, false);
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new Failure(
          "CONNECTION_FAILURE",
          `${req.method} ${req.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
          true,
        );
      }
      const text = await readSome(res);
      if (res.status >= 200 && res.status < 300) return;
      const retry = RETRIED.has(res.status) || res.status >= 500;
      throw new Failure(
        "ERROR_FROM_TARGET",
        `the endpoint answered ${res.status}${text ? `: ${text}` : ""}`,
        retry,
        retryAfterMs(res.headers.get("retry-after"), this.#d.clock.now()),
        res.status,
      );
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(abort);
    }
  }

  /** A failed attempt: retried if it may be and the policy allows, else dead-lettered. */
  async #failed(d: HttpDeliveryRecord, f: Failure): Promise<void> {
    const { clock, repo, logger } = this.#d;
    const attempts = d.attempts + 1;
    const now = clock.now();
    const fields = {
      destination: d.destinationName,
      target: d.spec.targetArn,
      id: d.id,
      attempts,
      error: f.message,
    };
    if (f.retry) {
      const next = now + Math.max(retryDelayMs(attempts), f.retryAfterMs);
      if (attempts <= d.spec.maxRetries && next <= d.spec.expiresAt) {
        if (!(await repo.retryHttpDelivery(d.id, d.nextAt, attempts, next, f.message)))
          return lostLease(logger, d, "failed");
        this.#loop.wakeBy(next);
        this.#d.observe?.(d.destinationName, "retried", undefined);
        logger.info("API destinations: a delivery failed; trying again", {
          ...fields,
          at: new Date(next).toISOString(),
        });
        return;
      }
    }
    const exhausted = !f.retry
      ? undefined
      : attempts > d.spec.maxRetries
        ? "MaximumRetryAttempts"
        : "MaximumEventAgeInSeconds";
    const dlq = d.spec.deadLetterArn;
    if (dlq)
      await this.#d.deadLetter(dlq, d.payload, {
        ERROR_CODE: f.code,
        ERROR_MESSAGE: f.message.slice(0, 256),
        RULE_ARN: d.spec.ruleArn,
        TARGET_ARN: d.spec.targetArn,
        ...(exhausted ? { EXHAUSTED_RETRY_CONDITION: exhausted, RETRY_ATTEMPTS: String(attempts - 1) } : {}),
      });
    logger.warn(
      dlq
        ? "API destinations: a delivery was given up and sent to its dead-letter queue"
        : "API destinations: a delivery was given up and has no dead-letter queue",
      {
        ...fields,
        code: f.code,
        ...(exhausted ? { exhausted } : {}),
        ...(dlq ? { deadLetterQueue: dlq } : {}),
      },
    );
    if (!(await repo.deleteHttpDelivery(d.id, d.nextAt))) lostLease(logger, d, "dead-lettered");
    this.#d.observe?.(d.destinationName, "dead-lettered", undefined);
  }
}

/**
 * The attempt outlived its lease and another claim took the delivery (a platform sharing the
 * store, or this one after a stall): that claimer owns it now, and this attempt's outcome is
 * dropped. Deliveries are at least once, as EventBridge's are: the endpoint may see it twice.
 */
function lostLease(logger: Logger, d: HttpDeliveryRecord, what: string): void {
  logger.warn(`API destinations: a delivery ${what} after its lease lapsed; its new claimer owns it`, {
    destination: d.destinationName,
    id: d.id,
  });
}

/** Up to ANSWER_BYTES of an answer's body, as text; the rest is not read. */
async function readSome(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, ANSWER_BYTES).toString("utf8").trim();
}

/** `Retry-After` in seconds or as an HTTP date, in ms from now; 0 if absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}
