/**
 * Schedules with EventBridge Scheduler's contract: groups (`default` always there), schedules
 * with their expression, time zone, dates, state, flexible window and target, and tags on
 * groups. Inputs and outputs have the REST-JSON protocol's member names; the surface puts path
 * and query members beside the body's. Each write computes the schedule's next tick and tells
 * the ticker (`ticker.ts`), which fires it.
 */
import { createHash } from "node:crypto";
import { nextTick, parseExpression } from "../../protocol/events/schedule-expression.js";
import type { Clock } from "../../shared/clock.js";
import { conflict, notFound, SchedulerError, validation } from "./errors.js";
import type { ScheduleGroupRecord, ScheduleRecord, ScheduleState } from "./model.js";
import {
  checkName,
  DEFAULT_GROUP,
  groupArn,
  groupFromArn,
  groupOf,
  type SchedulerAccount,
  scheduleArn,
} from "./names.js";
import type { SchedulesRepo } from "./repo.js";
import {
  groupShape,
  maxResultsOf,
  readSettings,
  type ScheduleSettings,
  scheduleShape,
  summaryShape,
  tagsOf,
} from "./shapes.js";

export type Input = Readonly<Record<string, unknown>>;
export type Output = Record<string, unknown>;

export interface SchedulerDeps {
  readonly repo: SchedulesRepo;
  readonly clock: Clock;
  readonly account: SchedulerAccount;
  /** Whether the function or queue an ARN names exists now. */
  readonly exists: (arn: string) => Promise<boolean>;
  /** Told after every write: the ticker looks again at what is due next. */
  readonly changed: () => void;
}

/** Where in its flexible window a tick falls: fixed by the schedule and the tick, so a restart agrees. */
export function dueOf(arn: string, tick: number, windowMinutes: number | undefined): number {
  if (windowMinutes === undefined) return tick;
  const h = createHash("sha256").update(`${arn}@${tick}`).digest();
  return tick + (h.readUIntBE(0, 6) % (windowMinutes * 60_000));
}

/** The first tick of settings written at `now`: a rate counts from its start date, or from now. */
export function firstTick(
  a: SchedulerAccount,
  group: string,
  name: string,
  s: Pick<ScheduleSettings, "expression" | "timezone" | "startDate" | "endDate" | "flexibleWindowMinutes">,
  now: number,
): { nextTickAt: number | undefined; nextDueAt: number | undefined } {
  const tick = nextTick(parseExpression(s.expression, s.timezone), {
    after: now,
    anchor: s.startDate ?? now,
    start: s.startDate,
    end: s.endDate,
  });
  if (tick === undefined) return { nextTickAt: undefined, nextDueAt: undefined };
  return { nextTickAt: tick, nextDueAt: dueOf(scheduleArn(a, group, name), tick, s.flexibleWindowMinutes) };
}

function token(v: unknown): { groupName: string; name: string } | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  try {
    const [groupName, name] = JSON.parse(Buffer.from(String(v), "base64url").toString("utf8")) as [
      string,
      string,
    ];
    if (typeof groupName === "string" && typeof name === "string") return { groupName, name };
  } catch {}
  throw validation("NextToken is not valid: pass the NextToken of the previous answer as it was.");
}

export class Scheduler {
  readonly #o: SchedulerDeps;

  constructor(deps: SchedulerDeps) {
    this.#o = deps;
  }

