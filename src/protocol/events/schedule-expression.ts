/**
 * Schedule expressions as EventBridge Scheduler reads them: `rate(5 minutes)`, six-field
 * `cron(minutes hours day-of-month month day-of-week year)` with `?`, `L`, `W` and `#`, and a
 * one-time `at(yyyy-mm-ddThh:mm:ss)`; cron and at in the schedule's IANA time zone (daylight
 * saving included), rate in absolute time. Calendar arithmetic is croner's; the checks that
 * make an expression Scheduler's (six fields, `?` in exactly one day field, weekdays 1-7 from
 * Sunday, years 1970-2199) are here. The platform's schedules and the CLI's template checks
 * both read expressions here.
 */
import { Cron } from "croner";

export type Expression =
  | { readonly kind: "rate"; readonly periodMs: number }
  | { readonly kind: "cron"; readonly cron: Cron }
  | { readonly kind: "at"; readonly at: number };

export class ExpressionError extends Error {}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.*)\)$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const UNIT_MS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

function invalid(expression: string, why: string): ExpressionError {
  return new ExpressionError(`Invalid Schedule Expression ${expression}. (${why})`);
}

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** What Scheduler would say of a time zone, or undefined when it takes it. */
export function timeZoneProblem(zone: string): string | undefined {
  return isTimeZone(zone)
    ? undefined
    : `Invalid time zone ${zone}: expected an IANA time zone such as Europe/Paris or UTC.`;
}

/** What Scheduler would say of an expression, or undefined when it takes it (the CLI checks templates with it). */
export function expressionProblem(expression: string, timezone: string): string | undefined {
  try {
    parseExpression(expression, timezone);
    return undefined;
  } catch (err) {
    if (err instanceof ExpressionError) return err.message;
    throw err;
  }
}

/** Reads and checks an expression; throws ExpressionError with Scheduler's message and why. */
export function parseExpression(expression: string, timezone: string): Expression {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1) throw invalid(expression, "the value of a rate must be a positive whole number");
    if ((value === 1) !== !unit.endsWith("s"))
      throw invalid(
        expression,
        `say "1 ${unit.replace(/s$/, "")}" for one, "${value} ${unit.replace(/s?$/, "s")}" for more`,
      );
    return { kind: "rate", periodMs: value * UNIT_MS[unit.replace(/s$/, "")]! };
  }
  const at = AT.exec(expression);
  if (at) {
    const [, y, mo, d, h, mi, s] = at.map(Number) as number[];
    const probe = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
    if (probe.getUTCMonth() !== mo! - 1 || probe.getUTCDate() !== d! || h! > 23 || mi! > 59 || s! > 59)
      throw invalid(expression, "no such date or time");
    const once = new Cron(expression.slice(3, -1), { timezone }).getOnce();
    if (!once) throw invalid(expression, "no such date or time");
    return { kind: "at", at: once.getTime() };
  }
  const cron = CRON.exec(expression);
  if (cron) return { kind: "cron", cron: parseCron(expression, cron[1]!, timezone) };
  throw invalid(
    expression,
    "expected rate(value unit) with a unit of minutes, hours or days, cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)",
  );
}

function parseCron(expression: string, body: string, timezone: string): Cron {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6)
    throw invalid(
      expression,
      `a cron expression has six fields (minutes hours day-of-month month day-of-week year), this has ${fields.length}`,
    );
  const [, , dom, , dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === "?") === (dow === "?"))
    throw invalid(expression, "give ? in exactly one of day-of-month and day-of-week");
  for (const n of dow.replace(/#\d+/g, "").match(/\d+/g) ?? [])
    if (Number(n) < 1 || Number(n) > 7)
      throw invalid(expression, "days of the week are 1 (Sunday) to 7 (Saturday) or SUN-SAT");
  for (const n of year.match(/\d+/g) ?? [])
    if (!year.includes("/") && (Number(n) < 1970 || Number(n) > 2199))
      throw invalid(expression, "years are 1970 to 2199");
  try {
    return new Cron(`0 ${fields.join(" ")}`, {
      mode: "7-part",
      alternativeWeekdays: true,
      sloppyRanges: true,
      timezone,
    });
  } catch (err) {
    throw invalid(expression, (err as Error).message.replace(/^CronPattern: /, ""));
  }
}

/**
 * The first tick after `after` (exclusive) and within [start, end): for a rate, the anchor's
 * ticks `anchor + k·period`; undefined when none remains.
 */
export function nextTick(
  e: Expression,
  o: { after: number; anchor: number; start?: number | undefined; end?: number | undefined },
): number | undefined {
  const from = Math.max(o.after, (o.start ?? Number.NEGATIVE_INFINITY) - 1);
  let tick: number | undefined;
  if (e.kind === "at") tick = e.at > from ? e.at : undefined;
  else if (e.kind === "rate") {
    const k = Math.max(0, Math.floor((from - o.anchor) / e.periodMs) + 1);
    tick = o.anchor + k * e.periodMs;
  } else tick = e.cron.nextRun(new Date(from))?.getTime();
  return tick !== undefined && (o.end === undefined || tick < o.end) ? tick : undefined;
}

/** The last tick at or before `at` that is after `after`, or undefined. */
export function latestTick(
  e: Expression,
  o: { after: number; at: number; anchor: number; start?: number | undefined; end?: number | undefined },
): number | undefined {
  let tick: number | undefined;
  if (e.kind === "at") tick = e.at;
  else if (e.kind === "rate") {
    if (o.at < o.anchor) return undefined;
    tick = o.anchor + Math.floor((o.at - o.anchor) / e.periodMs) * e.periodMs;
  } else tick = e.cron.previousRuns(1, new Date(o.at + 1))[0]?.getTime();
  if (tick === undefined || tick <= o.after || tick > o.at) return undefined;
  if (o.start !== undefined && tick < o.start) return undefined;
  if (o.end !== undefined && tick >= o.end) return undefined;
  return tick;
}
