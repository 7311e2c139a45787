/**
 * A function's Schedule and ScheduleV2 events, read as schedules of EventBridge Scheduler. SAM
 * makes a Schedule event an EventBridge rule; Nimbus makes both a schedule in the stack's own
 * schedule group (Scheduler tags groups, not schedules: the group says whose they are). The
 * reader names what it does not support through `problem`, what it reads without effect through
 * `warn`, and checks what Scheduler would refuse (the expression with Scheduler's message) so
 * that a bad event stops the deploy before anything is changed.
 */

import { expressionProblem, timeZoneProblem } from "../../protocol/events/schedule-expression.js";
import type { Path } from "./intrinsics.js";
import { isTrue } from "./queue-resources.js";
import type { ScheduleSpec } from "./spec.js";

type Dict = Record<string, unknown>;
type Problem = (p: Path, m: string) => void;
const isDict = (v: unknown): v is Dict => typeof v === "object" && v !== null && !Array.isArray(v);

const SCHEDULE_KEYS = [
  "Schedule",
  "Input",
  "Enabled",
  "State",
  "Name",
  "Description",
  "RetryPolicy",
  "DeadLetterConfig",
];
/** Read, with no effect: Nimbus has no IAM roles, and names every schedule so that a redeploy finds it. */
const IGNORED_V2_KEYS = ["RoleArn", "PermissionsBoundary", "OmitName"];
const SCHEDULE_V2_KEYS = [
  "ScheduleExpression",
  "ScheduleExpressionTimezone",
  "Input",
  "State",
  "FlexibleTimeWindow",
  "StartDate",
  "EndDate",
  "Description",
  "Name",
  "GroupName",
  "RetryPolicy",
  "DeadLetterConfig",
  "KmsKeyArn",
  ...IGNORED_V2_KEYS,
];
/** The role ARN every schedule's target is given (Scheduler requires one; Nimbus has no IAM). */
export const SCHEDULER_ROLE = "arn:aws:iam::<account>:role/nimbus-scheduler";
/** Scheduler's defaults: retry for a day, up to 185 times (an EventBridge rule's too). */
const DEFAULT_RETRY_ATTEMPTS = 185;
const DEFAULT_EVENT_AGE_SECONDS = 86_400;
const MAX_INPUT_CHARS = 8192;
const NAME = /^[0-9a-zA-Z._-]{1,64}$/;
/** An ISO 8601 date, or date and time, with or without an offset (none: UTC). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A function's Schedule or ScheduleV2 event (its properties resolved) as a schedule in `group`. */
export function readScheduleEvent(
  functionId: string,
  eventId: string,
  type: "Schedule" | "ScheduleV2",
  props: Dict,
  p: Path,
  group: string,
  problem: Problem,
  warn: Problem,
): ScheduleSpec {
  const base = [...p, "Properties"];
  const at = (k: string) => [...base, k];
  const v2 = type === "ScheduleV2";
  for (const k of Object.keys(props))
    if (!(v2 ? SCHEDULE_V2_KEYS : SCHEDULE_KEYS).includes(k))
      problem(at(k), `${type} event property ${k} is not supported`);
    else if (v2 && IGNORED_V2_KEYS.includes(k))
      warn(
        at(k),
        k === "OmitName"
          ? "OmitName has no effect: Nimbus names each schedule (Name, or {Function}-{Event}) so that a redeploy finds it"
          : `${k} has no effect: Nimbus has no IAM roles (its schedules run with ${SCHEDULER_ROLE})`,
      );
  const text = (k: string, max: number): string | undefined => {
    const v = props[k];
    if (v === undefined) return undefined;
    if (typeof v === "string" && v.length >= 1 && v.length <= max) return v;
    problem(at(k), `expected a string of 1 to ${max} characters, got ${JSON.stringify(v)}`);
    return undefined;
  };

  const exprKey = v2 ? "ScheduleExpression" : "Schedule";
  const expression = text(exprKey, 256);
  const timezone = (v2 && text("ScheduleExpressionTimezone", 50)) || "UTC";
  const zoneProblem = timeZoneProblem(timezone);
  if (zoneProblem) problem(at("ScheduleExpressionTimezone"), zoneProblem);
  if (expression === undefined) {
    if (props[exprKey] === undefined) problem(base, `${exprKey} is required: rate(…) or cron(…)`);
  } else if (!v2 && expression.startsWith("at("))
    problem(
      at(exprKey),
      "an EventBridge rule's Schedule is rate(…) or cron(…): for a one-time at(…), use a ScheduleV2 event",
    );
  else if (!zoneProblem) {
    const wrong = expressionProblem(expression, timezone);
    if (wrong) problem(at(exprKey), wrong);
  }

  const input = text("Input", MAX_INPUT_CHARS);
  if (input !== undefined && !v2)
    try {
      JSON.parse(input);
    } catch {
      problem(at("Input"), "expected JSON text: an EventBridge rule passes its Input as JSON");
    }
  const retry = readRetryPolicy(props.RetryPolicy, at("RetryPolicy"), problem);
  const name = scheduleName(functionId, eventId, text("Name", 64), p, problem);
  if (v2 && props.GroupName !== undefined && props.GroupName !== group)
    problem(
      at("GroupName"),
      `the stack's schedules are in its own schedule group, ${group}: the stack owns that group (its tags say so; ` +
        "Scheduler tags groups, not schedules) and deletes what the template no longer declares in it. " +
        `Leave GroupName out, or give ${group}`,
    );
  const startDate = v2 ? dateOf(props.StartDate, at("StartDate"), problem) : undefined;
  const endDate = v2 ? dateOf(props.EndDate, at("EndDate"), problem) : undefined;
  if (startDate !== undefined && endDate !== undefined && endDate <= startDate)
    problem(at("EndDate"), "the EndDate must be later than the StartDate");
  return {
    functionId,
    eventId,
    type,
    name,
    expression: expression ?? "",
    timezone,
    state: readState(props, v2, base, problem),
    description: text("Description", 512),
    input,
    flexibleWindowMinutes: v2
      ? flexibleWindow(props.FlexibleTimeWindow, at("FlexibleTimeWindow"), problem)
      : undefined,
    startDate,
    endDate,
    kmsKeyArn: v2 ? text("KmsKeyArn", 2048) : undefined,
    ...retry,
    deadLetterArn: deadLetter(props.DeadLetterConfig, at("DeadLetterConfig"), problem),
  };
}

