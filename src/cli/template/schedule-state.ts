/**
 * Reads the schedules a stack's plan compares against: the schedule group named after the stack
 * and its tags (which say the stack it belongs to, if any) and, when it is the stack's, every
 * schedule in it. Scheduler's REST-JSON API, signed for the service `scheduler`.
 */
import type { NimbusClient } from "../client.js";
import { STACK_TAG } from "./ownership.js";
import type { CurrentSchedule, CurrentScheduleGroup } from "./schedule-steps.js";
import type { StackSpec } from "./spec.js";

/** Scheduler's API is signed for its own service name. */
export const SCHEDULER = { service: "scheduler" } as const;

/** Every item of a listing, page by page (`NextToken`). */
async function all<T>(
  client: NimbusClient,
  path: string,
  field: string,
  query: Record<string, string>,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await client.json<Record<string, unknown> & { NextToken?: string }>("GET", path, {
      ...SCHEDULER,
      query: { ...query, ...(token ? { NextToken: token } : {}) },
    });
    out.push(...((page[field] as T[] | undefined) ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

/**
 * The stack's schedule group and, when the stack owns it, its schedules by name. `needed`: the
 * template declares schedules; a platform without Scheduler is then an error, else it simply has none.
 */
export async function readSchedules(
  client: NimbusClient,
  stack: StackSpec,
  needed: boolean,
): Promise<{ group: CurrentScheduleGroup | undefined; schedules: Map<string, CurrentSchedule> }> {
  const schedules = new Map<string, CurrentSchedule>();
  const name = stack.scheduleGroup;
  let groups: Array<{ Name: string; Arn: string }>;
  try {
    groups = await all(client, "/schedule-groups", "ScheduleGroups", { NamePrefix: name });
  } catch (err) {
    if (!needed) return { group: undefined, schedules };
    throw new Error(
      `the platform does not serve EventBridge Scheduler (ListScheduleGroups failed: ${(err as Error).message}); ` +
        "a template with Schedule or ScheduleV2 events needs a platform that does",
    );
  }
  const found = groups.find((g) => g.Name === name);
  if (!found) return { group: undefined, schedules };
  const { Tags } = await client.json<{ Tags?: Array<{ Key: string; Value: string }> }>(
    "GET",
    `/tags/${encodeURIComponent(found.Arn)}`,
    SCHEDULER,
  );
  const tags = Object.fromEntries((Tags ?? []).map((t) => [t.Key, t.Value]));
  const group = { name, arn: found.Arn, tags };
  if (tags[STACK_TAG] !== stack.stackName) return { group, schedules };
  const listed = await all<{ Name: string }>(client, "/schedules", "Schedules", { ScheduleGroup: name });
  for (const { Name } of listed) {
    const res = await client.request("GET", `/schedules/${encodeURIComponent(Name)}`, {
      ...SCHEDULER,
      query: { groupName: name },
    });
    if (res.status === 404) {
      await res.body?.cancel(); // deleted since the listing
      continue;
    }
    if (res.status >= 300)
      throw new Error(
        `reading the schedule ${name}/${Name} answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`,
      );
    schedules.set(Name, (await res.json()) as CurrentSchedule);
  }
  return { group, schedules };
}
