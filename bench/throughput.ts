/**
 * Figure 2: warm throughput of a trivial function. A closed-loop load generator in the bench
 * process (the platform runs in its own process) keeps one request in flight per instance.
 * Two baselines under the same load: the same handler behind a bare node:http server, and the
 * process-isolation floor, a bare node:http server relaying each request to one of as many
 * handler processes over a Unix socket (`lib/bare-relay.ts`).
 */
import { availableParallelism } from "node:os";
import { type BenchContext, type FigureResult, fmtInt, fmtRatio, verdict } from "./lib/context.js";
import { invokePath, PAYLOAD } from "./lib/functions.js";
import { expectOk, type Headers, keepAliveAgent, send } from "./lib/http-client.js";
import { cpuMsOf, sleep, startBareServer } from "./lib/proc.js";
import { overRuns } from "./lib/stats.js";

export interface ThroughputOptions {
  /** Instances of the function (its reserved concurrency) and requests kept in flight. */
  readonly instances: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

const TARGET_PER_CORE = 10_000;
const FUNCTION = "bench-throughput";
/**
 * Untimed load before the first run. Fresh instances and the platform need ~10,000 invocations
 * before V8 has optimised their hot paths: without this the first run measures ~40% of the rest.
 */
const FIGURE_WARMUP_MS = 4000;

export interface LoadRun {
  readonly perSecond: number;
  readonly completed: number;
  readonly errors: number;
  /** CPU time per completed request, in µs: the server side (all its processes) and the client. */
  readonly serverCpuUs: number;
  readonly instancesCpuUs: number;
  readonly clientCpuUs: number;
  /** The store's server (PostgreSQL), when it runs apart from the platform; 0 otherwise. */
  readonly storeCpuUs: number;
}

export async function throughput(ctx: BenchContext, o: ThroughputOptions): Promise<FigureResult> {
  const cores = availableParallelism();
  await ctx.control.deploy(FUNCTION, { reserved: o.instances });
  const path = invokePath(FUNCTION);
  const bare = await startBareServer();
  const relay = await startBareServer({ relayTo: o.instances });
  const platformRuns: LoadRun[] = [];
  const bareRuns: LoadRun[] = [];
  const relayRuns: LoadRun[] = [];
  try {
    // One signature for all of the figure's requests (well inside the 15-minute skew window):
    // signing is the client's cost; the platform still verifies each request in full.
    const platformHeaders = await ctx.signer.post(ctx.base, path, PAYLOAD);
    const bareHeaders = await ctx.signer.post(bare.url, path, PAYLOAD);
    // Scale out first: as many concurrent calls as instances, each finding none idle.
    const agent = keepAliveAgent(o.instances);
    await Promise.all(
      Array.from({ length: o.instances }, async () =>
        expectOk(await send(agent, ctx.base, path, platformHeaders, PAYLOAD), "scale-out invoke"),
      ),
    );
    agent.destroy();
    const instancePids = await ctx.platform.instancePids();
    ctx.progress("throughput: warming up");
    await load(ctx.base, path, platformHeaders, { ...o, durationMs: FIGURE_WARMUP_MS }, [], []);
    await load(bare.url, path, bareHeaders, { ...o, durationMs: FIGURE_WARMUP_MS / 4 }, [], []);
    await load(relay.url, path, bareHeaders, { ...o, durationMs: FIGURE_WARMUP_MS / 2 }, [], []);
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`throughput: run ${run + 1}/${ctx.runs}`);
      platformRuns.push(
        await load(ctx.base, path, platformHeaders, o, [ctx.platform.pid], instancePids, ctx.storeCpuMs),
      );
      bareRuns.push(await load(bare.url, path, bareHeaders, o, [bare.pid], []));
      relayRuns.push(await load(relay.url, path, bareHeaders, o, [relay.pid], relay.instancePids));
    }
  } finally {
    bare.close();
    relay.close();
    await ctx.control.remove(FUNCTION);
  }

  const platform = overRuns(platformRuns.map((r) => r.perSecond));
  const baseline = overRuns(bareRuns.map((r) => r.perSecond));
  const floor = overRuns(relayRuns.map((r) => r.perSecond));
  const errors = platformRuns.reduce((n, r) => n + r.errors, 0);
  const pass = platform.median / cores >= TARGET_PER_CORE && errors === 0;
  const mid = (runs: LoadRun[], k: keyof LoadRun) => overRuns(runs.map((r) => r[k])).median;
  return {
    name: "throughput",
    line:
      `platform ${fmtInt(platform.median)}/s = ${fmtInt(platform.median / cores)}/core ` +
      `(worst run ${fmtInt(platform.min)}/s) | ` +
      `bare node:http ${fmtInt(baseline.median)}/s = ${fmtInt(baseline.median / cores)}/core | ` +
      `${fmtRatio(platform.median / baseline.median)} | ${o.instances} instances, ${cores} cores` +
      `${errors > 0 ? `, ${errors} failed requests` : ""} ` +
      `(target ≥${fmtInt(TARGET_PER_CORE)}/core) ${verdict(pass)}`,
    notes: [
      `CPU per invocation: platform process ${fmtInt(mid(platformRuns, "serverCpuUs"))} µs + ` +
        `instances ${fmtInt(mid(platformRuns, "instancesCpuUs"))} µs, ` +
        `load generator ${fmtInt(mid(platformRuns, "clientCpuUs"))} µs | bare server ` +
        `${fmtInt(mid(bareRuns, "serverCpuUs"))} µs, load generator ${fmtInt(mid(bareRuns, "clientCpuUs"))} µs`,
      `process-isolation floor (bare node:http relaying to ${o.instances} handler processes over a Unix socket): ` +
        `${fmtInt(floor.median)}/s = ${fmtInt(floor.median / cores)}/core; platform ${fmtRatio(platform.median / floor.median)} of it; ` +
        `CPU per invocation: server ${fmtInt(mid(relayRuns, "serverCpuUs"))} µs + handler processes ` +
        `${fmtInt(mid(relayRuns, "instancesCpuUs"))} µs, load generator ${fmtInt(mid(relayRuns, "clientCpuUs"))} µs`,
      ...(ctx.storeCpuMs
        ? [
            `CPU per invocation of the PostgreSQL server (all its processes, other clients' queries too): ` +
              `${fmtInt(mid(platformRuns, "storeCpuUs"))} µs`,
          ]
        : []),
    ],
    pass,
    data: {
      unit: "invocations/s",
      cores,
      instances: o.instances,
      durationMs: o.durationMs,
      platform: { ...platform, medianPerCore: platform.median / cores },
      baseline: { ...baseline, medianPerCore: baseline.median / cores },
      processIsolationFloor: { ...floor, medianPerCore: floor.median / cores },
      ratio: platform.median / baseline.median,
      ratioToFloor: platform.median / floor.median,
      target: { perCore: TARGET_PER_CORE },
      perRun: platformRuns.map((p, i) => ({ platform: p, baseline: bareRuns[i], floor: relayRuns[i] })),
    },
    headline: {
      perSecond: platform.median,
      worstPerSecond: platform.min,
      platformCpuUs: mid(platformRuns, "serverCpuUs"),
      instancesCpuUs: mid(platformRuns, "instancesCpuUs"),
      errors,
    },
  };
}

