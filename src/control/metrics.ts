/**
 * The platform's metrics in Prometheus's text format (`GET /metrics`), kept with prom-client.
 * Counters and histograms are fed by the dispatcher as invocations end (`DispatchObserver`);
 * gauges are read when scraped. Each platform has its own registry: several may share a
 * process (tests), and none touches prom-client's global one.
 *
 * Series are per function (label `function`), not per version: a version is a deploy, and a
 * label per deploy would grow without bound. Series of a deleted function stay until restart,
 * as counters must never go backwards while a scraper watches them.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { FunctionVersion } from "../protocol/function.js";
import type { Backlog } from "./async/queue.js";
import type { InstanceStates } from "./dispatcher.js";
import {
  type DispatchObserver,
  type DispatchResult,
  errorTypeOf,
  INIT_PHASES,
  type InvocationTiming,
} from "./report.js";

/** Seconds: from a warm call's tenth of a millisecond up to the 15-minute timeout. */
const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
  300, 900,
];
/** Seconds: a pooled start's phases are tenths of a millisecond, a large init seconds. */
const PHASE_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

export interface MetricsSources {
  readonly instances: () => readonly InstanceStates[];
  readonly concurrency: () => ReadonlyMap<string, number>;
  readonly backlog: () => Promise<readonly Backlog[]>;
  /** Runtimes waiting in the warm pool. */
  readonly pooledRuntimes: () => number;
  /** Epoch ms. */
  readonly now: () => number;
}

/**
 * The series one function touches on every invocation, looked up once, and what they are owed:
 * prom-client validates and hashes the labels on every call (~2 µs each), so an invocation
 * only counts here and the counts reach prom-client when scraped, or every FLUSH_AT durations.
 */
interface FunctionSeries {
  readonly sync: Counter.Internal;
  readonly async: Counter.Internal;
  readonly duration: Histogram.Internal<"function">;
  syncOwed: number;
  asyncOwed: number;
  readonly durationsOwed: number[];
}

/** Durations held per function before they are handed to prom-client unasked. */
const FLUSH_AT = 512;

