/**
 * The values `--ab` compares (`ab.ts`), read from the results file each checkout's bench
 * writes: `figures[name]` holds the figure's `data`, of the same shape before issue 12 and
 * since. To compare one more value, add a line here.
 */
import { medianOfFew, percentile } from "./lib/stats.js";

export type Data = Record<string, unknown>;

/** One value A/B compares: where it is in a figure's entry of the bench's results file. */
export interface Metric {
  readonly label: string;
  readonly fmt: (v: number) => string;
  /** Which way is better, to say which side a difference outside the noise favours. */
  readonly better: "lower" | "higher";
  readonly value: (data: Data) => number | undefined;
}

export interface FigureMetrics {
  /** The figure's name in the results file. */
  readonly name: string;
  readonly metrics: readonly Metric[];
}

const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
const rate = (v: number) => `${Math.round(v).toLocaleString("en-US")}/s`;
const mb = (kb: number) => `${(kb / 1024).toFixed(2)} MB`;
const plain = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));
const at = (data: Data, path: string): number | undefined => {
  let v: unknown = data;
  for (const key of path.split(".")) v = (v as Data | undefined)?.[key];
  return typeof v === "number" ? v : undefined;
};
const numbers = (data: Data, key: string): number[] =>
  Array.isArray(data[key]) ? (data[key] as unknown[]).filter((v): v is number => typeof v === "number") : [];
const lower = (label: string, fmt: (v: number) => string, path: string): Metric => ({
  label,
  fmt,
  better: "lower",
  value: (d) => at(d, path),
});
const higher = (label: string, fmt: (v: number) => string, path: string): Metric => ({
  label,
  fmt,
  better: "higher",
  value: (d) => at(d, path),
});

/**
 * The values compared, read from the results file both the old and the new bench write
 * (`figures[name]`: the figure's `data`). Baseline-relative values are listed too: a ratio to
 * a baseline of the same invocation carries less of the machine's drift.
 */
export const METRICS: Record<string, FigureMetrics> = {
  latency: {
    name: "warm latency",
    metrics: [
      lower("added p50", ms, "added.p50"),
      lower("added p99", ms, "added.p99"),
      lower("end to end p50", ms, "platform.p50"),
      lower("end to end p99", ms, "platform.p99"),
    ],
  },
  throughput: {
    name: "throughput",
    metrics: [
      higher("median run", rate, "platform.median"),
      higher("÷ bare node:http", plain, "ratio"),
      higher("÷ isolation floor", plain, "ratioToFloor"),
    ],
  },
  cold: {
    name: "cold start",
    metrics: [
      lower("p50", ms, "platform.p50"),
      lower("p99", ms, "platform.p99"),
      lower("Init Duration p50", ms, "initDuration.p50"),
      {
        label: "p50 ÷ node -e 0 p50",
        fmt: plain,
        better: "lower",
        value: (d) => ratioOf(at(d, "platform.p50"), at(d, "baseline.p50")),
      },
    ],
  },
  memory: { name: "idle memory", metrics: [lower("PSS per instance", mb, "platform.pss.median")] },
  pool: {
    name: "pool",
    metrics: [
      lower("p50", ms, "coldFromPool.p50"),
      lower("p99", ms, "coldFromPool.p99"),
      {
        label: "burst, new/s per core",
        fmt: plain,
        better: "higher",
        value: (d) => medianOrUndefined(numbers(d, "newInstancesPerSecondPerCore")),
      },
    ],
  },
  provisioned: {
    name: "provisioned",
    metrics: [lower("first call p50", ms, "first.p50"), lower("next call p50", ms, "warm.p50")],
  },
  snapshot: {
    name: "snapshot",
    metrics: [lower("restored p50", ms, "restored.p50"), lower("without snapshot p50", ms, "plain.p50")],
  },
  start: {
    name: "async start",
    metrics: [
      {
        label: "202 → start p50",
        fmt: ms,
        better: "lower",
        value: (d) => {
          const v = numbers(d, "asyncMs");
          return v.length > 0 ? percentile(v, 50) : undefined;
        },
      },
    ],
  },
  accept: {
    name: "async accept",
    metrics: [
      {
        label: "accepted/s",
        fmt: rate,
        better: "higher",
        value: (d) => medianOrUndefined(numbers(d, "acceptedPerSecond")),
      },
    ],
  },
  kill: { name: "async kill", metrics: [lower("acknowledged events lost", plain, "lost")] },
  keepalive: {
    name: "keep-alive",
    metrics: [
      lower("adaptive cold starts", plain, "adaptive.cold"),
      lower("adaptive idle hours", (v) => `${(v / 3_600_000).toFixed(1)} h`, "adaptive.idleMs"),
    ],
  },
  metering: { name: "metering", metrics: [higher("with ÷ without metering", plain, "ratio")] },
  sqs: {
    name: "sqs send",
    metrics: [
      {
        label: "SendMessage/s",
        fmt: rate,
        better: "higher",
        value: (d) => medianOrUndefined(numbers(d, "sendPerSecond")),
      },
    ],
  },
  queuestart: { name: "queue start", metrics: [p50Of("answer → start p50", "answerToStartMs")] },
  busstart: { name: "bus start", metrics: [p50Of("answer → start p50", "answerToStartMs")] },
  rules: {
    name: "rule matching",
    metrics: [
      {
        label: "ns per event, 1,000 rules",
        fmt: plain,
        better: "lower",
        value: (d) => medianOrUndefined(numbers((d.nsPerEvent ?? {}) as Data, "index")),
      },
    ],
  },
  sqskill: { name: "sqs kill", metrics: [lower("acknowledged messages lost", plain, "lost")] },
  authjwt: {
    name: "auth jwt",
    metrics: [higher("÷ the route without auth", plain, "ratio"), higher("JWT route", rate, "jwt.median")],
  },
  authrefresh: { name: "auth refresh", metrics: [higher("rotations", rate, "rotations.median")] },
  authsignin: {
    name: "auth sign-in",
    metrics: [
      lower("added p99", ms, "added.p99"),
      lower("p99 with sign-ins", ms, "with.p99"),
      lower("p99 without", ms, "without.p99"),
      lower("control: added p99", ms, "control.added.p99"),
    ],
  },
};

function p50Of(label: string, key: string): Metric {
  return {
    label,
    fmt: ms,
    better: "lower",
    value: (d) => {
      const v = numbers(d, key);
      return v.length > 0 ? percentile(v, 50) : undefined;
    },
  };
}

function ratioOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function medianOrUndefined(v: readonly number[]): number | undefined {
  return v.length > 0 ? medianOfFew(v) : undefined;
}
