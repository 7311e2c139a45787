/**
 * Asynchronous invocation: accept an event (durable before the caller's 202), then a poller
 * runs it through the same dispatcher as a synchronous call and applies Lambda's contract:
 * - a function error (thrown, timeout, crash) is retried MaximumRetryAttempts times, after
 *   the configured delays (Lambda: 1 and 2 minutes);
 * - a throttle or a platform error puts the event back with exponential backoff (Lambda: 1 s
 *   up to 5 minutes) without using up attempts, until MaximumEventAgeInSeconds;
 * - the final outcome goes to the on-success or on-failure destination as Lambda's invocation
 *   record, itself delivered as an asynchronous invocation of the destination function.
 */
import { randomUUID } from "node:crypto";
import { type FunctionVersion, functionArn, LATEST, parseFunctionArn } from "../../protocol/function.js";
import { MAX_ASYNC_REQUEST_BYTES } from "../../protocol/limits.js";
import type { Clock, TimerHandle } from "../../shared/clock.js";
import { ERROR_CATALOGUE, NimbusError } from "../../shared/errors.js";
import { newRequestId } from "../../shared/ids.js";
import type { Logger } from "../../shared/logger.js";
import type { Budgets } from "../budgets.js";
import type { Dispatcher } from "../dispatcher.js";
import { checkJson, newTraceRoot } from "../invoke-service.js";
import type { Registry } from "../registry/registry.js";
import { errorPayload } from "../report.js";
import type { EventConfigs } from "./event-configs.js";
import type { EventInvokeConfig } from "./event-configs-repo.js";
import type { InvocationRecords, QueuedEvent, WorkQueue } from "./queue.js";

export interface AsyncSettings {
  /** Delay before each retry after a function error: Lambda waits 1 minute, then 2. */
  readonly retryDelaysMs: readonly number[];
  /** Backoff after a throttle or platform error: doubles from the first to the second. */
  readonly backoffMs: readonly [min: number, max: number];
  /** Events run at once by this poller, all functions together. */
  readonly maxInFlight: number;
  /** How often the poller looks for events whose retry time has come. */
  readonly pollEveryMs: number;
  /** How long records of finished invocations are kept. */
  readonly recordRetentionMs: number;
}

export const DEFAULT_ASYNC_SETTINGS: AsyncSettings = {
  retryDelaysMs: [60_000, 120_000],
  backoffMs: [1_000, 300_000],
  maxInFlight: 64,
  pollEveryMs: 1_000,
  recordRetentionMs: 7 * 24 * 3600 * 1000,
};

const PRUNE_EVERY_MS = 3600 * 1000;
/** An event held back by a spent budget is looked at again after this long. */
export const BUDGET_RECHECK_MS = 60_000;

type Condition = "Success" | "RetriesExhausted" | "EventAgeExceeded" | "RecursiveInvocationDetected";

/** Hops a chain of invocations may make before the loop guard stops it (Lambda: about 16). */
export const MAX_HOPS = 16;

export interface AsyncInvokerDeps {
  /** The work queue, and the records it prunes as they age. */
  readonly queue: WorkQueue & Pick<InvocationRecords, "prune">;
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly configs: EventConfigs;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly region: string;
  readonly accountId: string;
  readonly settings: AsyncSettings;
  /** Spent budgets hold events back (they wait, unaged, instead of running or expiring). */
  readonly budgets?: Pick<Budgets, "refusal">;
}

