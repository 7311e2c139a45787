/**
 * Schedules' rows as both stores keep them (same columns) and the records they read as. Tags
 * and a target are JSON text, a schedule's and a delivery's alike (a delivery keeps the target
 * as it was when its tick was taken); an optional field set to undefined reads back undefined,
 * present in the record, from either store.
 */
import type {
  DeliveryRecord,
  GroupState,
  ScheduleGroupRecord,
  ScheduleRecord,
  ScheduleState,
  ScheduleTarget,
} from "../services/scheduler/model.js";

export interface GroupRow {
  name: string;
  state: GroupState;
  tags: string;
  created_at: number;
  modified_at: number;
}

export const GROUP_COLUMNS = [
  "name",
  "state",
  "tags",
  "created_at",
  "modified_at",
] as const satisfies readonly (keyof GroupRow)[];

/** What an update of a group writes: all but its name. */
export const GROUP_UPDATED_COLUMNS = GROUP_COLUMNS.filter((c) => c !== "name");

export interface ScheduleRow {
  group_name: string;
  name: string;
  description: string | null;
  expression: string;
  timezone: string;
  start_date: number | null;
  end_date: number | null;
  state: ScheduleState;
  flexible_window_minutes: number | null;
  action_after_completion: ScheduleRecord["actionAfterCompletion"];
  kms_key_arn: string | null;
  /** The `ScheduleTarget`, JSON. */
  target: string;
  created_at: number;
  modified_at: number;
  next_tick_at: number | null;
  next_due_at: number | null;
}

export const SCHEDULE_COLUMNS = [
  "group_name",
  "name",
  "description",
  "expression",
  "timezone",
  "start_date",
  "end_date",
  "state",
  "flexible_window_minutes",
  "action_after_completion",
  "kms_key_arn",
  "target",
  "created_at",
  "modified_at",
  "next_tick_at",
  "next_due_at",
] as const satisfies readonly (keyof ScheduleRow)[];

/** What an update of a schedule writes: all but its key (group and name). */
export const SCHEDULE_UPDATED_COLUMNS = SCHEDULE_COLUMNS.filter((c) => c !== "group_name" && c !== "name");

export interface DeliveryRow {
  id: string;
  group_name: string;
  schedule_name: string;
  tick_at: number;
  /** The `ScheduleTarget`, JSON. */
  target: string;
  attempts: number;
  due_at: number;
  last_error: string | null;
}

export const DELIVERY_COLUMNS = [
  "id",
  "group_name",
  "schedule_name",
  "tick_at",
  "target",
  "attempts",
  "due_at",
  "last_error",
] as const satisfies readonly (keyof DeliveryRow)[];

/** What an update of a delivery writes: where its retries stand, not what it delivers. */
export const DELIVERY_UPDATED_COLUMNS = ["attempts", "due_at", "last_error"] as const;

export function groupRow(g: ScheduleGroupRecord): GroupRow {
  return {
    name: g.name,
    state: g.state,
    tags: JSON.stringify(g.tags),
    created_at: g.createdAt,
    modified_at: g.modifiedAt,
  };
}

export function toGroup(r: GroupRow): ScheduleGroupRecord {
  return {
    name: r.name,
    state: r.state,
    tags: JSON.parse(r.tags) as Record<string, string>,
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
  };
}

export function scheduleRow(s: ScheduleRecord): ScheduleRow {
  return {
    group_name: s.groupName,
    name: s.name,
    description: s.description ?? null,
    expression: s.expression,
    timezone: s.timezone,
    start_date: s.startDate ?? null,
    end_date: s.endDate ?? null,
    state: s.state,
    flexible_window_minutes: s.flexibleWindowMinutes ?? null,
    action_after_completion: s.actionAfterCompletion,
    kms_key_arn: s.kmsKeyArn ?? null,
    target: targetColumn(s.target),
    created_at: s.createdAt,
    modified_at: s.modifiedAt,
    next_tick_at: s.nextTickAt ?? null,
    next_due_at: s.nextDueAt ?? null,
  };
}

/** Every field present, unset ones as undefined: the same object from either store. */
export function toSchedule(r: ScheduleRow): ScheduleRecord {
  return {
    groupName: r.group_name,
    name: r.name,
    description: r.description ?? undefined,
    expression: r.expression,
    timezone: r.timezone,
    startDate: r.start_date ?? undefined,
    endDate: r.end_date ?? undefined,
    state: r.state,
    flexibleWindowMinutes: r.flexible_window_minutes ?? undefined,
    actionAfterCompletion: r.action_after_completion,
    kmsKeyArn: r.kms_key_arn ?? undefined,
    target: toTarget(r.target),
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
    nextTickAt: r.next_tick_at ?? undefined,
    nextDueAt: r.next_due_at ?? undefined,
  };
}

export function deliveryRow(d: DeliveryRecord): DeliveryRow {
  return {
    id: d.id,
    group_name: d.groupName,
    schedule_name: d.scheduleName,
    tick_at: d.tickAt,
    target: targetColumn(d.target),
    attempts: d.attempts,
    due_at: d.dueAt,
    last_error: d.lastError ?? null,
  };
}

export function toDelivery(r: DeliveryRow): DeliveryRecord {
  return {
    id: r.id,
    groupName: r.group_name,
    scheduleName: r.schedule_name,
    tickAt: r.tick_at,
    target: toTarget(r.target),
    attempts: r.attempts,
    dueAt: r.due_at,
    lastError: r.last_error ?? undefined,
  };
}

/** A target's column: its fields by name (JSON leaves the unset ones out). */
function targetColumn(t: ScheduleTarget): string {
  return JSON.stringify({
    arn: t.arn,
    roleArn: t.roleArn,
    input: t.input,
    maximumEventAgeInSeconds: t.maximumEventAgeInSeconds,
    maximumRetryAttempts: t.maximumRetryAttempts,
    deadLetterArn: t.deadLetterArn,
    messageGroupId: t.messageGroupId,
  });
}

function toTarget(json: string): ScheduleTarget {
  // The unset fields are absent from the JSON: read as undefined, and set so.
  const t = JSON.parse(json) as ScheduleTarget;
  return {
    arn: t.arn,
    roleArn: t.roleArn,
    input: t.input ?? undefined,
    maximumEventAgeInSeconds: t.maximumEventAgeInSeconds,
    maximumRetryAttempts: t.maximumRetryAttempts,
    deadLetterArn: t.deadLetterArn ?? undefined,
    messageGroupId: t.messageGroupId ?? undefined,
  };
}
