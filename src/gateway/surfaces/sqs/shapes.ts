/**
 * SQS's request and result shapes, as far as the wire needs them: each member's type and, for
 * the Query protocol and its XML, the name it travels under. Transcribed from the service
 * model `@aws-sdk/client-sqs` carries (`SendMessageRequest$`, `Message$`…); member order is
 * the model's, which is the order SQS writes XML elements in.
 *
 * Every list and map of SQS is "flattened" with a name of its own: `Attributes` travels as
 * `Attribute.1.Name`/`Attribute.1.Value` and comes back as repeated `<Attribute>` elements,
 * so a list or map carries that name (`item`) rather than the member it sits in.
 */

export type Scalar = "string" | "integer" | "boolean" | "blob";

export type Shape =
  | Scalar
  | { readonly list: Shape; readonly item: string }
  | { readonly map: Shape; readonly item: string; readonly key: string; readonly value: string }
  | { readonly struct: Members };

/** A structure's members, by their JSON name, in the model's order. */
export type Members = Readonly<Record<string, Shape>>;

export interface Operation {
  readonly input: Members;
  /** null: the action returns nothing (Smithy's `Unit`), and its XML has no `<…Result>`. */
  readonly output: Members | null;
}

const list = (item: string, of: Shape = "string"): Shape => ({ list: of, item });
const struct = (members: Members): Shape => ({ struct: members });

const QUEUE_ATTRIBUTES: Shape = { map: "string", item: "Attribute", key: "Name", value: "Value" };
const TAGS: Shape = { map: "string", item: "Tag", key: "Key", value: "Value" };

/** MessageAttributeValue and MessageSystemAttributeValue: the same members. */
const ATTRIBUTE_VALUE = struct({
  DataType: "string",
  StringValue: "string",
  BinaryValue: "blob",
  StringListValues: list("StringListValue"),
  BinaryListValues: list("BinaryListValue", "blob"),
});
const MESSAGE_ATTRIBUTES: Shape = {
  map: ATTRIBUTE_VALUE,
  item: "MessageAttribute",
  key: "Name",
  value: "Value",
};
const MESSAGE_SYSTEM_ATTRIBUTES: Shape = {
  map: ATTRIBUTE_VALUE,
  item: "MessageSystemAttribute",
  key: "Name",
  value: "Value",
};

const BATCH_ERRORS = list(
  "BatchResultErrorEntry",
  struct({ Id: "string", SenderFault: "boolean", Code: "string", Message: "string" }),
);
const batchOf = (item: string, entry: Members): Members => ({
  QueueUrl: "string",
  Entries: list(item, struct(entry)),
});
const batchResult = (item: string, entry: Members): Members => ({
  Successful: list(item, struct(entry)),
  Failed: BATCH_ERRORS,
});

const SEND_ENTRY: Members = {
  DelaySeconds: "integer",
  MessageAttributes: MESSAGE_ATTRIBUTES,
  MessageSystemAttributes: MESSAGE_SYSTEM_ATTRIBUTES,
  MessageDeduplicationId: "string",
  MessageGroupId: "string",
};

const MESSAGE = struct({
  MessageId: "string",
  ReceiptHandle: "string",
  MD5OfBody: "string",
  Body: "string",
  Attributes: { map: "string", item: "Attribute", key: "Name", value: "Value" },
  MD5OfMessageAttributes: "string",
  MessageAttributes: MESSAGE_ATTRIBUTES,
});

