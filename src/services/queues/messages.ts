/**
 * One message of a send, checked as SQS checks it: the body's characters and size, its
 * attributes (names, types, values, at most 10), its delay, and on a FIFO queue its group and
 * deduplication ids. What passes becomes a `NewMessage`; what fails says what was wrong.
 */
import { createHash, randomUUID } from "node:crypto";
import type { QueueSettings } from "./attributes.js";
import { invalidParameter, SqsError } from "./errors.js";
import { md5OfBody, md5OfMessageAttributes } from "./md5.js";
import type { MessageAttributes, MessageAttributeValue, NewMessage } from "./model.js";

export const MAX_MESSAGE_ATTRIBUTES = 10;
const MAX_ATTRIBUTE_NAME = 256;
const MAX_FIFO_ID = 128;
/** FIFO deduplication: a repeated id within five minutes is not stored again. */
export const DEDUP_WINDOW_MS = 5 * 60 * 1000;

/** The characters XML 1.0 allows, which SQS allows: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the ranges SQS refuses are control characters.
const INVALID_CHARS = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_\-.]+$/;
const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]+$/;

/** A send entry in the JSON protocol's shape (SendMessage's input, or one entry of a batch). */
export interface SendEntry {
  readonly MessageBody?: unknown;
  readonly DelaySeconds?: unknown;
  readonly MessageAttributes?: unknown;
  readonly MessageSystemAttributes?: unknown;
  readonly MessageGroupId?: unknown;
  readonly MessageDeduplicationId?: unknown;
}

/** The bytes a message counts against MaximumMessageSize: its body and its attributes' names, types and values. */
export function messageSize(body: string, attrs: MessageAttributes): number {
  let n = Buffer.byteLength(body);
  for (const [name, v] of Object.entries(attrs)) {
    n += Buffer.byteLength(name) + Buffer.byteLength(v.dataType);
    n +=
      v.binaryValue !== undefined
        ? Buffer.from(v.binaryValue, "base64").length
        : Buffer.byteLength(v.stringValue ?? "");
  }
  return n;
}

export function checkMessage(entry: SendEntry, s: QueueSettings, now: number): NewMessage {
  const body = entry.MessageBody;
  if (typeof body !== "string" || body.length === 0)
    throw new SqsError("MissingParameter", "The request must contain the parameter MessageBody.");
  if (INVALID_CHARS.test(body))
    throw new SqsError(
      "InvalidMessageContents",
      "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.",
    );
  const attributes = checkAttributes(entry.MessageAttributes);
  const size = messageSize(body, attributes);
  if (size > s.maximumMessageSize)
    throw invalidParameter(
      `One or more parameters are invalid. Reason: Message must be shorter than ${s.maximumMessageSize} bytes (this one is ${size}, body and attributes).`,
    );
  const traceHeader = checkSystemAttributes(entry.MessageSystemAttributes);
  let delay = s.delaySeconds;
  if (entry.DelaySeconds !== undefined && entry.DelaySeconds !== null) {
    if (s.fifo)
      throw invalidParameter(
        "Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type (a FIFO queue's delay is the queue's DelaySeconds).",
      );
    delay = Number(entry.DelaySeconds);
    if (!Number.isInteger(delay) || delay < 0 || delay > 900)
      throw invalidParameter(
        `Value ${JSON.stringify(entry.DelaySeconds)} for parameter DelaySeconds is invalid. Reason: must be an integer from 0 to 900.`,
      );
  }
  const ids = fifoIds(entry, s, body);
  return {
    id: randomUUID(),
    body,
    md5OfBody: md5OfBody(body),
    attributes,
    md5OfAttributes: md5OfMessageAttributes(wireAttributes(attributes)),
    traceHeader,
    visibleAt: now + delay * 1000,
    ...ids,
  };
}

function fifoIds(entry: SendEntry, s: QueueSettings, body: string) {
  const group = entry.MessageGroupId;
  const dedup = entry.MessageDeduplicationId;
  if (!s.fifo) {
    if (dedup !== undefined && dedup !== null)
      throw invalidParameter(
        "Value for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type (deduplication is a FIFO queue's).",
      );
    // Standard queues accept a group id (fair queues) and keep it; it orders nothing.
    return {
      groupId: group === undefined || group === null ? undefined : checkFifoId(group, "MessageGroupId"),
    };
  }
  if (group === undefined || group === null)
    throw new SqsError("MissingParameter", "The request must contain the parameter MessageGroupId.");
  const groupId = checkFifoId(group, "MessageGroupId");
  if (dedup !== undefined && dedup !== null)
    return { groupId, deduplicationId: checkFifoId(dedup, "MessageDeduplicationId") };
  if (!s.contentBasedDeduplication)
    throw invalidParameter(
      "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly.",
    );
  return { groupId, deduplicationId: createHash("sha256").update(body).digest("hex") };
}

