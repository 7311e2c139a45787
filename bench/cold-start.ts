/**
 * Figure 3: cold start of a trivial function. Each sample deploys a new function (its own
 * package, so nothing of it is warm) and times its first invocation from the client; the
 * platform's Init Duration comes from the REPORT line (LogType Tail). Baseline: `node -e 0`
 * with an empty environment, spawn to exit, interleaved with the platform's samples.
 */

import type { Agent } from "node:http";
import { type BenchContext, type FigureResult, fmtMs, fmtRatio, verdict } from "./lib/context.js";
import { invokePath, PAYLOAD } from "./lib/functions.js";
import { expectOk, keepAliveAgent, type Signer, send } from "./lib/http-client.js";
import { sleep, spawnCleanNode } from "./lib/proc.js";
import { spread } from "./lib/stats.js";

export interface ColdStartOptions {
  /** Fresh functions per run. */
  readonly functions: number;
}

const TARGET_P50_MS = 30;
const TARGET_P99_MS = 60;
/** Lets the deletes of the previous run finish stopping instances before the next run. */
const SETTLE_MS = 300;

export async function coldStart(ctx: BenchContext, o: ColdStartOptions): Promise<FigureResult> {
  const e2e: number[] = [];
  const init: number[] = [];
  const baseline: number[] = [];
  const agent = keepAliveAgent(1);
  const nonce = Date.now().toString(36);
  try {
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`cold start: run ${run + 1}/${ctx.runs}`);
      const names: string[] = [];
      try {
        for (let i = 0; i < o.functions; i++) {
          const name = `bench-cold-${run}-${i}`;
          await ctx.control.deploy(name, { salt: `${nonce}-${name}` });
          names.push(name);
          const r = await coldInvoke(agent, ctx.signer, ctx.base, name);
          e2e.push(r.ms);
          init.push(r.initMs);
          baseline.push(await nodeStart());
        }
      } finally {
        for (const name of names) await ctx.control.remove(name);
      }
      await sleep(SETTLE_MS);
    }
  } finally {
    agent.destroy();
  }

  const platform = spread(e2e);
  const reported = spread(init);
  const bare = spread(baseline);
  const pass = platform.p50 <= TARGET_P50_MS && platform.p99 <= TARGET_P99_MS;
  return {
    name: "cold start",
    line:
      `platform first invoke p50 ${fmtMs(platform.p50)} ms p99 ${fmtMs(platform.p99)} ms ` +
      `(Init Duration p50 ${fmtMs(reported.p50)} p99 ${fmtMs(reported.p99)}) | ` +
      `node -e 0 p50 ${fmtMs(bare.p50)} ms p99 ${fmtMs(bare.p99)} ms | ` +
      `${fmtRatio(platform.p50 / bare.p50)} / ${fmtRatio(platform.p99 / bare.p99)} ` +
      `(target ≤${TARGET_P50_MS} / ≤${TARGET_P99_MS} ms, end to end) ${verdict(pass)}`,
    notes: [
      `outside Init (client → gateway → start instance, invoke, response): ` +
        `p50 ${fmtMs(platform.p50 - reported.p50)} ms; ${e2e.length} fresh functions`,
    ],
    pass,
    data: {
      unit: "ms",
      functionsPerRun: o.functions,
      platform,
      initDuration: reported,
      baseline: bare,
      target: { p50: TARGET_P50_MS, p99: TARGET_P99_MS },
      samples: { endToEnd: e2e, initDuration: init, baseline },
    },
    headline: { p50: platform.p50, p99: platform.p99, initP50: reported.p50 },
  };
}

/** A signed first invocation of a function, ready to send: signing is client work, not timed. */
export interface SignedInvoke {
  readonly name: string;
  readonly path: string;
  readonly headers: Record<string, string>;
}

export async function signInvoke(signer: Signer, base: URL, name: string): Promise<SignedInvoke> {
  const path = invokePath(name);
  return { name, path, headers: await signer.post(base, path, PAYLOAD, { "x-amz-log-type": "Tail" }) };
}

export interface ColdResult {
  readonly ms: number;
  readonly initMs: number;
  readonly phases: Record<string, string> | undefined;
}

/**
 * The first invocation of a function, signed off the clock and timed from the client: its
 * end-to-end time, the REPORT line's Init (or Restore) Duration and the cold start's phases.
 */
export async function coldInvoke(agent: Agent, signer: Signer, base: URL, name: string): Promise<ColdResult> {
  return sendSigned(agent, base, await signInvoke(signer, base, name));
}

/** Sends a signed first invocation (see `coldInvoke`). */
export async function sendSigned(agent: Agent, base: URL, req: SignedInvoke): Promise<ColdResult> {
  const start = performance.now();
  const reply = await send(agent, base, req.path, req.headers, PAYLOAD);
  const ms = performance.now() - start;
  expectOk(reply, `first invoke of ${req.name}`);
  const tail = Buffer.from(String(reply.headers["x-amz-log-result"] ?? ""), "base64").toString();
  const m = /\t(?:Init|Restore) Duration: ([\d.]+) ms/.exec(tail);
  if (!m) throw new Error(`first invoke of ${req.name} reported no Init or Restore Duration: ${tail}`);
  const header = reply.headers["x-nimbus-init-phases"];
  const phases =
    typeof header === "string"
      ? Object.fromEntries(header.split("; ").map((p) => p.split("=") as [string, string]))
      : undefined;
  return { ms, initMs: Number(m[1]), phases };
}

/** Spawn to exit of `node -e 0` with an empty environment. */
export function nodeStart(): Promise<number> {
  const start = performance.now();
  const child = spawnCleanNode(["-e", "0"]);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(performance.now() - start) : reject(new Error(`node -e 0 exited with ${code}`)),
    );
  });
}
