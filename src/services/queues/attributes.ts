/**
 * A queue's attributes: what CreateQueue and SetQueueAttributes may set, their ranges and
 * defaults as SQS has them, and the settings the service reads off them. Stored as given
 * (strings, SQS's names); checked here before anything is stored.
 */
import { invalidAttributeValue, SqsError } from "./errors.js";

interface Range {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** Numeric attributes, in seconds or bytes, as SQS bounds them. */
const RANGES: Readonly<Record<string, Range>> = {
  DelaySeconds: { min: 0, max: 900, default: 0 },
  MaximumMessageSize: { min: 1024, max: 1_048_576, default: 1_048_576 },
  MessageRetentionPeriod: { min: 60, max: 1_209_600, default: 345_600 },
  ReceiveMessageWaitTimeSeconds: { min: 0, max: 20, default: 0 },
  VisibilityTimeout: { min: 0, max: 43_200, default: 30 },
  KmsDataKeyReusePeriodSeconds: { min: 60, max: 86_400, default: 300 },
};

/** Kept and returned as set; Nimbus does not act on them (access is the platform's keys; data rests in its store). */
const KEPT = new Set(["Policy", "KmsMasterKeyId", "SqsManagedSseEnabled"]);
const FIFO_ONLY = new Set(["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"]);
const CHOICES: Readonly<Record<string, readonly string[]>> = {
  ContentBasedDeduplication: ["true", "false"],
  SqsManagedSseEnabled: ["true", "false"],
  DeduplicationScope: ["messageGroup", "queue"],
  FifoThroughputLimit: ["perQueue", "perMessageGroupId"],
};
/** Read-only attributes GetQueueAttributes also answers. */
export const COMPUTED = [
  "QueueArn",
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "CreatedTimestamp",
  "LastModifiedTimestamp",
] as const;

export const MAX_RECEIVE_COUNT = 1000;

/** The attributes a queue's owner may set after it is created (all but FifoQueue). */
const SETTABLE = new Set([
  ...Object.keys(RANGES),
  ...KEPT,
  ...FIFO_ONLY,
  ...Object.keys(CHOICES),
  "RedrivePolicy",
  "RedriveAllowPolicy",
]);

export function isAttributeName(name: string): boolean {
  return SETTABLE.has(name);
}

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

/** What the service reads off a queue's attributes. */
export interface QueueSettings {
  readonly fifo: boolean;
  readonly delaySeconds: number;
  readonly maximumMessageSize: number;
  readonly retentionSeconds: number;
  readonly waitSeconds: number;
  readonly visibilitySeconds: number;
  readonly contentBasedDeduplication: boolean;
  readonly redrive: RedrivePolicy | undefined;
  readonly redriveAllow: { readonly permission: string; readonly sources: readonly string[] } | undefined;
}

/**
 * Checks attributes to set. `creating` allows FifoQueue; `fifo` says whether the queue is (or
 * will be) FIFO. Returns them as they are stored: strings, with JSON policies kept as sent.
 */
export function checkAttributes(
  given: unknown,
  o: { fifo: boolean; creating: boolean },
): Record<string, string> {
  if (given === undefined || given === null) return {};
  if (typeof given !== "object" || Array.isArray(given))
    throw invalidAttributeValue("Attributes must be a map of attribute names to string values.");
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(given as Record<string, unknown>)) {
    if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean")
      throw invalidAttributeValue(`Invalid value for the parameter ${name}: expected a string.`);
    const value = String(raw);
    if (name === "FifoQueue") {
      if (!o.creating) throw invalidAttributeName(name, "it can only be set when the queue is created");
      if (value !== String(o.fifo))
        throw invalidAttributeValue(
          o.fifo
            ? "Invalid value for the parameter FifoQueue: a queue whose name ends with .fifo is a FIFO queue (true)."
            : "Invalid value for the parameter FifoQueue: a FIFO queue's name must end with .fifo.",
        );
      if (o.fifo) out[name] = "true";
      continue;
    }
    if (FIFO_ONLY.has(name) && !o.fifo) throw invalidAttributeName(name, "it applies to FIFO queues only");
    const range = RANGES[name];
    if (range) {
      const n = Number(value);
      if (!/^\d+$/.test(value.trim()) || n < range.min || n > range.max)
        throw invalidAttributeValue(
          `Invalid value for the parameter ${name}: ${JSON.stringify(value)}; expected an integer from ${range.min} to ${range.max}.`,
        );
      out[name] = String(n);
    } else if (CHOICES[name]) {
      if (!CHOICES[name].includes(value))
        throw invalidAttributeValue(
          `Invalid value for the parameter ${name}: ${JSON.stringify(value)}; expected one of ${CHOICES[name].join(", ")}.`,
        );
      out[name] = value;
    } else if (name === "RedrivePolicy") {
      if (value !== "") readRedrive(value);
      out[name] = value;
    } else if (name === "RedriveAllowPolicy") {
      if (value !== "") readRedriveAllow(value);
      out[name] = value;
    } else if (KEPT.has(name)) {
      out[name] = value;
    } else {
      throw invalidAttributeName(name, "it is not an attribute a queue can set");
    }
  }
  return out;
}

