import assert from "node:assert/strict";
import { test } from "node:test";
import type { FunctionVersion } from "../protocol/function.js";
import { PlatformMetrics } from "./metrics.js";
import { type DispatchResult, figuresOf } from "./report.js";

const fn = { functionName: "resize", version: "3", memoryMb: 512 } as FunctionVersion;
const sources = {
  instances: () => [],
  concurrency: () => new Map<string, number>(),
  backlog: async () => [],
  pooledRuntimes: () => 0,
  now: () => 0,
};

function invoked(metrics: PlatformMetrics, type: "sync" | "async", durationMs: number): void {
  const result: DispatchResult = {
    outcome: { kind: "success", payload: Buffer.from("{}") },
    figures: figuresOf(fn, "r", durationMs, 40, undefined),
    cold: false,
    logTail: "",
  };
  metrics.invoked(fn, result, { type, startedAt: 0, traceId: "", handedAfterMs: 0, totalMs: durationMs });
}

function value(exposition: string, series: string): number {
  const line = exposition.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no ${series} in the exposition`);
  return Number(line.split(" ")[1]);
}

test("every invocation reaches the exposition, whether counted before a scrape or past a batch", async () => {
  const metrics = new PlatformMetrics(sources);
  // 1,300 sync calls: two batches handed over unasked (512 each), the rest at the scrape.
  for (let i = 0; i < 1300; i++) invoked(metrics, "sync", 2);
  for (let i = 0; i < 7; i++) invoked(metrics, "async", 200);
  let text = (await metrics.expose()).body;
  assert.equal(value(text, 'nimbus_invocations_total{function="resize",type="sync"}'), 1300);
  assert.equal(value(text, 'nimbus_invocations_total{function="resize",type="async"}'), 7);
  assert.equal(value(text, 'nimbus_invocation_duration_seconds_count{function="resize"}'), 1307);
  assert.equal(value(text, 'nimbus_invocation_duration_seconds_bucket{le="0.0025",function="resize"}'), 1300);
  // A second scrape counts only what came since: nothing twice.
  invoked(metrics, "sync", 2);
  text = (await metrics.expose()).body;
  assert.equal(value(text, 'nimbus_invocations_total{function="resize",type="sync"}'), 1301);
  assert.equal(value(text, 'nimbus_invocation_duration_seconds_count{function="resize"}'), 1308);
});
