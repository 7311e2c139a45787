/**
 * Figure 13: HTTP triggers. A function URL (auth NONE) called by its path form with plain
 * keep-alive node:http, beside, in the same run and under the same closed-loop load: the signed
 * Invoke API of the same function, a bare node:http server (the limit), the process-isolation
 * floor, workerd serving the same answer from a Worker, and serverless-offline (the last two
 * installed for the bench only, `lib/foreign-servers.ts`), and an HTTP API route of the same
 * function behind a JWT authorizer. Then the latency of the URL against the bare server's, one
 * connection, sequential requests, and the delay a RESPONSE_STREAM URL adds to a streamed chunk
 * (`http-stream.ts`). A part that cannot run is printed as unavailable, with its reason.
 */
import type { Agent } from "node:http";
import { availableParallelism } from "node:os";
import { type StreamSamples, streamDelays, streamPart } from "./http-stream.js";
import {
  type BenchContext,
  type FigurePart,
  type FigureResult,
  fmtInt,
  fmtMs,
  fmtRatio,
  verdict,
} from "./lib/context.js";
import { startServerlessOffline, startWorkerd, TOOL_VERSIONS } from "./lib/foreign-servers.js";
import { invokePath, PAYLOAD, REGION } from "./lib/functions.js";
import { createJwtApi, JWT_API_AUDIENCE, type JwtApi, jwtRouteAnswers } from "./lib/http-api.js";
import { type Headers, keepAliveAgent, send } from "./lib/http-client.js";
import { startJwtIssuer } from "./lib/jwt-issuer.js";
import { type BareServer, startBareServer } from "./lib/proc.js";
import { medianOfFew, overRuns, spread } from "./lib/stats.js";
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
/** An HTTP API route behind a JWT authorizer: at least this share of the URL's throughput. */
const TARGET_JWT_API_RATIO = 0.8;
/** The JWT route's token outlives the whole figure (it is signed once, before the load). */
const TOKEN_TTL_SECONDS = 3600;
/** Untimed load on the URL before the first run, as in the throughput figure (V8 warms up). */
const FIGURE_WARMUP_MS = 4000;
const FIGURE_WARMUP_REQUESTS = 3000;

/** One server under load: where, what to send, and whose CPU time to count. */
interface Side {
  readonly key: "url" | "api" | "invoke" | "bare" | "floor" | "workerd" | "offline";
  readonly label: string;
  readonly base: URL;
  readonly path: string;
  readonly headers: Headers;
  /** A POST of the event, or a GET (null) for the HTTP API's `GET /hello`. */
  readonly body: Buffer | null;
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
  let latency: Record<"url" | "bare" | "invoke" | "floor", number[]> = {
    url: [],
    bare: [],
    invoke: [],
    floor: [],
  };
  const sides: Side[] = [];
  let api: JwtApi | undefined;
  let stream: StreamSamples | undefined;
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

    // The HTTP API: its issuer, the API made through the management API, one token for all of
    // its load, and a check that the route takes the token and refuses a call without one.
    let apiHeaders: Headers | undefined;
    try {
      const issuer = await startJwtIssuer();
      servers.push(issuer);
      api = await createJwtApi(ctx.control, await ctx.control.arn(FUNCTION), issuer.url);
      apiHeaders = { authorization: `Bearer ${await issuer.token(JWT_API_AUDIENCE, TOKEN_TTL_SECONDS)}` };
      await jwtRouteAnswers(ctx.base, api.path, apiHeaders);
    } catch (err) {
      unavailable["HTTP API"] = (err as Error).message;
      apiHeaders = undefined;
    }

