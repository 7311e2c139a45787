/**
 * The plan's steps for queues and SQS events: each queue created, or its changed attributes set
 * (a property the template no longer gives goes back to SQS's default); each SQS event's event
 * source mapping created, or updated in place. A mapping is found by its function and queue, as
 * Lambda allows one per pair: a changed Queue is a new mapping, the old one stale.
 */
import { LOGICAL_ID_TAG } from "./ownership.js";
import type { CurrentMapping, CurrentState, Step } from "./plan.js";
import type { FunctionSpec, QueueEventSpec, StackSpec } from "./spec.js";

export function queueSteps(stack: StackSpec, current: CurrentState): Step[] {
  return stack.queues.map((queue): Step => {
    const cur = current.queues?.get(queue.name);
    if (!cur) {
      // A queue without a RedrivePolicy is created without one ("" would be refused).
      const attributes = Object.fromEntries(Object.entries(queue.attributes).filter(([, v]) => v !== ""));
      if (queue.fifo) attributes.FifoQueue = "true";
      return { kind: "queue", action: "create", changes: [], queue, attributes, retag: false };
    }
    const changes: string[] = [];
    const attributes: Record<string, string> = {};
    for (const [k, want] of Object.entries(queue.attributes)) {
      const have = cur.attributes[k] ?? "";
      if (k === "RedrivePolicy" ? sameRedrive(have, want) : have === want) continue;
      attributes[k] = want;
      changes.push(k === "RedrivePolicy" ? k : `${k} ${have} → ${want}`);
    }
    const logicalId = cur.tags[LOGICAL_ID_TAG];
    const retag = logicalId !== queue.logicalId;
    if (retag) changes.push(`${LOGICAL_ID_TAG} ${logicalId ?? "(none)"} → ${queue.logicalId}`);
    const action = changes.length > 0 ? "update" : "unchanged";
    return { kind: "queue", action, changes, queue, url: cur.url, attributes, retag };
  });
}

/** Whether two RedrivePolicy values say the same ("" is none): SQS keeps the JSON as it was sent. */
function sameRedrive(a: string, b: string): boolean {
  const read = (s: string) => {
    if (s === "") return "";
    const p = JSON.parse(s) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    return `${String(p.deadLetterTargetArn)} ${Number(p.maxReceiveCount)}`;
  };
  return read(a) === read(b);
}

export function mappingSteps(stack: StackSpec, current: CurrentState): Step[] {
  return stack.queueEvents.map((event): Step => {
    const fn = stack.functions.find((f) => f.logicalId === event.functionId)!;
    const body = mappingBody(fn, event);
    const have = current.mappings?.get(fn.name)?.find((m) => m.EventSourceArn === event.queueArn);
    if (!have)
      return {
        kind: "mapping",
        action: "create",
        changes: [],
        fn,
        event,
        body: { EventSourceArn: event.queueArn, ...body },
      };
    const changes = mappingChanges(have, fn, event);
    const action = changes.length > 0 ? "update" : "unchanged";
    return { kind: "mapping", action, changes, fn, event, uuid: have.UUID, body };
  });
}

/** The mapping's settings as Lambda's API takes them, every one given so that an update resets what the event dropped. */
function mappingBody(fn: FunctionSpec, e: QueueEventSpec): Record<string, unknown> {
  return {
    // SAM points a function's events at its AutoPublishAlias.
    FunctionName: fn.alias ? `${fn.name}:${fn.alias}` : fn.name,
    BatchSize: e.batchSize,
    MaximumBatchingWindowInSeconds: e.maximumBatchingWindowInSeconds,
    Enabled: e.enabled,
    FunctionResponseTypes: [...e.functionResponseTypes],
    FilterCriteria: { Filters: e.filters.map((Pattern) => ({ Pattern })) },
    ScalingConfig: e.maximumConcurrency === undefined ? {} : { MaximumConcurrency: e.maximumConcurrency },
  };
}

function mappingChanges(m: CurrentMapping, fn: FunctionSpec, e: QueueEventSpec): string[] {
  const out: string[] = [];
  const scalar = (name: string, from: unknown, to: unknown) => {
    if (from !== to) out.push(`${name} ${String(from ?? "(none)")} → ${String(to ?? "(none)")}`);
  };
  scalar("qualifier", m.FunctionArn.split(":")[7], fn.alias);
  scalar("BatchSize", m.BatchSize, e.batchSize);
  scalar(
    "MaximumBatchingWindowInSeconds",
    m.MaximumBatchingWindowInSeconds,
    e.maximumBatchingWindowInSeconds,
  );
  scalar("Enabled", m.State !== "Disabled" && m.State !== "Disabling", e.enabled);
  const types = m.FunctionResponseTypes ?? [];
  if (types.join(",") !== e.functionResponseTypes.join(",")) out.push("FunctionResponseTypes");
  const filters = (m.FilterCriteria?.Filters ?? []).map((f) => f.Pattern ?? "");
  if (filters.join("\n") !== e.filters.join("\n")) out.push("FilterCriteria");
  scalar("MaximumConcurrency", m.ScalingConfig?.MaximumConcurrency, e.maximumConcurrency);
  return out;
}