function invalidAttributeName(name: string, why: string): SqsError {
  return new SqsError("InvalidAttributeName", `Unknown Attribute ${name}: ${why}.`);
}

function parseJsonObject(value: string, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalidAttributeValue(`Invalid value for the parameter ${name}: not valid JSON.`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw invalidAttributeValue(`Invalid value for the parameter ${name}: expected a JSON object.`);
  return parsed as Record<string, unknown>;
}

export function readRedrive(value: string): RedrivePolicy {
  const p = parseJsonObject(value, "RedrivePolicy");
  const arn = p.deadLetterTargetArn;
  const count = Number(p.maxReceiveCount);
  if (typeof arn !== "string" || !arn.startsWith("arn:"))
    throw invalidAttributeValue(
      "Value for parameter RedrivePolicy is invalid. Reason: deadLetterTargetArn is required, the ARN of the dead-letter queue.",
    );
  if (!Number.isInteger(count) || count < 1 || count > MAX_RECEIVE_COUNT)
    throw invalidAttributeValue(
      `Value for parameter RedrivePolicy is invalid. Reason: maxReceiveCount must be an integer from 1 to ${MAX_RECEIVE_COUNT}.`,
    );
  return { deadLetterTargetArn: arn, maxReceiveCount: count };
}

function readRedriveAllow(value: string): { permission: string; sources: string[] } {
  const p = parseJsonObject(value, "RedriveAllowPolicy");
  const permission = p.redrivePermission;
  if (permission !== "allowAll" && permission !== "denyAll" && permission !== "byQueue")
    throw invalidAttributeValue(
      "Value for parameter RedriveAllowPolicy is invalid. Reason: redrivePermission must be allowAll, denyAll or byQueue.",
    );
  const sources = p.sourceQueueArns ?? [];
  if (!Array.isArray(sources) || !sources.every((s) => typeof s === "string"))
    throw invalidAttributeValue(
      "Value for parameter RedriveAllowPolicy is invalid. Reason: sourceQueueArns must be a list of queue ARNs.",
    );
  if (permission === "byQueue" && (sources.length === 0 || sources.length > 10))
    throw invalidAttributeValue(
      "Value for parameter RedriveAllowPolicy is invalid. Reason: byQueue takes 1 to 10 sourceQueueArns.",
    );
  if (permission !== "byQueue" && sources.length > 0)
    throw invalidAttributeValue(
      "Value for parameter RedriveAllowPolicy is invalid. Reason: sourceQueueArns is only valid with byQueue.",
    );
  return { permission, sources: sources as string[] };
}

const num = (attrs: Readonly<Record<string, string>>, name: string) =>
  attrs[name] === undefined ? RANGES[name]!.default : Number(attrs[name]);

export function settingsOf(attrs: Readonly<Record<string, string>>): QueueSettings {
  return {
    fifo: attrs.FifoQueue === "true",
    delaySeconds: num(attrs, "DelaySeconds"),
    maximumMessageSize: num(attrs, "MaximumMessageSize"),
    retentionSeconds: num(attrs, "MessageRetentionPeriod"),
    waitSeconds: num(attrs, "ReceiveMessageWaitTimeSeconds"),
    visibilitySeconds: num(attrs, "VisibilityTimeout"),
    contentBasedDeduplication: attrs.ContentBasedDeduplication === "true",
    redrive: attrs.RedrivePolicy ? readRedrive(attrs.RedrivePolicy) : undefined,
    redriveAllow: attrs.RedriveAllowPolicy ? readRedriveAllow(attrs.RedriveAllowPolicy) : undefined,
  };
}

/** Every settable attribute with its value: the stored ones, and SQS's defaults for the rest. */
export function withDefaults(attrs: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, r] of Object.entries(RANGES))
    if (name !== "KmsDataKeyReusePeriodSeconds") out[name] = String(r.default);
  out.SqsManagedSseEnabled = "true";
  if (attrs.FifoQueue === "true") {
    out.ContentBasedDeduplication = "false";
    out.DeduplicationScope = "queue";
    out.FifoThroughputLimit = "perQueue";
  }
  for (const [k, v] of Object.entries(attrs)) if (v !== "") out[k] = v;
  return out;
}

/** The attribute a second CreateQueue of the same name sets differently, if any (SQS then refuses it). */
export function differingAttribute(
  existing: Readonly<Record<string, string>>,
  wanted: Readonly<Record<string, string>>,
): string | undefined {
  const have = withDefaults(existing);
  const want = withDefaults(wanted);
  for (const name of Object.keys(wanted)) if (have[name] !== want[name]) return name;
  return undefined;
}