export class AsyncInvoker {
  readonly #o: AsyncInvokerDeps;
  #timer: TimerHandle | undefined;
  #pruner: TimerHandle | undefined;
  #inFlight = 0;
  /** Events of each function running now. */
  readonly #perFunction = new Map<string, number>();
  /** Functions throttled just now, and until when their events are left in the queue. */
  readonly #throttled = new Map<string, number>();
  /** The claiming under way, until nothing is left to claim (see #nudge). */
  #pumping: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(deps: AsyncInvokerDeps) {
    this.#o = deps;
  }

  /**
   * Checks and durably queues an event; resolves with its request id once it is durable.
   * `traceHeader` is the caller's X-Amzn-Trace-Id: a function invoking another (the AWS SDK
   * passes it on) carries its chain's hop count there, which the loop guard counts.
   */
  async accept(input: {
    functionName: string;
    qualifier: string | undefined;
    payload: Buffer;
    idempotencyKey?: string | undefined;
    traceHeader?: string | undefined;
    hops?: number;
    /** Marks the chain as stopped by the loop guard: a stop within it is not routed again. */
    stopped?: boolean;
  }): Promise<string> {
    const ref = { name: input.functionName, qualifier: input.qualifier };
    await this.#o.registry.resolve(ref.name, ref.qualifier, false);
    if (input.payload.length > MAX_ASYNC_REQUEST_BYTES) {
      throw new NimbusError(
        "RequestTooLarge",
        `Request must be smaller than ${MAX_ASYNC_REQUEST_BYTES} bytes for the InvokeFunction operation with InvocationType Event; it is ${input.payload.length}`,
      );
    }
    const payload = input.payload.length === 0 ? Buffer.from("{}") : checkJson(input.payload);
    const key = checkIdempotencyKey(input.idempotencyKey);
    const now = this.#o.clock.now();
    const lineage = parseLineage(input.traceHeader);
    const hops = input.hops ?? (lineage ? lineage.hops + 1 : 0);
    const id = await this.#o.queue.enqueue({
      id: newRequestId(),
      functionName: ref.name,
      qualifier: ref.qualifier,
      payload,
      traceId: withLineage(
        lineage?.root ?? newTraceRoot(now),
        hops,
        (input.stopped ?? false) || (lineage?.stopped ?? false),
      ),
      acceptedAt: now,
      hops,
      idempotencyKey: key,
    });
    void this.#nudge();
    return id;
  }

  /** Runs a failed event again, with a fresh retry budget and age. */
  async redrive(id: string): Promise<boolean> {
    const done = await this.#o.queue.redrive(id, this.#o.clock.now());
    if (done) void this.#nudge();
    return done;
  }

  /** Delivers again what a previous process left running, then polls. */
  async start(): Promise<void> {
    const recovered = await this.#o.queue.recover(this.#o.clock.now());
    if (recovered > 0) this.#o.logger.info("async events resumed after a restart", { recovered });
    this.#timer = this.#o.clock.setInterval(() => this.#nudge(), this.#o.settings.pollEveryMs);
    this.#pruner = this.#o.clock.setInterval(() => this.prune(), PRUNE_EVERY_MS);
    void this.#nudge();
  }

  /** Deletes records of invocations that ended more than the retention ago. */
  async prune(): Promise<number> {
    try {
      return await this.#o.queue.prune(this.#o.clock.now() - this.#o.settings.recordRetentionMs);
    } catch (err) {
      this.#o.logger.error("could not prune invocation records", { err });
      return 0;
    }
  }

  /** Takes no more events; running ones finish through the dispatcher's drain. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#pruner?.cancel();
  }

  #nudge(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#pumping) {
      this.#again = true;
      return this.#pumping;
    }
    const pump = async () => {
      do {
        this.#again = false;
        await this.#pump();
      } while (this.#again && !this.#stopped);
    };
    this.#pumping = pump().finally(() => {
      this.#pumping = undefined;
    });
    return this.#pumping;
  }

  async #pump(): Promise<void> {
    for (;;) {
      const room = this.#o.settings.maxInFlight - this.#inFlight;
      if (room <= 0 || this.#stopped) return;
      let events: QueuedEvent[];
      const now = this.#o.clock.now();
      for (const [fn, until] of this.#throttled) if (until <= now) this.#throttled.delete(fn);
      // No function takes more than half the poller: one function's backlog must not hold up
      // every other function's events.
      const cap = Math.max(1, Math.floor(this.#o.settings.maxInFlight / 2));
      const full = [...this.#perFunction].filter(([, n]) => n >= cap).map(([fn]) => fn);
      try {
        events = await this.#o.queue.claim(room, now, [...this.#throttled.keys(), ...full], cap);
      } catch (err) {
        this.#o.logger.error("could not read the event queue", { err });
        return;
      }
      if (events.length === 0) return;
      for (const e of events) {
        this.#inFlight++;
        this.#perFunction.set(e.functionName, (this.#perFunction.get(e.functionName) ?? 0) + 1);
        void this.#run(e)
          .catch((err: unknown) =>
            this.#o.logger.error("async event failed in the platform", { err, id: e.id }),
          )
          .finally(() => {
            this.#inFlight--;
            const left = (this.#perFunction.get(e.functionName) ?? 1) - 1;
            if (left === 0) this.#perFunction.delete(e.functionName);
            else this.#perFunction.set(e.functionName, left);
            void this.#nudge();
          });
      }
    }
  }

  /** A spent budget holds the event back; the time held does not count towards its age. */
  async #hold(e: QueuedEvent, now: number, refusal: NimbusError): Promise<void> {
    const message = `${refusal.message} The event waits in the queue until the budget allows it.`;
    await this.#o.queue.settle(
      e.id,
      {
        status: "retrying",
        attempts: e.attempts,
        notBefore: now + BUDGET_RECHECK_MS,
        error: errorJson("BudgetExceededException", message),
        heldMs: e.heldMs + BUDGET_RECHECK_MS,
      },
      now,
    );
  }

  async #run(e: QueuedEvent): Promise<void> {
    const { clock, queue } = this.#o;
    const now = clock.now();
    let config: EventInvokeConfig;
    let target: Awaited<ReturnType<Registry["resolve"]>>;
    try {
      target = await this.#o.registry.resolve(e.functionName, e.qualifier);
      config = await this.#o.configs.effective(e.functionName, e.qualifier);
    } catch (err) {
      // The function (or its version or alias) was deleted while the event waited.
      const error = errorJson("ResourceNotFoundException", (err as Error).message);
      await queue.settle(e.id, { status: "failed", attempts: e.attempts, error }, now);
      return;
    }
    if (e.hops > MAX_HOPS) {
      // A chain of invocations calling each other: stopped, as Lambda stops recursive loops.
      const error = errorJson(
        "RecursiveInvocationException",
        `stopped after ${MAX_HOPS} hops: this event comes from a chain of invocations (through the async API or destinations) that kept calling functions; it was not run`,
      );
      await queue.settle(e.id, { status: "failed", attempts: e.attempts, error }, now);
      // The on-failure destination hears of a loop once: whatever it starts is stopped silently.
      if (!parseLineage(e.traceId)?.stopped) {
        await this.#route(config, e, "RecursiveInvocationDetected", target.fn, undefined, error);
      }
      return;
    }
    const refusal = this.#o.budgets?.refusal(e.functionName);
    if (refusal) return this.#hold(e, now, refusal);
    const ageLimit = e.acceptedAt + e.heldMs + config.maximumEventAgeInSeconds * 1000;
    if (now > ageLimit) {
      const error = e.lastError ?? errorJson("EventAgeExceeded", "the event expired before it could run");
      await queue.settle(e.id, { status: "failed", attempts: e.attempts, error }, now);
      await this.#route(config, e, "EventAgeExceeded", target.fn, undefined, error);
      return;
    }
    let result: Awaited<ReturnType<Dispatcher["invoke"]>>;
    try {
      result = await this.#o.dispatcher.invoke(
        target.fn,
        {
          requestId: e.id,
          payload: e.payload,
          contentType: "application/json",
          invokedFunctionArn: functionArn(this.#o.region, this.#o.accountId, e.functionName, e.qualifier),
          traceId: e.traceId,
          clientContext: undefined,
          cognitoIdentity: undefined,
        },
        { type: "async", acceptedAt: e.acceptedAt },
      );
    } catch (err) {
      if (err instanceof NimbusError && err.code === "BudgetExceeded") return this.#hold(e, clock.now(), err);
      // Throttled or a platform failure: back in the queue, attempts untouched.
      const waited = Math.max(0, clock.now() - e.acceptedAt);
      const [min, max] = this.#o.settings.backoffMs;
      const delay = Math.min(max, Math.max(min, waited));
      const error =
        err instanceof NimbusError
          ? errorJson(ERROR_CATALOGUE[err.code].lambdaName, err.message)
          : errorJson("ServiceException", String(err));
      // While a function is throttled, its other events stay in the queue instead of each
      // being claimed and throttled in turn.
      if (err instanceof NimbusError && err.code === "TooManyRequests") {
        this.#throttled.set(e.functionName, clock.now() + min);
      }
      await queue.settle(
        e.id,
        {
          status: "retrying",
          attempts: e.attempts,
          notBefore: Math.min(clock.now() + delay, ageLimit + 1),
          error,
        },
        clock.now(),
      );
      return;
    }
    const attempts = e.attempts + 1;
    const after = clock.now();
    const failure = errorPayload(result.outcome, e.id);
    if (!failure) {
      const payload = result.outcome.kind === "success" ? result.outcome.payload : Buffer.from("null");
      const initPhases = result.initPhases;
      await queue.settle(e.id, { status: "succeeded", attempts, result: payload, initPhases }, after);
      await this.#route(config, { ...e, attempts }, "Success", target.fn, payload, undefined);
      return;
    }
    const error = failure.toString("utf8");
    const delay = this.#o.settings.retryDelaysMs[attempts - 1] ?? this.#o.settings.retryDelaysMs.at(-1) ?? 0;
    if (attempts <= config.maximumRetryAttempts && after + delay <= ageLimit) {
      const settlement = { status: "retrying", attempts, notBefore: after + delay, error } as const;
      await queue.settle(e.id, { ...settlement, initPhases: result.initPhases }, after);
      return;
    }
    const condition: Condition =
      attempts <= config.maximumRetryAttempts ? "EventAgeExceeded" : "RetriesExhausted";
    await queue.settle(e.id, { status: "failed", attempts, error, initPhases: result.initPhases }, after);
    await this.#route(config, { ...e, attempts }, condition, target.fn, undefined, error);
  }

  /** Sends Lambda's invocation record to the destination for this outcome, if one is set. */
  async #route(
    config: EventInvokeConfig,
    e: QueuedEvent,
    condition: Condition,
    executed: FunctionVersion,
    result: Buffer | undefined,
    error: string | undefined,
  ): Promise<void> {
    const executedVersion = executed.version;
    const deadLetterTarget = executed.deadLetterTarget;
    const destination = condition === "Success" ? config.onSuccess : config.onFailure;
    if (!destination) {
      // Lambda's legacy dead-letter target receives the original event itself.
      if (condition !== "Success" && deadLetterTarget) {
        await this.#deliver(deadLetterTarget, e, e.payload, condition === "RecursiveInvocationDetected");
      }
      return;
    }
    const record = {
      version: "1.0",
      timestamp: new Date(this.#o.clock.now()).toISOString(),
      requestContext: {
        requestId: e.id,
        functionArn: functionArn(this.#o.region, this.#o.accountId, e.functionName, e.qualifier ?? LATEST),
        condition,
        approximateInvokeCount: e.attempts,
      },
      requestPayload: parseOr(e.payload.toString("utf8")),
      responseContext: {
        statusCode: 200,
        executedVersion,
        ...(condition === "Success" ? {} : { functionError: "Unhandled" }),
      },
      responsePayload: parseOr(result ? result.toString("utf8") : (error ?? "null")),
    };
    await this.#deliver(
      destination,
      e,
      Buffer.from(JSON.stringify(record)),
      condition === "RecursiveInvocationDetected",
    );
  }

  /**
   * Queues `payload` for the destination function as one more hop of the event's chain; after
   * a loop-guard stop, the destination runs once and anything it starts is over the limit.
   */
  async #deliver(destination: string, e: QueuedEvent, payload: Buffer, stopped: boolean): Promise<void> {
    try {
      // Destinations are stored as function ARNs.
      const ref = parseFunctionArn(destination);
      if (!ref) throw new Error(`not a function ARN: ${destination}`);
      await this.accept({
        functionName: ref.name,
        qualifier: ref.qualifier,
        payload,
        traceHeader: e.traceId,
        hops: stopped ? MAX_HOPS : e.hops + 1,
        stopped,
      });
    } catch (err) {
      this.#o.logger.warn("could not deliver to the destination", { destination, id: e.id, err });
    }
  }
}