/** The actions Nimbus decodes and encodes, by their wire names. */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateQueue: {
    // `tags`, lower case, is the model's name (and the JSON protocol's) for CreateQueue's tags.
    input: { QueueName: "string", Attributes: QUEUE_ATTRIBUTES, tags: TAGS },
    output: { QueueUrl: "string" },
  },
  GetQueueUrl: {
    input: { QueueName: "string", QueueOwnerAWSAccountId: "string" },
    output: { QueueUrl: "string" },
  },
  ListQueues: {
    input: { QueueNamePrefix: "string", NextToken: "string", MaxResults: "integer" },
    output: { QueueUrls: list("QueueUrl"), NextToken: "string" },
  },
  DeleteQueue: { input: { QueueUrl: "string" }, output: null },
  GetQueueAttributes: {
    input: { QueueUrl: "string", AttributeNames: list("AttributeName") },
    output: { Attributes: QUEUE_ATTRIBUTES },
  },
  SetQueueAttributes: { input: { QueueUrl: "string", Attributes: QUEUE_ATTRIBUTES }, output: null },
  SendMessage: {
    input: { QueueUrl: "string", MessageBody: "string", ...SEND_ENTRY },
    output: {
      MD5OfMessageBody: "string",
      MD5OfMessageAttributes: "string",
      MD5OfMessageSystemAttributes: "string",
      MessageId: "string",
      SequenceNumber: "string",
    },
  },
  SendMessageBatch: {
    input: batchOf("SendMessageBatchRequestEntry", { Id: "string", MessageBody: "string", ...SEND_ENTRY }),
    output: batchResult("SendMessageBatchResultEntry", {
      Id: "string",
      MessageId: "string",
      MD5OfMessageBody: "string",
      MD5OfMessageAttributes: "string",
      MD5OfMessageSystemAttributes: "string",
      SequenceNumber: "string",
    }),
  },
  ReceiveMessage: {
    input: {
      QueueUrl: "string",
      AttributeNames: list("AttributeName"),
      // The model names these `AttributeName` too, so a Query client generated from it sends
      // both lists as one; the Query decoder reads them into AttributeNames (same meaning, the
      // older name). Clients that spell this list out use `MessageSystemAttributeName.N`.
      MessageSystemAttributeNames: list("MessageSystemAttributeName"),
      MessageAttributeNames: list("MessageAttributeName"),
      MaxNumberOfMessages: "integer",
      VisibilityTimeout: "integer",
      WaitTimeSeconds: "integer",
      ReceiveRequestAttemptId: "string",
    },
    output: { Messages: list("Message", MESSAGE) },
  },
  DeleteMessage: { input: { QueueUrl: "string", ReceiptHandle: "string" }, output: null },
  DeleteMessageBatch: {
    input: batchOf("DeleteMessageBatchRequestEntry", { Id: "string", ReceiptHandle: "string" }),
    output: batchResult("DeleteMessageBatchResultEntry", { Id: "string" }),
  },
  ChangeMessageVisibility: {
    input: { QueueUrl: "string", ReceiptHandle: "string", VisibilityTimeout: "integer" },
    output: null,
  },
  ChangeMessageVisibilityBatch: {
    input: batchOf("ChangeMessageVisibilityBatchRequestEntry", {
      Id: "string",
      ReceiptHandle: "string",
      VisibilityTimeout: "integer",
    }),
    output: batchResult("ChangeMessageVisibilityBatchResultEntry", { Id: "string" }),
  },
  PurgeQueue: { input: { QueueUrl: "string" }, output: null },
  TagQueue: { input: { QueueUrl: "string", Tags: TAGS }, output: null },
  UntagQueue: { input: { QueueUrl: "string", TagKeys: list("TagKey") }, output: null },
  ListQueueTags: { input: { QueueUrl: "string" }, output: { Tags: TAGS } },
  ListDeadLetterSourceQueues: {
    input: { QueueUrl: "string", NextToken: "string", MaxResults: "integer" },
    // `queueUrls`, lower case, is the model's JSON name; the XML repeats <QueueUrl>.
    output: { queueUrls: list("QueueUrl"), NextToken: "string" },
  },
  StartMessageMoveTask: {
    input: { SourceArn: "string", DestinationArn: "string", MaxNumberOfMessagesPerSecond: "integer" },
    output: { TaskHandle: "string" },
  },
  ListMessageMoveTasks: {
    input: { SourceArn: "string", MaxResults: "integer" },
    output: {
      Results: list(
        "ListMessageMoveTasksResultEntry",
        struct({
          TaskHandle: "string",
          Status: "string",
          SourceArn: "string",
          DestinationArn: "string",
          MaxNumberOfMessagesPerSecond: "integer",
          ApproximateNumberOfMessagesMoved: "integer",
          ApproximateNumberOfMessagesToMove: "integer",
          FailureReason: "string",
          StartedTimestamp: "integer",
        }),
      ),
    },
  },
  CancelMessageMoveTask: {
    input: { TaskHandle: "string" },
    output: { ApproximateNumberOfMessagesMoved: "integer" },
  },
  // Decoded so that the service can answer them (UnsupportedOperation) rather than the surface
  // calling a real SQS action unknown.
  AddPermission: {
    input: {
      QueueUrl: "string",
      Label: "string",
      AWSAccountIds: list("AWSAccountId"),
      Actions: list("ActionName"),
    },
    output: null,
  },
  RemovePermission: { input: { QueueUrl: "string", Label: "string" }, output: null },
};

export const ACTIONS: readonly string[] = Object.keys(OPERATIONS);

/** The operation an action names, or undefined; own properties only (`constructor` is no action). */
export function operationOf(action: string): Operation | undefined {
  return Object.hasOwn(OPERATIONS, action) ? OPERATIONS[action] : undefined;
}
