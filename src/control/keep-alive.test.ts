import assert from "node:assert/strict";
import { test } from "node:test";
import { FixedKeepAlive, HybridHistogramKeepAlive, type KeepAlivePolicy } from "./keep-alive.js";

const MIN = 60_000;
const FIXED = 10 * MIN;

/** Invocations of 1 s starting at each time; returns the decision after the last one. */
function feed(policy: KeepAlivePolicy, starts: number[], name = "f") {
  let last = { prewarmAfterMs: 0, keepAliveMs: 0 };
  for (const s of starts) {
    policy.invoked(name, s);
    last = policy.decide(name, s + 1000);
  }
  return last;
}

const every = (n: number, gap: (i: number) => number) => {
  const out: number[] = [];
  for (let i = 0, t = 0; i < n; i++, t += gap(i)) out.push(t);
  return out;
};

test("the fixed policy keeps every instance for its timeout", () => {
  assert.deepEqual(
    feed(
      new FixedKeepAlive(FIXED),
      every(50, () => 30_000),
    ),
    {
      prewarmAfterMs: 0,
      keepAliveMs: FIXED,
    },
  );
});

test("with few idle times the adaptive policy uses the fixed timeout", () => {
  const policy = new HybridHistogramKeepAlive({ fixedMs: FIXED });
  assert.deepEqual(
    feed(
      policy,
      every(5, () => 60 * MIN),
    ),
    { prewarmAfterMs: 0, keepAliveMs: FIXED },
  );
});

test("an hourly function is stopped after each call and pre-warmed shortly before the next", () => {
  const policy = new HybridHistogramKeepAlive({ fixedMs: FIXED });
  const d = feed(
    policy,
    every(40, (i) => 60 * MIN + ((i % 5) - 2) * 10_000),
  );
  assert.ok(
    d.prewarmAfterMs > 45 * MIN && d.prewarmAfterMs < 59 * MIN,
    `pre-warm after ${d.prewarmAfterMs / MIN} min`,
  );
  const until = d.prewarmAfterMs + d.keepAliveMs;
  assert.ok(until > 61 * MIN && until < 75 * MIN, `kept until ${until / MIN} min`);
});

test("a function called every half minute is never kept longer than the fixed timeout", () => {
  // Every idle time ends before either window would: the histogram cannot do better.
  const policy = new HybridHistogramKeepAlive({ fixedMs: FIXED });
  const d = feed(
    policy,
    every(200, (i) => 20_000 + (i % 3) * 10_000),
  );
  assert.equal(d.prewarmAfterMs, 0);
  assert.ok(d.keepAliveMs <= FIXED, `kept ${d.keepAliveMs / MIN} min`);
});

test("a bursty function is not kept for hours after each burst (the idle budget)", () => {
  const policy = new HybridHistogramKeepAlive({ fixedMs: FIXED });
  const starts: number[] = [];
  for (let burst = 0; burst < 30; burst++) {
    const at = burst * (60 + (burst % 7) * 20) * MIN;
    for (let c = 0; c < 15; c++) starts.push(at + c * 2000);
  }
  const d = feed(policy, starts);
  assert.ok(
    d.prewarmAfterMs + d.keepAliveMs <= FIXED,
    `kept ${(d.prewarmAfterMs + d.keepAliveMs) / MIN} min`,
  );
});

test("overlapping invocations end one idle period, counted from the last one to finish", () => {
  const policy = new HybridHistogramKeepAlive({ fixedMs: FIXED, minSamples: 1, minCv: 0 });
  policy.invoked("f", 0);
  policy.invoked("f", 500);
  policy.decide("f", 1000);
  policy.decide("f", 2000);
  // One idle time, 5 min from the end of the second: a narrow histogram, not two entries.
  policy.invoked("f", 2000 + 5 * MIN);
  const d = policy.decide("f", 3000 + 5 * MIN);
  assert.equal(d.prewarmAfterMs, 5 * MIN * 0.9);
  policy.forget("f");
  assert.deepEqual(policy.decide("f", 0), { prewarmAfterMs: 0, keepAliveMs: FIXED });
});
