/**
 * What an event source mapping hands a function from a queue: Lambda's SQS event (`Records`,
 * each message with its system attributes as strings and its message attributes in the
 * lower-camel shape Lambda uses), and the partial batch response a function with
 * `ReportBatchItemFailures` answers with.
 */

/** The system attributes every record carries (and, where they apply, AWSTraceHeader, the FIFO ones…). */
export type SqsSystemAttributes = {
  ApproximateReceiveCount: string;
  SentTimestamp: string;
  SenderId: string;
  ApproximateFirstReceiveTimestamp: string;
} & Record<string, string>;

/** A received message as the poller has it. */
export interface SqsEventMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly md5OfMessageAttributes?: string | undefined;
  readonly attributes: Readonly<SqsSystemAttributes>;
  readonly messageAttributes: Readonly<
    Record<
      string,
      { readonly dataType: string; readonly stringValue?: string; readonly binaryValue?: string }
    >
  >;
}

export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: SqsSystemAttributes;
  messageAttributes: Record<
    string,
    {
      stringValue?: string;
      binaryValue?: string;
      stringListValues: string[];
      binaryListValues: string[];
      dataType: string;
    }
  >;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  eventSource: "aws:sqs";
  eventSourceARN: string;
  awsRegion: string;
}

export function sqsRecord(m: SqsEventMessage, queueArn: string, region: string): SqsRecord {
  const messageAttributes: SqsRecord["messageAttributes"] = {};
  for (const [name, v] of Object.entries(m.messageAttributes))
    messageAttributes[name] = {
      ...(v.stringValue !== undefined ? { stringValue: v.stringValue } : {}),
      ...(v.binaryValue !== undefined ? { binaryValue: v.binaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: v.dataType,
    };
  return {
    messageId: m.messageId,
    receiptHandle: m.receiptHandle,
    body: m.body,
    attributes: { ...m.attributes },
    messageAttributes,
    md5OfBody: m.md5OfBody,
    ...(m.md5OfMessageAttributes ? { md5OfMessageAttributes: m.md5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The message ids a partial batch response reports as failed; undefined when the response is
 * not a valid one (then the whole batch failed, as Lambda treats it). An empty or null
 * `batchItemFailures`, or no such member at all, means every message succeeded.
 */
export function batchItemFailures(payload: Buffer, ids: ReadonlySet<string>): string[] | undefined {
  const text = payload.toString("utf8").trim();
  if (text === "" || text === "null") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return [];
  const failures = (parsed as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return [];
  if (!Array.isArray(failures)) return undefined;
  const out: string[] = [];
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    // An identifier that is empty or names no message of the batch fails it all.
    if (typeof id !== "string" || !ids.has(id)) return undefined;
    out.push(id);
  }
  return out;
}