/** Name, or `{FunctionLogicalId}-{EventId}`: in the stack's own group, unique within the stack. */
function scheduleName(
  functionId: string,
  eventId: string,
  given: string | undefined,
  p: Path,
  problem: Problem,
): string {
  if (given !== undefined) {
    if (!NAME.test(given))
      problem(
        [...p, "Properties", "Name"],
        `the schedule name "${given}" must be 1 to 64 letters, digits, -, _ or .`,
      );
    return given;
  }
  const name = `${functionId}-${eventId}`;
  if (!NAME.test(name))
    problem(
      p,
      `the schedule's name would be "${name}", more than 64 characters: give the event a Name (at most 64 characters)`,
    );
  return name;
}

/** State (ENABLED or DISABLED), or a Schedule event's Enabled; not both, as SAM says. */
function readState(props: Dict, v2: boolean, base: Path, problem: Problem): "ENABLED" | "DISABLED" {
  const { State: state, Enabled: enabled } = props;
  if (state !== undefined && state !== "ENABLED" && state !== "DISABLED")
    problem([...base, "State"], `expected ENABLED or DISABLED, got ${JSON.stringify(state)}`);
  if (v2 || enabled === undefined) return state === "DISABLED" ? "DISABLED" : "ENABLED";
  if (state !== undefined) problem([...base, "Enabled"], "give Enabled or State, not both");
  if (enabled !== true && enabled !== false && enabled !== "true" && enabled !== "false")
    problem([...base, "Enabled"], `expected true or false, got ${JSON.stringify(enabled)}`);
  return isTrue(enabled) ? "ENABLED" : "DISABLED";
}

