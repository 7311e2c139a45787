/**
 * Figure 13: HTTP triggers. A function URL (auth NONE) called by its path form with plain
 * keep-alive node:http, beside, in the same run and under the same closed-loop load: the signed
 * Invoke API of the same function, a bare node:http server (the limit), the process-isolation
 * floor, workerd serving the same answer from a Worker, and serverless-offline (the last two
 * installed for the bench only, `lib/foreign-servers.ts`). Then the latency of the URL against
 * the bare server's, one connection, sequential requests.
 */
import type { Agent } from "node:http";
import { availableParallelism } from "node:os";
import { type BenchContext, type FigureResult, fmtInt, fmtMs, fmtRatio, verdict } from "./lib/context.js";
import { startServerlessOffline, startWorkerd, TOOL_VERSIONS } from "./lib/foreign-servers.js";
import { invokePath, PAYLOAD, REGION } from "./lib/functions.js";
import { type Headers, keepAliveAgent, send } from "./lib/http-client.js";
import { type BareServer, startBareServer } from "./lib/proc.js";
import { overRuns, spread } from "./lib/stats.js";
import { type LoadRun, load } from "./throughput.js";
import { sequential } from "./warm-latency.js";

export interface HttpOptions {
  /** Instances of the function (its reserved concurrency) and requests kept in flight. */
  readonly instances: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Latency: timed sequential requests per run. */
  readonly requests: number;
}

const FUNCTION = "bench-http";
export const HTTP_HANDLER = `export const handler = async () => ({
  statusCode: 200,
  headers: { "content-type": "text/plain" },
  body: "ok",
});
`;
/** Throughput of a URL at least workerd's (stretch: half the bare server's). */
const TARGET_RATIO_TO_WORKERD = 1;
const STRETCH_RATIO_TO_BARE = 0.5;
const TARGET_ADDED_P50_MS = 0.15;
const TARGET_ADDED_P99_MS = 1;
/** Untimed load on the URL before the first run, as in the throughput figure (V8 warms up). */
const FIGURE_WARMUP_MS = 4000;
const FIGURE_WARMUP_REQUESTS = 3000;

/** One server under load: where, what to send, and whose CPU time to count. */
interface Side {
  readonly key: "url" | "invoke" | "bare" | "floor" | "workerd" | "offline";
  readonly label: string;
  readonly base: URL;
  readonly path: string;
  readonly headers: Headers;
  readonly serverPids: readonly number[];
  readonly instancePids: readonly number[];
  readonly runs: LoadRun[];
}

const plain = (body: Buffer): Headers => ({
  "content-type": "application/json",
  "content-length": String(body.length),
});

/** The id of a FunctionUrl in either form: `{id}.lambda-url.…` or `…/lambda-url/{id}/`. */
function urlIdOf(functionUrl: string): string {
  const u = new URL(functionUrl);
  const id =
    /^([a-z0-9]+)\.lambda-url\./.exec(u.hostname)?.[1] ?? /^\/lambda-url\/([^/]+)/.exec(u.pathname)?.[1];
  if (!id) throw new Error(`cannot read the URL id of FunctionUrl ${functionUrl}`);
  return id;
}