    const invoke = invokePath(FUNCTION);
    // One signature for all of the Invoke API's load, as in the throughput figure.
    const invokeHeaders = await ctx.signer.post(ctx.base, invoke, PAYLOAD);
    const side = (
      s: Omit<Side, "runs" | "instancePids" | "body"> & {
        instancePids?: readonly number[];
        body?: Buffer | null;
      },
    ) => sides.push({ instancePids: [], body: PAYLOAD, ...s, runs: [] });
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
    // Right after the URL in each run, so that the machine's drift falls alike on both.
    if (api && apiHeaders)
      side({
        key: "api",
        label: "HTTP API + JWT",
        base: ctx.base,
        path: api.path,
        headers: apiHeaders,
        body: null,
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
      // The platform's sides get longer: its hot paths (and the JWT check's) need V8's optimiser.
      const warmupMs =
        s.key === "url" ? FIGURE_WARMUP_MS : s.key === "api" ? FIGURE_WARMUP_MS / 2 : FIGURE_WARMUP_MS / 4;
      await load(s.base, s.path, s.headers, { ...o, durationMs: warmupMs }, [], [], undefined, s.body);
    }
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`http: throughput run ${run + 1}/${ctx.runs}`);
      // The URL and the JWT route, side by side, swap places every other run: on a drifting
      // machine, the one measured second would otherwise always fare differently.
      const swap = run % 2 === 1 && sides[1]?.key === "api";
      for (const s of swap ? [sides[1]!, sides[0]!, ...sides.slice(2)] : sides)
        s.runs.push(
          await load(s.base, s.path, s.headers, o, s.serverPids, s.instancePids, undefined, s.body),
        );
    }

    // Latency at one connection: the URL (no signing), the bare server, and the Invoke API
    // (signed per request, off the clock, as in the warm latency figure).
    const url = sides.find((s) => s.key === "url")!;
    const bareSide = sides.find((s) => s.key === "bare")!;
    // The isolation floor too: what one hop to a handler process costs on this machine, the
    // least any platform with a process per instance adds.
    const floorSide = sides.find((s) => s.key === "floor")!;
    const signed = () => ctx.signer.post(ctx.base, invoke, PAYLOAD);
    const warm = { requests: 0, warmup: FIGURE_WARMUP_REQUESTS };
    await sequential(url.base, url.path, () => url.headers, warm);
    await sequential(bareSide.base, bareSide.path, () => bareSide.headers, warm);
    await sequential(floorSide.base, floorSide.path, () => floorSide.headers, warm);
    latency = { url: [], bare: [], invoke: [], floor: [] };
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`http: latency run ${run + 1}/${ctx.runs}`);
      const lo = { requests: o.requests, warmup: Math.max(200, o.requests / 10) };
      latency.url.push(...(await sequential(url.base, url.path, () => url.headers, lo)));
      latency.bare.push(...(await sequential(bareSide.base, bareSide.path, () => bareSide.headers, lo)));
      latency.invoke.push(...(await sequential(ctx.base, invoke, signed, lo)));
      latency.floor.push(...(await sequential(floorSide.base, floorSide.path, () => floorSide.headers, lo)));
    }

    ctx.progress("http: streamed chunks through a RESPONSE_STREAM URL");
    try {
      stream = await streamDelays(ctx);
    } catch (err) {
      unavailable.stream = (err as Error).message;
    }
  } finally {
    await api?.remove().catch((err: unknown) => ctx.progress(`http: deleting the HTTP API: ${err}`));
    for (const s of servers) s.close();
    await ctx.control.remove(FUNCTION);
  }

  const rate = Object.fromEntries(sides.map((s) => [s.key, overRuns(s.runs.map((r) => r.perSecond))]));
  const median = (k: Side["key"]) => rate[k]?.median;
  const url = median("url")!;
  const bare = median("bare")!;
  const workerd = median("workerd");
  const errorsOf = (keys: readonly Side["key"][]) =>
    sides
      .filter((s) => keys.includes(s.key))
      .reduce((n, s) => n + s.runs.reduce((m, r) => m + r.errors, 0), 0);
  const errors = errorsOf(["url", "invoke"]);
  const jwt = jwtApiResult(sides, errorsOf(["api"]), unavailable["HTTP API"]);
  const streaming = streamPart(stream, unavailable.stream);
  const ratioToWorkerd = workerd === undefined ? undefined : url / workerd;
  const ratioToBare = url / bare;
  const lat = {
    url: spread(latency.url),
    bare: spread(latency.bare),
    invoke: spread(latency.invoke),
    floor: spread(latency.floor),
  };
  const added = { p50: lat.url.p50 - lat.bare.p50, p99: lat.url.p99 - lat.bare.p99 };
  const throughputPass =
    ratioToWorkerd !== undefined && ratioToWorkerd >= TARGET_RATIO_TO_WORKERD && errors === 0;
  const latencyPass = added.p50 <= TARGET_ADDED_P50_MS && added.p99 <= TARGET_ADDED_P99_MS;
  const pass = throughputPass && latencyPass && jwt.pass && streaming.pass;
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
      `${ratioToBare >= STRETCH_RATIO_TO_BARE ? "met" : "not met"}; added ≤${TARGET_ADDED_P50_MS} / ≤${TARGET_ADDED_P99_MS} ms) | ` +
      `${jwt.column} | ${streaming.column} ${verdict(pass)}`,
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
        `isolation floor p50 ${fmtMs(lat.floor.p50)} ms p99 ${fmtMs(lat.floor.p99)} ms (adds p50 ` +
        `${fmtMs(lat.floor.p50 - lat.bare.p50)} ms p99 ${fmtMs(lat.floor.p99 - lat.bare.p99)} ms) | ` +
        `added by the platform to a URL p50 ${fmtMs(added.p50)} ms p99 ${fmtMs(added.p99)} ms ${verdict(latencyPass)}`,
      jwt.note,
      streaming.note,
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
      jwtApi: jwt.data,
      stream: streaming.data,
      targets: {
        jwtApiRatio: TARGET_JWT_API_RATIO,
        ratioToWorkerd: TARGET_RATIO_TO_WORKERD,
        stretchRatioToBare: STRETCH_RATIO_TO_BARE,
        addedP50: TARGET_ADDED_P50_MS,
        addedP99: TARGET_ADDED_P99_MS,
      },
      versions: TOOL_VERSIONS,
      perRun: Object.fromEntries(sides.map((s) => [s.key, s.runs])),
    },
    headline: {
      perSecond: url,
      addedP50: added.p50,
      addedP99: added.p99,
      errors,
      ...jwt.headline,
      ...streaming.headline,
    },
  };
}

