/**
 * Scheduler's names and ARNs: `arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>`
 * and `schedule-group/<name>`; the group `default` always exists.
 */
import { validation } from "./errors.js";

export interface SchedulerAccount {
  readonly region: string;
  readonly accountId: string;
}

export const DEFAULT_GROUP = "default";
const NAME = /^[0-9a-zA-Z._-]{1,64}$/;

export const scheduleArn = (a: SchedulerAccount, group: string, name: string) =>
  `arn:aws:scheduler:${a.region}:${a.accountId}:schedule/${group}/${name}`;
export const groupArn = (a: SchedulerAccount, group: string) =>
  `arn:aws:scheduler:${a.region}:${a.accountId}:schedule-group/${group}`;

/** A schedule's or group's name, checked with Scheduler's message. */
export function checkName(given: unknown, field = "name"): string {
  if (typeof given !== "string" || !NAME.test(given))
    throw validation(
      `1 validation error detected: Value '${String(given)}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$ and have length between 1 and 64.`,
    );
  return given;
}

/** The group a request names (absent: `default`). */
export function groupOf(given: unknown, field = "groupName"): string {
  if (given === undefined || given === null || given === "") return DEFAULT_GROUP;
  return checkName(given, field);
}

/** The group an ARN of this account names, if it is a group's ARN. */
export function groupFromArn(a: SchedulerAccount, arn: string): string | undefined {
  const prefix = `arn:aws:scheduler:${a.region}:${a.accountId}:schedule-group/`;
  return arn.startsWith(prefix) ? arn.slice(prefix.length) : undefined;
}
