import assert from "node:assert/strict";
import { test } from "node:test";
import { LAMBDA_X86_PRICES } from "../shared/config.js";
import type { ProvisionedSpan } from "./provisioned-repo.js";
import type { Pricing } from "./usage.js";
import type { UsageQuery, UsageSums } from "./usage-repo.js";
import { usageReport } from "./usage-report.js";

const P: Pricing = { ...LAMBDA_X86_PRICES, freeTier: false };
const H = 3_600_000;
const NOV_24 = Date.UTC(2026, 10, 24);

function sums(key: string, s: Partial<UsageSums>): UsageSums {
  return {
    key,
    requests: 0,
    errors: 0,
    coldStarts: 0,
    durationMs: 0,
    billedMs: 0,
    gbSeconds: 0,
    provisionedDurationGbSeconds: 0,
    ...s,
  };
}

function deps(rows: (q: UsageQuery) => UsageSums[], spans: ProvisionedSpan[] = [], pricing = P) {
  return {
    store: { queryUsage: async (q: UsageQuery) => rows(q) },
    spans: async () => spans,
    pricing,
  };
}

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test("per function: requests and duration priced; the total adds the rows", async () => {
  const r = await usageReport(
    deps(() => [
      sums("a", { requests: 1_000_000, gbSeconds: 1000, errors: 3, coldStarts: 2 }),
      sums("b", { requests: 10, gbSeconds: 0.5, provisionedDurationGbSeconds: 2 }),
    ]),
    { from: NOV_24, to: NOV_24 + H, groupBy: "function" },
  );
  assert.equal(r.rows.length, 2);
  const [a, b] = r.rows;
  assert.equal(a!.function, "a");
  close(a!.cost.requests, 0.2);
  close(a!.cost.duration, 1000 * 0.0000166667);
  close(b!.cost.duration, 0.5 * 0.0000166667 + 2 * 0.0000097222);
  close(r.total.cost.total, a!.cost.total + b!.cost.total);
  assert.equal(r.total.requests, 1_000_010);
  assert.equal(r.total.errors, 3);
  assert.equal(r.total.freeTier, null);
});

test("provisioned up-time: cut to the window, priced per GB-second", async () => {
  // 1,024 MB up from one hour before the window to one hour into it: one hour counts.
  const span: ProvisionedSpan = {
    functionName: "p",
    version: "1",
    instanceId: "i",
    memoryMb: 1024,
    startedAt: NOV_24 - H,
    stoppedAt: NOV_24 + H,
  };
  const r = await usageReport(
    deps(() => [], [span]),
    { from: NOV_24, to: NOV_24 + 2 * H, groupBy: "version" },
  );
  assert.deepEqual(
    r.rows.map((x) => [x.function, x.version, x.provisionedGbSeconds]),
    [["p", "1", 3600]],
  );
  close(r.rows[0]!.cost.provisioned, 3600 * 0.0000041667);
});

test("by day: a span across midnight (UTC) is split between the days", async () => {
  const span: ProvisionedSpan = {
    functionName: "p",
    version: "1",
    instanceId: "i",
    memoryMb: 512,
    startedAt: NOV_24 + 22 * H,
    stoppedAt: undefined, // still running at `to`
  };
  const r = await usageReport(
    deps(() => [sums("2026-11-24", { requests: 5 })], [span]),
    { from: NOV_24, to: NOV_24 + 26 * H, groupBy: "day" },
  );
  assert.deepEqual(
    r.rows.map((x) => [x.day, x.requests, x.provisionedGbSeconds]),
    [
      ["2026-11-24", 5, 3600],
      ["2026-11-25", 0, 3600],
    ],
  );
});

test("the free tier: each month's first million requests and 400,000 GB-seconds, for the whole platform only", async () => {
  const usage = (q: UsageQuery) =>
    q.groupBy === "month"
      ? [
          sums("2026-10", { requests: 1_500_000, gbSeconds: 500_000 }),
          sums("2026-11", { requests: 200_000, gbSeconds: 100_000 }),
        ]
      : [sums("a", { requests: 1_700_000, gbSeconds: 600_000 })];
  const r = await usageReport(deps(usage, [], { ...P, freeTier: true }), {
    from: Date.UTC(2026, 9, 1),
    to: NOV_24,
    groupBy: "function",
  });
  // October: 1,000,000 and 400,000 free; November: all of its 200,000 and 100,000.
  assert.equal(r.total.freeTier?.requests, 1_200_000);
  assert.equal(r.total.freeTier?.gbSeconds, 500_000);
  const credit = 1_200_000 * 0.0000002 + 500_000 * 0.0000166667;
  close(r.total.freeTier!.credit, credit);
  const gross = 1_700_000 * 0.0000002 + 600_000 * 0.0000166667;
  close(r.rows[0]!.cost.total, gross);
  close(r.total.cost.total, gross - credit);

  const one = await usageReport(deps(usage, [], { ...P, freeTier: true }), {
    functionName: "a",
    from: Date.UTC(2026, 9, 1),
    to: NOV_24,
    groupBy: "function",
  });
  assert.equal(one.total.freeTier, null, "a single function's report keeps its gross cost");
  close(one.total.cost.total, gross);
});
