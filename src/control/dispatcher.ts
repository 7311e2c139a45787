/**
 * The dispatcher runs invocations: it finds an idle warm instance of the function version or
 * starts one through placement, enforces concurrency (reserved per function, the shared
 * unreserved pool) with an immediate 429, and stops instances left idle past the keep-alive.
 */

import { type FunctionVersion, functionArn, versionKey } from "../protocol/function.js";
import type {
  InitPhases,
  InstanceHandle,
  InvokeOutcome,
  InvokeRequest,
  InvokeResult,
  StartResult,
  WorkerApi,
} from "../protocol/invoke.js";
import type { Clock, TimerHandle } from "../shared/clock.js";
import { NimbusError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { ConcurrencyLimits, throttle } from "./concurrency.js";
import { FixedKeepAlive, type KeepAliveDecision, type KeepAlivePolicy } from "./keep-alive.js";
import type { LogRecord } from "./logs-repo.js";
import type { Placement } from "./placement/types.js";
import { instanceCounts, instanceStates, leastRecentlyUsed, type Pool, reapIdle } from "./pools.js";
import { Prewarmer } from "./prewarm.js";
import type { ProvisionedSpanSink } from "./provisioned-uptime.js";
import { emptyProvisioning, Provisioner } from "./provisioning.js";
import {
  type DispatchObserver,
  type DispatchResult,
  type DispatchRun,
  dispatchResult,
  figuresOf,
  type InstanceStates,
  type InvocationOrigin,
  type InvocationTiming,
  startLine,
} from "./report.js";
import { ScaleLimiter } from "./scale-limit.js";
import type { UsageRecord } from "./usage-repo.js";

export interface DispatcherOptions {
  readonly placement: Placement;
  readonly clock: Clock;
  readonly logs: { write(entry: LogRecord): void };
  readonly logger: Logger;
  readonly region: string;
  readonly accountId: string;
  /** Concurrent executions across all functions (Lambda's account limit). */
  readonly accountConcurrency: number;
  /** An idle instance is stopped after this long without an invocation (the fixed policy's timeout). */
  readonly keepAliveMs: number;
  /** How long each function's idle instances are kept; the fixed `keepAliveMs` without. */
  readonly keepAlive?: KeepAlivePolicy;
  readonly initTimeoutMs: number;
  /** How fast one function may start new instances (the burst limit); unlimited without. */
  readonly scaleLimit?: { readonly burst: number; readonly perSecond: number };
  /** Told when a provisioned instance starts and stops, with how long it was kept (billed up-time). */
  readonly provisionedSpans?: ProvisionedSpanSink;
  /** Told of every invocation run or throttled (metrics). */
  readonly observer?: DispatchObserver;
  /** Makes an invocation's usage record, stored on its REPORT line (none: not metered). */
  readonly meter?: (
    fn: FunctionVersion,
    result: DispatchResult,
    timing: InvocationTiming,
  ) => UsageRecord | undefined;
  /** Called before each invocation: throws (a NimbusError) to refuse it, as a spent budget does. */
  readonly admission?: (fn: FunctionVersion) => void;
}

export type { DispatchResult, InstanceStates } from "./report.js";

/** An invocation's times: set as its event is handed over (monotonic ms), and as it ends. */
interface RunTiming {
  handed?: number;
  timing?: InvocationTiming;
  /** Ends the timeline now (the invocation's result is in) and returns it. */
  readonly end: () => InvocationTiming;
}

/** What the caller of one invocation provides. The deadline is set when an instance takes it. */
export type DispatchRequest = Omit<InvokeRequest, "deadlineMs"> & {
  /**
   * Called as the event is handed to its instance, with the cold start's phases (undefined
   * for a warm start): a streamed answer's headers leave before the invocation's result.
   */
  readonly onHanded?: (initPhases: InitPhases | undefined) => void;
};

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #pools = new Map<string, Pool>();
  readonly #limits: ConcurrencyLimits;
  readonly #sweeper: TimerHandle;
  #inFlight = 0;
  #draining = false;
  readonly #drained: Array<() => void> = [];
  readonly #scaling: ScaleLimiter | undefined;
  readonly #provisioner: Provisioner;
  readonly #prewarmer: Prewarmer;
  readonly #keepAlive: KeepAlivePolicy;
  readonly #observers: DispatchObserver[] = [];

  constructor(opts: DispatcherOptions) {
    this.#o = opts;
    if (opts.observer) this.#observers.push(opts.observer);
    this.#keepAlive = opts.keepAlive ?? new FixedKeepAlive(opts.keepAliveMs);
    this.#limits = new ConcurrencyLimits(opts.accountConcurrency);
    this.#provisioner = new Provisioner({
      clock: opts.clock,
      start: (fn) => this.#startAhead(fn),
      draining: () => this.#draining,
      stopped: (pool, instance) => this.#forget(pool as Pool, instance),
      spans: opts.provisionedSpans,
    });
    this.#scaling = opts.scaleLimit && new ScaleLimiter({ ...opts.scaleLimit, clock: opts.clock });
    this.#prewarmer = new Prewarmer({
      clock: opts.clock,
      logger: opts.logger,
      start: (fn) => this.#startAhead(fn, "on-demand"),
      held: (pool) => this.#draining || this.#scaling?.take(pool.functionName) !== undefined,
      stopped: (pool, instance) => this.#forget(pool, instance),
    });
    const every = Math.max(10, Math.min(30_000, Math.floor(opts.keepAliveMs / 4)));
    this.#sweeper = opts.clock.setInterval(() => reapIdle(this.#pools.values(), opts.clock.now()), every);
  }

  /** Adds an observer told of every invocation run or throttled (the platform's metrics). */
  observe(observer: DispatchObserver): void {
    this.#observers.push(observer);
  }

  /** Records a function's reserved concurrency (undefined: it uses the unreserved pool). */
  setReservation(functionName: string, reserved: number | undefined): void {
    this.#limits.setReservation(functionName, reserved);
  }

  /** What reservations must leave unreserved (see ConcurrencyLimits). */
  unreservedMinimum(): number {
    return this.#limits.unreservedMinimum();
  }

  /** Concurrency not reserved by any function: what reservations may still take. */
  unreservedCapacity(excluding?: string): number {
    return this.#limits.unreservedCapacity(excluding);
  }

  /** Runs one invocation. Throws NimbusError only for throttles and platform failures. */
  async invoke(
    fn: FunctionVersion,
    req: DispatchRequest,
    origin: InvocationOrigin = { type: "sync" },
  ): Promise<DispatchResult> {
    if (this.#draining) {
      throw new NimbusError(
        "ServiceUnavailable",
        "The platform is shutting down and accepts no new invocations.",
      );
    }
    this.#inFlight++;
    let settling = false;
    const startedAt = this.#o.clock.now();
    const t0 = this.#o.clock.monotonic();
    try {
      this.#o.admission?.(fn);
      const done = this.#limits.admit(fn.functionName);
      let ran: DispatchRun;
      const run: RunTiming = {
        end: () =>
          (run.timing = {
            type: origin.type,
            receivedAt: origin.receivedAt,
            acceptedAt: origin.acceptedAt,
            traceId: req.traceId ?? "",
            startedAt,
            handedAfterMs: run.handed === undefined ? undefined : run.handed - t0,
            totalMs: this.#o.clock.monotonic() - t0,
          }),
      };
      try {
        ran = await this.#run(fn, req, run);
      } finally {
        done();
      }
      const timing = run.timing ?? run.end();
      // The caller has its answer first: END, REPORT, the usage record and the observers
      // follow in the next turn of the loop (a LogType Tail builds its REPORT itself).
      settling = true;
      setImmediate(() => this.#settle(fn, ran, timing));
      return ran.result;
    } catch (err) {
      if (err instanceof NimbusError && err.code === "TooManyRequests")
        for (const o of this.#observers) o.throttled(fn.functionName, String(err.details.Reason ?? err.code));
      else if (err instanceof NimbusError && err.code === "BudgetExceeded")
        for (const o of this.#observers) o.throttled(fn.functionName, "BudgetExceeded");
      throw err;
    } finally {
      if (!settling) this.#ended();
    }
  }

  #settle(fn: FunctionVersion, ran: DispatchRun, timing: InvocationTiming) {
    try {
      ran.settle();
      for (const o of this.#observers) o.invoked(fn, ran.result, timing);
    } catch (err) {
      this.#o.logger.error("recording an invocation failed", { error: String(err) });
    } finally {
      this.#ended();
    }
  }

  #ended(): void {
    if (--this.#inFlight === 0) for (const done of this.#drained.splice(0)) done();
  }

  /**
   * Refuses new invocations and waits until the running ones finish or `graceMs` passes,
   * whichever is first. Returns how many were still running at the deadline.
   */
  async drain(graceMs: number): Promise<number> {
    this.#draining = true;
    if (this.#inFlight === 0) return 0;
    await new Promise<void>((resolve) => {
      const timer = this.#o.clock.setTimeout(resolve, graceMs);
      this.#drained.push(() => {
        timer.cancel();
        resolve();
      });
    });
    return this.#inFlight;
  }

  async #run(fn: FunctionVersion, req: DispatchRequest, run: RunTiming): Promise<DispatchRun> {
    const pool = this.#pool(fn);
    const { clock, logs } = this.#o;
    const { functionName, version } = fn;
    const store = (message: string, usage?: UsageRecord) =>
      logs.write({
        functionName,
        version,
        instanceId: "",
        requestId: req.requestId,
        timestamp: clock.now(),
        message,
        usage,
      });
    const meter = this.#o.meter;
    const record = meter && ((result: DispatchResult) => meter(fn, result, run.timing ?? run.end()));
    const lines: string[] = [];
    let instance = pool.provisionedIdle.pop() ?? pool.idle.pop()?.instance;
    if (!instance && pool.warming) {
      await pool.warming;
      instance = pool.idle.pop()?.instance;
    }
    let initDurationMs: number | undefined;
    let initPhases: InitPhases | undefined;
    if (!instance) {
      const waitMs = this.#scaling?.take(fn.functionName);
      if (waitMs !== undefined) {
        const { burst, perSecond } = this.#o.scaleLimit!;
        throw throttle(
          "FunctionInvocationRateLimitExceeded",
          `Rate Exceeded. Function ${fn.functionName} is starting new instances faster than it may: ` +
            `${burst} at once, then ${perSecond} per second. Retry in ${waitMs} ms.`,
          Math.max(1, Math.ceil(waitMs / 1000)),
        );
      }
      const placing = this.#o.clock.monotonic();
      const worker = this.#o.placement.choose(fn.memoryMb, fn.packageId) ?? (await this.#evictIdleFor(fn));
      const placementMs = this.#o.clock.monotonic() - placing;
      if (!worker) {
        this.#scaling?.giveBack(fn.functionName);
        throw throttle(
          "ConcurrentInvocationLimitExceeded",
          `Rate Exceeded. No worker has ${fn.memoryMb} MB of memory free for a new instance.`,
        );
      }
      const started = await worker.startInstance({
        function: fn,
        functionArn: functionArn(this.#o.region, this.#o.accountId, fn.functionName),
        region: this.#o.region,
        accountId: this.#o.accountId,
        initTimeoutMs: this.#o.initTimeoutMs,
      });
      initDurationMs = started.initDurationMs;
      if (started.phases) initPhases = { placementMs, ...started.phases };
      if (started.kind === "init-failed") {
        if (started.logTail) lines.push(started.logTail);
        const payload =
          started.payload ??
          Buffer.from(
            JSON.stringify({
              errorType: started.errorType,
              errorMessage: `RequestId: ${req.requestId} Error: ${started.reason}`,
            }),
          );
        const outcome: InvokeOutcome = { kind: "error", errorType: started.errorType, payload };
        return dispatchResult({
          figures: () => figuresOf(fn, req.requestId, 0, undefined, initDurationMs),
          outcome,
          cold: true,
          before: lines,
          output: "",
          initPhases,
          store,
          record,
        });
      }
      if (started.logTail) lines.push(started.logTail);
      instance = started.instance;
      pool.all.add(instance);
      const inst = instance;
      instance.onStopped(() => this.#forget(pool, inst));
    }
    const provisioned = pool.provisioned.has(instance);
    // START is stored as the event is handed over, so it precedes the function's own output.
    store(startLine({ requestId: req.requestId, version: fn.version }));
    this.#keepAlive.invoked(fn.functionName, this.#o.clock.now());
    let keep: KeepAliveDecision | undefined;
    run.handed = this.#o.clock.monotonic();
    const { onHanded, ...event } = req;
    onHanded?.(initPhases);
    let result: InvokeResult;
    try {
      result = await instance.invoke({ ...event, deadlineMs: this.#o.clock.now() + fn.timeoutS * 1000 });
    } finally {
      // Even when the platform failed the call: the policy counts calls in progress.
      keep = this.#keepAlive.decide(fn.functionName, this.#o.clock.now());
    }
    if (result.instanceReusable && !pool.retired) {
      // A provisioned instance goes back to its own (or stops, if fewer are wanted now).
      if (!this.#provisioner.release(pool, instance)) this.#keep(pool, instance, keep!);
    } else if (result.instanceReusable) {
      void instance.stop("its function version was replaced");
    }
    const cold = initDurationMs !== undefined;
    return dispatchResult({
      figures: () =>
        figuresOf(
          fn,
          req.requestId,
          result.durationMs,
          result.maxMemoryUsedMb,
          initDurationMs,
          initPhases?.restored,
        ),
      outcome: result.outcome,
      cold,
      before: lines,
      output: result.logTail,
      startStored: true,
      initPhases,
      provisioned,
      store,
      record,
    });
  }

  #poolKey(fn: FunctionVersion): string {
    return versionKey(fn);
  }

  #pool(fn: FunctionVersion): Pool {
    const key = this.#poolKey(fn);
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = {
        key,
        fn,
        functionName: fn.functionName,
        version: fn.version,
        idle: [],
        all: new Set(),
        retired: false,
        prewarm: undefined,
        warming: undefined,
        ...emptyProvisioning(),
      };
      this.#pools.set(key, pool);
    }
    return pool;
  }

  #forget(pool: Pool, instance: InstanceHandle): void {
    pool.all.delete(instance);
    const i = pool.idle.findIndex((e) => e.instance === instance);
    if (i !== -1) pool.idle.splice(i, 1);
    this.#provisioner.forget(pool, instance);
    if (pool.all.size === 0 && this.#pools.get(pool.key) === pool && pool.retired)
      this.#pools.delete(pool.key);
  }

  /**
   * Keeps `count` instances of this version initialised ahead (provisioned concurrency): they
   * start in the background, are never reaped by the keep-alive, serve before on-demand ones
   * and are replaced when they die. Lowering the count stops the extra ones as they go idle.
   */
  setProvisioned(fn: FunctionVersion, count: number): void {
    if (count === 0 && !this.#pools.has(this.#poolKey(fn))) return;
    this.#provisioner.set(this.#pool(fn), count);
  }

  /** A version's provisioned instances: initialised (idle or busy), and why provisioning failed. */
  provisionedState(fn: FunctionVersion): { allocated: number; failure: string | undefined } {
    const pool = this.#pools.get(this.#poolKey(fn));
    return { allocated: pool?.provisioned.size ?? 0, failure: pool?.provisionedFailure };
  }

  /** Starts an instance ahead of any call: a provisioned one, or one the keep-alive policy pre-warms. */
  async #startAhead(
    fn: FunctionVersion,
    initializationType: "on-demand" | "provisioned-concurrency" = "provisioned-concurrency",
  ): Promise<StartResult | undefined> {
    const worker = this.#o.placement.choose(fn.memoryMb, fn.packageId) ?? (await this.#evictIdleFor(fn));
    return worker?.startInstance({
      function: fn,
      functionArn: functionArn(this.#o.region, this.#o.accountId, fn.functionName),
      region: this.#o.region,
      accountId: this.#o.accountId,
      initTimeoutMs: this.#o.initTimeoutMs,
      initializationType,
    });
  }

  /**
   * An on-demand instance after its invocation: idle until the policy's keep-alive ends; or,
   * when the next call is predicted to come late, stopped now and started again before it.
   */
  #keep(pool: Pool, instance: InstanceHandle, d: KeepAliveDecision): void {
    const now = this.#o.clock.now();
    if (d.prewarmAfterMs === 0) {
      pool.idle.push({ instance, lastUsed: now, keepUntil: now + d.keepAliveMs });
      return;
    }
    void instance.stop("its function is not expected to be called before the pre-warm");
    this.#prewarmer.schedule(pool, d.prewarmAfterMs, d.keepAliveMs);
  }

  /** Stops the instances of a function (one version, or all): after an update or delete. */
  retire(functionName: string, version?: string): void {
    if (version === undefined) this.#keepAlive.forget(functionName);
    for (const pool of [...this.#pools.values()]) {
      if (pool.functionName !== functionName || (version !== undefined && pool.version !== version)) continue;
      pool.retired = true;
      pool.prewarm?.cancel();
      this.#pools.delete(pool.key);
      for (const { instance } of pool.idle.splice(0)) void instance.stop("its function version was replaced");
      for (const instance of pool.provisionedIdle.splice(0))
        void instance.stop("its function version was replaced");
    }
  }

  /**
   * When no worker has the memory for a new instance, idle instances (of any function) give
   * theirs back, least recently used first, until one does. Busy instances are never touched.
   */
  async #evictIdleFor(fn: FunctionVersion): Promise<WorkerApi | undefined> {
    for (;;) {
      const oldest = leastRecentlyUsed(this.#pools.values());
      if (!oldest) return undefined;
      await oldest.idle.shift()!.instance.stop("its memory was needed for another instance");
      const worker = this.#o.placement.choose(fn.memoryMb, fn.packageId);
      if (worker) return worker;
    }
  }

  /** Each function version's instances: busy, idle, and of those both, the provisioned ones. */
  instanceStates(): InstanceStates[] {
    return instanceStates(this.#pools.values());
  }

  /** Executions running now, per function (those with none are absent). */
  concurrentExecutions(): ReadonlyMap<string, number> {
    return this.#limits.activeByFunction();
  }

  /** Instances per function: idle and total, for tests and status. */
  instanceCounts(functionName: string): { idle: number; total: number } {
    return instanceCounts(this.#pools.values(), functionName);
  }

  async close(): Promise<void> {
    this.#sweeper.cancel();
    const stops: Promise<void>[] = [];
    for (const pool of this.#pools.values()) {
      pool.prewarm?.cancel();
      for (const i of pool.all) stops.push(i.stop("platform shutting down"));
    }
    this.#pools.clear();
    await Promise.all(stops);
  }
}
