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

test("an instance gets CPU time in proportion to its memory: 885 MB half a CPU, 442 MB a quarter", async (ctx) => {
  if (!t.platform.worker.limitsMemory) {
    ctx.skip("control groups are unavailable here (the platform said so at start): no CPU quotas");
    return;
  }
  await createNodeFunction(t.lambda, "spin-885", SPIN, { MemorySize: 885 });
  await createNodeFunction(t.lambda, "spin-442", SPIN, { MemorySize: 442 });
  // Warm both (the first call also compiles). A quota is a ceiling: however busy the machine
  // (other test files share its cores), no run may use more than its share; and the best run
  // of the larger size must use more than the smaller size's ceiling, or the quota is too low.
  await share("spin-885");
  await share("spin-442");
  const half: number[] = [];
  const quarter: number[] = [];
  for (let i = 0; i < 5; i++) {
    const h = await share("spin-885");
    const q = await share("spin-442");
    ctx.diagnostic(`885 MB ${h.rate.toFixed(2)} of a CPU; 442 MB ${q.rate.toFixed(2)}`);
    assert.ok(h.rate <= ceiling(885 / 1769, h.wallMs), `885 MB used ${h.rate.toFixed(2)} of a CPU`);
    assert.ok(q.rate <= ceiling(442 / 1769, q.wallMs), `442 MB used ${q.rate.toFixed(2)} of a CPU`);
    half.push(h.rate);
    quarter.push(q.rate);
  }
  const best = Math.max(...half);
  assert.ok(best > 0.3, `885 MB's best run used only ${best.toFixed(2)} of a CPU (a quarter is 442 MB's)`);
});
