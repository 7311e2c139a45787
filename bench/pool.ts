/**
 * Issue 4's figures for the warm pool, on a platform of its own started with a pool (and with
 * the context's sandbox driver):
 * - cold start from the pool: a new function's first invocation, timed from the client, with
 *   the pool settled (every runtime ready, none starting); baseline `node -e 0` in a clean
 *   environment, interleaved. Every other one is timed instead as soon as one runtime is
 *   ready, while the replacement for the previous one still starts beside it: the figure of
 *   new functions arriving back to back, printed as a note;
 * - new instances per second per core from the pool: as many new functions as the pool holds,
 *   invoked at once for the first time (signed beforehand), from the first request sent to the
 *   last answer.
 */
import { availableParallelism } from "node:os";
import { coldInvoke, nodeStart, sendSigned, signInvoke } from "./cold-start.js";
import { type BenchContext, type FigureResult, fmtInt, fmtMs, fmtRatio, verdict } from "./lib/context.js";
import { BENCH_MEMORY_MB, Control } from "./lib/functions.js";
import { keepAliveAgent, Signer } from "./lib/http-client.js";
import { PlatformProcess } from "./lib/platform.js";
import { sleep } from "./lib/proc.js";
import { overRuns, spread } from "./lib/stats.js";

const TARGET_P50_MS = 5;
const TARGET_P99_MS = 15;
const TARGET_PER_CORE = 200;
const WARMUP_COLD_STARTS = 5;
const STOP_TIMEOUT_MS = 10_000;

export interface PoolOptions {
  /** Cold starts timed one at a time, per run. */
  readonly functions: number;
  /** Runtimes in the pool, and new functions invoked at once in the burst. */
  readonly burst: number;
}

