/**
 * Schedules as stored: groups, schedules (EventBridge Scheduler's shapes, checked by
 * `scheduler.ts` before they are stored) with where each stands (its next tick), and the
 * deliveries of ticks that fired: an outbox written in the same transaction that moves a
 * schedule to its next tick, so a tick is taken once and its delivery survives a crash.
 */

export type GroupState = "ACTIVE" | "DELETING";

export interface ScheduleGroupRecord {
  /** `default`, or 1 to 64 of letters, digits, `.`, `-`, `_`. */
  readonly name: string;
  readonly state: GroupState;
  readonly tags: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly modifiedAt: number;
}

export type ScheduleState = "ENABLED" | "DISABLED";

export interface ScheduleTarget {
  /** A function (qualified or not) or a queue of this account. */
  readonly arn: string;
  readonly roleArn: string;
  /** JSON text as given; undefined: the function receives the scheduled-event shape. */
  readonly input: string | undefined;
  /** 60 to 86,400 seconds; Scheduler's default is 86,400. */
  readonly maximumEventAgeInSeconds: number;
  /** 0 to 185; Scheduler's default is 185. */
  readonly maximumRetryAttempts: number;
  /** A queue ARN for ticks that could not be delivered. */
  readonly deadLetterArn: string | undefined;
  /** For a FIFO queue target. */
  readonly messageGroupId: string | undefined;
}

export interface ScheduleRecord {
  readonly groupName: string;
  /** 1 to 64 of letters, digits, `.`, `-`, `_`; unique within its group. */
  readonly name: string;
  readonly description: string | undefined;
  /** `cron(…)`, `rate(…)` or `at(…)` as given. */
  readonly expression: string;
  /** An IANA time zone for cron and at expressions; `UTC` by default. */
  readonly timezone: string;
  /** Epoch ms; no tick before it. */
  readonly startDate: number | undefined;
  /** Epoch ms; no tick after it. */
  readonly endDate: number | undefined;
  readonly state: ScheduleState;
  /** `OFF`, or `FLEXIBLE` with a window of 1 to 1,440 minutes. */
  readonly flexibleWindowMinutes: number | undefined;
  /** `NONE` or `DELETE` (the schedule goes after its last tick). */
  readonly actionAfterCompletion: "NONE" | "DELETE";
  readonly kmsKeyArn: string | undefined;
  readonly target: ScheduleTarget;
  readonly createdAt: number;
  readonly modifiedAt: number;
  /**
   * The next tick's nominal time (epoch ms), as the expression gives it; undefined when no
   * tick remains (an `at()` that fired, past its end date).
   */
  readonly nextTickAt: number | undefined;
  /** When the next tick is due: its nominal time plus its place in the flexible window. */
  readonly nextDueAt: number | undefined;
}

/** A tick taken and not yet delivered (or dead-lettered). */
export interface DeliveryRecord {
  /** Unique: `<schedule ARN>@<tick ms>`, so a tick yields one delivery however often it is taken. */
  readonly id: string;
  readonly groupName: string;
  readonly scheduleName: string;
  /** The tick's nominal time (epoch ms): the scheduled event's `time`. */
  readonly tickAt: number;
  /** The target as it was when the tick was taken (a later update does not change it). */
  readonly target: ScheduleTarget;
  /** Attempts made so far. */
  readonly attempts: number;
  /** When to try next (epoch ms). */
  readonly dueAt: number;
  /** Why the last attempt failed. */
  readonly lastError: string | undefined;
}
