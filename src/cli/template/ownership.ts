/**
 * Which of the platform's resources a stack owns. A deploy tags what it creates with the
 * stack's name and the resource's logical id; those tags, never names, decide what a later
 * deploy may change or delete. A function the stack did not create (made by hand, or by
 * another stack) is never updated or deleted by it, and a template that declares a function
 * of its name is refused until the conflict is resolved.
 */
import type { CurrentState, Step } from "./plan.js";
import type { StackSpec } from "./spec.js";

export const STACK_TAG = "nimbus:stack";
export const LOGICAL_ID_TAG = "nimbus:logical-id";

/** The tags a deploy gives what it creates (CreateFunction's Tags, CreateApi's tags). */
export function stackTags(stackName: string, logicalId: string): Record<string, string> {
  return { [STACK_TAG]: stackName, [LOGICAL_ID_TAG]: logicalId };
}

/** Why the stack may not take each function it declares that exists but is not its own; empty when none. */
export function conflicts(stack: StackSpec, current: CurrentState): string[] {
  const out: string[] = [];
  for (const fn of stack.functions) {
    const tags = current.functionTags.get(fn.name);
    if (tags === undefined || tags[STACK_TAG] === stack.stackName) continue;
    const owner = tags[STACK_TAG];
    const whose =
      owner === undefined
        ? `was not made by a stack (it has no ${STACK_TAG} tag)`
        : `belongs to stack ${owner}`;
    out.push(
      `${fn.logicalId}: function ${fn.name} already exists and ${whose}; Nimbus does not take over a function ` +
        "it did not create. Delete or rename that function, or give the resource another FunctionName" +
        (owner === undefined
          ? `; or, to hand it to this stack, tag it ${STACK_TAG}=${stack.stackName} and ${LOGICAL_ID_TAG}=${fn.logicalId}`
          : ""),
    );
  }
  return out;
}

/**
 * Deletes of what the stack made and its template no longer declares: HTTP APIs first, then
 * functions, so that no API is left routing to a function that is gone.
 */
export function staleSteps(stack: StackSpec, current: CurrentState): Step[] {
  const steps: Step[] = [];
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
  return steps;
}
