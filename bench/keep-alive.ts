/**
 * Issue 4's keep-alive figure: a synthetic two-day invocation trace of frequent, periodic,
 * bursty and rare functions, replayed against the platform's own policy objects
 * (`src/control/keep-alive.ts`): the fixed 10-minute keep-alive (the baseline) and the
 * adaptive hybrid-histogram policy. Each function has one instance; an invocation finds it
 * warm or starts it (a cold start). Printed: the share of cold starts and the idle
 * instance-hours (an instance loaded and not running), for both. A simulation on a seeded
 * trace, so the same in every run: it measures the policy, not the machine.
 */
import { FixedKeepAlive, HybridHistogramKeepAlive, type KeepAlivePolicy } from "../src/control/keep-alive.js";
import { type FigureResult, fmtInt, fmtRatio, verdict } from "./lib/context.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TRACE_MS = 48 * HOUR;
const RUN_MS = 300;
const FIXED_MS = 10 * MINUTE;

/** mulberry32: a small seeded generator, so the trace is the same in every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface TraceFunction {
  readonly name: string;
  readonly kind: "frequent" | "periodic" | "bursty" | "rare";
  readonly starts: number[];
}

export function syntheticTrace(seed = 42): TraceFunction[] {
  const rnd = random(seed);
  const exp = (mean: number) => -Math.log(1 - rnd()) * mean;
  const fns: TraceFunction[] = [];
  const poisson = (name: string, kind: TraceFunction["kind"], mean: number) => {
    const starts: number[] = [];
    for (let t = exp(mean); t < TRACE_MS; t += exp(mean)) starts.push(t);
    fns.push({ name, kind, starts });
  };
  for (let i = 0; i < 10; i++) poisson(`frequent-${i}`, "frequent", (0.2 + rnd() * 2) * MINUTE);
  for (let i = 0; i < 10; i++) {
    const period = [5, 15, 20, 30, 60, 90][i % 6]! * MINUTE;
    const starts: number[] = [];
    for (let t = rnd() * period; t < TRACE_MS; t += period) starts.push(t + (rnd() - 0.5) * 0.04 * period);
    fns.push({ name: `periodic-${i}`, kind: "periodic", starts });
  }
  for (let i = 0; i < 5; i++) {
    const starts: number[] = [];
    for (let t = exp(HOUR); t < TRACE_MS; t += exp(HOUR)) {
      const calls = 5 + Math.floor(rnd() * 20);
      for (let c = 0, at = t; c < calls; c++, at += rnd() * 5000) starts.push(at);
    }
    fns.push({ name: `bursty-${i}`, kind: "bursty", starts });
  }
  for (let i = 0; i < 10; i++) poisson(`rare-${i}`, "rare", (2 + rnd() * 4) * HOUR);
  return fns;
}

interface Outcome {
  readonly invocations: number;
  readonly cold: number;
  readonly idleMs: number;
}

/** Replays each function's invocations against `policy`, one instance per function. */
export function replay(trace: readonly TraceFunction[], policy: KeepAlivePolicy): Outcome {
  let invocations = 0;
  let cold = 0;
  let idleMs = 0;
  for (const fn of trace) {
    // When the instance is (or will be) loaded, and until when it waits.
    let loadedFrom = Number.NEGATIVE_INFINITY;
    let loadedUntil = Number.NEGATIVE_INFINITY;
    let busyUntil = Number.NEGATIVE_INFINITY;
    for (const start of [...fn.starts].sort((a, b) => a - b)) {
      invocations++;
      if (start < busyUntil) {
        // Still running the previous call: as if a second instance served it warm.
        policy.invoked(fn.name, start);
        policy.decide(fn.name, start + RUN_MS);
        continue;
      }
      const warm = start >= loadedFrom && start <= loadedUntil;
      if (warm) idleMs += start - loadedFrom;
      else {
        cold++;
        // A window that passed unused was idle the whole time.
        if (loadedUntil > loadedFrom && loadedUntil < start) idleMs += loadedUntil - loadedFrom;
      }
      policy.invoked(fn.name, start);
      const end = start + RUN_MS;
      busyUntil = end;
      const d = policy.decide(fn.name, end);
      loadedFrom = end + d.prewarmAfterMs;
      loadedUntil = loadedFrom + d.keepAliveMs;
    }
    if (loadedUntil > loadedFrom) idleMs += Math.min(loadedUntil, TRACE_MS) - Math.min(loadedFrom, TRACE_MS);
  }
  return { invocations, cold, idleMs };
}

export function keepAliveFigure(): FigureResult {
  const trace = syntheticTrace();
  const fixed = replay(trace, new FixedKeepAlive(FIXED_MS));
  const adaptive = replay(trace, new HybridHistogramKeepAlive({ fixedMs: FIXED_MS }));
  const pct = (o: Outcome) => (100 * o.cold) / o.invocations;
  const hours = (o: Outcome) => o.idleMs / HOUR;
  const pass = adaptive.cold < fixed.cold && adaptive.idleMs <= fixed.idleMs;
  return {
    name: "keep-alive",
    line:
      `adaptive: ${pct(adaptive).toFixed(2)}% cold starts (${fmtInt(adaptive.cold)}), ` +
      `${hours(adaptive).toFixed(1)} idle instance-hours | fixed 10 min: ${pct(fixed).toFixed(2)}% ` +
      `(${fmtInt(fixed.cold)}), ${hours(fixed).toFixed(1)} h | cold ${fmtRatio(adaptive.cold / fixed.cold)}, ` +
      `idle ${fmtRatio(adaptive.idleMs / fixed.idleMs)} (target: fewer cold starts, no more idle) ${verdict(pass)}`,
    notes: [
      `${trace.length} functions (10 frequent, 10 periodic, 5 bursty, 10 rare), ` +
        `${fmtInt(fixed.invocations)} invocations over 48 simulated hours, seeded`,
    ],
    pass,
    data: { fixed, adaptive, functions: trace.length, traceHours: TRACE_MS / HOUR },
  };
}
