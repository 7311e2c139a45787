/**
 * Figure 4: memory per idle instance. Concurrent invocations that wait a little force the
 * platform to start N instances of one function; once idle, their PSS (and RSS, anonymous)
 * from /proc/<pid>/smaps_rollup is summed and divided by N. Baseline: N idle
 * `node -e "setInterval(()=>{},1e9)"` processes with an empty environment, measured alone.
 *
 * The figure is the runtime's process (the pid the worker reports). A sandbox may keep a
 * process of its own on the host between the platform and the runtime (the jail: bubblewrap's
 * monitor, the runtime's parent); that one is measured apart and reported beside it.
 */
import type { ChildProcess } from "node:child_process";
import { type BenchContext, type FigureResult, fmtMb, fmtRatio, verdict } from "./lib/context.js";
import { invokePath } from "./lib/functions.js";
import { expectOk, keepAliveAgent, send } from "./lib/http-client.js";
import { type MemoryKb, memoryOf, parentOf, sleep, spawnCleanNode } from "./lib/proc.js";
import { overRuns } from "./lib/stats.js";

export interface IdleMemoryOptions {
  readonly instances: number;
  /** How long instances (and baseline processes) sit idle before they are measured. */
  readonly settleMs: number;
}

const TARGET_PSS_MB = 12;
/** Each scale-out invocation holds its instance this long, so none is free for the others. */
const HOLD_MS = 300;
const STOP_TIMEOUT_MS = 5000;

export async function idleMemory(ctx: BenchContext, o: IdleMemoryOptions): Promise<FigureResult> {
  const platformRuns: MemoryKb[] = [];
  const monitorRuns: MemoryKb[] = [];
  const bareRuns: MemoryKb[] = [];
  for (let run = 0; run < ctx.runs; run++) {
    ctx.progress(`idle memory: run ${run + 1}/${ctx.runs}`);
    await waitForNoInstances(ctx);
    const measured = await instancesAverage(ctx, `bench-memory-${run}`, o);
    platformRuns.push(measured.runtime);
    if (measured.monitor) monitorRuns.push(measured.monitor);
    await waitForNoInstances(ctx);
    bareRuns.push(await baselineAverage(o));
  }

  const pick = (runs: MemoryKb[], k: keyof MemoryKb) => overRuns(runs.map((r) => r[k]));
  const pss = pick(platformRuns, "pss");
  const rss = pick(platformRuns, "rss");
  const anon = pick(platformRuns, "anon");
  const bPss = pick(bareRuns, "pss");
  const bRss = pick(bareRuns, "rss");
  const bAnon = pick(bareRuns, "anon");
  const monitor = monitorRuns.length > 0 ? pick(monitorRuns, "pss") : undefined;
  const pass = pss.median / 1024 <= TARGET_PSS_MB;
  return {
    name: "idle memory",
    line:
      `${ctx.sandbox} runtime PSS ${fmtMb(pss.median)} MB/instance (worst run ${fmtMb(pss.max)}; ` +
      `RSS ${fmtMb(rss.median)}, anon ${fmtMb(anon.median)}) | ` +
      `idle node PSS ${fmtMb(bPss.median)} MB (RSS ${fmtMb(bRss.median)}, anon ${fmtMb(bAnon.median)}) | ` +
      `${fmtRatio(pss.median / bPss.median)} | ${o.instances} instances ` +
      `(target ≤${TARGET_PSS_MB} MB) ${verdict(pass)}`,
    notes: [
      `above an idle node: PSS +${fmtMb(pss.median - bPss.median)} MB, ` +
        `anon +${fmtMb(anon.median - bAnon.median)} MB per instance`,
      monitor
        ? `not included above: the sandbox's own host process per instance (bubblewrap's monitor, the runtime's parent) ` +
          `PSS ${fmtMb(monitor.median)} MB (worst run ${fmtMb(monitor.max)}); both together ${fmtMb(pss.median + monitor.median)} MB`
        : "no host process of the sandbox's own besides the runtime",
    ],
    pass,
    data: {
      unit: "kB per process",
      instances: o.instances,
      sandbox: ctx.sandbox,
      platform: { pss, rss, anon },
      sandboxMonitor: monitor ? { pss: monitor } : null,
      baseline: { pss: bPss, rss: bRss, anon: bAnon },
      target: { pssMb: TARGET_PSS_MB },
      perRun: platformRuns.map((p, i) => ({ platform: p, monitor: monitorRuns[i], baseline: bareRuns[i] })),
    },
    headline: {
      pssKb: pss.median,
      rssKb: rss.median,
      anonKb: anon.median,
      ...(monitor ? { monitorPssKb: monitor.median } : {}),
    },
  };
}

/** Per instance: its runtime's memory, and that of the sandbox's own host process if it has one. */
async function instancesAverage(
  ctx: BenchContext,
  name: string,
  o: IdleMemoryOptions,
): Promise<{ runtime: MemoryKb; monitor: MemoryKb | undefined }> {
  await ctx.control.deploy(name);
  try {
    const path = invokePath(name);
    const body = Buffer.from(JSON.stringify({ waitMs: HOLD_MS }));
    const agent = keepAliveAgent(o.instances);
    const signed = await Promise.all(
      Array.from({ length: o.instances }, () => ctx.signer.post(ctx.base, path, body)),
    );
    await Promise.all(
      signed.map(async (h) => expectOk(await send(agent, ctx.base, path, h, body), "scale-out invoke")),
    );
    agent.destroy();
    await sleep(o.settleMs);
    const pids = await ctx.platform.instancePids();
    if (pids.length !== o.instances) {
      throw new Error(`expected ${o.instances} instances of ${name}, the platform runs ${pids.length}`);
    }
    // The runtime's parent, unless that is the platform itself: the sandbox's monitor.
    const monitors = pids.map(parentOf).filter((ppid) => ppid !== ctx.platform.pid);
    return {
      runtime: average(pids.map(memoryOf)),
      monitor: monitors.length > 0 ? average(monitors.map(memoryOf)) : undefined,
    };
  } finally {
    await ctx.control.remove(name);
  }
}

async function baselineAverage(o: IdleMemoryOptions): Promise<MemoryKb> {
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < o.instances; i++) children.push(spawnCleanNode(["-e", "setInterval(()=>{},1e9)"]));
    await sleep(o.settleMs);
    return average(children.map((c) => memoryOf(c.pid!)));
  } finally {
    for (const c of children) c.kill("SIGKILL");
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : 0)));
  }
}

/** Both sets are measured alone: PSS splits shared pages among whoever maps them at the time. */
async function waitForNoInstances(ctx: BenchContext): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while ((await ctx.platform.instancePids()).length > 0) {
    if (Date.now() > deadline) throw new Error("the platform's instances did not stop after delete");
    await sleep(20);
  }
}

function average(readings: MemoryKb[]): MemoryKb {
  const sum = (k: keyof MemoryKb) => readings.reduce((t, r) => t + r[k], 0) / readings.length;
  return { rss: sum("rss"), pss: sum("pss"), anon: sum("anon") };
}
