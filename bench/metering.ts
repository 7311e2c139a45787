/**
 * Issue 5's figure: what metering and tracing cost the warm path. Two platforms side by side,
 * the same in all but `metering` (usage records, from which costs, budgets and traces come;
 * metrics are on in both), each with the throughput figure's function and load. Runs come in
 * pairs, one of each back to back (which goes first alternates), and the figure is the median
 * of the pairs' ratios: the machine's drift (other tenants, ±5 % from minute to minute here)
 * falls on both halves of a pair. Six times the usual number of runs, each half as long: with
 * both platforms metering, 10 pairs of 2 s gave medians from ×0.96 to ×1.00, as wide as the
 * cost to be measured; more, shorter pairs narrow it.
 */
import { type BenchContext, type FigureResult, fmtInt, fmtRatio, verdict } from "./lib/context.js";
import { Control, invokePath, PAYLOAD } from "./lib/functions.js";
import { expectOk, keepAliveAgent, Signer, send } from "./lib/http-client.js";
import { PlatformProcess } from "./lib/platform.js";
import { overRuns, percentile } from "./lib/stats.js";
import { load, type ThroughputOptions } from "./throughput.js";

/** At most 5 % of warm throughput. */
const TARGET_RATIO = 0.95;
const FUNCTION = "bench-metering";
const WARMUP_MS = 4000;

interface Side {
  readonly platform: PlatformProcess;
  readonly base: URL;
  readonly headers: Record<string, string>;
  readonly instancePids: readonly number[];
}

export async function meteringCost(ctx: BenchContext, o: ThroughputOptions): Promise<FigureResult> {
  const path = invokePath(FUNCTION);
  const open = async (metering: boolean): Promise<Side> => {
    const platform = await PlatformProcess.start({
      settings: { poolSize: 0, metering, sandbox: ctx.sandbox },
    });
    const base = new URL(platform.url);
    await new Control(platform.url, platform.credentials).deploy(FUNCTION, { reserved: o.instances });
    const headers = await new Signer(platform.credentials).post(base, path, PAYLOAD);
    const agent = keepAliveAgent(o.instances);
    await Promise.all(
      Array.from({ length: o.instances }, async () =>
        expectOk(await send(agent, base, path, headers, PAYLOAD), "scale-out invoke"),
      ),
    );
    agent.destroy();
    return { platform, base, headers, instancePids: await platform.instancePids() };
  };
  const sides: Side[] = [];
  const on: number[] = [];
  const off: number[] = [];
  const cpu = { on: [] as number[], off: [] as number[] };
  try {
    sides.push(await open(true), await open(false));
    const [metered, bare] = sides as [Side, Side];
    ctx.progress("metering: warming up");
    for (const s of sides) await load(s.base, path, s.headers, { ...o, durationMs: WARMUP_MS }, [], []);
    const runs = 6 * ctx.runs;
    const run1 = { ...o, durationMs: Math.max(250, o.durationMs / 2), warmupMs: Math.min(o.warmupMs, 250) };
    for (let run = 0; run < runs; run++) {
      ctx.progress(`metering: run ${run + 1}/${runs}`);
      // Alternating which goes first, so neither always runs on a warmer machine.
      const order = run % 2 === 0 ? [metered, bare] : [bare, metered];
      for (const s of order) {
        const r = await load(s.base, path, s.headers, run1, [s.platform.pid], s.instancePids);
        (s === metered ? on : off).push(r.perSecond);
        (s === metered ? cpu.on : cpu.off).push(r.serverCpuUs);
      }
    }
  } finally {
    for (const s of sides) await s.platform.close();
  }
  const a = overRuns(on);
  const b = overRuns(off);
  const pairRatios = on.map((x, i) => x / off[i]!);
  const ratios = overRuns(pairRatios);
  const quartiles = [percentile(pairRatios, 25), percentile(pairRatios, 75)] as const;
  const ratio = ratios.median;
  const cpuOn = overRuns(cpu.on).median;
  const cpuOff = overRuns(cpu.off).median;
  const pass = ratio >= TARGET_RATIO;
  return {
    name: "metering",
    line:
      `warm throughput with metering and tracing ${fmtInt(a.median)}/s (worst run ${fmtInt(a.min)}) | ` +
      `without ${fmtInt(b.median)}/s (worst run ${fmtInt(b.min)}) | ${fmtRatio(ratio)} (median of ${on.length} pairs; middle half ` +
      `${fmtRatio(quartiles[0])}–${fmtRatio(quartiles[1])}) ` +
      `(target ≥ ${fmtRatio(TARGET_RATIO)}) ${verdict(pass)}`,
    notes: [
      `platform CPU per invocation: ${fmtInt(cpuOn)} µs with, ${fmtInt(cpuOff)} µs without ` +
        `(+${fmtInt(cpuOn - cpuOff)} µs); ${o.instances} instances, runs alternating`,
    ],
    pass,
    data: {
      unit: "invocations/s",
      with: a,
      without: b,
      ratio,
      ratios,
      quartiles,
      cpuUs: cpu,
      target: { ratio: TARGET_RATIO },
    },
  };
}
