/**
 * Which of the platform's resources a stack owns. A deploy tags what it creates (functions,
 * HTTP APIs, queues) with the stack's name and the resource's logical id; those tags, never
 * names, decide what a later deploy may change or delete. A function or queue the stack did not
 * create (made by hand, or by another stack) is never updated or deleted by it, and a template
 * that declares one of its name is refused until the conflict is resolved. Event source mappings
 * have no tags: the mappings of the stack's own functions are the stack's. Schedules have none
 * either: they are the stack's by being in its schedule group, which is tagged.
 */
import type { CurrentState, Step } from "./plan.js";
import type { StackSpec } from "./spec.js";

export const STACK_TAG = "nimbus:stack";
export const LOGICAL_ID_TAG = "nimbus:logical-id";

/** The tags a deploy gives what it creates (CreateFunction's Tags, CreateApi's tags). */
export function stackTags(stackName: string, logicalId: string): Record<string, string> {
  return { [STACK_TAG]: stackName, [LOGICAL_ID_TAG]: logicalId };
}

/** Why the stack may not take each function or queue it declares that exists but is not its own; empty when none. */
export function conflicts(stack: StackSpec, current: CurrentState): string[] {
  const out: string[] = [];
  const check = (kind: string, name: string, logicalId: string, tags: Tags | undefined, property: string) => {
    if (tags === undefined || tags[STACK_TAG] === stack.stackName) return;
    const owner = tags[STACK_TAG];
    const whose =
      owner === undefined
        ? `was not made by a stack (it has no ${STACK_TAG} tag)`
        : `belongs to stack ${owner}`;
    out.push(
      `${logicalId}: ${kind} ${name} already exists and ${whose}; Nimbus does not take over a ${kind} ` +
        `it did not create. Delete or rename that ${kind}, or give the resource another ${property}` +
        (owner === undefined
          ? `; or, to hand it to this stack, tag it ${STACK_TAG}=${stack.stackName} and ${LOGICAL_ID_TAG}=${logicalId}`
          : ""),
    );
  };
  for (const fn of stack.functions)
    check("function", fn.name, fn.logicalId, current.functionTags.get(fn.name), "FunctionName");
  for (const q of stack.queues)
    check("queue", q.name, q.logicalId, current.queueTags?.get(q.name), "QueueName");
  const group = scheduleGroupConflict(stack, current);
  if (group) out.push(group);
  return out;
}

type Tags = Readonly<Record<string, string>>;

/**
 * Deletes of what the stack made and its template no longer declares: schedules (then their
 * group, once there are none), event source mappings and HTTP APIs first, then functions, then
 * queues, so that nothing is left invoking or reading a queue or a function that is gone.
 */
export function staleSteps(stack: StackSpec, current: CurrentState): Step[] {
  const steps: Step[] = staleScheduleSteps(stack, current);
  const declared = new Set(
    stack.queueEvents.map((e) => {
      const fn = stack.functions.find((f) => f.logicalId === e.functionId)!;
      return `${fn.name} ${e.queueArn}`;
    }),
  );
  for (const [functionName, mappings] of current.mappings ?? [])
    for (const m of mappings)
      if (!declared.has(`${functionName} ${m.EventSourceArn}`))
        steps.push({
          kind: "stale-mapping",
          action: "delete",
          changes: [],
          functionName,
          queueArn: m.EventSourceArn,
          uuid: m.UUID,
        });
  const apis = new Set(stack.apis.map((a) => a.logicalId));
  for (const [logicalId, api] of current.apis)
    if (!apis.has(logicalId))
      steps.push({
        kind: "stale-api",
        action: "delete",
        changes: [],
        logicalId,
        apiId: api.apiId,
        name: api.name,
      });
  const functions = new Set(stack.functions.map((f) => f.name));
  for (const [name, tags] of [...current.functionTags].sort(([a], [b]) => (a < b ? -1 : 1)))
    if (tags[STACK_TAG] === stack.stackName && !functions.has(name))
      steps.push({
        kind: "stale-function",
        action: "delete",
        changes: [],
        logicalId: tags[LOGICAL_ID_TAG] ?? "",
        name,
      });
  const queues = new Set(stack.queues.map((q) => q.name));
  for (const [name, tags] of [...(current.queueTags ?? [])].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const url = current.queues?.get(name)?.url;
    if (tags[STACK_TAG] === stack.stackName && !queues.has(name) && url)
      steps.push({
        kind: "stale-queue",
        action: "delete",
        changes: [],
        logicalId: tags[LOGICAL_ID_TAG] ?? "",
        name,
        url,
      });
  }
  return steps;
}

/**
 * Deletes of the schedules in the stack's group that the template no longer declares, then of
 * the group itself once the template declares none; only in a group the stack owns.
 */
function staleScheduleSteps(stack: StackSpec, current: CurrentState): Step[] {
  const group = current.scheduleGroup;
  if (!group || group.tags[STACK_TAG] !== stack.stackName) return [];
  const declared = new Set(stack.schedules.map((s) => s.name));
  const steps: Step[] = [...(current.schedules?.keys() ?? [])]
    .filter((name) => !declared.has(name))
    .sort()
    .map((name) => ({ kind: "stale-schedule", action: "delete", changes: [], name, group: group.name }));
  if (stack.schedules.length === 0)
    steps.push({ kind: "schedule-group", action: "delete", changes: [], name: group.name });
  return steps;
}

/** Why the stack may not use its schedule group: one of that name exists and is not the stack's. */
function scheduleGroupConflict(stack: StackSpec, current: CurrentState): string | undefined {
  const group = current.scheduleGroup;
  if (stack.schedules.length === 0 || !group || group.tags[STACK_TAG] === stack.stackName) return undefined;
  const owner = group.tags[STACK_TAG];
  const whose =
    owner === undefined
      ? `was not made by a stack (it has no ${STACK_TAG} tag)`
      : `belongs to stack ${owner}`;
  return (
    `schedule group ${group.name} already exists and ${whose}; a stack keeps its schedules in a ` +
    "schedule group of its own, named after it (Scheduler tags groups, not schedules), and Nimbus " +
    "does not take over a group it did not create. Delete that group, or deploy with another --stack-name" +
    (owner === undefined ? `; or, to hand it to this stack, tag it ${STACK_TAG}=${stack.stackName}` : "")
  );
}