export class PlatformMetrics implements DispatchObserver {
  readonly registry = new Registry();
  readonly #invocations: Counter<"function" | "type">;
  readonly #errors: Counter<"function" | "error_type">;
  readonly #throttles: Counter<"function" | "reason">;
  readonly #duration: Histogram<"function">;
  readonly #coldStarts: Counter<"function" | "source">;
  readonly #initDuration: Histogram<"function">;
  readonly #phases: Histogram<"function" | "phase">;
  readonly #series = new Map<string, FunctionSeries>();
  #backlog: Promise<readonly Backlog[]> | undefined;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const settle = () => {
      for (const s of this.#series.values()) settleSeries(s);
    };
    this.#invocations = new Counter({
      name: "nimbus_invocations_total",
      help: "Invocations run, by how they came (sync: a caller waited; async: from the event queue).",
      labelNames: ["function", "type"],
      registers,
      collect: settle,
    });
    this.#errors = new Counter({
      name: "nimbus_invocation_errors_total",
      help: "Invocations that ended in an error, by the error type the caller saw (the function's own, Sandbox.Timedout, Runtime.ExitError, ...).",
      labelNames: ["function", "error_type"],
      registers,
    });
    this.#throttles = new Counter({
      name: "nimbus_throttles_total",
      help: "Invocations refused with 429, by Lambda's reason (reserved or account concurrency, burst rate).",
      labelNames: ["function", "reason"],
      registers,
    });
    this.#duration = new Histogram({
      name: "nimbus_invocation_duration_seconds",
      help: "Time from handing the event to the runtime until its answer (the REPORT line's Duration).",
      labelNames: ["function"],
      buckets: DURATION_BUCKETS,
      registers,
      collect: settle,
    });
    this.#coldStarts = new Counter({
      name: "nimbus_cold_starts_total",
      help: "Invocations that started a new instance, by where it came from (pool: a warm-pool runtime; snapshot: restored; process: a new runtime process).",
      labelNames: ["function", "source"],
      registers,
    });
    this.#initDuration = new Histogram({
      name: "nimbus_init_duration_seconds",
      help: "A cold start's Init Duration (or Restore Duration, for a snapshot), as the REPORT line gives it.",
      labelNames: ["function"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#phases = new Histogram({
      name: "nimbus_cold_start_phase_seconds",
      help: "A cold start's phases: placement, code, sandbox, runtime, function_init (see X-Nimbus-Init-Phases).",
      labelNames: ["function", "phase"],
      buckets: PHASE_BUCKETS,
      registers,
    });
    new Gauge({
      name: "nimbus_concurrent_executions",
      help: "Invocations running now.",
      labelNames: ["function"],
      registers,
      collect() {
        this.reset();
        for (const [fn, n] of sources.concurrency()) this.set({ function: fn }, n);
      },
    });
    new Gauge({
      name: "nimbus_instances",
      help: "Instances (execution environments) by state: busy running an invocation, idle and warm; provisioned ones count in both and in nimbus_provisioned_instances.",
      labelNames: ["function", "state"],
      registers,
      collect() {
        this.reset();
        for (const [fn, s] of byFunction(sources.instances())) {
          this.set({ function: fn, state: "busy" }, s.busy);
          this.set({ function: fn, state: "idle" }, s.idle);
        }
      },
    });
    new Gauge({
      name: "nimbus_provisioned_instances",
      help: "Provisioned-concurrency instances initialised (busy or idle).",
      labelNames: ["function"],
      registers,
      collect() {
        this.reset();
        for (const [fn, s] of byFunction(sources.instances()))
          if (s.provisioned > 0) this.set({ function: fn }, s.provisioned);
      },
    });
    new Gauge({
      name: "nimbus_warm_pool_runtimes",
      help: "Runtimes started in their sandboxes and waiting in the warm pool for a function.",
      registers,
      collect() {
        this.set(sources.pooledRuntimes());
      },
    });
    // Both read the same backlog query, made once per scrape (`expose` forgets the last one).
    const readBacklog = () => {
      this.#backlog ??= sources.backlog();
      return this.#backlog;
    };
    new Gauge({
      name: "nimbus_async_queue_depth",
      help: "Asynchronous events waiting to run (queued, or waiting for a retry).",
      labelNames: ["function"],
      registers,
      async collect() {
        const rows = await readBacklog();
        this.reset();
        for (const b of rows) this.set({ function: b.functionName }, b.waiting);
      },
    });
    new Gauge({
      name: "nimbus_async_oldest_event_age_seconds",
      help: "Age of the oldest asynchronous event waiting, since it was accepted.",
      labelNames: ["function"],
      registers,
      async collect() {
        const rows = await readBacklog();
        const now = sources.now();
        this.reset();
        for (const b of rows)
          this.set({ function: b.functionName }, Math.max(0, now - b.oldestAcceptedAt) / 1000);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  invoked(fn: FunctionVersion, result: DispatchResult, how: InvocationTiming): void {
    const s = this.#seriesOf(fn.functionName);
    if (how.type === "sync") s.syncOwed++;
    else s.asyncOwed++;
    if (s.durationsOwed.push(result.figures.durationMs / 1000) >= FLUSH_AT) settleSeries(s);
    const errorType = errorTypeOf(result.outcome);
    if (errorType !== undefined) this.#errors.inc({ function: fn.functionName, error_type: errorType });
    if (!result.cold) return;
    const p = result.initPhases;
    this.#coldStarts.inc({
      function: fn.functionName,
      source: p?.restored ? "snapshot" : p?.pooled ? "pool" : "process",
    });
    if (result.figures.initDurationMs !== undefined)
      this.#initDuration.observe({ function: fn.functionName }, result.figures.initDurationMs / 1000);
    if (!p) return;
    for (const [phase, key] of INIT_PHASES) {
      const ms = p[key];
      if (ms !== undefined) this.#phases.observe({ function: fn.functionName, phase }, ms / 1000);
    }
  }

  throttled(functionName: string, reason: string): void {
    this.#throttles.inc({ function: functionName, reason });
  }

  /** The exposition: what `GET /metrics` answers, with its content type. */
  async expose(): Promise<{ contentType: string; body: string }> {
    this.#backlog = undefined;
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #seriesOf(functionName: string): FunctionSeries {
    let s = this.#series.get(functionName);
    if (!s) {
      s = {
        sync: this.#invocations.labels({ function: functionName, type: "sync" }),
        async: this.#invocations.labels({ function: functionName, type: "async" }),
        duration: this.#duration.labels({ function: functionName }),
        syncOwed: 0,
        asyncOwed: 0,
        durationsOwed: [],
      };
      this.#series.set(functionName, s);
    }
    return s;
  }
}

/** Hands prom-client what a function's series are owed. */
function settleSeries(s: FunctionSeries): void {
  if (s.syncOwed > 0) s.sync.inc(s.syncOwed);
  if (s.asyncOwed > 0) s.async.inc(s.asyncOwed);
  s.syncOwed = 0;
  s.asyncOwed = 0;
  for (const seconds of s.durationsOwed) s.duration.observe(seconds);
  s.durationsOwed.length = 0;
}

function byFunction(
  states: readonly InstanceStates[],
): Map<string, { busy: number; idle: number; provisioned: number }> {
  const out = new Map<string, { busy: number; idle: number; provisioned: number }>();
  for (const s of states) {
    const t = out.get(s.functionName) ?? { busy: 0, idle: 0, provisioned: 0 };
    t.busy += s.busy;
    t.idle += s.idle;
    t.provisioned += s.provisioned;
    out.set(s.functionName, t);
  }
  return out;
}
