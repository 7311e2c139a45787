/**
 * Object storage's figures (`--only storage`), each beside a baseline measured in the same run,
 * through raw signed S3 calls with UNSIGNED-PAYLOAD (`lib/s3-http.ts`) so that the client costs
 * little:
 * - storagebulk: a 64 MB PutObject and GetObject beside node:fs writing (fdatasync'd, as the
 *   platform syncs a blob) and reading the same bytes; and the platform process's RSS while a
 *   1 GB object streams in;
 * - storagesmall: 4 KB PUTs and GETs under 32 clients beside the unauthenticated health route
 *   under the same clients;
 * - storagelist: ListObjectsV2 pages of 1,000 keys from random start-after keys in a bucket of
 *   1,000,000 (filled in the store before its platform starts, `lib/storage-prefill.ts`),
 *   beside a HEAD of one object.
 */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import type http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedLoop, strip, type Window } from "./lib/closed-loop.js";
import {
  type BenchContext,
  type FigureResult,
  fmtInt,
  fmtMb,
  fmtMs,
  fmtRatio,
  verdict,
} from "./lib/context.js";
import { keepAliveAgent, send } from "./lib/http-client.js";
import { PlatformProcess } from "./lib/platform.js";
import { memoryOf, startBareServer } from "./lib/proc.js";
import { repeated, S3Http } from "./lib/s3-http.js";
import { medianOfFew, overRuns, spread } from "./lib/stats.js";
import { filledDataDir, filledKey } from "./lib/storage-prefill.js";

const MB = 1024 * 1024;
const BULK_BYTES = 64 * MB;
const BIG_UPLOAD_BYTES = 1024 * MB;
/** node:fs reads in pieces of the size the platform reads a blob in for a GET (gateway/file-body.ts). */
const FS_READ_PIECE = 256 * 1024;
/** Untimed PUT-then-GETs of each bulk side before the runs. */
const BULK_WARM_ROUNDS = 3;
/** Timed GETs of the run's object per side and run; the run's GET figure is their median. */
const BULK_GETS_PER_RUN = 3;
/** The platform's share of node:fs's throughput, for PUT and GET alike. */
const TARGET_BULK_RATIO = 0.5;
const TARGET_BIG_UPLOAD_RSS_MB = 32;
const RSS_SAMPLE_MS = 20;
const SMALL_BYTES = 4096;
const TARGET_SMALL_PUTS = 3000;
const TARGET_SMALL_GETS = 10_000;
const TARGET_LIST_P50_MS = 20;
const LIST_PAGE_KEYS = 1000;
/** Timed listings (and as many HEADs) per run. */
const LISTS_PER_RUN = 200;
const HEALTH_PATH = "/nimbus/v1/health";

const ms = (start: number) => performance.now() - start;
const mbPerS = (bytes: number, millis: number) => bytes / MB / (millis / 1000);

/** Writes `bytes` to a new file in 1 MB pieces and syncs it, as the blob store writes one. */
async function fsWrite(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, "wx", 0o600);
  try {
    for (let i = 0; i < bytes.length; i += MB) await handle.write(bytes, i, Math.min(MB, bytes.length - i));
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** The median duration (ms) of `BULK_GETS_PER_RUN` calls of `get`, one after another. */
async function medianGet(get: () => Promise<void>): Promise<number> {
  const took: number[] = [];
  for (let i = 0; i < BULK_GETS_PER_RUN; i++) {
    const t = performance.now();
    await get();
    took.push(ms(t));
  }
  return medianOfFew(took);
}

async function fsRead(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: FS_READ_PIECE }))
    n += (chunk as Buffer).length;
  return n;
}

async function createBucket(s3: S3Http, agent: http.Agent, bucket: string): Promise<void> {
  await s3.call(agent, "PUT", `/s3/${bucket}`, 200);
}

