/**
 * The async queue's poller, the first event source: it claims due events, runs each through
 * the dispatcher as an asynchronous invocation, has the retry policy decide what becomes of
 * it, and carries that out (settles it in the queue, routes its ending to a destination). It
 * owns the claiming: how many events run at once, the fair share of each function, the pause
 * of a function just throttled, and the wake-ups (a timer, an accepted event, a finished one).
 * It also prunes the records of finished invocations as they age.
 */
import { type FunctionVersion, functionArn } from "../../protocol/function.js";
import type { TimerHandle } from "../../shared/clock.js";
import { type ErrorCode, NimbusError } from "../../shared/errors.js";
import type { Budgets } from "../budgets.js";
import type { Dispatcher } from "../dispatcher.js";
import type { Registry } from "../registry/registry.js";
import { errorPayload } from "../report.js";
import type { EventSource, EventSourceContext } from "../triggers/event-source.js";
import { Destinations, type SendToQueue } from "./destinations.js";
import type { EventConfigs } from "./event-configs.js";
import type { EventInvokeConfig } from "./event-configs-repo.js";
import type { InvocationRecords, QueuedEvent, WorkQueue } from "./queue.js";
import { decide, errorJson, type RanOutcome, type RetryConfig, type Settled } from "./retry-policy.js";

export interface AsyncSettings {
  /** Delay before each retry after a function error: Lambda waits 1 minute, then 2. */
  readonly retryDelaysMs: readonly number[];
  /** Backoff after a throttle or platform error: grows from the first to the second. */
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

export interface PollerDeps {
  /** The work queue, and the records it prunes as they age. */
  readonly queue: WorkQueue & Pick<InvocationRecords, "prune">;
  readonly registry: Pick<Registry, "resolve">;
  readonly dispatcher: Pick<Dispatcher, "invoke">;
  readonly configs: Pick<EventConfigs, "effective">;
  readonly region: string;
  readonly accountId: string;
  readonly settings: AsyncSettings;
  /** Spent budgets hold events back (they wait, unaged, instead of running or expiring). */
  readonly budgets?: Pick<Budgets, "refusal"> | undefined;
  /**
   * The `errorType` a record gives a platform error (a throttle, a shutdown): records are
   * read through the Lambda API, whose names the surface owns.
   */
  readonly errorType: (code: ErrorCode) => string;
  /** Told of each event's final outcome, once settled (the platform publishes it on its bus). */
  readonly ended?: ((e: QueuedEvent, status: "succeeded" | "failed", condition: string) => void) | undefined;
  /** Delivers to destinations and dead-letter targets that are queues. */
  readonly sendToQueue?: SendToQueue | undefined;
}

/** What the poller holds while it runs. */
interface Running {
  readonly ctx: EventSourceContext;
  readonly destinations: Destinations;
  readonly timers: readonly TimerHandle[];
}

export class AsyncPoller implements EventSource {
  readonly name = "async-queue";
  readonly #o: PollerDeps;
  #on: Running | undefined;
  #inFlight = 0;
  /** Events of each function running now. */
  readonly #perFunction = new Map<string, number>();
  /** Functions throttled just now, and until when their events are left in the queue. */
  readonly #throttled = new Map<string, number>();
  /** The claiming under way, until nothing is left to claim (see #nudge). */
  #pumping: Promise<void> | undefined;
  #again = false;

  constructor(deps: PollerDeps) {
    this.#o = deps;
  }

