/**
 * The template's queues: an AWS::SQS::Queue resource (its name, and the attributes Nimbus's
 * queues take) and a function's SQS event (an event source mapping). Each reader names what it
 * does not support through `problem` and returns the part of the stack spec it describes.
 */
import type { Path } from "./intrinsics.js";
import type { QueueEventSpec, QueueSpec } from "./spec.js";

type Dict = Record<string, unknown>;
type Problem = (p: Path, m: string) => void;
const isDict = (v: unknown): v is Dict => typeof v === "object" && v !== null && !Array.isArray(v);

/** The numeric attributes a template may set: SQS's ranges and defaults. */
export const QUEUE_NUMBERS: Readonly<Record<string, { min: number; max: number; default: number }>> = {
  DelaySeconds: { min: 0, max: 900, default: 0 },
  MaximumMessageSize: { min: 1024, max: 1_048_576, default: 1_048_576 },
  MessageRetentionPeriod: { min: 60, max: 1_209_600, default: 345_600 },
  ReceiveMessageWaitTimeSeconds: { min: 0, max: 20, default: 0 },
  VisibilityTimeout: { min: 0, max: 43_200, default: 30 },
};
export const QUEUE_PROPS = [
  "QueueName",
  "FifoQueue",
  "ContentBasedDeduplication",
  "RedrivePolicy",
  ...Object.keys(QUEUE_NUMBERS),
];
const SQS_EVENT_KEYS = [
  "Queue",
  "BatchSize",
  "MaximumBatchingWindowInSeconds",
  "Enabled",
  "FilterCriteria",
  "FunctionResponseTypes",
  "ScalingConfig",
];
const MAX_NAME = 80;
const NAME = /^[A-Za-z0-9_-]+$/;

/** True for `true` or "true", as CloudFormation reads a Boolean property. */
export function isTrue(v: unknown): boolean {
  return v === true || v === "true";
}

/**
 * A queue's name: QueueName, or `{StackName}-{LogicalId}`; a FIFO queue's ends in `.fifo`,
 * which a generated name gets and a given one must have.
 */
export function queueName(
  stackName: string,
  id: string,
  explicit: unknown,
  fifo: boolean,
  p: Path,
  problem: Problem,
): string {
  const given = typeof explicit === "string" ? explicit : undefined;
  if (explicit !== undefined && given === undefined) problem([...p, "QueueName"], "expected a string");
  const name = given ?? `${stackName}-${id}${fifo ? ".fifo" : ""}`;
  const base = name.endsWith(".fifo") ? name.slice(0, -".fifo".length) : name;
  if (fifo !== (base !== name))
    problem(
      [...p, given === undefined ? "FifoQueue" : "QueueName"],
      fifo
        ? "a FIFO queue's QueueName must end with .fifo"
        : "a QueueName ending with .fifo needs FifoQueue: true",
    );
  if (name.length > MAX_NAME || !NAME.test(base))
    problem(
      [...p, "QueueName"],
      `the queue name "${name}" must be 1 to ${MAX_NAME} letters, digits, - or _ (and .fifo)` +
        (given === undefined ? ": give the resource a shorter QueueName" : ""),
    );
  return name;
}

/** An AWS::SQS::Queue's properties (resolved) as a queue spec; `name` and `fifo` are read before. */
export function readQueue(
  id: string,
  name: string,
  fifo: boolean,
  props: Dict,
  base: Path,
  problem: Problem,
): QueueSpec {
  const attributes: Record<string, string> = {};
  for (const [k, range] of Object.entries(QUEUE_NUMBERS)) {
    const v = props[k];
    const n = v === undefined ? range.default : Number(v);
    if (!Number.isInteger(n) || n < range.min || n > range.max)
      problem(
        [...base, k],
        `expected an integer from ${range.min} to ${range.max}, got ${JSON.stringify(v)}`,
      );
    attributes[k] = String(Number.isInteger(n) ? n : range.default);
  }
  const dedup = props.ContentBasedDeduplication;
  if (dedup !== undefined && !fifo)
    problem([...base, "ContentBasedDeduplication"], "applies to FIFO queues only (FifoQueue: true)");
  if (fifo) attributes.ContentBasedDeduplication = String(isTrue(dedup));
  attributes.RedrivePolicy = redrivePolicy(props.RedrivePolicy, [...base, "RedrivePolicy"], problem);
  return { logicalId: id, name, fifo, attributes };
}