function errorJson(errorType: string, errorMessage: string): string {
  return JSON.stringify({ errorType, errorMessage });
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const MAX_IDEMPOTENCY_KEY = 128;

function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY || !/^[\x21-\x7e]+$/.test(key)) {
    throw new NimbusError(
      "InvalidParameter",
      `X-Nimbus-Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} visible ASCII characters, got ${JSON.stringify(key.slice(0, 200))}`,
    );
  }
  return key;
}

/**
 * A trace header's root and Nimbus's hop count. The count travels in the header's `Lineage`
 * field (`Lineage=nimbus:N`), which the AWS SDK inside a function passes on unchanged.
 */
function parseLineage(
  header: string | undefined,
): { root: string; hops: number; stopped: boolean } | undefined {
  if (!header) return undefined;
  const root = /(?:^|;)\s*Root=([^;]+)/.exec(header)?.[1];
  const lineage = /(?:^|;)\s*Lineage=nimbus:(\d+)(:stopped)?/.exec(header);
  if (!root || !lineage) return undefined;
  return { root, hops: Number(lineage[1]), stopped: lineage[2] !== undefined };
}

function withLineage(root: string, hops: number, stopped: boolean): string {
  const parent = randomUUID().replaceAll("-", "").slice(0, 16);
  return `Root=${root};Parent=${parent};Sampled=0;Lineage=nimbus:${hops}${stopped ? ":stopped" : ""}`;
}
