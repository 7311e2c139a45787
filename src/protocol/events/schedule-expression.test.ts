/** Schedule expressions: Scheduler's syntax, its refusals, and ticks in time zones across daylight saving. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ExpressionError, latestTick, nextTick, parseExpression } from "./schedule-expression.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function ticks(expr: string, tz: string, fromIso: string, n: number): string[] {
  const e = parseExpression(expr, tz);
  const out: string[] = [];
  let after = at(fromIso);
  for (let i = 0; i < n; i++) {
    const t = nextTick(e, { after, anchor: after });
    if (t === undefined) break;
    out.push(iso(t)!);
    after = t;
  }
  return out;
}

describe("rate", () => {
  test("ticks every period from its anchor", () => {
    const e = parseExpression("rate(5 minutes)", "UTC");
    const anchor = at("2026-12-06T10:00:00Z");
    assert.equal(iso(nextTick(e, { after: anchor, anchor })), "2026-12-06T10:05:00.000Z");
    assert.equal(iso(nextTick(e, { after: anchor + 7 * 60_000, anchor })), "2026-12-06T10:10:00.000Z");
    assert.equal(
      iso(nextTick(parseExpression("rate(1 day)", "UTC"), { after: anchor, anchor })),
      "2026-12-07T10:00:00.000Z",
    );
  });

  test("a start date is the first tick; an end date ends it", () => {
    const e = parseExpression("rate(1 hour)", "UTC");
    const start = at("2026-12-07T00:00:00Z");
    const now = at("2026-12-06T10:00:00Z");
    assert.equal(iso(nextTick(e, { after: now, anchor: start, start })), "2026-12-07T00:00:00.000Z");
    assert.equal(nextTick(e, { after: start, anchor: start, start, end: start + 3_600_000 }), undefined);
  });

  test("the latest tick that passed, for a platform that was down", () => {
    const e = parseExpression("rate(1 minute)", "UTC");
    const anchor = at("2026-12-06T10:00:00Z");
    assert.equal(
      iso(latestTick(e, { after: anchor - 1, at: anchor + 210_000, anchor })),
      "2026-12-06T10:03:00.000Z",
    );
    assert.equal(latestTick(e, { after: anchor + 180_000, at: anchor + 210_000, anchor }), undefined);
  });

  test("singular for one, plural for more, as Scheduler reads them", () => {
    for (const bad of [
      "rate(1 minutes)",
      "rate(5 minute)",
      "rate(0 minutes)",
      "rate(5 seconds)",
      "rate(-1 hours)",
      "rate(5  minutes)",
    ])
      assert.throws(
        () => parseExpression(bad, "UTC"),
        (err: Error) => {
          assert.ok(err instanceof ExpressionError);
          assert.ok(err.message.startsWith(`Invalid Schedule Expression ${bad}.`), err.message);
          return true;
        },
      );
  });
});

describe("cron", () => {
  test("six fields with ? in one day field; weekdays count from Sunday = 1", () => {
    assert.deepEqual(ticks("cron(0 12 ? * MON-FRI *)", "UTC", "2026-12-04T13:00:00Z", 2), [
      "2026-12-07T12:00:00.000Z",
      "2026-12-08T12:00:00.000Z",
    ]);
    assert.deepEqual(ticks("cron(0 12 ? * 1 *)", "UTC", "2026-12-04T13:00:00Z", 1), [
      "2026-12-06T12:00:00.000Z",
    ]);
    assert.deepEqual(ticks("cron(0/15 * * * ? *)", "UTC", "2026-12-04T13:01:00Z", 2), [
      "2026-12-04T13:15:00.000Z",
      "2026-12-04T13:30:00.000Z",
    ]);
  });

  test("L, W and # as Scheduler documents them", () => {
    assert.deepEqual(ticks("cron(0 0 L * ? *)", "UTC", "2027-02-01T00:00:00Z", 1), [
      "2027-02-28T00:00:00.000Z",
    ]);
    assert.deepEqual(ticks("cron(15 10 ? * 6L 2027)", "UTC", "2026-12-06T00:00:00Z", 1), [
      "2027-01-29T10:15:00.000Z",
    ]);
    // The 15th of May 2027 is a Saturday: the nearest weekday is Friday the 14th.
    assert.deepEqual(ticks("cron(0 9 15W * ? *)", "UTC", "2027-05-01T00:00:00Z", 1), [
      "2027-05-14T09:00:00.000Z",
    ]);
    assert.deepEqual(ticks("cron(0 12 ? * 2#1 *)", "UTC", "2026-12-06T00:00:00Z", 1), [
      "2026-12-07T12:00:00.000Z",
    ]);
  });

  test("in a time zone, across the change to summer time", () => {
    // Paris moves from UTC+1 to UTC+2 on 28 March 2027.
    assert.deepEqual(ticks("cron(0 9 * * ? *)", "Europe/Paris", "2027-03-27T00:00:00Z", 2), [
      "2027-03-27T08:00:00.000Z",
      "2027-03-28T07:00:00.000Z",
    ]);
  });

  test("a year past the expression ends it", () => {
    assert.deepEqual(ticks("cron(0 0 1 1 ? 2027)", "UTC", "2027-06-01T00:00:00Z", 1), []);
  });

  test("refused with Scheduler's message and what is wrong", () => {
    const cases: Array<[string, RegExp]> = [
      ["cron(0 12 * * *)", /six fields/],
      ["cron(0 12 * * * *)", /\? in exactly one/],
      ["cron(0 12 ? * ? *)", /\? in exactly one/],
      ["cron(61 12 * * ? *)", /minute/],
      ["cron(0 12 ? * 8 *)", /1 \(Sunday\) to 7/],
      ["cron(0 12 * * ? 1969)", /1970 to 2199/],
      ["every(5 minutes)", /expected rate/],
    ];
    for (const [bad, why] of cases)
      assert.throws(
        () => parseExpression(bad, "UTC"),
        (err: Error) => {
          assert.ok(err.message.startsWith(`Invalid Schedule Expression ${bad}.`), err.message);
          assert.match(err.message, why);
          return true;
        },
      );
  });
});

describe("at", () => {
  test("once, at that local time of its zone", () => {
    const e = parseExpression("at(2027-03-01T09:30:00)", "America/New_York");
    assert.equal(
      iso(nextTick(e, { after: at("2026-12-06T00:00:00Z"), anchor: 0 })),
      "2027-03-01T14:30:00.000Z",
    );
    assert.equal(nextTick(e, { after: at("2027-03-01T14:30:00Z"), anchor: 0 }), undefined);
  });

  test("a date that does not exist is refused", () => {
    for (const bad of ["at(2027-02-30T10:00:00)", "at(2027-01-01T24:00:00)", "at(2027-01-01 10:00:00)"])
      assert.throws(() => parseExpression(bad, "UTC"), /Invalid Schedule Expression/);
  });
});