export async function storageBulk(ctx: BenchContext): Promise<FigureResult> {
  const BUCKET = "bench-bulk";
  const s3 = new S3Http(ctx.base, ctx.platform.credentials);
  const agent = keepAliveAgent(1);
  const dir = await mkdtemp(join(tmpdir(), "nimbus-bench-fs-"));
  const bytes = randomBytes(BULK_BYTES);
  const put = { platform: [] as number[], fs: [] as number[], bare: [] as number[] };
  const get = { platform: [] as number[], fs: [] as number[], bare: [] as number[] };
  // The same client against a bare node:http server in a process of its own: the loopback's
  // share, which node:fs (no socket) does not pay.
  const bare = await startBareServer({ blobs: true });
  const bareHttp = new S3Http(bare.url, ctx.platform.credentials);
  const bareAgent = keepAliveAgent(1);
  let rss: { beforeMb: number; peakMb: number; seconds: number };
  try {
    await createBucket(s3, agent, BUCKET);
    // Each side's code paths (V8's, the page cache's, the socket's) warmed alike before timing:
    // the first GETs of a fresh process run at a third of the later ones' rate.
    const warmFile = join(dir, "warm");
    for (let i = 0; i < BULK_WARM_ROUNDS; i++) {
      await s3.call(agent, "PUT", `/s3/${BUCKET}/warm`, 200, { data: bytes });
      await bareHttp.send(bareAgent, "PUT", "/warm", {}, { data: bytes });
      await rm(warmFile, { force: true });
      await fsWrite(warmFile, bytes);
      for (let g = 0; g < BULK_GETS_PER_RUN; g++) {
        await s3.call(agent, "GET", `/s3/${BUCKET}/warm`, 200);
        await bareHttp.send(bareAgent, "GET", "/warm", {});
        await fsRead(warmFile);
      }
    }
    await s3.call(agent, "DELETE", `/s3/${BUCKET}/warm`, 204);
    await rm(warmFile);
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`storage bulk: run ${run + 1}/${ctx.runs}`);
      const key = `/s3/${BUCKET}/run-${run}`;
      const file = join(dir, `run-${run}`);
      const sides = [
        async () => {
          const headers = await s3.sign("PUT", key);
          const t = performance.now();
          const reply = await s3.send(agent, "PUT", key, headers, { data: bytes });
          put.platform.push(ms(t));
          if (reply.status !== 200) throw new Error(`PUT ${key}: HTTP ${reply.status}`);
          const getHeaders = await s3.sign("GET", key);
          get.platform.push(
            await medianGet(async () => {
              const got = await s3.send(agent, "GET", key, getHeaders);
              if (got.bytes !== BULK_BYTES)
                throw new Error(`GET ${key}: HTTP ${got.status}, ${got.bytes} bytes`);
            }),
          );
        },
        async () => {
          const t = performance.now();
          const stored = await bareHttp.send(bareAgent, "PUT", `/run-${run}`, {}, { data: bytes });
          put.bare.push(ms(t));
          if (stored.status !== 200) throw new Error(`bare PUT: HTTP ${stored.status}`);
          get.bare.push(
            await medianGet(async () => {
              const back = await bareHttp.send(bareAgent, "GET", `/run-${run}`, {});
              if (back.bytes !== BULK_BYTES)
                throw new Error(`bare GET: HTTP ${back.status}, ${back.bytes} bytes`);
            }),
          );
        },
        async () => {
          const t = performance.now();
          await fsWrite(file, bytes);
          put.fs.push(ms(t));
          get.fs.push(
            await medianGet(async () => {
              if ((await fsRead(file)) !== BULK_BYTES)
                throw new Error(`read back less than ${BULK_BYTES} bytes`);
            }),
          );
        },
      ];
      // Which goes first alternates, so that the machine's drift falls on all.
      for (const side of run % 2 === 0 ? sides : sides.reverse()) await side();
      await s3.call(agent, "DELETE", key, 204);
      await rm(file);
    }
    ctx.progress("storage bulk: a 1 GB upload");
    rss = await bigUploadRss(ctx, s3, agent, `/s3/${BUCKET}/big`);
    await s3.call(agent, "DELETE", `/s3/${BUCKET}/big`, 204);
    await s3.call(agent, "DELETE", `/s3/${BUCKET}`, 204);
  } finally {
    agent.destroy();
    bareAgent.destroy();
    bare.close();
    await rm(dir, { recursive: true, force: true });
  }
  const rate = (millis: number[]) => overRuns(millis.map((m) => mbPerS(BULK_BYTES, m)));
  const putRate = { platform: rate(put.platform), fs: rate(put.fs), bare: rate(put.bare) };
  const getRate = { platform: rate(get.platform), fs: rate(get.fs), bare: rate(get.bare) };
  const ratio = (side: typeof put) => medianOfFew(side.platform.map((m, i) => side.fs[i]! / m));
  const overBare = (side: typeof put) => medianOfFew(side.platform.map((m, i) => side.bare[i]! / m));
  const putRatio = ratio(put);
  const getRatio = ratio(get);
  const rssAddedMb = rss.peakMb - rss.beforeMb;
  const pass =
    putRatio >= TARGET_BULK_RATIO && getRatio >= TARGET_BULK_RATIO && rssAddedMb <= TARGET_BIG_UPLOAD_RSS_MB;
  const perRun = (millis: number[]) => millis.map((m) => fmtInt(mbPerS(BULK_BYTES, m))).join(" ");
  return {
    name: "storage bulk",
    line:
      `64 MB PUT ${fmtInt(putRate.platform.median)} MB/s (worst ${fmtInt(putRate.platform.min)}) | ` +
      `node:fs write ${fmtInt(putRate.fs.median)} MB/s | ${fmtRatio(putRatio)} | ` +
      `GET ${fmtInt(getRate.platform.median)} MB/s (worst ${fmtInt(getRate.platform.min)}) | ` +
      `node:fs read ${fmtInt(getRate.fs.median)} MB/s | ${fmtRatio(getRatio)} | ` +
      `1 GB upload RSS +${rssAddedMb.toFixed(1)} MB ` +
      `(target ≥${fmtRatio(TARGET_BULK_RATIO)}, ≤${TARGET_BIG_UPLOAD_RSS_MB} MB) ${verdict(pass)}`,
    notes: [
      `per run (MB/s): PUT ${perRun(put.platform)} | fs write ${perRun(put.fs)} | GET ${perRun(get.platform)} | ` +
        `fs read ${perRun(get.fs)} (one client, UNSIGNED-PAYLOAD; fs writes 1 MB pieces and fdatasyncs, ` +
        "as the blob store does; both read from the page cache)",
      `bare node:http in its own process, the same client (PUT written and fdatasync'd, GET piped from the file): ` +
        `PUT ${perRun(put.bare)} MB/s, GET ${perRun(get.bare)} MB/s; platform ÷ bare PUT ${fmtRatio(overBare(put))}, ` +
        `GET ${fmtRatio(overBare(get))}; bare ÷ node:fs PUT ${fmtRatio(medianOfFew(put.bare.map((m, i) => put.fs[i]! / m)))}, ` +
        `GET ${fmtRatio(medianOfFew(get.bare.map((m, i) => get.fs[i]! / m)))}`,
      `1 GB streamed PUT: ${fmtInt(mbPerS(BIG_UPLOAD_BYTES, rss.seconds * 1000))} MB/s, platform RSS ` +
        `${rss.beforeMb.toFixed(1)} MB before, peak ${rss.peakMb.toFixed(1)} MB (sampled every ${RSS_SAMPLE_MS} ms)`,
    ],
    pass,
    data: {
      unit: "MB/s",
      bytes: BULK_BYTES,
      put: { ...putRate, ratio: putRatio, ms: put },
      get: { ...getRate, ratio: getRatio, ms: get },
      bigUpload: { bytes: BIG_UPLOAD_BYTES, ...rss, addedMb: rssAddedMb },
      target: { ratio: TARGET_BULK_RATIO, rssAddedMb: TARGET_BIG_UPLOAD_RSS_MB },
    },
    headline: { putRatio, getRatio, rssAddedMb },
  };
}