export async function poolColdStart(ctx: BenchContext, o: PoolOptions): Promise<FigureResult> {
  // The burst's instances are 1,769 MB each on paper (a vCPU's share) and use ~40 MB: the
  // worker's memory is set so that all of them fit, whatever the host's size.
  const platform = await PlatformProcess.start({
    settings: {
      poolSize: o.burst,
      sandbox: ctx.sandbox,
      workerMemoryMb: (o.burst + WARMUP_COLD_STARTS + 1) * BENCH_MEMORY_MB,
    },
  });
  const base = new URL(platform.url);
  const control = new Control(platform.url, platform.credentials);
  const signer = new Signer(platform.credentials);
  const cores = availableParallelism();
  const e2e: number[] = [];
  /** Timed while the previous cold start's replacement was still starting. */
  const backToBack: number[] = [];
  const baseline: number[] = [];
  const bursts: number[] = [];
  const phases: Record<string, number[]> = {};
  let notPooled = 0;
  const nonce = Date.now().toString(36);
  const waitForPool = async (n: number) => {
    for (let waited = 0; (await platform.pooledReady()) < n; waited += 5) {
      if (waited > 30_000) throw new Error(`the pool did not reach ${n} ready runtimes in 30 s`);
      await sleep(5);
    }
  };
  try {
    // Untimed: the new platform's own first cold starts run its code for the first time.
    const warm = keepAliveAgent(1);
    for (let i = 0; i < WARMUP_COLD_STARTS; i++) {
      const name = `bench-pool-warmup-${i}`;
      await control.deploy(name, { salt: `${nonce}-${name}` });
      await waitForPool(1);
      await coldInvoke(warm, signer, base, name);
      await control.remove(name);
    }
    warm.destroy();
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`pool: run ${run + 1}/${ctx.runs}`);
      const names: string[] = [];
      const agent = keepAliveAgent(1);
      try {
        for (let i = 0; i < o.functions; i++) {
          const name = `bench-pool-${run}-${i}`;
          await control.deploy(name, { salt: `${nonce}-${name}` });
          names.push(name);
          const settled = i % 2 === 0;
          await waitForPool(settled ? o.burst : 1);
          const r = await coldInvoke(agent, signer, base, name);
          (settled ? e2e : backToBack).push(r.ms);
          if (r.phases?.pooled !== "1") notPooled++;
          for (const [k, v] of Object.entries(r.phases ?? {})) {
            if (k === "pooled" || k === "code-cached") continue;
            phases[k] = [...(phases[k] ?? []), Number(v)];
          }
          baseline.push(await nodeStart());
        }
        // The one-at-a-time functions' idle instances would hold memory the burst needs.
        for (const name of names.splice(0)) await control.remove(name);
        // The burst: as many new functions as the pool holds, all invoked at once.
        const burst = Array.from({ length: o.burst }, (_, i) => `bench-burst-${run}-${i}`);
        for (const name of burst) {
          await control.deploy(name, { salt: `${nonce}-${name}` });
          names.push(name);
        }
        await waitForPool(o.burst);
        const agents = burst.map(() => keepAliveAgent(1));
        // Signed before the clock starts, as every figure does: signing is the client's work.
        const signed = await Promise.all(burst.map((name) => signInvoke(signer, base, name)));
        const started = performance.now();
        const results = await Promise.all(signed.map((req, i) => sendSigned(agents[i]!, base, req)));
        bursts.push(o.burst / ((performance.now() - started) / 1000) / cores);
        for (const a of agents) a.destroy();
        notPooled += results.filter((r) => r.phases?.pooled !== "1").length;
      } finally {
        agent.destroy();
        for (const name of names) await control.remove(name);
      }
      // The next run's burst needs the memory of this run's instances back.
      for (let waited = 0; (await platform.instancePids()).length > 0; waited += 20) {
        if (waited > STOP_TIMEOUT_MS)
          throw new Error(`instances still running ${STOP_TIMEOUT_MS} ms after delete`);
        await sleep(20);
      }
    }
  } finally {
    await platform.close();
  }
  const cold = spread(e2e);
  const busy = spread(backToBack);
  const bare = spread(baseline);
  const rate = overRuns(bursts);
  const pass =
    cold.p50 <= TARGET_P50_MS &&
    cold.p99 <= TARGET_P99_MS &&
    rate.median >= TARGET_PER_CORE &&
    notPooled === 0;
  return {
    name: "pool",
    line:
      `cold start from the pool p50 ${fmtMs(cold.p50)} ms p99 ${fmtMs(cold.p99)} ms | ` +
      `node -e 0 p50 ${fmtMs(bare.p50)} ms p99 ${fmtMs(bare.p99)} ms | ${fmtRatio(cold.p50 / bare.p50)} | ` +
      `burst of ${o.burst}: ${fmtInt(rate.median)} new instances/s per core (worst run ${fmtInt(rate.min)}) ` +
      `(target ≤${TARGET_P50_MS} / ≤${TARGET_P99_MS} ms, ≥${TARGET_PER_CORE}/s per core) ${verdict(pass)}`,
    notes: [
      `back to back (the previous one's replacement still starting): p50 ${fmtMs(busy.p50)} ms p99 ${fmtMs(busy.p99)} ms`,
      `phases, p50: ${Object.entries(phases)
        .map(([k, v]) => `${k} ${fmtMs(spread(v).p50)} ms`)
        .join(", ")}`,
      ...(notPooled > 0 ? [`${notPooled} cold starts found no pooled runtime ready`] : []),
    ],
    pass,
    data: {
      unit: "ms",
      poolSize: o.burst,
      coldFromPool: cold,
      coldBackToBack: busy,
      baseline: bare,
      newInstancesPerSecondPerCore: bursts,
      notPooled,
      target: { p50: TARGET_P50_MS, p99: TARGET_P99_MS, perCore: TARGET_PER_CORE },
    },
    headline: { p50: cold.p50, p99: cold.p99, backToBackP50: busy.p50, perCore: rate.median },
  };
}