function integer(v: unknown, min: number, max: number, p: Path, problem: Problem): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v !== "" && Number.isInteger(n) && n >= min && n <= max) return n;
  problem(p, `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return undefined;
}

function readRetryPolicy(
  raw: unknown,
  p: Path,
  problem: Problem,
): { maximumRetryAttempts: number; maximumEventAgeInSeconds: number } {
  const policy = raw === undefined ? {} : raw;
  if (!isDict(policy))
    problem(p, "expected a mapping with MaximumRetryAttempts and MaximumEventAgeInSeconds");
  const d = isDict(policy) ? policy : {};
  for (const k of Object.keys(d))
    if (k !== "MaximumRetryAttempts" && k !== "MaximumEventAgeInSeconds")
      problem([...p, k], `RetryPolicy property ${k} is not supported`);
  return {
    maximumRetryAttempts:
      integer(d.MaximumRetryAttempts, 0, 185, [...p, "MaximumRetryAttempts"], problem) ??
      DEFAULT_RETRY_ATTEMPTS,
    maximumEventAgeInSeconds:
      integer(d.MaximumEventAgeInSeconds, 60, 86_400, [...p, "MaximumEventAgeInSeconds"], problem) ??
      DEFAULT_EVENT_AGE_SECONDS,
  };
}

/** DeadLetterConfig.Arn, a queue; the dead-letter queue SAM would make (Type: SQS) is not. */
function deadLetter(raw: unknown, p: Path, problem: Problem): string | undefined {
  if (raw === undefined) return undefined;
  if (!isDict(raw)) {
    problem(p, "expected a mapping with Arn: a queue's ARN (!GetAtt Queue.Arn)");
    return undefined;
  }
  for (const k of Object.keys(raw))
    if (k === "Type" || k === "QueueLogicalId")
      problem(
        [...p, k],
        `DeadLetterConfig ${k} (a dead-letter queue SAM makes for the event) is not supported: ` +
          "declare an AWS::SQS::Queue and give its ARN as Arn (!GetAtt Queue.Arn)",
      );
    else if (k !== "Arn") problem([...p, k], `DeadLetterConfig property ${k} is not supported`);
  const arn = raw.Arn;
  if (typeof arn === "string" && arn.startsWith("arn:aws:sqs:")) return arn;
  if (arn !== undefined || !("Type" in raw))
    problem([...p, "Arn"], "expected a queue's ARN (!GetAtt Queue.Arn)");
  return undefined;
}

/** FlexibleTimeWindow's minutes (FLEXIBLE), or undefined (OFF, the default). */
function flexibleWindow(raw: unknown, p: Path, problem: Problem): number | undefined {
  if (raw === undefined) return undefined;
  if (!isDict(raw)) {
    problem(p, "expected a mapping with Mode (OFF or FLEXIBLE) and MaximumWindowInMinutes");
    return undefined;
  }
  for (const k of Object.keys(raw))
    if (k !== "Mode" && k !== "MaximumWindowInMinutes")
      problem([...p, k], `FlexibleTimeWindow property ${k} is not supported`);
  const mode = raw.Mode ?? "OFF";
  if (mode !== "OFF" && mode !== "FLEXIBLE")
    problem([...p, "Mode"], `expected OFF or FLEXIBLE, got ${JSON.stringify(mode)}`);
  const minutes = integer(raw.MaximumWindowInMinutes, 1, 1440, [...p, "MaximumWindowInMinutes"], problem);
  if (mode === "FLEXIBLE" && raw.MaximumWindowInMinutes === undefined)
    problem(p, "MaximumWindowInMinutes (1 to 1440) is required when Mode is FLEXIBLE");
  if (mode === "OFF" && raw.MaximumWindowInMinutes !== undefined)
    problem([...p, "MaximumWindowInMinutes"], "is only taken when Mode is FLEXIBLE");
  return mode === "FLEXIBLE" ? minutes : undefined;
}

/** An ISO 8601 date as epoch seconds (Scheduler's wire); one without an offset is UTC. */
function dateOf(raw: unknown, p: Path, problem: Problem): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw instanceof Date ? raw.toISOString() : raw;
  const ms =
    typeof text === "string" && ISO_DATE.test(text)
      ? Date.parse(/T.*(Z|[+-]\d{2}:?\d{2})$/.test(text) || !text.includes("T") ? text : `${text}Z`)
      : Number.NaN;
  if (Number.isFinite(ms)) return ms / 1000;
  problem(p, `expected an ISO 8601 date and time such as 2030-01-01T00:00:00Z, got ${JSON.stringify(raw)}`);
  return undefined;
}

/** Two events of the stack that name the same schedule. */
export function checkScheduleNames(schedules: readonly ScheduleSpec[], problem: Problem): void {
  const seen = new Map<string, ScheduleSpec>();
  for (const s of schedules) {
    const first = seen.get(s.name);
    if (first)
      problem(
        ["Resources", s.functionId, "Properties", "Events", s.eventId],
        `the schedule name ${s.name} is also ${first.functionId}'s event ${first.eventId}'s: ` +
          "names are unique in the stack's schedule group",
      );
    else seen.set(s.name, s);
  }
}