/** The platform's RSS before and at its peak while `BIG_UPLOAD_BYTES` stream to `path`. */
async function bigUploadRss(
  ctx: BenchContext,
  s3: S3Http,
  agent: http.Agent,
  path: string,
): Promise<{ beforeMb: number; peakMb: number; seconds: number }> {
  const rssMb = () => memoryOf(ctx.platform.pid).rss / 1024;
  const beforeMb = rssMb();
  let peakMb = beforeMb;
  const sampler = setInterval(() => {
    peakMb = Math.max(peakMb, rssMb());
  }, RSS_SAMPLE_MS);
  const started = performance.now();
  try {
    const headers = await s3.sign("PUT", path);
    const reply = await s3.send(agent, "PUT", path, headers, {
      stream: repeated(randomBytes(MB), BIG_UPLOAD_BYTES / MB),
      contentLength: BIG_UPLOAD_BYTES,
    });
    if (reply.status !== 200) throw new Error(`PUT ${path}: HTTP ${reply.status} ${reply.body.toString()}`);
  } finally {
    clearInterval(sampler);
  }
  peakMb = Math.max(peakMb, rssMb());
  return { beforeMb, peakMb, seconds: ms(started) / 1000 };
}

export interface StorageSmallOptions {
  readonly clients: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export async function storageSmall(ctx: BenchContext, o: StorageSmallOptions): Promise<FigureResult> {
  const BUCKET = "bench-small";
  const s3 = new S3Http(ctx.base, ctx.platform.credentials);
  const setup = keepAliveAgent(1);
  const body = randomBytes(SMALL_BYTES);
  const puts: Window[] = [];
  const gets: Window[] = [];
  const health: Window[] = [];
  await createBucket(s3, setup, BUCKET);
  for (let c = 0; c < o.clients; c++)
    await s3.call(setup, "PUT", `/s3/${BUCKET}/read/${c}`, 200, { data: body });
  setup.destroy();
  // PUTs go to new keys, each signed as it goes (its signing is outside no timer: a client's cost).
  let next = 0;
  const putStep = async (agent: http.Agent, client: number) => {
    const path = `/s3/${BUCKET}/written/${client}/${next++}`;
    return (await s3.send(agent, "PUT", path, await s3.sign("PUT", path), { data: body })).status === 200;
  };
  // GETs replay one signature per client's object (valid for 15 minutes), as the Invoke figures do.
  const signGets = async () =>
    Promise.all(Array.from({ length: o.clients }, (_, c) => s3.sign("GET", `/s3/${BUCKET}/read/${c}`)));
  let getHeaders = await signGets();
  const getStep = async (agent: http.Agent, client: number) => {
    const reply = await s3.send(agent, "GET", `/s3/${BUCKET}/read/${client}`, getHeaders[client]!);
    return reply.status === 200 && reply.bytes === SMALL_BYTES;
  };
  const healthStep = async (agent: http.Agent) =>
    (await send(agent, ctx.base, HEALTH_PATH, {}, null)).status === 200;
  const window = (durationMs: number) => ({ ...o, warmupMs: 0, durationMs, platformPid: ctx.platform.pid });
  ctx.progress("storage small: warming up");
  await closedLoop(window(o.warmupMs), putStep);
  await closedLoop(window(o.warmupMs), getStep);
  await closedLoop(window(o.warmupMs / 2), healthStep);
  for (let run = 0; run < ctx.runs; run++) {
    ctx.progress(`storage small: run ${run + 1}/${ctx.runs}`);
    getHeaders = await signGets();
    const sides = [
      async () => health.push(await closedLoop(window(o.durationMs), healthStep)),
      async () => puts.push(await closedLoop(window(o.durationMs), putStep)),
      async () => gets.push(await closedLoop(window(o.durationMs), getStep)),
    ];
    // The baseline first, then last, then first…: the machine's drift falls on every side.
    for (const side of run % 2 === 0 ? sides : sides.reverse()) await side();
  }
  // The objects stay: the platform's data directory goes when it closes.
  const rate = (ws: Window[]) => overRuns(ws.map((w) => w.perSecond));
  const r = { put: rate(puts), get: rate(gets), health: rate(health) };
  const errors = [...puts, ...gets, ...health].reduce((n, w) => n + w.errors, 0);
  const cpu = (ws: Window[]) => fmtInt(medianOfFew(ws.map((w) => w.platformCpuUs)));
  const lat = (ws: Window[]) => {
    const s = spread(ws.flatMap((w) => w.latencies));
    return `p50 ${fmtMs(s.p50)} ms p99 ${fmtMs(s.p99)} ms`;
  };
  const pass = r.put.median >= TARGET_SMALL_PUTS && r.get.median >= TARGET_SMALL_GETS && errors === 0;
  const perRun = (ws: Window[]) => ws.map((w) => fmtInt(w.perSecond)).join(" ");
  return {
    name: "storage small",
    line:
      `4 KB PUT ${fmtInt(r.put.median)}/s (worst ${fmtInt(r.put.min)}) | GET ${fmtInt(r.get.median)}/s ` +
      `(worst ${fmtInt(r.get.min)}) | health route ${fmtInt(r.health.median)}/s | PUT ${fmtRatio(r.put.median / r.health.median)}, ` +
      `GET ${fmtRatio(r.get.median / r.health.median)} of it (${o.clients} clients` +
      `${errors > 0 ? `, ${errors} failed requests` : ""}) ` +
      `(target PUT ≥${fmtInt(TARGET_SMALL_PUTS)}/s, GET ≥${fmtInt(TARGET_SMALL_GETS)}/s) ${verdict(pass)}`,
    notes: [
      `per window (req/s): PUT ${perRun(puts)} | GET ${perRun(gets)} | health ${perRun(health)}`,
      `latency at ${o.clients} in flight: PUT ${lat(puts)}, GET ${lat(gets)}, health ${lat(health)} | ` +
        `platform CPU per request: PUT ${cpu(puts)} µs, GET ${cpu(gets)} µs, health ${cpu(health)} µs | ` +
        `load generator per PUT ${fmtInt(medianOfFew(puts.map((w) => w.clientCpuUs)))} µs (signs each)`,
    ],
    pass,
    data: {
      unit: "requests/s",
      bytes: SMALL_BYTES,
      clients: o.clients,
      durationMs: o.durationMs,
      ...r,
      errors,
      target: { put: TARGET_SMALL_PUTS, get: TARGET_SMALL_GETS },
      perRun: { put: puts.map(strip), get: gets.map(strip), health: health.map(strip) },
    },
    headline: { putPerSecond: r.put.median, getPerSecond: r.get.median, errors },
  };
}

export interface StorageListOptions {
  /** Keys in the bucket. */
  readonly keys: number;
}

export async function storageList(ctx: BenchContext, o: StorageListOptions): Promise<FigureResult> {
  const BUCKET = "bench-list";
  ctx.progress(`storage list: storing ${fmtInt(o.keys)} keys' records`);
  const filled = await filledDataDir(BUCKET, o.keys, ctx.progress);
  let platform: PlatformProcess | undefined;
  const lists: number[][] = [];
  const heads: number[][] = [];
  let startMs = 0;
  try {
    const started = performance.now();
    platform = await PlatformProcess.start({
      settings: { poolSize: 0, sandbox: ctx.sandbox, dataDir: filled.dataDir },
      ...(ctx.cpuProfileDir !== undefined ? { cpuProfileDir: ctx.cpuProfileDir } : {}),
    });
    startMs = ms(started);
    const s3 = new S3Http(new URL(platform.url), platform.credentials);
    const agent = keepAliveAgent(1);
    try {
      const headPath = `/s3/${BUCKET}/head-me`;
      await s3.call(agent, "PUT", headPath, 200, { data: randomBytes(SMALL_BYTES) });
      const listPath = () => {
        const after = filledKey(Math.floor(Math.random() * (o.keys - LIST_PAGE_KEYS)));
        return `/s3/${BUCKET}?list-type=2&max-keys=${LIST_PAGE_KEYS}&start-after=${encodeURIComponent(after)}`;
      };
      const once = async (method: string, path: string): Promise<number> => {
        const headers = await s3.sign(method, path);
        const t = performance.now();
        const reply = await s3.send(agent, method, path, headers);
        const took = ms(t);
        if (reply.status !== 200) throw new Error(`${method} ${path}: HTTP ${reply.status}`);
        if (method === "GET" && !reply.body.includes(`<KeyCount>${LIST_PAGE_KEYS}</KeyCount>`))
          throw new Error(`GET ${path}: not a page of ${LIST_PAGE_KEYS} keys`);
        return took;
      };
      ctx.progress("storage list: warming up");
      for (let i = 0; i < LISTS_PER_RUN / 4; i++) {
        await once("GET", listPath());
        await once("HEAD", headPath);
      }
      for (let run = 0; run < ctx.runs; run++) {
        ctx.progress(`storage list: run ${run + 1}/${ctx.runs}`);
        const l: number[] = [];
        const h: number[] = [];
        // Interleaved one by one: the baseline shares each moment of the machine.
        for (let i = 0; i < LISTS_PER_RUN; i++) {
          l.push(await once("GET", listPath()));
          h.push(await once("HEAD", headPath));
        }
        lists.push(l);
        heads.push(h);
      }
    } finally {
      agent.destroy();
    }
  } finally {
    // The platform removes the data directory it was given when it closes.
    await platform?.close();
    if (!platform) await rm(filled.dataDir, { recursive: true, force: true });
  }
  const list = spread(lists.flat());
  const head = spread(heads.flat());
  const runP50s = lists.map((l) => spread(l).p50);
  const pass = list.p50 <= TARGET_LIST_P50_MS;
  return {
    name: "storage list",
    line:
      `ListObjectsV2 of ${fmtInt(LIST_PAGE_KEYS)} keys in ${fmtInt(o.keys)}: p50 ${fmtMs(list.p50)} ms ` +
      `p99 ${fmtMs(list.p99)} ms | HEAD of one object p50 ${fmtMs(head.p50)} ms p99 ${fmtMs(head.p99)} ms | ` +
      `${fmtRatio(list.p50 / head.p50)} (target p50 ≤${TARGET_LIST_P50_MS} ms) ${verdict(pass)}`,
    notes: [
      `per run p50 (ms): lists ${runP50s.map(fmtMs).join(" ")} | HEAD ${heads.map((h) => fmtMs(spread(h).p50)).join(" ")} ` +
        `(${LISTS_PER_RUN} pages per run from random start-after keys, one client, each interleaved with a HEAD)`,
      `${fmtInt(o.keys)} records stored through SqliteStore.storage in ${(filled.ms / 1000).toFixed(1)} s ` +
        `(database ${fmtMb(filled.databaseMb * 1024)} MB); the platform started on them in ${fmtInt(startMs)} ms ` +
        "(its sweep reads every record's blob id)",
    ],
    pass,
    data: {
      unit: "ms",
      keys: o.keys,
      pageKeys: LIST_PAGE_KEYS,
      list,
      head,
      perRunListP50: runP50s,
      fillMs: filled.ms,
      databaseMb: filled.databaseMb,
      platformStartMs: startMs,
      target: { p50Ms: TARGET_LIST_P50_MS },
    },
    headline: { listP50Ms: list.p50, listP99Ms: list.p99, headP50Ms: head.p50 },
  };
}