function checkFifoId(v: unknown, name: string): string {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_FIFO_ID || !FIFO_ID.test(v))
    throw invalidParameter(
      `Value ${JSON.stringify(v)} for parameter ${name} is invalid. Reason: 1 to ${MAX_FIFO_ID} alphanumeric or punctuation characters.`,
    );
  return v;
}

function checkAttributes(given: unknown): MessageAttributes {
  if (given === undefined || given === null) return {};
  if (typeof given !== "object" || Array.isArray(given))
    throw invalidParameter(
      "MessageAttributes must be a map of names to {DataType, StringValue | BinaryValue}.",
    );
  const entries = Object.entries(given as Record<string, unknown>);
  if (entries.length > MAX_MESSAGE_ATTRIBUTES)
    throw invalidParameter(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
    );
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, raw] of entries) {
    const lower = name.toLowerCase();
    if (
      name.length > MAX_ATTRIBUTE_NAME ||
      !ATTRIBUTE_NAME.test(name) ||
      name.startsWith(".") ||
      name.endsWith(".") ||
      name.includes("..") ||
      lower.startsWith("aws.") ||
      lower.startsWith("amazon.")
    )
      throw invalidParameter(
        `Message attribute name '${name}' is invalid: up to ${MAX_ATTRIBUTE_NAME} letters, digits, '-', '_' and '.', not starting or ending with '.', no '..', not starting with AWS. or Amazon.`,
      );
    out[name] = checkAttributeValue(name, raw);
  }
  return out;
}

function checkAttributeValue(name: string, raw: unknown): MessageAttributeValue {
  const v = (raw ?? {}) as Record<string, unknown>;
  const dataType = v.DataType;
  if (typeof dataType !== "string" || !/^(String|Number|Binary)(\.[^\s]{1,250})?$/.test(dataType))
    throw invalidParameter(
      `The message attribute '${name}' has an invalid message attribute type: expected String, Number or Binary, optionally followed by .custom-type.`,
    );
  const binary = dataType.startsWith("Binary");
  const value = binary ? v.BinaryValue : v.StringValue;
  if (typeof value !== "string" || value.length === 0)
    throw invalidParameter(
      `The message attribute '${name}' must contain a non-empty message attribute value for message attribute type '${dataType}'.`,
    );
  if (binary) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value))
      throw invalidParameter(`The message attribute '${name}' has a BinaryValue that is not base64.`);
    return { dataType, binaryValue: value };
  }
  if (dataType.startsWith("Number") && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value))
    throw invalidParameter(`Can't cast the value of message (user) attribute '${name}' to a number.`);
  if (INVALID_CHARS.test(value))
    throw new SqsError(
      "InvalidMessageContents",
      `The message attribute '${name}' has characters SQS does not carry.`,
    );
  return { dataType, stringValue: value };
}

function checkSystemAttributes(given: unknown): string | undefined {
  if (given === undefined || given === null) return undefined;
  const entries = Object.entries(given as Record<string, unknown>);
  for (const [name] of entries)
    if (name !== "AWSTraceHeader")
      throw invalidParameter(
        `Message system attribute name '${name}' is invalid: only AWSTraceHeader can be set.`,
      );
  const v = (given as Record<string, { DataType?: unknown; StringValue?: unknown }>).AWSTraceHeader;
  if (v === undefined) return undefined;
  if (v.DataType !== "String" || typeof v.StringValue !== "string" || v.StringValue.length === 0)
    throw invalidParameter("The message system attribute AWSTraceHeader must be a String with a value.");
  return v.StringValue;
}

/** Attributes in the wire's shape, as the JSON protocol returns them. */
export function wireAttributes(
  attrs: MessageAttributes,
): Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> {
  const out: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> = {};
  for (const [name, v] of Object.entries(attrs))
    out[name] =
      v.binaryValue !== undefined
        ? { DataType: v.dataType, BinaryValue: v.binaryValue }
        : { DataType: v.dataType, StringValue: v.stringValue ?? "" };
  return out;
}
