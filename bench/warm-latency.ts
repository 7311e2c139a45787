/**
 * Figure 1: warm invocation latency added by the platform. Sequential invocations of a warm
 * instance through the Lambda Invoke API, against the same handler behind a bare node:http
 * server; both over one keep-alive connection, each request signed before its timer starts.
 */
import { type BenchContext, type FigureResult, fmtMs, fmtRatio, verdict } from "./lib/context.js";
import { invokePath, PAYLOAD } from "./lib/functions.js";
import { expectOk, type Headers, keepAliveAgent, type Signer, send } from "./lib/http-client.js";
import { startBareServer } from "./lib/proc.js";
import { percentile, spread } from "./lib/stats.js";

export interface WarmLatencyOptions {
  /** Timed requests per run, for each of the platform and the baseline. */
  readonly requests: number;
  readonly warmup: number;
}

const TARGET_P50_MS = 0.3;
const TARGET_P99_MS = 2;
/** Invocations with LogType Tail, after the timed ones, to read the instance's own Duration. */
const TAIL_SAMPLES = 300;
/**
 * Untimed requests before the first run: the platform and its instance need a few thousand
 * invocations before V8 has optimised their hot paths (the first run is otherwise ~2× slower).
 */
const FIGURE_WARMUP_REQUESTS = 3000;
const FUNCTION = "bench-warm-latency";

export async function warmLatency(ctx: BenchContext, o: WarmLatencyOptions): Promise<FigureResult> {
  await ctx.control.deploy(FUNCTION);
  const bare = await startBareServer();
  const path = invokePath(FUNCTION);
  const platformRuns: number[][] = [];
  const bareRuns: number[][] = [];
  let durations: number[] = [];
  try {
    ctx.progress("warm latency: warming up");
    const signed = (base: URL) => () => ctx.signer.post(base, path, PAYLOAD);
    await sequential(ctx.base, path, signed(ctx.base), { requests: 0, warmup: FIGURE_WARMUP_REQUESTS });
    await sequential(bare.url, path, signed(bare.url), { requests: 0, warmup: FIGURE_WARMUP_REQUESTS });
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`warm latency: run ${run + 1}/${ctx.runs}`);
      platformRuns.push(await sequential(ctx.base, path, signed(ctx.base), o));
      bareRuns.push(await sequential(bare.url, path, signed(bare.url), o));
    }
    durations = await reportedDurations(ctx.signer, ctx.base, path);
  } finally {
    bare.close();
    await ctx.control.remove(FUNCTION);
  }

  const platform = spread(platformRuns.flat());
  const baseline = spread(bareRuns.flat());
  const added = { p50: platform.p50 - baseline.p50, p99: platform.p99 - baseline.p99 };
  const duration = spread(durations);
  const pass = added.p50 <= TARGET_P50_MS && added.p99 <= TARGET_P99_MS;
  return {
    name: "warm latency",
    line:
      `platform p50 ${fmtMs(platform.p50)} ms p99 ${fmtMs(platform.p99)} ms | ` +
      `bare node:http p50 ${fmtMs(baseline.p50)} ms p99 ${fmtMs(baseline.p99)} ms | ` +
      `${fmtRatio(platform.p50 / baseline.p50)} / ${fmtRatio(platform.p99 / baseline.p99)} | ` +
      `added p50 ${fmtMs(added.p50)} ms p99 ${fmtMs(added.p99)} ms ` +
      `(target ≤${TARGET_P50_MS} / ≤${TARGET_P99_MS}) ${verdict(pass)}`,
    notes: [
      `instance round trip (REPORT Duration: event handed to the runtime → its /response) ` +
        `p50 ${fmtMs(duration.p50)} ms p99 ${fmtMs(duration.p99)} ms; ` +
        `per-run platform p50 ${platformRuns.map((r) => fmtMs(percentile(r, 50))).join(" ")} ms`,
    ],
    pass,
    data: {
      unit: "ms",
      requestsPerRun: o.requests,
      platform,
      baseline,
      added,
      target: { p50: TARGET_P50_MS, p99: TARGET_P99_MS },
      reportedDuration: duration,
      perRun: platformRuns.map((r, i) => ({ platform: spread(r), baseline: spread(bareRuns[i]!) })),
    },
    headline: { p50: platform.p50, p99: platform.p99, addedP50: added.p50, addedP99: added.p99 },
  };
}

/**
 * Timed sequential requests over one keep-alive connection; each request's headers (a SigV4
 * signature, for the Invoke API) are made off the clock.
 */
export async function sequential(
  base: URL,
  path: string,
  headersOf: () => Headers | Promise<Headers>,
  o: WarmLatencyOptions,
): Promise<number[]> {
  const agent = keepAliveAgent(1);
  const samples: number[] = [];
  try {
    for (let i = 0; i < o.warmup + o.requests; i++) {
      const headers = await headersOf();
      const start = performance.now();
      const reply = await send(agent, base, path, headers, PAYLOAD);
      const elapsed = performance.now() - start;
      expectOk(reply, `invoke ${base.host}${path}`);
      if (i >= o.warmup) samples.push(elapsed);
    }
  } finally {
    agent.destroy();
  }
  return samples;
}

/** The platform's own Duration of warm invocations, from the REPORT line of LogType Tail. */
async function reportedDurations(signer: Signer, base: URL, path: string): Promise<number[]> {
  const agent = keepAliveAgent(1);
  const out: number[] = [];
  try {
    for (let i = 0; i < TAIL_SAMPLES; i++) {
      const headers = await signer.post(base, path, PAYLOAD, { "x-amz-log-type": "Tail" });
      const reply = await send(agent, base, path, headers, PAYLOAD);
      expectOk(reply, "invoke with LogType Tail");
      const tail = Buffer.from(String(reply.headers["x-amz-log-result"] ?? ""), "base64").toString("utf8");
      const m = /\tDuration: ([\d.]+) ms/.exec(tail);
      if (m) out.push(Number(m[1]));
    }
  } finally {
    agent.destroy();
  }
  return out;
}
