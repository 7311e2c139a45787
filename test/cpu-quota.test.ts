/** End to end: an instance's CPU share follows its memory size, as on Lambda (1,769 MB = 1 vCPU). */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";

let t: TestPlatform;
before(async () => {
  t = await startPlatform({ poolSize: 0 });
});
after(async () => {
  await t.close();
});

// CPU work for 300 ms of wall time; the handler reports the CPU time its process used and the
// wall time it took, as a user could measure them.
const SPIN = `import { createHash } from "node:crypto";
export const handler = async () => {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let h = "seed";
  while (performance.now() - t0 < 300) h = createHash("sha256").update(h).digest("hex");
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - t0 };
};`;

/** CPU time over wall time of one warm invocation. */
async function share(name: string): Promise<{ rate: number; wallMs: number }> {
  const out = await t.lambda.send(new InvokeCommand({ FunctionName: name }));
  assert.equal(out.FunctionError, undefined);
  const r = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString());
  return { rate: r.cpuMs / r.wallMs, wallMs: r.wallMs };
}

/**
 * The most CPU a process may use over `wallMs` at `cpus` CPUs. The kernel holds a sustained
 * load to its quota exactly (it carries an overrun into the next period), but a short run may
 * also spend what each CPU kept of an earlier period's quota (up to a 5 ms slice) and overrun
 * the last period by up to a scheduler tick (4 ms at 250 Hz): 20 ms in all, plus 1 %.
 */
function ceiling(cpus: number, wallMs: number): number {
  return cpus + 20 / wallMs + 0.01;
}

test("a CPU-bound function runs about twice as fast at 1,769 MB as at 885 MB, and at 885 MB as at 442 MB", async (ctx) => {
  if (!t.platform.worker.limitsMemory) {
    ctx.skip("control groups are unavailable here (the platform said so at start): no CPU quotas");
    return;
  }
  const sizes = [1769, 885, 442];
  for (const mb of sizes) await createNodeFunction(t.lambda, `spin-${mb}`, SPIN, { MemorySize: mb });
  // Warm each (the first call also compiles), then take turns. A quota is a ceiling: however
  // busy the machine, no run may use more than its share. How fast a size runs is the CPU its
  // best run got (this file runs alone, after the others, but the machine is shared).
  for (const mb of sizes) await share(`spin-${mb}`);
  const best = new Map(sizes.map((mb) => [mb, 0]));
  for (let i = 0; i < 4; i++) {
    const line: string[] = [];
    for (const mb of sizes) {
      const { rate, wallMs } = await share(`spin-${mb}`);
      line.push(`${mb} MB ${rate.toFixed(2)}`);
      assert.ok(rate <= ceiling(mb / 1769, wallMs), `${mb} MB used ${rate.toFixed(2)} of a CPU`);
      best.set(mb, Math.max(best.get(mb) ?? 0, rate));
    }
    ctx.diagnostic(`CPUs used: ${line.join("; ")}`);
  }
  for (const [big, small] of [
    [1769, 885],
    [885, 442],
  ] as const) {
    const speedup = (best.get(big) ?? 0) / (best.get(small) ?? 1);
    assert.ok(speedup > 1.6 && speedup < 2.3, `${big} MB ran ${speedup.toFixed(2)} × as fast as ${small} MB`);
  }
});
