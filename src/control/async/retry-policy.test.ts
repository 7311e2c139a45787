/** The retry policy with plain values: no clock, no queue, every rule and its edges. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { InitPhases } from "../../protocol/invoke.js";
import { MAX_HOPS } from "./lineage.js";
import {
  BUDGET_RECHECK_MS,
  type Decision,
  decide,
  errorJson,
  type RetryConfig,
  type RetryEvent,
} from "./retry-policy.js";

const T0 = 1_000_000_000_000;
const MIN = 60_000;

const config: RetryConfig = {
  maximumRetryAttempts: 2,
  maximumEventAgeInSeconds: 21_600,
  retryDelaysMs: [MIN, 2 * MIN],
  backoffMs: [1_000, 300_000],
};

function event(over: Partial<RetryEvent> = {}): RetryEvent {
  return {
    attempts: 0,
    acceptedAt: T0,
    heldMs: 0,
    hops: 0,
    traceId: "Root=1-abc;Parent=0;Sampled=0;Lineage=nimbus:0",
    lastError: undefined,
    ...over,
  };
}

/** The settlement of a decision to retry; fails the test on any other decision. */
function retried(d: Decision) {
  assert.ok(d.kind === "retry", `expected a retry, got ${JSON.stringify(d)}`);
  return d.settlement;
}

const AGE_LIMIT = T0 + config.maximumEventAgeInSeconds * 1000;
const FAILURE = errorJson("RangeError", "no luck");
const phases = { codeMs: 1 } as unknown as InitPhases;

describe("before a claimed event runs", () => {
  test("a fresh event runs", () => {
    assert.deepEqual(decide(event(), { kind: "due" }, config, T0 + 5), { kind: "run" });
  });

  test(`an event ${MAX_HOPS} hops down its chain still runs; one more hop is a loop, failed unrun and routed`, () => {
    assert.deepEqual(decide(event({ hops: MAX_HOPS }), { kind: "due" }, config, T0), { kind: "run" });
    const d = decide(event({ hops: MAX_HOPS + 1, attempts: 0 }), { kind: "due" }, config, T0);
    assert.equal(d.kind, "final");
    assert.ok(d.kind === "final");
    assert.equal(d.route, "RecursiveInvocationDetected");
    assert.equal(d.settlement.status, "failed");
    assert.equal(d.settlement.attempts, 0);
    assert.ok(d.settlement.status === "failed");
    assert.equal(JSON.parse(d.settlement.error).errorType, "RecursiveInvocationException");
    assert.match(d.settlement.error, /stopped after 16 hops/);
  });

  test("a loop in a chain the guard stopped before is failed without being routed again", () => {
    const stopped = event({ hops: MAX_HOPS + 1, traceId: "Root=1-abc;Lineage=nimbus:16:stopped" });
    const d = decide(stopped, { kind: "due" }, config, T0);
    assert.equal(d.kind === "final" && d.route, undefined);
  });

  test("the loop guard comes before a spent budget and before the event's age", () => {
    const old = event({ hops: MAX_HOPS + 1 });
    const d = decide(old, { kind: "due", budgetRefusal: "spent." }, config, AGE_LIMIT + 1);
    assert.equal(d.kind === "final" && d.route, "RecursiveInvocationDetected");
  });

  test("a spent budget holds the event a minute, unaged, attempts untouched", () => {
    const e = event({ attempts: 1, heldMs: 5_000 });
    const d = decide(e, { kind: "due", budgetRefusal: "Function f is over its budget." }, config, T0 + 10);
    assert.deepEqual(d, {
      kind: "retry",
      settlement: {
        status: "retrying",
        attempts: 1,
        notBefore: T0 + 10 + BUDGET_RECHECK_MS,
        error: errorJson(
          "BudgetExceededException",
          "Function f is over its budget. The event waits in the queue until the budget allows it.",
        ),
        heldMs: 5_000 + BUDGET_RECHECK_MS,
      },
    });
  });

  test("a spent budget holds even an event past its age: the time held does not count", () => {
    const d = decide(event(), { kind: "due", budgetRefusal: "spent." }, config, AGE_LIMIT + 1);
    assert.equal(d.kind, "retry");
  });

  test("an event is run up to its age limit, and fails as EventAgeExceeded past it", () => {
    assert.deepEqual(decide(event(), { kind: "due" }, config, AGE_LIMIT), { kind: "run" });
    assert.deepEqual(decide(event({ attempts: 1 }), { kind: "due" }, config, AGE_LIMIT + 1), {
      kind: "final",
      settlement: {
        status: "failed",
        attempts: 1,
        error: errorJson("EventAgeExceeded", "the event expired before it could run"),
      },
      route: "EventAgeExceeded",
    });
  });

  test("an expired event keeps the last error it met as its record's error", () => {
    const d = decide(event({ lastError: FAILURE }), { kind: "due" }, config, AGE_LIMIT + 1);
    assert.equal(d.kind === "final" && d.settlement.status === "failed" && d.settlement.error, FAILURE);
  });

  test("time held back by a budget pushes the age limit out", () => {
    const held = event({ heldMs: 2 * MIN });
    assert.deepEqual(decide(held, { kind: "due" }, config, AGE_LIMIT + MIN), { kind: "run" });
    assert.equal(decide(held, { kind: "due" }, config, AGE_LIMIT + 2 * MIN + 1).kind, "final");
  });
});

