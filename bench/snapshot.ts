/**
 * Issue 4's snapshot figure: cold start of a function whose init spends 250 ms of CPU,
 * restored from its SnapStart snapshot (the first invocation of its published version),
 * against the same function's cold start without one (its $LATEST) and beside `node -e 0`.
 * Each sample is a new function, published once (the snapshot is built before that answers).
 */
import { coldInvoke, nodeStart } from "./cold-start.js";
import { type BenchContext, type FigureResult, fmtMs, fmtRatio, verdict } from "./lib/context.js";
import { keepAliveAgent } from "./lib/http-client.js";
import { spread } from "./lib/stats.js";

const TARGET_RATIO = 1.5;
/**
 * 250 ms of CPU whose result is small (a digest chain), as an init that parses or computes
 * rather than one that keeps a large heap: restoring a large heap costs in proportion to it.
 */
const HEAVY_INIT = `import { createHash } from "node:crypto";
const until = performance.now() + 250;
let digest = "", rounds = 0;
while (performance.now() < until) { digest = createHash("sha256").update(digest).digest("hex"); rounds++; }
export const handler = async () => ({ digest, rounds });
`;

export async function snapshotColdStart(ctx: BenchContext, o: { functions: number }): Promise<FigureResult> {
  const restored: number[] = [];
  const plain: number[] = [];
  const baseline: number[] = [];
  let notRestored = 0;
  const nonce = Date.now().toString(36);
  const agent = keepAliveAgent(1);
  try {
    for (let run = 0; run < ctx.runs; run++) {
      ctx.progress(`snapshot: run ${run + 1}/${ctx.runs}`);
      for (let i = 0; i < o.functions; i++) {
        const name = `bench-snapshot-${run}-${i}`;
        await ctx.control.deploy(name, { code: HEAVY_INIT, salt: `${nonce}-${name}`, snapStart: true });
        try {
          const version = await ctx.control.publish(name);
          const r = await coldInvoke(agent, ctx.signer, ctx.base, `${name}:${version}`);
          restored.push(r.ms);
          if (r.phases?.restored !== "1") notRestored++;
          plain.push((await coldInvoke(agent, ctx.signer, ctx.base, name)).ms);
          baseline.push(await nodeStart());
        } finally {
          await ctx.control.remove(name);
        }
      }
    }
  } finally {
    agent.destroy();
  }
  const r = spread(restored);
  const p = spread(plain);
  const b = spread(baseline);
  const pass = notRestored === 0 && r.p50 <= TARGET_RATIO * b.p50;
  return {
    name: "snapshot",
    line:
      `250 ms init restored p50 ${fmtMs(r.p50)} ms p99 ${fmtMs(r.p99)} ms | without snapshot p50 ${fmtMs(p.p50)} ms | ` +
      `node -e 0 p50 ${fmtMs(b.p50)} ms | ${fmtRatio(r.p50 / b.p50)} of node -e 0, ${fmtRatio(r.p50 / p.p50)} of the plain start ` +
      `(target ≤ ${TARGET_RATIO} × node -e 0) ${verdict(pass)}`,
    notes: notRestored > 0 ? [`${notRestored} cold starts did not restore a snapshot`] : [],
    pass,
    data: { unit: "ms", restored: r, plain: p, baseline: b, notRestored },
  };
}
