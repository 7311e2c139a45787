/**
 * A schedule as CreateSchedule and UpdateSchedule take it (checked field by field, with the
 * field named in the message) and as GetSchedule and ListSchedules render it. Timestamps are
 * epoch seconds on the wire, epoch ms in records.
 */

import { expressionProblem, timeZoneProblem } from "../../protocol/events/schedule-expression.js";
import { validation } from "./errors.js";
import type { ScheduleGroupRecord, ScheduleRecord, ScheduleTarget } from "./model.js";
import { groupArn, type SchedulerAccount, scheduleArn } from "./names.js";

type Input = Readonly<Record<string, unknown>>;
type Output = Record<string, unknown>;

/** Scheduler's defaults: retry for a day, up to 185 times. */
export const DEFAULT_EVENT_AGE_SECONDS = 86_400;
export const DEFAULT_RETRY_ATTEMPTS = 185;
const MAX_INPUT_CHARS = 8192;
/** A start date may lie this far in the past (a clock a little behind), as Scheduler allows. */
const START_SLACK_MS = 5 * 60_000;

/** Everything of a schedule but its name, group, times and next tick. */
export type ScheduleSettings = Omit<
  ScheduleRecord,
  "groupName" | "name" | "createdAt" | "modifiedAt" | "nextTickAt" | "nextDueAt"
>;

function optionalString(v: unknown, field: string, max: number): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.length < 1 || v.length > max)
    throw validation(`${field} must be a string of 1 to ${max} characters.`);
  return v;
}

