import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { DEFAULT_AUTH_LIMITS, RateLimiter } from "./rate-limits.js";

const MINUTE_MS = 60_000;

function limiter(maxKeys?: number): { clock: FakeClock; limits: RateLimiter<"signin" | "mail"> } {
  const clock = new FakeClock();
  const limits = new RateLimiter({
    clock,
    rules: {
      signin: { limit: 10, windowMs: 5 * MINUTE_MS },
      mail: { limit: 3, windowMs: 60 * MINUTE_MS },
    },
    ...(maxKeys === undefined ? {} : { maxKeys }),
  });
  return { clock, limits };
}

function takeMany(
  limits: RateLimiter<"signin" | "mail">,
  action: "signin" | "mail",
  key: string,
  n: number,
): number {
  let passed = 0;
  for (let i = 0; i < n; i++) if (limits.take(action, key).ok) passed++;
  return passed;
}

test("an idle key may make `limit` requests at once, and the next is refused", () => {
  const { limits } = limiter();
  assert.equal(takeMany(limits, "signin", "203.0.113.7", 10), 10);
  assert.deepEqual(limits.take("signin", "203.0.113.7"), { ok: false, retryAfterSeconds: 30 });
});

test("the refusal says how many seconds until one request is free, and it is free then", () => {
  const { clock, limits } = limiter();
  takeMany(limits, "mail", "ada@example.com", 3);
  // 3 an hour: one every 20 minutes.
  assert.deepEqual(limits.take("mail", "ada@example.com"), { ok: false, retryAfterSeconds: 1200 });
  clock.advance(19 * MINUTE_MS);
  assert.deepEqual(limits.take("mail", "ada@example.com"), { ok: false, retryAfterSeconds: 60 });
  clock.advance(59_500);
  assert.deepEqual(limits.take("mail", "ada@example.com"), { ok: false, retryAfterSeconds: 1 });
  clock.advance(500);
  assert.deepEqual(limits.take("mail", "ada@example.com"), { ok: true });
  assert.equal(limits.take("mail", "ada@example.com").ok, false);
});

test("sustained, a key gets `limit` requests per window", () => {
  const { clock, limits } = limiter();
  takeMany(limits, "signin", "k", 10);
  // After the burst, one every 30 seconds: 10 more over the next 5 minutes, not 11.
  let passed = 0;
  for (let s = 0; s < 300; s++) {
    clock.advance(1000);
    passed += takeMany(limits, "signin", "k", 5);
  }
  assert.equal(passed, 10);
});

test("a refused request spends nothing", () => {
  const { clock, limits } = limiter();
  takeMany(limits, "signin", "k", 10);
  assert.equal(takeMany(limits, "signin", "k", 100), 0);
  clock.advance(30_000);
  assert.equal(limits.take("signin", "k").ok, true);
});

test("a bucket refills completely after a window of quiet", () => {
  const { clock, limits } = limiter();
  takeMany(limits, "signin", "k", 10);
  clock.advance(5 * MINUTE_MS);
  assert.equal(takeMany(limits, "signin", "k", 11), 10);
});

test("keys and actions are counted apart", () => {
  const { limits } = limiter();
  takeMany(limits, "signin", "a", 10);
  assert.equal(limits.take("signin", "a").ok, false);
  assert.equal(limits.take("signin", "b").ok, true);
  assert.equal(limits.take("mail", "a").ok, true);
});

test("reset forgets a key, so its bucket is full again", () => {
  const { limits } = limiter();
  takeMany(limits, "signin", "k", 10);
  limits.reset("signin", "k");
  assert.equal(takeMany(limits, "signin", "k", 11), 10);
});

test("keys whose bucket has refilled are forgotten as requests come in", () => {
  const { clock, limits } = limiter();
  for (let i = 0; i < 50; i++) limits.take("signin", `old-${i}`);
  assert.equal(limits.size, 50);
  clock.advance(31_000);
  for (let i = 0; i < 30; i++) limits.take("signin", "fresh");
  assert.equal(limits.size, 1);
});