describe("after the dispatcher refused to run it", () => {
  test("a budget spent meanwhile holds the event as before running", () => {
    const d = decide(event(), { kind: "budget", message: "spent." }, config, T0 + 1);
    assert.equal(retried(d).heldMs, BUDGET_RECHECK_MS);
  });

  test("a throttle backs off by the event's age, from the minimum to the maximum, attempts untouched", () => {
    const unavailable = { kind: "unavailable", error: errorJson("TooManyRequestsException", "x") } as const;
    const at = (now: number) => retried(decide(event({ attempts: 1 }), unavailable, config, now));
    assert.deepEqual(at(T0 + 10), {
      status: "retrying",
      attempts: 1,
      notBefore: T0 + 10 + 1_000,
      error: unavailable.error,
    });
    assert.equal(at(T0 + 30_000).notBefore, T0 + 60_000, "waited 30 s: waits 30 s more");
    assert.equal(at(T0 + 3_600_000).notBefore, T0 + 3_600_000 + 300_000, "never more than the maximum");
  });

  test("a clock behind the event's acceptance backs off by the minimum", () => {
    const d = decide(event(), { kind: "unavailable", error: FAILURE }, config, T0 - 5_000);
    assert.equal(retried(d).notBefore, T0 - 5_000 + 1_000);
  });

  test("the backoff never passes the age limit: the event gets its last look just after it", () => {
    const now = AGE_LIMIT - 1_000;
    const d = decide(event(), { kind: "unavailable", error: FAILURE }, config, now);
    assert.equal(retried(d).notBefore, AGE_LIMIT + 1);
    // ...where it expires.
    assert.equal(decide(event(), { kind: "due" }, config, AGE_LIMIT + 1).kind, "final");
  });
});

describe("after the function ran", () => {
  test("success ends the event, counts the attempt, and goes to the on-success destination", () => {
    const result = Buffer.from('"fine"');
    const d = decide(event({ attempts: 1 }), { kind: "succeeded", result, initPhases: phases }, config, T0);
    assert.deepEqual(d, {
      kind: "final",
      settlement: { status: "succeeded", attempts: 2, result, initPhases: phases },
      route: "Success",
    });
  });

  test("a function error is retried after 1 minute, then after 2, then ends as RetriesExhausted", () => {
    const failed = { kind: "failed", error: FAILURE, initPhases: undefined } as const;
    assert.deepEqual(decide(event(), failed, config, T0 + 100), {
      kind: "retry",
      settlement: {
        status: "retrying",
        attempts: 1,
        notBefore: T0 + 100 + MIN,
        error: FAILURE,
        initPhases: undefined,
      },
    });
    const second = decide(event({ attempts: 1 }), failed, config, T0 + MIN);
    assert.equal(retried(second).notBefore, T0 + 3 * MIN);
    assert.equal(retried(second).attempts, 2);
    assert.deepEqual(decide(event({ attempts: 2 }), failed, config, T0 + 3 * MIN), {
      kind: "final",
      settlement: { status: "failed", attempts: 3, error: FAILURE, initPhases: undefined },
      route: "RetriesExhausted",
    });
  });

  test("with MaximumRetryAttempts 0 the first failure is final", () => {
    const d = decide(event(), { kind: "failed", error: FAILURE }, { ...config, maximumRetryAttempts: 0 }, T0);
    assert.equal(d.kind === "final" && d.route, "RetriesExhausted");
    assert.equal(d.settlement.attempts, 1);
  });

  test("a retry that would come after the age limit is not made: the event ends as EventAgeExceeded", () => {
    const now = AGE_LIMIT - MIN + 1;
    const d = decide(event(), { kind: "failed", error: FAILURE }, config, now);
    assert.equal(d.kind === "final" && d.route, "EventAgeExceeded");
    assert.equal(d.settlement.status === "failed" && d.settlement.error, FAILURE);
    // A retry landing exactly on the limit is still made.
    assert.equal(decide(event(), { kind: "failed", error: FAILURE }, config, AGE_LIMIT - MIN).kind, "retry");
  });

  test("attempts beyond the configured delays wait the last delay; no delays configured, none", () => {
    const oneDelay = { ...config, retryDelaysMs: [5_000] };
    const d = decide(event({ attempts: 1 }), { kind: "failed", error: FAILURE }, oneDelay, T0);
    assert.equal(retried(d).notBefore, T0 + 5_000);
    const none = decide(event(), { kind: "failed", error: FAILURE }, { ...config, retryDelaysMs: [] }, T0);
    assert.equal(retried(none).notBefore, T0);
  });

  test("a failed attempt's cold start is kept on its settlement, retried or final", () => {
    const failed = { kind: "failed", error: FAILURE, initPhases: phases } as const;
    assert.equal(decide(event(), failed, config, T0).settlement.initPhases, phases);
    assert.equal(decide(event({ attempts: 2 }), failed, config, T0).settlement.initPhases, phases);
  });
});
