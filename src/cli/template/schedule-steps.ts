/**
 * The plan's steps for schedules: the stack's schedule group created before its first schedule
 * (tagged with the stack's name: Scheduler tags groups, not schedules, so the group says whose
 * its schedules are), each schedule created or replaced whole when it differs (as Scheduler's
 * UpdateSchedule does). The deletes of what the template no longer declares are ownership.ts's.
 */
import type { CurrentState, Step } from "./plan.js";
import { functionArn, type ScheduleSpec, type StackSpec } from "./spec.js";

/** A schedule as GetSchedule answers it (the fields the plan compares). */
export interface CurrentSchedule {
  readonly Name: string;
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone?: string;
  readonly StartDate?: number;
  readonly EndDate?: number;
  readonly Description?: string;
  readonly State: string;
  readonly KmsKeyArn?: string;
  readonly FlexibleTimeWindow?: { Mode?: string; MaximumWindowInMinutes?: number };
  readonly Target: {
    Arn: string;
    RoleArn?: string;
    Input?: string;
    RetryPolicy?: { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number };
    DeadLetterConfig?: { Arn?: string };
  };
}

/** The stack's schedule group as it exists: its ARN and tags. */
export interface CurrentScheduleGroup {
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** The role ARN a schedule's target is given: Scheduler requires one, Nimbus has no IAM and takes any. */
export function schedulerRole(accountId: string): string {
  return `arn:aws:iam::${accountId}:role/nimbus-scheduler`;
}

/** The group's create (when the stack has schedules and no group), then each schedule's step. */
export function scheduleSteps(stack: StackSpec, current: CurrentState): Step[] {
  if (stack.schedules.length === 0) return [];
  const group = stack.scheduleGroup;
  const steps: Step[] = [];
  if (!current.scheduleGroup)
    steps.push({ kind: "schedule-group", action: "create", changes: [], name: group });
  const account = current.accountId ?? "000000000000";
  for (const schedule of stack.schedules) {
    const fn = stack.functions.find((f) => f.logicalId === schedule.functionId)!;
    // SAM points a function's events at its AutoPublishAlias.
    const body = scheduleBody(
      schedule,
      group,
      functionArn(current.region, account, fn.name, fn.alias),
      account,
    );
    const have = current.schedules?.get(schedule.name);
    const changes = have ? scheduleChanges(have, body) : [];
    const action = !have ? "create" : changes.length > 0 ? "update" : "unchanged";
    steps.push({ kind: "schedule", action, changes, schedule, group, body });
  }
  return steps;
}

/** CreateSchedule's and UpdateSchedule's body: the whole schedule, as an update replaces it. */
function scheduleBody(
  s: ScheduleSpec,
  group: string,
  target: string,
  account: string,
): Record<string, unknown> {
  return {
    GroupName: group,
    ScheduleExpression: s.expression,
    ScheduleExpressionTimezone: s.timezone,
    ...(s.startDate !== undefined ? { StartDate: s.startDate } : {}),
    ...(s.endDate !== undefined ? { EndDate: s.endDate } : {}),
    ...(s.description !== undefined ? { Description: s.description } : {}),
    State: s.state,
    FlexibleTimeWindow:
      s.flexibleWindowMinutes === undefined
        ? { Mode: "OFF" }
        : { Mode: "FLEXIBLE", MaximumWindowInMinutes: s.flexibleWindowMinutes },
    ...(s.kmsKeyArn !== undefined ? { KmsKeyArn: s.kmsKeyArn } : {}),
    Target: {
      Arn: target,
      RoleArn: schedulerRole(account),
      ...(s.input !== undefined ? { Input: s.input } : {}),
      RetryPolicy: {
        MaximumEventAgeInSeconds: s.maximumEventAgeInSeconds,
        MaximumRetryAttempts: s.maximumRetryAttempts,
      },
      ...(s.deadLetterArn !== undefined ? { DeadLetterConfig: { Arn: s.deadLetterArn } } : {}),
    },
  };
}

/** What differs between a schedule and the wanted body, as the diff names it (Input and Description by name only). */
function scheduleChanges(have: CurrentSchedule, body: Record<string, unknown>): string[] {
  // The body has GetSchedule's shape, less the name.
  const want = body as unknown as CurrentSchedule;
  const out: string[] = [];
  const scalar = (name: string, from: unknown, to: unknown, show = (v: unknown) => String(v ?? "(none)")) => {
    if ((from ?? undefined) !== (to ?? undefined)) out.push(`${name} ${show(from)} → ${show(to)}`);
  };
  const named = (name: string, from: unknown, to: unknown) => {
    if ((from ?? undefined) !== (to ?? undefined)) out.push(name);
  };
  const date = (v: unknown) => (typeof v === "number" ? new Date(v * 1000).toISOString() : "(none)");
  const window = (w: CurrentSchedule["FlexibleTimeWindow"]) =>
    w?.Mode === "FLEXIBLE" ? `FLEXIBLE ${w.MaximumWindowInMinutes} min` : "OFF";
  // A target's function and qualifier: `app-Worker:live`.
  const fn = (arn: unknown) => (typeof arn === "string" ? arn.split(":").slice(6).join(":") : "(none)");
  const queue = (arn: unknown) => (typeof arn === "string" ? arn.split(":").slice(5).join(":") : "(none)");
  scalar("target", have.Target.Arn, want.Target.Arn, fn);
  scalar("ScheduleExpression", have.ScheduleExpression, want.ScheduleExpression);
  scalar(
    "ScheduleExpressionTimezone",
    have.ScheduleExpressionTimezone ?? "UTC",
    want.ScheduleExpressionTimezone,
  );
  scalar("State", have.State, want.State);
  scalar("FlexibleTimeWindow", window(have.FlexibleTimeWindow), window(want.FlexibleTimeWindow));
  scalar("StartDate", have.StartDate, want.StartDate, date);
  scalar("EndDate", have.EndDate, want.EndDate, date);
  named("Description", have.Description, want.Description);
  named("Input", have.Target.Input, want.Target.Input);
  named("KmsKeyArn", have.KmsKeyArn, want.KmsKeyArn);
  const retry = have.Target.RetryPolicy ?? {};
  scalar(
    "RetryPolicy.MaximumRetryAttempts",
    retry.MaximumRetryAttempts,
    want.Target.RetryPolicy?.MaximumRetryAttempts,
  );
  scalar(
    "RetryPolicy.MaximumEventAgeInSeconds",
    retry.MaximumEventAgeInSeconds,
    want.Target.RetryPolicy?.MaximumEventAgeInSeconds,
  );
  scalar("DeadLetterConfig", have.Target.DeadLetterConfig?.Arn, want.Target.DeadLetterConfig?.Arn, queue);
  named("Target.RoleArn", have.Target.RoleArn, want.Target.RoleArn);
  return out;
}