/**
 * Closed loop: `instances` requests always in flight, each followed at once by the next.
 * Counts what completes inside the timed window, after a warm-up.
 */
export async function load(
  base: URL,
  path: string,
  headers: Headers,
  o: ThroughputOptions,
  serverPids: readonly number[],
  instancePids: readonly number[],
  storeCpuMs?: () => number,
  /** What each request sends: a POST of the event, or a GET (null) for a route that takes one. */
  body: Buffer | null = PAYLOAD,
): Promise<LoadRun> {
  const agent = keepAliveAgent(o.instances);
  let measuring = false;
  let stopped = false;
  let completed = 0;
  let errors = 0;
  const loop = async () => {
    while (!stopped) {
      let ok = false;
      try {
        const reply = await send(agent, base, path, headers, body);
        ok = reply.status === 200 && !reply.headers["x-amz-function-error"];
      } catch {
        ok = false;
      }
      if (!measuring) continue;
      if (ok) completed++;
      else errors++;
    }
  };
  const cpu = () => ({
    server: serverPids.reduce((t, pid) => t + cpuMsOf(pid), 0),
    instances: instancePids.reduce((t, pid) => t + cpuMsOf(pid), 0),
    store: storeCpuMs?.() ?? 0,
    client: process.cpuUsage(),
  });
  const loops = Array.from({ length: o.instances }, loop);
  await sleep(o.warmupMs);
  const before = cpu();
  const start = performance.now();
  measuring = true;
  await sleep(o.durationMs);
  measuring = false;
  const seconds = (performance.now() - start) / 1000;
  const after = cpu();
  const clientUs = process.cpuUsage(before.client);
  stopped = true;
  await Promise.all(loops);
  agent.destroy();
  const per = (ms: number) => (completed === 0 ? 0 : (ms * 1000) / completed);
  return {
    perSecond: completed / seconds,
    completed,
    errors,
    serverCpuUs: per(after.server - before.server),
    instancesCpuUs: per(after.instances - before.instances),
    storeCpuUs: per(after.store - before.store),
    clientCpuUs: completed === 0 ? 0 : (clientUs.user + clientUs.system) / completed,
  };
}