export async function httpTriggers(ctx: BenchContext, o: HttpOptions): Promise<FigureResult> {
  const cores = availableParallelism();
  await ctx.control.deploy(FUNCTION, { reserved: o.instances, code: HTTP_HANDLER });
  const servers: { close(): void }[] = [];
  const unavailable: Record<string, string> = {};
  let latency: Record<"url" | "bare" | "invoke", number[]> = { url: [], bare: [], invoke: [] };
  const sides: Side[] = [];
  try {
    const functionUrl = await ctx.control.createUrl(FUNCTION);
    const id = urlIdOf(functionUrl);
    const urlPath = `/lambda-url/${id}/`;
    await hostFormAnswers(ctx.base, id);

    const bare: BareServer = await startBareServer();
    servers.push(bare);
    const relay = await startBareServer({ relayTo: o.instances });
    servers.push(relay);
    ctx.progress("http: starting workerd and serverless-offline (installed into bench/.tools on first use)");
    const workerd = await startWorkerd();
    const offline = await startServerlessOffline(HTTP_HANDLER);
    for (const [name, f] of [
      ["workerd", workerd],
      ["serverless-offline", offline],
    ] as const) {
      if (f.ok) servers.push(f);
      else unavailable[name] = f.reason;
    }

    const invoke = invokePath(FUNCTION);
    // One signature for all of the Invoke API's load, as in the throughput figure.
    const invokeHeaders = await ctx.signer.post(ctx.base, invoke, PAYLOAD);
    const side = (s: Omit<Side, "runs" | "instancePids"> & { instancePids?: readonly number[] }) =>
      sides.push({ instancePids: [], ...s, runs: [] });
    // Scale out first: as many concurrent calls as instances, each finding none idle.
    const agent = keepAliveAgent(o.instances);
    await Promise.all(
      Array.from({ length: o.instances }, () => expect200(agent, ctx.base, urlPath, "scale-out call")),
    );
    agent.destroy();
    const instancePids = await ctx.platform.instancePids();
    const platformPids = [ctx.platform.pid];
    side({
      key: "url",
      label: "function URL",
      base: ctx.base,
      path: urlPath,
      headers: plain(PAYLOAD),
      serverPids: platformPids,
      instancePids,
    });
    side({
      key: "invoke",
      label: "signed Invoke",
      base: ctx.base,
      path: invoke,
      headers: invokeHeaders,
      serverPids: platformPids,
      instancePids,
    });
    side({
      key: "bare",
      label: "bare node:http",
      base: bare.url,
      path: "/",
      headers: plain(PAYLOAD),
      serverPids: [bare.pid],
    });
    side({
      key: "floor",
      label: "floor",
      base: relay.url,
      path: "/",
      headers: plain(PAYLOAD),
      serverPids: [relay.pid],
      instancePids: relay.instancePids,
    });
    if (workerd.ok)
      side({
        key: "workerd",
        label: "workerd",
        base: workerd.url,
        path: "/",
        headers: plain(PAYLOAD),
        serverPids: [workerd.pid],
      });
    if (offline.ok)
      side({
        key: "offline",
        label: "serverless-offline",
        base: offline.url,
        path: "/",
        headers: plain(PAYLOAD),
        serverPids: [offline.pid],
      });

    ctx.progress("http: warming up");
    for (const s of sides) {
      const warmupMs = s.key === "url" ? FIGURE_WARMUP_MS : FIGURE_WARMUP_MS / 4;
      await load(s.base, s.path, s.headers, { ...o, durationMs: warmupMs }, [], []);
    }
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`http: throughput run ${run + 1}/${ctx.runs}`);
      for (const s of sides)
        s.runs.push(await load(s.base, s.path, s.headers, o, s.serverPids, s.instancePids));
    }

    // Latency at one connection: the URL (no signing), the bare server, and the Invoke API
    // (signed per request, off the clock, as in the warm latency figure).
    const url = sides[0]!;
    const bareSide = sides[2]!;
    const signed = () => ctx.signer.post(ctx.base, invoke, PAYLOAD);
    const warm = { requests: 0, warmup: FIGURE_WARMUP_REQUESTS };
    await sequential(url.base, url.path, () => url.headers, warm);
    await sequential(bareSide.base, bareSide.path, () => bareSide.headers, warm);
    latency = { url: [], bare: [], invoke: [] };
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`http: latency run ${run + 1}/${ctx.runs}`);
      const lo = { requests: o.requests, warmup: Math.max(200, o.requests / 10) };
      latency.url.push(...(await sequential(url.base, url.path, () => url.headers, lo)));
      latency.bare.push(...(await sequential(bareSide.base, bareSide.path, () => bareSide.headers, lo)));
      latency.invoke.push(...(await sequential(ctx.base, invoke, signed, lo)));
    }
  } finally {
    for (const s of servers) s.close();
    await ctx.control.remove(FUNCTION);
  }

  const rate = Object.fromEntries(sides.map((s) => [s.key, overRuns(s.runs.map((r) => r.perSecond))]));
  const median = (k: Side["key"]) => rate[k]?.median;
  const url = median("url")!;
  const bare = median("bare")!;
  const workerd = median("workerd");
  const errors = sides.slice(0, 2).reduce((n, s) => n + s.runs.reduce((m, r) => m + r.errors, 0), 0);
  const ratioToWorkerd = workerd === undefined ? undefined : url / workerd;
  const ratioToBare = url / bare;
  const lat = { url: spread(latency.url), bare: spread(latency.bare), invoke: spread(latency.invoke) };
  const added = { p50: lat.url.p50 - lat.bare.p50, p99: lat.url.p99 - lat.bare.p99 };
  const throughputPass =
    ratioToWorkerd !== undefined && ratioToWorkerd >= TARGET_RATIO_TO_WORKERD && errors === 0;
  const latencyPass = added.p50 <= TARGET_ADDED_P50_MS && added.p99 <= TARGET_ADDED_P99_MS;
  const pass = throughputPass && latencyPass;
  const mid = (s: Side, k: keyof LoadRun) => overRuns(s.runs.map((r) => r[k])).median;
  const perRun = (s: Side) => s.runs.map((r) => fmtInt(r.perSecond)).join(" ");
  const cpu = (s: Side) =>
    `${fmtInt(mid(s, "serverCpuUs"))}${s.instancePids.length > 0 ? ` + ${fmtInt(mid(s, "instancesCpuUs"))}` : ""} µs`;
  const column = (key: Side["key"], label: string, name: string) =>
    rate[key] ? `${label} ${fmtInt(rate[key].median)}/s` : `${label} unavailable: ${unavailable[name]}`;
  return {
    name: "http",
    line:
      `URL ${fmtInt(url)}/s (worst run ${fmtInt(rate.url!.min)}/s) | ` +
      `${column("workerd", "workerd", "workerd")} | bare node:http ${fmtInt(bare)}/s | ` +
      `URL ÷ workerd ${ratioToWorkerd === undefined ? "n/a" : fmtRatio(ratioToWorkerd)}, ` +
      `÷ bare ${fmtRatio(ratioToBare)} | added p50 ${fmtMs(added.p50)} ms p99 ${fmtMs(added.p99)} ms` +
      `${errors > 0 ? `, ${errors} failed requests` : ""} ` +
      `(target: ≥ workerd, stretch ≥${fmtRatio(STRETCH_RATIO_TO_BARE)} bare ` +
      `${ratioToBare >= STRETCH_RATIO_TO_BARE ? "met" : "not met"}; added ≤${TARGET_ADDED_P50_MS} / ≤${TARGET_ADDED_P99_MS} ms) ` +
      `${verdict(pass)}`,
    notes: [
      `throughput, ${o.instances} in flight, ${cores} cores, per run (req/s) and CPU per request (server [+ instances]): ` +
        sides.map((s) => `${s.label} ${perRun(s)} (${cpu(s)})`).join(" | "),
      `${column("invoke", "signed Invoke", "")} (URL ${fmtRatio(url / median("invoke")!)} of it) | ` +
        `${column("floor", "process-isolation floor", "")} (URL ${fmtRatio(url / median("floor")!)} of it) | ` +
        `${column("offline", "serverless-offline", "serverless-offline")}` +
        (median("offline") ? ` (URL ${fmtRatio(url / median("offline")!)} of it)` : "") +
        ` ${verdict(throughputPass)}`,
      `latency, one connection: URL p50 ${fmtMs(lat.url.p50)} ms p99 ${fmtMs(lat.url.p99)} ms | ` +
        `bare node:http p50 ${fmtMs(lat.bare.p50)} ms p99 ${fmtMs(lat.bare.p99)} ms | ` +
        `signed Invoke p50 ${fmtMs(lat.invoke.p50)} ms p99 ${fmtMs(lat.invoke.p99)} ms | ` +
        `added by the platform to a URL p50 ${fmtMs(added.p50)} ms p99 ${fmtMs(added.p99)} ms ${verdict(latencyPass)}`,
      `bench-only tools: workerd ${TOOL_VERSIONS.workerd}, serverless ${TOOL_VERSIONS.serverless} + ` +
        `serverless-offline ${TOOL_VERSIONS["serverless-offline"]} (bench/.tools)`,
    ],
    pass,
    data: {
      unit: "requests/s",
      cores,
      instances: o.instances,
      durationMs: o.durationMs,
      throughput: rate,
      unavailable,
      ratioToWorkerd,
      ratioToBare,
      latency: lat,
      added,
      targets: {
        ratioToWorkerd: TARGET_RATIO_TO_WORKERD,
        stretchRatioToBare: STRETCH_RATIO_TO_BARE,
        addedP50: TARGET_ADDED_P50_MS,
        addedP99: TARGET_ADDED_P99_MS,
      },
      versions: TOOL_VERSIONS,
      perRun: Object.fromEntries(sides.map((s) => [s.key, s.runs])),
    },
    headline: { perSecond: url, addedP50: added.p50, addedP99: added.p99, errors },
  };
}

async function expect200(agent: Agent, base: URL, path: string, what: string) {
  const reply = await send(agent, base, path, plain(PAYLOAD), PAYLOAD);
  if (reply.status !== 200 || reply.body.toString("utf8") !== "ok")
    throw new Error(`${what} ${path}: HTTP ${reply.status} ${reply.body.toString("utf8").slice(0, 300)}`);
}

/** The URL by its host form once: `{id}.lambda-url.{region}.localhost` sent as the Host header. */
async function hostFormAnswers(base: URL, id: string): Promise<void> {
  const agent = keepAliveAgent(1);
  try {
    const reply = await send(
      agent,
      base,
      "/",
      { ...plain(PAYLOAD), host: `${id}.lambda-url.${REGION}.localhost:${base.port}` },
      PAYLOAD,
    );
    if (reply.status !== 200 || reply.body.toString("utf8") !== "ok")
      throw new Error(
        `function URL by host: HTTP ${reply.status} ${reply.body.toString("utf8").slice(0, 300)}`,
      );
  } finally {
    agent.destroy();
  }
}