/** The JWT route's throughput beside the URL's, run by run (each run loads both, one after the other). */
function jwtApiResult(sides: readonly Side[], errors: number, reason: string | undefined): FigurePart {
  const url = sides.find((s) => s.key === "url");
  const api = sides.find((s) => s.key === "api");
  if (!url || !api || api.runs.length === 0) {
    const why = `HTTP API + JWT unavailable: ${reason ?? "not measured"}`;
    return {
      column: why,
      note: `${why} ${verdict(false)}`,
      pass: false,
      data: { unavailable: reason },
      headline: {},
    };
  }
  const rates = overRuns(api.runs.map((r) => r.perSecond));
  // Judged on the runs' own ratios: within a run the two windows are adjacent, so a slow
  // spell of the machine falls on both far more often than across runs.
  const perRunRatios = api.runs.map((r, i) => r.perSecond / url.runs[i]!.perSecond);
  const ratio = medianOfFew(perRunRatios);
  const pass = ratio >= TARGET_JWT_API_RATIO && errors === 0;
  return {
    column: `JWT API ÷ URL ${fmtRatio(ratio)} (target ≥${fmtRatio(TARGET_JWT_API_RATIO)})`,
    note:
      `HTTP API route GET /hello, JWT authorizer (RS256, one token), by path form, per run: ` +
      api.runs
        .map((r, i) => `${fmtInt(r.perSecond)}/s beside the URL's ${fmtInt(url.runs[i]!.perSecond)}/s`)
        .join(", ") +
      ` | ratios ${perRunRatios.map(fmtRatio).join(" ")}, median ${fmtRatio(ratio)}` +
      `${errors > 0 ? `, ${errors} failed requests` : ""} (target ≥${fmtRatio(TARGET_JWT_API_RATIO)}) ${verdict(pass)}`,
    pass,
    data: { throughput: rates, ratio, perRunRatios, errors },
    headline: { jwtApiPerSecond: rates.median, jwtApiRatio: ratio },
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
