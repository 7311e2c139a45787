/**
 * Figure 13's streaming part: how long a chunk a function writes to a RESPONSE_STREAM URL takes
 * to reach the caller, beyond what a bare server streaming the same way takes. The function and
 * the client share no precise clock, so the figure uses the function's own pause: it writes
 * chunk 1, waits STREAM_PAUSE_MS, writes chunk 2 and ends; the client times both arrivals, and
 * (arrival 2 − arrival 1) − pause is what chunk 2's trip took beyond chunk 1's. The same handler
 * file behind a bare node:http server (`lib/bare-stream-server.ts`) gives the same gap with no
 * platform in the way, timer lateness included; the platform's share is the difference.
 *
 * That gap cannot see a delay every chunk pays alike (chunk 1 bears it too), so each chunk also
 * carries the moment it was written on the machine's clock (`performance.timeOrigin + now()`, as
 * figure 5 reads a function's start), and the client subtracts it from the moment it arrived: a
 * direct trip time per chunk, exact to the two processes' clock readings (µs on one machine).
 */
import http from "node:http";
import { type BenchContext, type FigurePart, fmtMs, verdict } from "./lib/context.js";
import { keepAliveAgent } from "./lib/http-client.js";
import { startBareServer } from "./lib/proc.js";
import { spread } from "./lib/stats.js";

const FUNCTION = "bench-http-stream";
export const STREAM_PAUSE_MS = 50;
/** Timed requests to each side, sample by sample, so the machine's drift falls on both. */
export const STREAM_REQUESTS = 200;
const STREAM_WARMUP_REQUESTS = 20;
/** What a RESPONSE_STREAM URL may add to a chunk's trip, p50 and p99. */
const TARGET_STREAM_ADDED_MS = 1;

/** Each chunk is one line: the moment it was written, in ms on the machine's clock. */
export const STREAM_HANDLER = `const stamp = () => \`\${performance.timeOrigin + performance.now()}\\n\`;
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const out = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 200,
    headers: { "content-type": "text/plain" },
  });
  out.write(stamp());
  await new Promise((resolve) => setTimeout(resolve, ${STREAM_PAUSE_MS}));
  out.write(stamp());
  out.end();
});
`;

const now = () => performance.timeOrigin + performance.now();

/** One streamed answer: when each chunk arrived, in ms after the request was sent. */
interface Arrivals {
  readonly first: number;
  readonly second: number;
  /** Each chunk's trip, written → arrived, by the machine's clock. */
  readonly trip: readonly [number, number];
  /** Both chunks came in one read: the first was held back until the second. */
  readonly together: boolean;
}

export interface StreamSamples {
  /** (arrival 2 − arrival 1) − pause, per request. */
  readonly gap: { readonly url: number[]; readonly bare: number[] };
  /** Request sent → chunk 1 arrived (an invocation's start, plus chunk 1's trip). */
  readonly firstChunk: { readonly url: number[]; readonly bare: number[] };
  /** Written → arrived by the machine's clock, chunk 1 and chunk 2. */
  readonly trip: {
    readonly url: readonly [number[], number[]];
    readonly bare: readonly [number[], number[]];
  };
  /** Answers whose chunks arrived together, on the URL. */
  readonly together: number;
}

export async function streamDelays(ctx: BenchContext): Promise<StreamSamples> {
  await ctx.control.deploy(FUNCTION, { code: STREAM_HANDLER });
  const bare = await startBareServer({ streamHandler: STREAM_HANDLER }).catch(async (err: unknown) => {
    await ctx.control.remove(FUNCTION);
    throw err;
  });
  const urlAgent = keepAliveAgent(1);
  const bareAgent = keepAliveAgent(1);
  try {
    const functionUrl = new URL(await ctx.control.createUrl(FUNCTION, "RESPONSE_STREAM"));
    // The path form on the platform's port, whichever form CreateFunctionUrlConfig answered.
    const id = /^([a-z0-9]+)\.lambda-url\./.exec(functionUrl.hostname)?.[1];
    const path = id ? `/lambda-url/${id}/` : functionUrl.pathname;
    const gap: StreamSamples["gap"] = { url: [], bare: [] };
    const firstChunk: StreamSamples["firstChunk"] = { url: [], bare: [] };
    const trip: StreamSamples["trip"] = { url: [[], []], bare: [[], []] };
    let together = 0;
    for (let i = 0; i < STREAM_WARMUP_REQUESTS + STREAM_REQUESTS; i++) {
      const timed = i - STREAM_WARMUP_REQUESTS;
      if (timed >= 0 && timed % 50 === 0) ctx.progress(`http: streamed chunks ${timed}/${STREAM_REQUESTS}`);
      const u = await streamed(urlAgent, ctx.base, path);
      const b = await streamed(bareAgent, bare.url, "/");
      if (i < STREAM_WARMUP_REQUESTS) continue;
      gap.url.push(u.second - u.first - STREAM_PAUSE_MS);
      gap.bare.push(b.second - b.first - STREAM_PAUSE_MS);
      firstChunk.url.push(u.first);
      firstChunk.bare.push(b.first);
      for (const k of [0, 1] as const) {
        trip.url[k].push(u.trip[k]);
        trip.bare[k].push(b.trip[k]);
      }
      if (u.together) together++;
    }
    return { gap, firstChunk, trip, together };
  } finally {
    urlAgent.destroy();
    bareAgent.destroy();
    bare.close();
    await ctx.control.remove(FUNCTION);
  }
}

