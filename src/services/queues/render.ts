/**
 * A received message as ReceiveMessage answers it: the system attributes the receiver asked
 * for (`MessageSystemAttributeNames`, or the older `AttributeNames`), and the message
 * attributes it asked for by name, `name.*` prefix, `All` or `.*`, with the MD5 of those.
 */
import type { SqsEventMessage, SqsSystemAttributes } from "../../protocol/events/sqs.js";
import { md5OfMessageAttributes } from "./md5.js";
import { wireAttributes } from "./messages.js";
import type { ReceivedMessage } from "./model.js";
import type { QueueAccount } from "./names.js";

const SYSTEM = [
  "SenderId",
  "SentTimestamp",
  "ApproximateReceiveCount",
  "ApproximateFirstReceiveTimestamp",
  "SequenceNumber",
  "MessageDeduplicationId",
  "MessageGroupId",
  "AWSTraceHeader",
  "DeadLetterQueueSourceArn",
] as const;

function names(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

export function renderMessage(
  m: ReceivedMessage,
  input: Readonly<Record<string, unknown>>,
  account: QueueAccount,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    MessageId: m.id,
    ReceiptHandle: m.receiptHandle,
    MD5OfBody: m.md5OfBody,
    Body: m.body,
  };
  const asked = new Set([...names(input.AttributeNames), ...names(input.MessageSystemAttributeNames)]);
  if (asked.size > 0) {
    const all = asked.has("All");
    const values: Record<string, string | undefined> = {
      SenderId: account.accountId,
      SentTimestamp: String(m.sentAt),
      ApproximateReceiveCount: String(m.receiveCount),
      ApproximateFirstReceiveTimestamp:
        m.firstReceivedAt === undefined ? undefined : String(m.firstReceivedAt),
      SequenceNumber: m.sequenceNumber,
      MessageDeduplicationId: m.deduplicationId,
      MessageGroupId: m.groupId,
      AWSTraceHeader: m.traceHeader,
      DeadLetterQueueSourceArn: m.deadLetterSourceArn,
    };
    const attrs: Record<string, string> = {};
    for (const name of SYSTEM)
      if ((all || asked.has(name)) && values[name] !== undefined) attrs[name] = values[name];
    if (Object.keys(attrs).length > 0) out.Attributes = attrs;
  }
  const wanted = names(input.MessageAttributeNames);
  if (wanted.length > 0) {
    const everything = wanted.includes("All") || wanted.includes(".*");
    const prefixes = wanted.filter((w) => w.endsWith(".*")).map((w) => w.slice(0, -1));
    const picked = Object.fromEntries(
      Object.entries(m.attributes).filter(
        ([name]) => everything || wanted.includes(name) || prefixes.some((p) => name.startsWith(p)),
      ),
    );
    if (Object.keys(picked).length > 0) {
      const wire = wireAttributes(picked);
      out.MessageAttributes = wire;
      out.MD5OfMessageAttributes = md5OfMessageAttributes(wire);
    }
  }
  return out;
}

/** A received message as an event source mapping hands it to a function: every system attribute that applies. */
export function eventMessage(m: ReceivedMessage, account: QueueAccount): SqsEventMessage {
  const attributes: SqsSystemAttributes = {
    ApproximateReceiveCount: String(m.receiveCount),
    SentTimestamp: String(m.sentAt),
    SenderId: account.accountId,
    ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
  };
  if (m.traceHeader) attributes.AWSTraceHeader = m.traceHeader;
  if (m.sequenceNumber) attributes.SequenceNumber = m.sequenceNumber;
  if (m.groupId) attributes.MessageGroupId = m.groupId;
  if (m.deduplicationId) attributes.MessageDeduplicationId = m.deduplicationId;
  if (m.deadLetterSourceArn) attributes.DeadLetterQueueSourceArn = m.deadLetterSourceArn;
  return {
    messageId: m.id,
    receiptHandle: m.receiptHandle,
    body: m.body,
    md5OfBody: m.md5OfBody,
    md5OfMessageAttributes: m.md5OfAttributes,
    attributes,
    messageAttributes: m.attributes,
  };
}