test("at most maxKeys are kept, the least recently used dropped first", () => {
  const { limits } = limiter(3);
  takeMany(limits, "mail", "a", 3);
  takeMany(limits, "mail", "b", 3);
  takeMany(limits, "mail", "c", 3);
  assert.equal(limits.take("mail", "a").ok, false); // a is now the most recently used
  limits.take("mail", "d");
  assert.equal(limits.size, 3);
  assert.equal(limits.take("mail", "a").ok, false);
  assert.equal(limits.take("mail", "c").ok, false);
  assert.equal(limits.take("mail", "b").ok, true, "b was dropped, so its bucket is full again");
});

test("time is the clock's monotonic reading, so a wall-clock step does not reset a limit", () => {
  const readings = { wall: 1_000_000, mono: 0 };
  const fake = new FakeClock();
  const clock = {
    now: () => readings.wall,
    monotonic: () => readings.mono,
    setTimeout: fake.setTimeout.bind(fake),
    setInterval: fake.setInterval.bind(fake),
  };
  const limits = new RateLimiter({ clock, rules: { signin: { limit: 1, windowMs: MINUTE_MS } } });
  assert.equal(limits.take("signin", "k").ok, true);
  readings.wall += 24 * 60 * MINUTE_MS;
  assert.equal(limits.take("signin", "k").ok, false);
  readings.mono += MINUTE_MS;
  assert.equal(limits.take("signin", "k").ok, true);
});

test("an unknown action and a bad rule are refused", () => {
  const { limits } = limiter();
  assert.throws(() => limits.take("nope" as "signin", "k"), /no rate limit rule for action "nope"/);
  const clock = new FakeClock();
  assert.throws(
    () => new RateLimiter({ clock, rules: { x: { limit: 0, windowMs: 1000 } } }),
    /rate limit "x" has limit 0; expected a positive integer/,
  );
  assert.throws(() => new RateLimiter({ clock, rules: { x: { limit: 1, windowMs: 0 } } }), RangeError);
  assert.throws(() => new RateLimiter({ clock, rules: {}, maxKeys: 0 }), RangeError);
});

test("the auth limits cover every action by address and by account", () => {
  for (const action of ["signin", "signup", "otp", "recover", "verify", "refresh", "mfa"]) {
    for (const scope of ["ip", "account"]) {
      const rule = DEFAULT_AUTH_LIMITS[`${action}:${scope}` as keyof typeof DEFAULT_AUTH_LIMITS];
      assert.ok(rule, `${action}:${scope}`);
      assert.ok(Number.isInteger(rule.limit) && rule.limit > 0 && rule.windowMs > 0);
    }
  }
  assert.deepEqual(DEFAULT_AUTH_LIMITS["signin:ip"], { limit: 30, windowMs: 5 * MINUTE_MS });
  assert.deepEqual(DEFAULT_AUTH_LIMITS["signin:account"], { limit: 10, windowMs: 5 * MINUTE_MS });
  assert.deepEqual(DEFAULT_AUTH_LIMITS["otp:account"], { limit: 5, windowMs: 60 * MINUTE_MS });
  assert.deepEqual(DEFAULT_AUTH_LIMITS["recover:account"], { limit: 5, windowMs: 60 * MINUTE_MS });
  assert.deepEqual(DEFAULT_AUTH_LIMITS["verify:ip"], { limit: 30, windowMs: 5 * MINUTE_MS });
});

test("with the auth limits, an account's eleventh sign-in in a burst waits 30 seconds", () => {
  const clock = new FakeClock();
  const limits = new RateLimiter({ clock, rules: DEFAULT_AUTH_LIMITS });
  for (let i = 0; i < 10; i++) assert.equal(limits.take("signin:account", "ada@example.com").ok, true);
  assert.deepEqual(limits.take("signin:account", "ada@example.com"), { ok: false, retryAfterSeconds: 30 });
  assert.equal(limits.take("signin:ip", "203.0.113.7").ok, true);
  clock.advance(30_000);
  assert.equal(limits.take("signin:account", "ada@example.com").ok, true);
});