/** One GET of a streamed answer, timing the arrival of each of the handler's two chunks. */
function streamed(agent: http.Agent, base: URL, path: string): Promise<Arrivals> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request({ host: base.hostname, port: base.port, method: "GET", path, agent }, (res) => {
      let text = "";
      // When each line (chunk) was complete: on the client's own clock, and on the machine's.
      const arrived: number[] = [];
      const arrivedAt: number[] = [];
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const t = performance.now();
        const wall = now();
        text += chunk;
        const lines = text.split("\n").length - 1;
        while (arrived.length < lines) {
          arrived.push(t);
          arrivedAt.push(wall);
        }
      });
      res.on("end", () => {
        const written = text.split("\n").slice(0, 2).map(Number);
        const [first, second] = arrived;
        const [w1, w2] = written;
        if (
          res.statusCode !== 200 ||
          arrived.length !== 2 ||
          first === undefined ||
          second === undefined ||
          !Number.isFinite(w1) ||
          !Number.isFinite(w2)
        )
          return reject(
            new Error(
              `streamed answer from ${base.host}${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`,
            ),
          );
        resolve({
          first: first - start,
          second: second - start,
          trip: [arrivedAt[0]! - w1!, arrivedAt[1]! - w2!],
          together: first === second,
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** The streamed chunk's delay: the URL's gap beyond the pause, less the bare server's. */
export function streamPart(s: StreamSamples | undefined, reason: string | undefined): FigurePart {
  if (!s) {
    const why = `streamed chunk unavailable: ${reason ?? "not measured"}`;
    return {
      column: why,
      note: `${why} ${verdict(false)}`,
      pass: false,
      data: { unavailable: reason },
      headline: {},
    };
  }
  const gap = { url: spread(s.gap.url), bare: spread(s.gap.bare) };
  const first = { url: spread(s.firstChunk.url), bare: spread(s.firstChunk.bare) };
  const added = { p50: gap.url.p50 - gap.bare.p50, p99: gap.url.p99 - gap.bare.p99 };
  const trip = {
    url: [spread(s.trip.url[0]), spread(s.trip.url[1])],
    bare: [spread(s.trip.bare[0]), spread(s.trip.bare[1])],
  };
  const pass = added.p50 <= TARGET_STREAM_ADDED_MS && added.p99 <= TARGET_STREAM_ADDED_MS && s.together === 0;
  const ms = (v: { p50: number; p99: number }) => `p50 ${fmtMs(v.p50)} ms p99 ${fmtMs(v.p99)} ms`;
  return {
    column: `streamed chunk added ${ms(added)} (target ≤${TARGET_STREAM_ADDED_MS} ms)`,
    note:
      `RESPONSE_STREAM URL, ${s.gap.url.length} answers at one connection, chunk 2 written ${STREAM_PAUSE_MS} ms ` +
      `after chunk 1; (arrival 2 − arrival 1) − ${STREAM_PAUSE_MS} ms: URL ${ms(gap.url)} | bare node:http ` +
      `streaming the same handler ${ms(gap.bare)} | added by the platform ${ms(added)}` +
      `${s.together > 0 ? `, ${s.together} answers held chunk 1 back until chunk 2` : ""}; ` +
      `request → chunk 1: URL ${ms(first.url)}, bare ${ms(first.bare)}; ` +
      `written → arrived by the machine's clock, chunk 1 / chunk 2: URL ${ms(trip.url[0]!)} / ${ms(trip.url[1]!)}, ` +
      `bare ${ms(trip.bare[0]!)} / ${ms(trip.bare[1]!)} ` +
      `(target: added ≤${TARGET_STREAM_ADDED_MS} ms, p50 and p99) ${verdict(pass)}`,
    pass,
    data: {
      requests: s.gap.url.length,
      pauseMs: STREAM_PAUSE_MS,
      gap,
      firstChunk: first,
      trip,
      added,
      together: s.together,
      targetAddedMs: TARGET_STREAM_ADDED_MS,
    },
    headline: { streamAddedP50: added.p50, streamAddedP99: added.p99 },
  };
}
