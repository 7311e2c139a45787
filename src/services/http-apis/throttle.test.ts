import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { type StageThrottleConfig, Throttle } from "./throttle.js";

function setup(config: StageThrottleConfig) {
  const clock = new FakeClock();
  const throttle = new Throttle(config, clock);
  const passes = (routeKey: string, n: number): number => {
    let passed = 0;
    for (let i = 0; i < n; i++) if (throttle.take(routeKey).kind === "pass") passed++;
    return passed;
  };
  return { clock, throttle, passes };
}

test("a burst passes at once, the next request gets API Gateway's 429", () => {
  const { throttle, passes } = setup({ defaultRouteSettings: { burstLimit: 5, rateLimit: 1 } });
  assert.equal(passes("GET /a", 5), 5);
  assert.deepEqual(throttle.take("GET /a"), {
    kind: "throttled",
    status: 429,
    body: '{"message":"Too Many Requests"}',
    retryAfterMs: 1000,
  });
});

test("tokens come back at rateLimit per second on the injected clock, never past the burst", () => {
  const { clock, passes } = setup({ defaultRouteSettings: { burstLimit: 4, rateLimit: 2 } });
  assert.equal(passes("GET /a", 10), 4);
  clock.advance(500);
  assert.equal(passes("GET /a", 10), 1);
  clock.advance(1000);
  assert.equal(passes("GET /a", 10), 2);
  clock.advance(60_000);
  assert.equal(passes("GET /a", 10), 4);
});

test("each route has its own bucket from the stage default", () => {
  const { passes } = setup({ defaultRouteSettings: { burstLimit: 2, rateLimit: 1 } });
  assert.equal(passes("GET /a", 5), 2);
  assert.equal(passes("GET /b", 5), 2);
});

test("a route's own settings replace the default's, limit by limit", () => {
  const { clock, passes } = setup({
    defaultRouteSettings: { burstLimit: 2, rateLimit: 1 },
    routeSettings: { "POST /orders": { burstLimit: 10 }, "GET /slow": { rateLimit: 10 } },
  });
  assert.equal(passes("POST /orders", 20), 10);
  clock.advance(1000);
  assert.equal(passes("POST /orders", 20), 1);
  assert.equal(passes("GET /slow", 20), 2);
  clock.advance(100);
  assert.equal(passes("GET /slow", 20), 1);
});

test("a route with no limits at all is not throttled", () => {
  const { passes } = setup({ routeSettings: { "GET /x": { burstLimit: 1, rateLimit: 1 } } });
  assert.equal(passes("GET /other", 1000), 1000);
  assert.equal(passes("GET /x", 3), 1);
});

test("a default with only a rate limits every route by that rate, a burst of one second's worth", () => {
  const { clock, passes } = setup({ defaultRouteSettings: { rateLimit: 3 } });
  assert.equal(passes("GET /a", 10), 3);
  clock.advance(1000);
  assert.equal(passes("GET /a", 10), 3);
});

test("a limit of 0 refuses every request, with no time to retry after", () => {
  const { clock, throttle } = setup({ routeSettings: { "GET /off": { burstLimit: 0, rateLimit: 0 } } });
  clock.advance(3_600_000);
  const d = throttle.take("GET /off");
  assert.equal(d.kind, "throttled");
  if (d.kind === "throttled") assert.equal(d.retryAfterMs, Infinity);
});

test("a fractional rate refills slowly: one request every ten seconds at 0.1", () => {
  const { clock, passes } = setup({ defaultRouteSettings: { burstLimit: 1, rateLimit: 0.1 } });
  assert.equal(passes("GET /a", 3), 1);
  clock.advance(9_999);
  assert.equal(passes("GET /a", 1), 0);
  clock.advance(1);
  assert.equal(passes("GET /a", 1), 1);
});

test("negative or non-integer limits are refused, each named", () => {
  assert.throws(
    () =>
      new Throttle(
        {
          defaultRouteSettings: { burstLimit: -1, rateLimit: 1 },
          routeSettings: { "GET /a": { burstLimit: 1.5, rateLimit: Number.NaN } },
        },
        new FakeClock(),
      ),
    (err: unknown) =>
      err instanceof Error &&
      /defaultRouteSettings\.burstLimit is -1/.test(err.message) &&
      /routeSettings\["GET \/a"\]\.burstLimit is 1\.5/.test(err.message) &&
      /routeSettings\["GET \/a"\]\.rateLimit/.test(err.message),
  );
});