  /** Makes the `default` group if it is not there. */
  async start(): Promise<void> {
    const now = this.#o.clock.now();
    await this.#o.repo.createGroup({
      name: DEFAULT_GROUP,
      state: "ACTIVE",
      tags: {},
      createdAt: now,
      modifiedAt: now,
    });
  }

  async createSchedule(i: Input): Promise<Output> {
    const name = checkName(i.Name);
    const group = await this.#group(i.GroupName);
    const now = this.#o.clock.now();
    const settings = await this.#settings(i, now);
    const record: ScheduleRecord = {
      ...settings,
      groupName: group,
      name,
      createdAt: now,
      modifiedAt: now,
      ...firstTick(this.#o.account, group, name, settings, now),
    };
    if (!(await this.#o.repo.createSchedule(record))) throw conflict(`Schedule ${name} already exists.`);
    this.#o.changed();
    return { ScheduleArn: scheduleArn(this.#o.account, group, name) };
  }

  async updateSchedule(i: Input): Promise<Output> {
    const name = checkName(i.Name);
    const group = groupOf(i.GroupName, "groupName");
    const current = await this.#o.repo.getSchedule(group, name);
    if (!current) throw notFound(`Schedule ${name}`);
    const now = this.#o.clock.now();
    const settings = await this.#settings(i, now);
    const record: ScheduleRecord = {
      ...settings,
      groupName: group,
      name,
      createdAt: current.createdAt,
      modifiedAt: now,
      ...firstTick(this.#o.account, group, name, settings, now),
    };
    if (!(await this.#o.repo.updateSchedule(record))) throw notFound(`Schedule ${name}`);
    this.#o.changed();
    return { ScheduleArn: scheduleArn(this.#o.account, group, name) };
  }

  async getSchedule(i: Input): Promise<Output> {
    const name = checkName(i.Name);
    const s = await this.#o.repo.getSchedule(groupOf(i.groupName), name);
    if (!s) throw notFound(`Schedule ${name}`);
    return scheduleShape(this.#o.account, s);
  }

  async deleteSchedule(i: Input): Promise<Output> {
    const name = checkName(i.Name);
    if (!(await this.#o.repo.deleteSchedule(groupOf(i.groupName), name))) throw notFound(`Schedule ${name}`);
    this.#o.changed();
    return {};
  }

  async listSchedules(i: Input): Promise<Output> {
    const limit = maxResultsOf(i.MaxResults);
    const after = token(i.NextToken);
    const state = i.State;
    if (state !== undefined && state !== "ENABLED" && state !== "DISABLED")
      throw validation(`State must be ENABLED or DISABLED, got ${JSON.stringify(state)}.`);
    const page = await this.#o.repo.listSchedules({
      ...(i.ScheduleGroup ? { groupName: groupOf(i.ScheduleGroup, "ScheduleGroup") } : {}),
      ...(typeof i.NamePrefix === "string" && i.NamePrefix ? { prefix: i.NamePrefix } : {}),
      ...(state ? { state: state as ScheduleState } : {}),
      ...(after ? { after } : {}),
      limit: limit + 1,
    });
    const items = page.slice(0, limit);
    const last = items[items.length - 1];
    return {
      Schedules: items.map((s) => summaryShape(this.#o.account, s)),
      ...(page.length > limit && last
        ? { NextToken: Buffer.from(JSON.stringify([last.groupName, last.name])).toString("base64url") }
        : {}),
    };
  }

  async createScheduleGroup(i: Input): Promise<Output> {
    const name = checkName(i.Name);
    const now = this.#o.clock.now();
    const group: ScheduleGroupRecord = {
      name,
      state: "ACTIVE",
      tags: tagsOf(i.Tags, false),
      createdAt: now,
      modifiedAt: now,
    };
    if (!(await this.#o.repo.createGroup(group))) throw conflict(`Schedule group ${name} already exists.`);
    return { ScheduleGroupArn: groupArn(this.#o.account, name) };
  }

  async getScheduleGroup(i: Input): Promise<Output> {
    const name = checkName(i.Name);
    const g = await this.#o.repo.getGroup(name);
    if (!g) throw notFound(`Schedule group ${name}`);
    return groupShape(this.#o.account, g);
  }

  async deleteScheduleGroup(i: Input): Promise<Output> {
    const name = checkName(i.Name);
    if (name === DEFAULT_GROUP) throw validation("The default schedule group cannot be deleted.");
    if (!(await this.#o.repo.deleteGroup(name))) throw notFound(`Schedule group ${name}`);
    this.#o.changed();
    return {};
  }

  async listScheduleGroups(i: Input): Promise<Output> {
    const limit = maxResultsOf(i.MaxResults);
    const after = token(i.NextToken)?.name;
    const page = await this.#o.repo.listGroups({
      ...(typeof i.NamePrefix === "string" && i.NamePrefix ? { prefix: i.NamePrefix } : {}),
      ...(after !== undefined ? { after } : {}),
      limit: limit + 1,
    });
    const items = page.slice(0, limit);
    const last = items[items.length - 1];
    return {
      ScheduleGroups: items.map((g) => groupShape(this.#o.account, g)),
      ...(page.length > limit && last
        ? { NextToken: Buffer.from(JSON.stringify(["", last.name])).toString("base64url") }
        : {}),
    };
  }

  async listTagsForResource(i: Input): Promise<Output> {
    const g = await this.#taggable(i.ResourceArn);
    return { Tags: Object.entries(g.tags).map(([Key, Value]) => ({ Key, Value })) };
  }

  async tagResource(i: Input): Promise<Output> {
    const g = await this.#taggable(i.ResourceArn);
    const tags = { ...g.tags, ...tagsOf(i.Tags, true) };
    await this.#o.repo.updateGroup({ ...g, tags, modifiedAt: this.#o.clock.now() });
    return {};
  }

  async untagResource(i: Input): Promise<Output> {
    const g = await this.#taggable(i.ResourceArn);
    const keys = Array.isArray(i.TagKeys) ? i.TagKeys : i.TagKeys === undefined ? [] : [i.TagKeys];
    const tags = Object.fromEntries(Object.entries(g.tags).filter(([k]) => !keys.includes(k)));
    await this.#o.repo.updateGroup({ ...g, tags, modifiedAt: this.#o.clock.now() });
    return {};
  }

  async #taggable(arn: unknown): Promise<ScheduleGroupRecord> {
    const name = typeof arn === "string" ? groupFromArn(this.#o.account, arn) : undefined;
    if (name === undefined)
      throw validation(
        `ResourceArn ${JSON.stringify(arn)} cannot be tagged: only schedule groups take tags, ${groupArn(this.#o.account, "<name>")}.`,
      );
    const g = await this.#o.repo.getGroup(name);
    if (!g) throw notFound(`Schedule group ${name}`);
    return g;
  }

  async #group(given: unknown): Promise<string> {
    const name = groupOf(given, "groupName");
    if (!(await this.#o.repo.getGroup(name))) throw notFound(`Schedule group ${name}`);
    return name;
  }

  async #settings(i: Input, now: number): Promise<ScheduleSettings> {
    const settings = readSettings(i, this.#o.account, now);
    for (const arn of [settings.target.arn, settings.target.deadLetterArn])
      if (arn !== undefined && !(await this.#o.exists(arn)))
        throw new SchedulerError("ValidationException", `The target ${arn} does not exist.`);
    return settings;
  }
}
