import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../shared/clock.js";
import { LAMBDA_X86_PRICES } from "../shared/config.js";
import { NimbusError } from "../shared/errors.js";
import { Budgets, PLATFORM_SCOPE } from "./budgets.js";
import type { ProvisionedSpan } from "./provisioned-repo.js";
import type { Pricing } from "./usage.js";
import type { Budget, UsageQuery, UsageRecord, UsageSums } from "./usage-repo.js";

const P: Pricing = { ...LAMBDA_X86_PRICES, freeTier: false };

/** One fake serves the three repositories Budgets reads. */
function repos<S>(s: S) {
  return { store: s, usage: s, provisioned: s };
}

function store(stored: UsageSums[] = [], spans: ProvisionedSpan[] = []) {
  const budgets = new Map<string, Budget>();
  const queries: UsageQuery[] = [];
  return {
    queries,
    listBudgets: async () => [...budgets.values()],
    putBudget: async (b: Budget) => void budgets.set(b.scope, b),
    deleteBudget: async (scope: string) => budgets.delete(scope),
    queryUsage: async (q: UsageQuery) => {
      queries.push(q);
      return stored;
    },
    provisionedSpans: async () => spans,
  };
}

/** A 1,024 MB invocation billed `ms`: 0.0000002 + ms/1000 × 0.0000166667 USD. */
function record(functionName: string, ms: number): UsageRecord {
  return {
    requestId: "r",
    functionName,
    version: "$LATEST",
    type: "sync",
    cold: false,
    provisioned: false,
    startedAt: 0,
    durationMs: ms,
    billedMs: ms,
    memoryMb: 1024,
    gbSeconds: ms / 1000,
    initMs: undefined,
    restoreMs: undefined,
    restoreBilledMs: undefined,
    maxMemoryMb: undefined,
    outcome: "success",
    traceId: "",
    arrivedAt: undefined,
    handedAfterMs: 0,
    totalMs: ms,
    initPhases: undefined,
  };
}

function refusal(fn: () => void): NimbusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof NimbusError);
    return err;
  }
  assert.fail("not refused");
}

test("a function past its monthly budget is refused with a message naming the budget; raising it resumes", async () => {
  const clock = new FakeClock(Date.UTC(2026, 10, 24, 12));
  const b = new Budgets({ ...repos(store()), pricing: P, now: () => clock.now(), running: () => [] });
  await b.load();
  await b.set("resize", 0.01);
  b.check("resize");
  // 600 s of 1 GB: 0.0100002 USD, just past 0.01.
  b.spend(record("resize", 600_000));
  const err = refusal(() => b.check("resize"));
  assert.equal(err.code, "BudgetExceeded");
  assert.equal(err.status, 402);
  assert.match(
    err.message,
    /function resize's monthly budget of USD 0\.0100 is spent \(USD 0\.0100 this month\)/,
  );
  b.check("other"); // no budget of its own
  assert.deepEqual(
    b.list().map((v) => [v.scope, v.exceeded]),
    [["resize", true]],
  );
  await b.set("resize", 0.02);
  b.check("resize");
  assert.equal(b.refusal("resize"), undefined);
});

test("the platform's budget counts every function; a new month (UTC) starts from nothing", async () => {
  const clock = new FakeClock(Date.UTC(2026, 10, 30, 23, 59));
  const b = new Budgets({ ...repos(store()), pricing: P, now: () => clock.now(), running: () => [] });
  await b.load();
  await b.set(PLATFORM_SCOPE, 0.001);
  b.spend(record("a", 30_000));
  b.spend(record("b", 40_000));
  assert.match(refusal(() => b.check("c")).message, /the platform's monthly budget of USD 0\.0010 is spent/);
  clock.advance(2 * 60_000); // December 1st
  b.check("c");
  assert.equal(b.view(PLATFORM_SCOPE)?.spentUsd, 0);
});

test("spend is loaded from the month's stored usage and provisioned up-time, and running provisioned instances count", async () => {
  const now = Date.UTC(2026, 10, 24, 12);
  const clock = new FakeClock(now);
  const stored = [
    {
      key: "f",
      requests: 1000,
      errors: 0,
      coldStarts: 0,
      durationMs: 0,
      billedMs: 0,
      gbSeconds: 100,
      provisionedDurationGbSeconds: 0,
    },
  ];
  // Stopped a minute ago after 2 hours at 1,024 MB: 7,200 GB-s of up-time.
  const ended: ProvisionedSpan = {
    functionName: "f",
    version: "1",
    instanceId: "a",
    memoryMb: 1024,
    startedAt: now - 2 * 3_600_000 - 60_000,
    stoppedAt: now - 60_000,
  };
  const s = store(stored, [ended]);
  let running: ProvisionedSpan[] = [];
  const b = new Budgets({ ...repos(s), pricing: P, now: () => clock.now(), running: () => running });
  await b.load();
  assert.equal(s.queries[0]?.from, Date.UTC(2026, 10, 1), "from the start of the month");
  await b.set("f", 1);
  const loaded = 1000 * 0.0000002 + 100 * 0.0000166667 + 7200 * 0.0000041667;
  assert.ok(Math.abs(b.view("f")!.spentUsd - loaded) < 1e-12);
  // One 10 GB instance up for 10 hours: 360,000 GB-s, 1.50 USD.
  running = [
    {
      functionName: "f",
      version: "1",
      instanceId: "b",
      memoryMb: 10240,
      startedAt: now - 10 * 3_600_000,
      stoppedAt: undefined,
    },
  ];
  clock.advance(2000); // past the running instances' cache
  assert.equal(b.refusal("f")?.code, "BudgetExceeded");
});
