import assert from "node:assert/strict";
import { test } from "node:test";
import type { FunctionVersion } from "../protocol/function.js";
import { LAMBDA_X86_PRICES } from "../shared/config.js";
import { type DispatchResult, figuresOf, reportLine } from "./report.js";
import { gbSeconds, type Pricing, recordCost, usageRecord } from "./usage.js";

const LAMBDA: Pricing = { ...LAMBDA_X86_PRICES, freeTier: false };
const timing = (type: "sync" | "async", startedAt: number) => ({
  type,
  startedAt,
  traceId: "Root=1-00000000-000000000000000000000000",
  handedAfterMs: 0.1,
  totalMs: 1,
});
const fn = { functionName: "resize", version: "3", memoryMb: 512 } as FunctionVersion;

function result(
  durationMs: number,
  initMs?: number,
  opts: { restored?: boolean; provisioned?: boolean } = {},
): DispatchResult {
  return {
    outcome: { kind: "success", payload: Buffer.from("null") },
    figures: figuresOf(fn, "req-1", durationMs, 61, initMs, opts.restored),
    cold: initMs !== undefined,
    ...(opts.provisioned ? { provisioned: true } : {}),
    logTail: "",
  };
}

test("a cold invocation bills duration plus init, rounded up to the next ms, as its REPORT line says", () => {
  const r = result(12.3, 105.2);
  const u = usageRecord(fn, r, timing("sync", 1000));
  assert.equal(u.billedMs, 118); // ceil(12.3 + 105.2)
  assert.match(reportLine(r.figures, r.outcome), /\tBilled Duration: 118 ms\t/);
  assert.equal(u.gbSeconds, 0.118 * 0.5);
  assert.equal(u.initMs, 105.2);
  assert.equal(u.cold, true);
  assert.equal(u.memoryMb, 512);
  assert.equal(u.maxMemoryMb, 61);
  assert.equal(u.outcome, "success");
  // 0.20 per million requests + 0.059 GB-s at 0.0000166667.
  assert.ok(Math.abs(recordCost(u, LAMBDA) - (0.0000002 + 0.059 * 0.0000166667)) < 1e-15);
});

test("a warm invocation of a fraction of a millisecond bills 1 ms", () => {
  const u = usageRecord(fn, result(0.21), timing("async", 1000));
  assert.equal(u.billedMs, 1);
  assert.equal(u.gbSeconds, 0.001 * 0.5);
  assert.equal(u.type, "async");
  assert.equal(u.initMs, undefined);
});

test("a snapshot restore is billed apart from the duration, at the duration's rate", () => {
  const r = result(10.1, 30.4, { restored: true });
  const u = usageRecord(fn, r, timing("sync", 1000));
  assert.equal(u.billedMs, 11);
  assert.equal(u.restoreBilledMs, 31);
  assert.equal(u.restoreMs, 30.4);
  assert.equal(u.initMs, undefined);
  assert.match(
    reportLine(r.figures, r.outcome),
    /\tBilled Duration: 11 ms\t.*\tBilled Restore Duration: 31 ms/,
  );
  assert.ok(Math.abs(u.gbSeconds - 0.042 * 0.5) < 1e-15, String(u.gbSeconds));
});

test("duration on a provisioned instance is priced at the provisioned duration rate", () => {
  const u = usageRecord(fn, result(100, undefined, { provisioned: true }), timing("sync", 1000));
  assert.equal(u.provisioned, true);
  assert.ok(Math.abs(recordCost(u, LAMBDA) - (0.0000002 + 0.05 * 0.0000097222)) < 1e-15);
});

test("GB-seconds count a GB as 1,024 MB", () => {
  assert.equal(gbSeconds(1000, 1024), 1);
  assert.equal(gbSeconds(1000, 128), 0.125);
  assert.equal(gbSeconds(3_600_000, 1769), 3600 * (1769 / 1024));
});

test("errors are recorded with the type the caller saw", () => {
  const timeout: DispatchResult = { ...result(3000), outcome: { kind: "timeout", timeoutS: 3 } };
  assert.equal(usageRecord(fn, timeout, timing("sync", 0)).outcome, "Sandbox.Timedout");
  const thrown: DispatchResult = {
    ...result(2),
    outcome: { kind: "error", errorType: "TypeError", payload: Buffer.from("{}") },
  };
  assert.equal(usageRecord(fn, thrown, timing("sync", 0)).outcome, "TypeError");
});