/** RedrivePolicy (a mapping, or its JSON text) as SQS's attribute: JSON text, or "" for none. */
function redrivePolicy(raw: unknown, p: Path, problem: Problem): string {
  if (raw === undefined) return "";
  let policy: unknown = raw;
  if (typeof raw === "string")
    try {
      policy = JSON.parse(raw);
    } catch {
      policy = undefined;
    }
  const arn = isDict(policy) ? policy.deadLetterTargetArn : undefined;
  const count = isDict(policy) ? Number(policy.maxReceiveCount) : Number.NaN;
  if (typeof arn !== "string" || !arn.startsWith("arn:aws:sqs:"))
    problem(p, "expected deadLetterTargetArn: the dead-letter queue's ARN (!GetAtt Queue.Arn)");
  if (!Number.isInteger(count) || count < 1 || count > 1000)
    problem(p, "expected maxReceiveCount: an integer from 1 to 1000");
  if (isDict(policy))
    for (const k of Object.keys(policy))
      if (k !== "deadLetterTargetArn" && k !== "maxReceiveCount")
        problem([...p, k], `RedrivePolicy property ${k} is not supported`);
  return JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: count });
}

/** The dead-letter queue a queue's RedrivePolicy names, if any. */
export function deadLetterArn(q: QueueSpec): string | undefined {
  const text = q.attributes.RedrivePolicy;
  return text ? (JSON.parse(text) as { deadLetterTargetArn?: string }).deadLetterTargetArn : undefined;
}

/** A function's SQS event (its properties resolved), as an event source mapping. */
export function readQueueEvent(
  functionId: string,
  eventId: string,
  props: Dict,
  p: Path,
  problem: Problem,
): QueueEventSpec {
  const base = [...p, "Properties"];
  for (const k of Object.keys(props))
    if (!SQS_EVENT_KEYS.includes(k)) problem([...base, k], `SQS event property ${k} is not supported`);
  const int = (k: string, fallback: number, min: number, max: number, v = props[k], at = [...base, k]) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    problem(at, `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return fallback;
  };
  const queue = props.Queue;
  if (typeof queue !== "string" || !queue.startsWith("arn:aws:sqs:"))
    problem([...base, "Queue"], "expected a queue's ARN (!GetAtt Queue.Arn)");
  const enabled = props.Enabled;
  if (
    enabled !== undefined &&
    enabled !== true &&
    enabled !== false &&
    enabled !== "true" &&
    enabled !== "false"
  )
    problem([...base, "Enabled"], `expected true or false, got ${JSON.stringify(enabled)}`);
  const types = props.FunctionResponseTypes ?? [];
  if (!Array.isArray(types) || types.some((t) => t !== "ReportBatchItemFailures"))
    problem([...base, "FunctionResponseTypes"], "expected a list of ReportBatchItemFailures");
  const scaling = props.ScalingConfig;
  if (
    scaling !== undefined &&
    (!isDict(scaling) || Object.keys(scaling).some((k) => k !== "MaximumConcurrency"))
  )
    problem([...base, "ScalingConfig"], "expected a mapping with MaximumConcurrency");
  const concurrency = isDict(scaling) ? scaling.MaximumConcurrency : undefined;
  return {
    functionId,
    eventId,
    queueArn: String(queue),
    batchSize: int("BatchSize", 10, 1, 10_000),
    maximumBatchingWindowInSeconds: int("MaximumBatchingWindowInSeconds", 0, 0, 300),
    enabled: enabled === undefined || isTrue(enabled),
    filters: filterPatterns(props.FilterCriteria, [...base, "FilterCriteria"], problem),
    functionResponseTypes: Array.isArray(types) ? types.map(String) : [],
    maximumConcurrency:
      concurrency === undefined
        ? undefined
        : int("", 2, 2, 1000, concurrency, [...base, "ScalingConfig", "MaximumConcurrency"]),
  };
}

/** FilterCriteria's patterns as JSON text (a pattern may be written as a mapping too). */
function filterPatterns(raw: unknown, p: Path, problem: Problem): string[] {
  if (raw === undefined) return [];
  const filters = isDict(raw) ? raw.Filters : undefined;
  if (!isDict(raw) || !Array.isArray(filters) || Object.keys(raw).some((k) => k !== "Filters")) {
    problem(p, "expected a mapping with Filters: a list of {Pattern}");
    return [];
  }
  return filters.map((f, i) => {
    const pattern = isDict(f) ? f.Pattern : undefined;
    if (typeof pattern === "string") return pattern;
    if (isDict(pattern)) return JSON.stringify(pattern);
    problem([...p, "Filters", i], "expected {Pattern: a JSON event pattern}");
    return "";
  });
}