  /** Delivers again what a previous process left running, then polls. */
  async start(ctx: EventSourceContext): Promise<void> {
    const { clock, logger } = ctx;
    const recovered = await this.#o.queue.recover(clock.now());
    if (recovered > 0) logger.info("async events resumed after a restart", { recovered });
    const destinations = new Destinations({
      enqueue: ctx.enqueue,
      sendToQueue: this.#o.sendToQueue,
      logger,
      region: this.#o.region,
      accountId: this.#o.accountId,
    });
    const on: Running = {
      ctx,
      destinations,
      timers: [
        clock.setInterval(() => this.#nudge(), this.#o.settings.pollEveryMs),
        clock.setInterval(() => this.#prune(ctx), PRUNE_EVERY_MS),
      ],
    };
    this.#on = on;
    void this.#nudge();
  }

  /** Claims no more events; running ones finish through the dispatcher's drain. */
  async stop(): Promise<void> {
    for (const t of this.#on?.timers ?? []) t.cancel();
    this.#on = undefined;
  }

  /**
   * Looks for due events now: one was just queued (of `functionName`) or redriven. Before
   * start, start looks. An event of a function the poller cannot take now (throttled just
   * now, or at its share of the poller) does not make it look: its events are claimed when
   * the pause ends or one of its runs finishes, and a flood of them must not turn the poller
   * into a loop of empty claims against the store.
   */
  wake(functionName?: string): void {
    if (functionName !== undefined && this.#waiting(functionName)) return;
    void this.#nudge();
  }

  /** Whether a claim now would skip this function's events. */
  #waiting(functionName: string): boolean {
    const until = this.#throttled.get(functionName);
    if (until !== undefined && this.#on && until > this.#on.ctx.clock.now()) return true;
    const cap = Math.max(1, Math.floor(this.#o.settings.maxInFlight / 2));
    return (this.#perFunction.get(functionName) ?? 0) >= cap;
  }

  /** Deletes records of invocations that ended more than the retention ago. */
  async #prune(ctx: EventSourceContext): Promise<number> {
    try {
      return await this.#o.queue.prune(ctx.clock.now() - this.#o.settings.recordRetentionMs);
    } catch (err) {
      ctx.logger.error("could not prune invocation records", { err });
      return 0;
    }
  }

  /** One claiming loop at a time; a wake-up during it makes it look once more. */
  #nudge(): Promise<void> {
    if (!this.#on) return Promise.resolve();
    if (this.#pumping) {
      this.#again = true;
      return this.#pumping;
    }
    const pump = async () => {
      do {
        this.#again = false;
        await this.#pump();
      } while (this.#again && this.#on);
    };
    this.#pumping = pump().finally(() => {
      this.#pumping = undefined;
    });
    return this.#pumping;
  }

  async #pump(): Promise<void> {
    for (;;) {
      const on = this.#on;
      const room = this.#o.settings.maxInFlight - this.#inFlight;
      if (room <= 0 || !on) return;
      let events: QueuedEvent[];
      const now = on.ctx.clock.now();
      for (const [fn, until] of this.#throttled) if (until <= now) this.#throttled.delete(fn);
      // No function takes more than half the poller: one function's backlog must not hold up
      // every other function's events.
      const cap = Math.max(1, Math.floor(this.#o.settings.maxInFlight / 2));
      const full = [...this.#perFunction].filter(([, n]) => n >= cap).map(([fn]) => fn);
      try {
        events = await this.#o.queue.claim(room, now, [...this.#throttled.keys(), ...full], cap);
      } catch (err) {
        on.ctx.logger.error("could not read the event queue", { err });
        return;
      }
      if (events.length === 0) return;
      for (const e of events) {
        this.#inFlight++;
        this.#perFunction.set(e.functionName, (this.#perFunction.get(e.functionName) ?? 0) + 1);
        void this.#run(e, on)
          .catch((err: unknown) =>
            on.ctx.logger.error("async event failed in the platform", { err, id: e.id }),
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

  async #run(e: QueuedEvent, on: Running): Promise<void> {
    const { clock } = on.ctx;
    let config: EventInvokeConfig;
    let target: Awaited<ReturnType<Registry["resolve"]>>;
    try {
      target = await this.#o.registry.resolve(e.functionName, e.qualifier);
      config = await this.#o.configs.effective(e.functionName, e.qualifier);
    } catch (err) {
      // The function (or its version or alias) was deleted while the event waited: there is
      // nothing to run, and no configuration left to route by.
      const error = errorJson("ResourceNotFoundException", (err as Error).message);
      await this.#o.queue.settle(e.id, { status: "failed", attempts: e.attempts, error }, clock.now());
      return;
    }
    const policy: RetryConfig = {
      maximumRetryAttempts: config.maximumRetryAttempts,
      maximumEventAgeInSeconds: config.maximumEventAgeInSeconds,
      retryDelaysMs: this.#o.settings.retryDelaysMs,
      backoffMs: this.#o.settings.backoffMs,
    };
    const budgetRefusal = this.#o.budgets?.refusal(e.functionName)?.message;
    const due = clock.now();
    const before = decide(e, { kind: "due", budgetRefusal }, policy, due);
    if (before.kind !== "run") return this.#carryOut(e, before, config, target.fn, on, due);
    const outcome = await this.#attempt(e, target.fn, on);
    const ran = clock.now();
    return this.#carryOut(e, decide(e, outcome, policy, ran), config, target.fn, on, ran);
  }

  /** Runs the event once; what the dispatcher refused (a throttle, a spent budget) did not run. */
  async #attempt(e: QueuedEvent, fn: FunctionVersion, on: Running): Promise<RanOutcome> {
    let result: Awaited<ReturnType<Dispatcher["invoke"]>>;
    try {
      result = await this.#o.dispatcher.invoke(
        fn,
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
      if (!(err instanceof NimbusError))
        return { kind: "unavailable", error: errorJson("ServiceException", String(err)) };
      if (err.code === "BudgetExceeded") return { kind: "budget", message: err.message };
      if (err.code === "TooManyRequests") {
        // While a function is throttled, its other events stay in the queue instead of each
        // being claimed and throttled in turn.
        this.#throttled.set(e.functionName, on.ctx.clock.now() + this.#o.settings.backoffMs[0]);
      }
      return { kind: "unavailable", error: errorJson(this.#o.errorType(err.code), err.message) };
    }
    const failure = errorPayload(result.outcome, e.id);
    const { initPhases } = result;
    if (failure) return { kind: "failed", error: failure.toString("utf8"), initPhases };
    const payload = result.outcome.kind === "success" ? result.outcome.payload : Buffer.from("null");
    return { kind: "succeeded", result: payload, initPhases };
  }

  /** Settles the event as decided, then routes a final outcome to its destination. */
  async #carryOut(
    e: QueuedEvent,
    d: Settled,
    config: EventInvokeConfig,
    executed: FunctionVersion,
    on: Running,
    now: number,
  ): Promise<void> {
    await this.#o.queue.settle(e.id, d.settlement, now);
    if (d.kind !== "final") return;
    const s = d.settlement;
    if (s.status === "succeeded" || s.status === "failed") this.#o.ended?.(e, s.status, d.route ?? "Stopped");
    if (d.route === undefined) return;
    const response = s.status === "succeeded" ? s.result : s.error;
    await on.destinations.route(
      config,
      { event: e, condition: d.route, attempts: s.attempts, response, executed },
      now,
    );
  }
}
