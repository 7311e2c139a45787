/**
 * Issue 4's provisioned figure: the first invocation of a version with provisioned
 * concurrency, once READY, against the second (an ordinary warm invocation) of the same
 * instance. Each sample deploys a new function, publishes it and provisions one instance.
 *
 * Both calls come after the same idle time: on this machine a warm instance called after
 * 300 ms idle answers ~1.3 ms slower than one called right after its last call (its process
 * and caches go cold), so a first call made at a random time after READY against a second
 * made at once measured idleness, not provisioning.
 */
import { type BenchContext, type FigureResult, fmtMs, fmtRatio, verdict } from "./lib/context.js";
import { invokePath, PAYLOAD } from "./lib/functions.js";
import { expectOk, keepAliveAgent, send } from "./lib/http-client.js";
import { sleep } from "./lib/proc.js";
import { spread } from "./lib/stats.js";

/** "The same as a warm invocation": the first call's p50 within this of the warm p50. */
const TOLERANCE_MS = 0.5;
/** Idle time of the instance before each timed call. */
const IDLE_MS = 100;

export async function provisionedFirstCall(
  ctx: BenchContext,
  o: { functions: number },
): Promise<FigureResult> {
  const first: number[] = [];
  const warm: number[] = [];
  const agent = keepAliveAgent(1);
  const nonce = Date.now().toString(36);
  let cold = 0;
  try {
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`provisioned: run ${run + 1}/${ctx.runs}`);
      for (let i = 0; i < o.functions; i++) {
        const name = `bench-provisioned-${run}-${i}`;
        await ctx.control.deploy(name, { salt: `${nonce}-${name}` });
        try {
          const version = await ctx.control.provision(name, 1);
          const path = invokePath(`${name}:${version}`);
          for (const samples of [first, warm]) {
            const headers = await ctx.signer.post(ctx.base, path, PAYLOAD, { "x-amz-log-type": "Tail" });
            await sleep(IDLE_MS);
            const start = performance.now();
            const reply = await send(agent, ctx.base, path, headers, PAYLOAD);
            samples.push(performance.now() - start);
            expectOk(reply, `invoke ${name}:${version}`);
            const tail = Buffer.from(String(reply.headers["x-amz-log-result"] ?? ""), "base64").toString();
            if (tail.includes("Init Duration")) cold++;
          }
        } finally {
          await ctx.control.remove(name);
        }
      }
    }
  } finally {
    agent.destroy();
  }
  const f = spread(first);
  const w = spread(warm);
  const pass = cold === 0 && f.p50 - w.p50 <= TOLERANCE_MS;
  return {
    name: "provisioned",
    line:
      `first call on a provisioned instance p50 ${fmtMs(f.p50)} ms p99 ${fmtMs(f.p99)} ms | ` +
      `the next (warm) call p50 ${fmtMs(w.p50)} ms p99 ${fmtMs(w.p99)} ms | ${fmtRatio(f.p50 / w.p50)} ` +
      `(target: the same as warm, p50 within ${TOLERANCE_MS} ms, no Init) ${verdict(pass)}`,
    notes: cold > 0 ? [`${cold} calls reported an Init Duration`] : [],
    pass,
    data: { unit: "ms", first: f, warm: w, cold },
  };
}