function integerIn(v: unknown, field: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
    throw validation(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}.`);
  return v as number;
}

function dateOf(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw validation(`${field} must be a timestamp (epoch seconds), got ${JSON.stringify(v)}.`);
  return Math.round(v * 1000);
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (v === undefined || v === null) return fallback;
  if (!allowed.includes(v as T))
    throw validation(`${field} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}.`);
  return v as T;
}

/** Checks a create or update request's settings; `now` bounds the start and end dates. */
export function readSettings(input: Input, account: SchedulerAccount, now: number): ScheduleSettings {
  const expression = input.ScheduleExpression;
  if (typeof expression !== "string" || expression.length < 1 || expression.length > 256)
    throw validation("ScheduleExpression is required: rate(…), cron(…) or at(…), at most 256 characters.");
  const timezone =
    optionalString(input.ScheduleExpressionTimezone, "ScheduleExpressionTimezone", 50) ?? "UTC";
  const problem = timeZoneProblem(timezone) ?? expressionProblem(expression, timezone);
  if (problem) throw validation(problem);
  const startDate = dateOf(input.StartDate, "StartDate");
  const endDate = dateOf(input.EndDate, "EndDate");
  if (startDate !== undefined && startDate < now - START_SLACK_MS)
    throw validation("The StartDate you specify cannot be earlier than 5 minutes ago.");
  if (endDate !== undefined && endDate <= now)
    throw validation("The EndDate you specify cannot be earlier than the current time.");
  if (startDate !== undefined && endDate !== undefined && endDate <= startDate)
    throw validation("The EndDate you specify must be later than the StartDate.");
  const window = input.FlexibleTimeWindow as { Mode?: unknown; MaximumWindowInMinutes?: unknown } | undefined;
  if (!window || typeof window !== "object")
    throw validation(
      "FlexibleTimeWindow is required: {Mode: OFF} or {Mode: FLEXIBLE, MaximumWindowInMinutes}.",
    );
  const mode = oneOf(window.Mode, "FlexibleTimeWindow.Mode", ["OFF", "FLEXIBLE"] as const, "OFF");
  const minutes = integerIn(
    window.MaximumWindowInMinutes,
    "FlexibleTimeWindow.MaximumWindowInMinutes",
    1,
    1440,
  );
  if (mode === "FLEXIBLE" && minutes === undefined)
    throw validation("FlexibleTimeWindow.MaximumWindowInMinutes is required when Mode is FLEXIBLE.");
  if (mode === "OFF" && minutes !== undefined)
    throw validation("FlexibleTimeWindow.MaximumWindowInMinutes is only taken when Mode is FLEXIBLE.");
  return {
    description: optionalString(input.Description, "Description", 512),
    expression,
    timezone,
    startDate,
    endDate,
    state: oneOf(input.State, "State", ["ENABLED", "DISABLED"] as const, "ENABLED"),
    flexibleWindowMinutes: minutes,
    actionAfterCompletion: oneOf(
      input.ActionAfterCompletion,
      "ActionAfterCompletion",
      ["NONE", "DELETE"] as const,
      "NONE",
    ),
    kmsKeyArn: optionalString(input.KmsKeyArn, "KmsKeyArn", 2048),
    target: readTarget(input.Target, account),
  };
}

function readTarget(raw: unknown, account: SchedulerAccount): ScheduleTarget {
  if (!raw || typeof raw !== "object") throw validation("Target is required: {Arn, RoleArn, …}.");
  const t = raw as Record<string, unknown>;
  const arn = t.Arn;
  const own = `:${account.region}:${account.accountId}:`;
  if (typeof arn !== "string")
    throw validation("Target.Arn is required: a function or a queue of this account.");
  const fn = arn.startsWith(`arn:aws:lambda${own}function:`);
  const queue = arn.startsWith(`arn:aws:sqs${own}`);
  if (!fn && !queue)
    throw validation(
      `Target.Arn ${arn} is not a target Nimbus serves: a function (arn:aws:lambda${own}function:<name>[:<qualifier>]) or a queue (arn:aws:sqs${own}<name>).`,
    );
  const roleArn = optionalString(t.RoleArn, "Target.RoleArn", 1600);
  if (roleArn === undefined)
    throw validation("Target.RoleArn is required (Nimbus has no IAM roles and takes any role ARN as it is).");
  const input = optionalString(t.Input, "Target.Input", MAX_INPUT_CHARS);
  const retry = (t.RetryPolicy ?? {}) as {
    MaximumEventAgeInSeconds?: unknown;
    MaximumRetryAttempts?: unknown;
  };
  const dlq = (t.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
  if (dlq !== undefined && dlq !== null && (typeof dlq !== "string" || !dlq.startsWith(`arn:aws:sqs${own}`)))
    throw validation(`Target.DeadLetterConfig.Arn must be a queue of this account, arn:aws:sqs${own}<name>.`);
  const group = (t.SqsParameters as { MessageGroupId?: unknown } | undefined)?.MessageGroupId;
  const fifo = queue && arn.endsWith(".fifo");
  if (fifo && (typeof group !== "string" || group.length < 1 || group.length > 128))
    throw validation(
      "Target.SqsParameters.MessageGroupId (1 to 128 characters) is required for a FIFO queue.",
    );
  if (!fifo && group !== undefined && group !== null)
    throw validation("Target.SqsParameters.MessageGroupId is only taken for a FIFO queue target.");
  return {
    arn,
    roleArn,
    input,
    maximumEventAgeInSeconds:
      integerIn(retry.MaximumEventAgeInSeconds, "Target.RetryPolicy.MaximumEventAgeInSeconds", 60, 86_400) ??
      DEFAULT_EVENT_AGE_SECONDS,
    maximumRetryAttempts:
      integerIn(retry.MaximumRetryAttempts, "Target.RetryPolicy.MaximumRetryAttempts", 0, 185) ??
      DEFAULT_RETRY_ATTEMPTS,
    deadLetterArn: (dlq as string | null | undefined) ?? undefined,
    messageGroupId: fifo ? (group as string) : undefined,
  };
}

export function scheduleShape(a: SchedulerAccount, s: ScheduleRecord): Output {
  const t = s.target;
  return {
    Arn: scheduleArn(a, s.groupName, s.name),
    GroupName: s.groupName,
    Name: s.name,
    ScheduleExpression: s.expression,
    ScheduleExpressionTimezone: s.timezone,
    ...(s.startDate !== undefined ? { StartDate: s.startDate / 1000 } : {}),
    ...(s.endDate !== undefined ? { EndDate: s.endDate / 1000 } : {}),
    ...(s.description !== undefined ? { Description: s.description } : {}),
    State: s.state,
    CreationDate: s.createdAt / 1000,
    LastModificationDate: s.modifiedAt / 1000,
    ...(s.kmsKeyArn !== undefined ? { KmsKeyArn: s.kmsKeyArn } : {}),
    Target: {
      Arn: t.arn,
      RoleArn: t.roleArn,
      ...(t.input !== undefined ? { Input: t.input } : {}),
      RetryPolicy: {
        MaximumEventAgeInSeconds: t.maximumEventAgeInSeconds,
        MaximumRetryAttempts: t.maximumRetryAttempts,
      },
      ...(t.deadLetterArn !== undefined ? { DeadLetterConfig: { Arn: t.deadLetterArn } } : {}),
      ...(t.messageGroupId !== undefined ? { SqsParameters: { MessageGroupId: t.messageGroupId } } : {}),
    },
    FlexibleTimeWindow:
      s.flexibleWindowMinutes === undefined
        ? { Mode: "OFF" }
        : { Mode: "FLEXIBLE", MaximumWindowInMinutes: s.flexibleWindowMinutes },
    ActionAfterCompletion: s.actionAfterCompletion,
  };
}

export function summaryShape(a: SchedulerAccount, s: ScheduleRecord): Output {
  return {
    Arn: scheduleArn(a, s.groupName, s.name),
    Name: s.name,
    GroupName: s.groupName,
    State: s.state,
    CreationDate: s.createdAt / 1000,
    LastModificationDate: s.modifiedAt / 1000,
    Target: { Arn: s.target.arn },
  };
}

export function groupShape(a: SchedulerAccount, g: ScheduleGroupRecord): Output {
  return {
    Arn: groupArn(a, g.name),
    Name: g.name,
    State: g.state,
    CreationDate: g.createdAt / 1000,
    LastModificationDate: g.modifiedAt / 1000,
  };
}

export function maxResultsOf(v: unknown): number {
  if (v === undefined || v === null || v === "") return 100;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw validation(`MaxResults must be an integer from 1 to 100, got ${JSON.stringify(v)}.`);
  return n;
}

export function tagsOf(v: unknown, required: boolean): Record<string, string> {
  if (v === undefined || v === null) {
    if (required) throw validation("Tags is required: a list of {Key, Value}.");
    return {};
  }
  if (!Array.isArray(v) || v.length > 200)
    throw validation("Tags must be a list of at most 200 {Key, Value}.");
  const out: Record<string, string> = {};
  for (const t of v as Array<{ Key?: unknown; Value?: unknown }>) {
    if (
      typeof t?.Key !== "string" ||
      t.Key.length < 1 ||
      t.Key.length > 128 ||
      typeof t.Value !== "string" ||
      t.Value.length > 256
    )
      throw validation("Each tag has a Key (1 to 128 characters) and a Value (at most 256).");
    out[t.Key] = t.Value;
  }
  return out;
}
