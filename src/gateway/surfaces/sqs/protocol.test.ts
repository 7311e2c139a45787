/**
 * The protocols against the real `@aws-sdk/client-sqs`, in both of its protocols: the JSON 1.0
 * it speaks by default, and Query (the same client given the SDK's AwsQueryProtocol, which
 * serializes from the same model as botocore's and the Java SDK's Query clients). Requests are
 * captured from the client's own serializers, responses are handed to its own parsers; no
 * network.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as sqs from "@aws-sdk/client-sqs";
import { AwsQueryProtocol } from "@aws-sdk/core/protocols";
import { type HttpRequest, HttpResponse } from "@smithy/protocol-http";
import { md5OfBody } from "../../../services/queues/md5.js";
import {
  decodeSqsRequest,
  encodeSqsError,
  encodeSqsResult,
  type SqsEncoded,
  type SqsRequest,
} from "./protocol.js";

type Mode = "json" | "query";
/** Any SQS command: `send`'s overloads are typed per command, and the tables here hold them all. */
type AnyCommand = { readonly input: object };
type Output = Record<string, unknown> & { readonly $metadata: { readonly requestId?: string } };
const send = (c: sqs.SQSClient, command: AnyCommand) =>
  c.send(command as never) as unknown as Promise<Output>;

const ENDPOINT = "http://localhost:9324";
const QUEUE_URL = `${ENDPOINT}/000000000000/orders`;
const ARN = "arn:aws:sqs:us-east-1:000000000000:orders";
const HOSTILE = "a+b&c=d %20 <tag attr=\"x\">'q'</tag> ]]> é 日本 🚀\r\nnext\rline\ttab";

function client(mode: Mode, answer: (req: HttpRequest) => SqsEncoded): sqs.SQSClient {
  return new sqs.SQSClient({
    region: "us-east-1",
    endpoint: ENDPOINT,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
    // The client builds the protocol from its own settings (namespace, error registries, version).
    ...(mode === "query" ? { protocol: AwsQueryProtocol as never } : {}),
    requestHandler: {
      handle: async (req: HttpRequest) => {
        const r = answer(req);
        return {
          response: new HttpResponse({ statusCode: r.status, headers: r.headers, body: Buffer.from(r.body) }),
        };
      },
    },
  });
}

/** The request the real client sends for `command`, as the surface receives it. */
async function wireRequest(mode: Mode, command: AnyCommand): Promise<SqsRequest> {
  let captured: HttpRequest | undefined;
  const c = client(mode, (req) => {
    captured = req;
    throw new Error("captured");
  });
  await assert.rejects(send(c, command), /captured/);
  const req = captured!;
  const query = new URLSearchParams(req.query as Record<string, string>).toString();
  return {
    method: req.method,
    url: `${req.protocol}//${req.hostname}:${req.port}${req.path}${query ? `?${query}` : ""}`,
    headers: new Headers(req.headers),
    // The JSON body is a Uint8Array that also acts as a string; read its bytes, not its text.
    body:
      req.body instanceof Uint8Array
        ? Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength)
        : Buffer.from(req.body ?? ""),
  };
}

/** A value as the JSON protocol carries it: bytes as base64, no SDK metadata. */
function wire(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (Array.isArray(v)) return v.map(wire);
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => k !== "$metadata")
        .map(([k, x]) => [k, wire(x)]),
    );
  return v;
}

const bytes = Uint8Array.of(0, 1, 2, 250, 255);
const attrs = {
  color: { DataType: "String", StringValue: HOSTILE },
  count: { DataType: "Number", StringValue: "-12.5e3" },
  blob: { DataType: "Binary", BinaryValue: bytes },
  "meta.json": { DataType: "String.json", StringValue: '{"k":[1,2]}' },
};

/** One realistic call of every action. */
const CALLS: readonly AnyCommand[] = [
  new sqs.CreateQueueCommand({
    QueueName: "orders.fifo",
    Attributes: {
      FifoQueue: "true",
      VisibilityTimeout: "60",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `${ARN}-dlq`, maxReceiveCount: 5 }),
    },
    tags: { team: "core", "cost center": "a&b=c" },
  }),
  new sqs.GetQueueUrlCommand({ QueueName: "orders", QueueOwnerAWSAccountId: "000000000000" }),
  new sqs.ListQueuesCommand({ QueueNamePrefix: "ord", NextToken: "tok+/=", MaxResults: 50 }),
  new sqs.DeleteQueueCommand({ QueueUrl: QUEUE_URL }),
  new sqs.GetQueueAttributesCommand({
    QueueUrl: QUEUE_URL,
    AttributeNames: ["VisibilityTimeout", "QueueArn"],
  }),
  new sqs.SetQueueAttributesCommand({
    QueueUrl: QUEUE_URL,
    Attributes: { DelaySeconds: "10", Policy: '{"a":"&<>"}' },
  }),
  new sqs.SendMessageCommand({
    QueueUrl: QUEUE_URL,
    MessageBody: HOSTILE,
    DelaySeconds: 45,
    MessageAttributes: attrs,
    MessageSystemAttributes: {
      AWSTraceHeader: { DataType: "String", StringValue: "Root=1-5759e988-bd862e3fe1be46a994272793" },
    },
    MessageGroupId: "g1",
    MessageDeduplicationId: "d1",
  }),
  new sqs.SendMessageBatchCommand({
    QueueUrl: QUEUE_URL,
    Entries: [
      { Id: "a", MessageBody: "first", DelaySeconds: 0, MessageAttributes: attrs },
      {
        Id: "b",
        MessageBody: HOSTILE,
        MessageGroupId: "g",
        MessageDeduplicationId: "d",
        MessageSystemAttributes: { AWSTraceHeader: { DataType: "String", StringValue: "Root=1" } },
      },
    ],
  }),
  new sqs.ReceiveMessageCommand({
    QueueUrl: QUEUE_URL,
    AttributeNames: ["All"],
    MessageAttributeNames: ["All", "color.*"],
    MaxNumberOfMessages: 10,
    VisibilityTimeout: 30,
    WaitTimeSeconds: 20,
    ReceiveRequestAttemptId: "attempt-1",
  }),
  new sqs.DeleteMessageCommand({ QueueUrl: QUEUE_URL, ReceiptHandle: "AQEB+Zz/9a==" }),
  new sqs.DeleteMessageBatchCommand({
    QueueUrl: QUEUE_URL,
    Entries: [
      { Id: "1", ReceiptHandle: "r+1=" },
      { Id: "2", ReceiptHandle: "r/2" },
    ],
  }),
  new sqs.ChangeMessageVisibilityCommand({
    QueueUrl: QUEUE_URL,
    ReceiptHandle: "r+1=",
    VisibilityTimeout: 0,
  }),
  new sqs.ChangeMessageVisibilityBatchCommand({
    QueueUrl: QUEUE_URL,
    Entries: [
      { Id: "1", ReceiptHandle: "r1", VisibilityTimeout: 120 },
      { Id: "2", ReceiptHandle: "r2" },
    ],
  }),
  new sqs.PurgeQueueCommand({ QueueUrl: QUEUE_URL }),
  new sqs.TagQueueCommand({ QueueUrl: QUEUE_URL, Tags: { env: "prod", "k=1": "v&2" } }),
  new sqs.UntagQueueCommand({ QueueUrl: QUEUE_URL, TagKeys: ["env", "k=1"] }),
  new sqs.ListQueueTagsCommand({ QueueUrl: QUEUE_URL }),
  new sqs.ListDeadLetterSourceQueuesCommand({ QueueUrl: QUEUE_URL, NextToken: "n", MaxResults: 10 }),
  new sqs.StartMessageMoveTaskCommand({
    SourceArn: `${ARN}-dlq`,
    DestinationArn: ARN,
    MaxNumberOfMessagesPerSecond: 50,
  }),
  new sqs.ListMessageMoveTasksCommand({ SourceArn: `${ARN}-dlq`, MaxResults: 10 }),
  new sqs.CancelMessageMoveTaskCommand({ TaskHandle: "eyJ0YXNrIjoxfQ==" }),
];

const actionOf = (c: AnyCommand) => c.constructor.name.replace(/Command$/, "");

test("every action decodes from the real client's JSON and Query requests into the same input, the client's own", async () => {
  assert.equal(CALLS.length, 21);
  for (const command of CALLS) {
    const action = actionOf(command);
    for (const mode of ["json", "query"] as const) {
      const call = decodeSqsRequest(await wireRequest(mode, command));
      assert.equal(call.protocol, mode);
      assert.equal(call.action, action);
      assert.deepEqual(call.input, wire(command.input), `${action} over ${mode}`);
    }
  }
});

test("ReceiveMessage's system attribute names: JSON keeps both lists; Query, which sends both as AttributeName.N, reads them as AttributeNames", async () => {
  const command = new sqs.ReceiveMessageCommand({
    QueueUrl: QUEUE_URL,
    AttributeNames: ["All"],
    MessageSystemAttributeNames: ["SentTimestamp"],
  });
  const json = decodeSqsRequest(await wireRequest("json", command));
  assert.deepEqual(json.input.AttributeNames, ["All"]);
  assert.deepEqual(json.input.MessageSystemAttributeNames, ["SentTimestamp"]);
  const query = await wireRequest("query", command);
  assert.match(query.body.toString(), /AttributeName\.1=All&AttributeName\.1=SentTimestamp/);
  assert.deepEqual(decodeSqsRequest(query).input.AttributeNames, ["All", "SentTimestamp"]);
});

const message = (i: number, body: string) => ({
  MessageId: `m-${i}`,
  ReceiptHandle: `AQEB+${i}/==`,
  MD5OfBody: md5OfBody(body),
  Body: body,
  Attributes: { SentTimestamp: "1700000000000", ApproximateReceiveCount: "2", MessageGroupId: "g&<" },
  MD5OfMessageAttributes: "0123456789abcdef0123456789abcdef",
  MessageAttributes: {
    color: { DataType: "String", StringValue: HOSTILE },
    blob: { DataType: "Binary", BinaryValue: Buffer.from(bytes).toString("base64") },
  },
});
const batchErrors = [
  { Id: "b", SenderFault: true, Code: "InvalidParameterValue", Message: "bad <value> & more" },
];

/** A result of every action, as the service would give it (the JSON shape). */
const RESULTS: Readonly<Record<string, Record<string, unknown>>> = {
  CreateQueue: { QueueUrl: QUEUE_URL },
  GetQueueUrl: { QueueUrl: QUEUE_URL },
  ListQueues: { QueueUrls: [QUEUE_URL, `${QUEUE_URL}-dlq`], NextToken: "next&1" },
  DeleteQueue: {},
  GetQueueAttributes: { Attributes: { VisibilityTimeout: "30", Policy: '{"Statement":"<&>"}' } },
  SetQueueAttributes: {},
  SendMessage: {
    MD5OfMessageBody: md5OfBody(HOSTILE),
    MD5OfMessageAttributes: "0123456789abcdef0123456789abcdef",
    MD5OfMessageSystemAttributes: "fedcba9876543210fedcba9876543210",
    MessageId: "m-1",
    SequenceNumber: "18849496460467696128",
  },
  SendMessageBatch: {
    Successful: [{ Id: "a", MessageId: "m-a", MD5OfMessageBody: md5OfBody("first"), SequenceNumber: "1" }],
    Failed: batchErrors,
  },
  ReceiveMessage: { Messages: [message(0, HOSTILE), message(1, "plain")] },
  DeleteMessage: {},
  DeleteMessageBatch: { Successful: [{ Id: "1" }], Failed: batchErrors },
  ChangeMessageVisibility: {},
  ChangeMessageVisibilityBatch: { Successful: [{ Id: "1" }, { Id: "2" }], Failed: batchErrors },
  PurgeQueue: {},
  TagQueue: {},
  UntagQueue: {},
  ListQueueTags: { Tags: { env: "prod", "k=1": "v&<2>" } },
  ListDeadLetterSourceQueues: { queueUrls: [QUEUE_URL], NextToken: "n" },
  StartMessageMoveTask: { TaskHandle: "eyJ0YXNrIjoxfQ==" },
  ListMessageMoveTasks: {
    Results: [
      {
        TaskHandle: "h",
        Status: "RUNNING",
        SourceArn: `${ARN}-dlq`,
        DestinationArn: ARN,
        MaxNumberOfMessagesPerSecond: 50,
        ApproximateNumberOfMessagesMoved: 3,
        ApproximateNumberOfMessagesToMove: 10,
        StartedTimestamp: 1700000000000,
      },
    ],
  },
  CancelMessageMoveTask: { ApproximateNumberOfMessagesMoved: 7 },
};

test("every action's result, encoded in either protocol, reads back through the real client as the service gave it", async () => {
  for (const command of CALLS) {
    const action = actionOf(command);
    const result = RESULTS[action]!;
    for (const mode of ["json", "query"] as const) {
      // The client checks MD5OfMessageBody against what it sent: SendMessageBatch's "first" and
      // SendMessage's hostile body (CR and all) must survive the XML.
      const out = await send(
        client(mode, () => encodeSqsResult(mode, action, result, "req-1")),
        command,
      );
      assert.deepEqual(wire(out), result, `${action} over ${mode}`);
      assert.equal(out.$metadata.requestId, "req-1");
    }
  }
});

/** Modelled errors, their status in the model, and their Query code. */
const MODELLED: readonly [new (...args: never[]) => sqs.SQSServiceException, number, string][] = [
  [sqs.QueueDoesNotExist, 400, "AWS.SimpleQueueService.NonExistentQueue"],
  [sqs.QueueNameExists, 400, "QueueAlreadyExists"],
  [sqs.QueueDeletedRecently, 400, "AWS.SimpleQueueService.QueueDeletedRecently"],
  [sqs.PurgeQueueInProgress, 403, "AWS.SimpleQueueService.PurgeQueueInProgress"],
  [sqs.BatchEntryIdsNotDistinct, 400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"],
  [sqs.EmptyBatchRequest, 400, "AWS.SimpleQueueService.EmptyBatchRequest"],
  [sqs.TooManyEntriesInBatchRequest, 400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"],
  [sqs.InvalidBatchEntryId, 400, "AWS.SimpleQueueService.InvalidBatchEntryId"],
  [sqs.BatchRequestTooLong, 400, "AWS.SimpleQueueService.BatchRequestTooLong"],
  [sqs.UnsupportedOperation, 400, "AWS.SimpleQueueService.UnsupportedOperation"],
  [sqs.MessageNotInflight, 400, "AWS.SimpleQueueService.MessageNotInflight"],
  [sqs.ReceiptHandleIsInvalid, 404, "ReceiptHandleIsInvalid"],
  [sqs.InvalidAttributeName, 400, "InvalidAttributeName"],
  [sqs.InvalidAttributeValue, 400, "InvalidAttributeValue"],
  [sqs.InvalidMessageContents, 400, "InvalidMessageContents"],
  [sqs.ResourceNotFoundException, 404, "ResourceNotFoundException"],
  [sqs.InvalidAddress, 404, "InvalidAddress"],
  [sqs.InvalidSecurity, 403, "InvalidSecurity"],
  [sqs.RequestThrottled, 403, "RequestThrottled"],
  [sqs.OverLimit, 403, "OverLimit"],
  [sqs.InvalidIdFormat, 400, "InvalidIdFormat"],
];

test("every modelled error reaches the real client as its own exception class, with the Query code beside", async () => {
  const command = new sqs.GetQueueUrlCommand({ QueueName: "orders" });
  for (const [cls, status, queryCode] of MODELLED) {
    const code = cls.name;
    for (const mode of ["json", "query"] as const) {
      const err = { code, message: `it failed: <${code}> & "why"`, status, sender: true };
      await assert.rejects(
        client(mode, () => encodeSqsError(mode, err, "req-err")).send(command),
        (e: sqs.SQSServiceException & { Code?: string }) => {
          assert.ok(e instanceof cls, `${code} over ${mode} became ${e.name}`);
          assert.equal(e.name, code);
          assert.equal(e.message, err.message);
          assert.equal(e.$fault, "client");
          assert.equal(e.$metadata.httpStatusCode, status);
          assert.equal(e.$metadata.requestId, "req-err");
          assert.equal(e.Code, queryCode, `${code} over ${mode}`);
          return true;
        },
      );
    }
  }
});

test("an error the model does not name reaches the client under its code, as a service exception", async () => {
  const command = new sqs.SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: "x" });
  for (const mode of ["json", "query"] as const) {
    const err = {
      code: "InvalidParameterValue",
      message: "DelaySeconds 901 is over 900",
      status: 400,
      sender: true,
    };
    await assert.rejects(
      client(mode, () => encodeSqsError(mode, err, "r")).send(command),
      (e: sqs.SQSServiceException) => {
        assert.ok(e instanceof sqs.SQSServiceException);
        assert.equal(e.name, "InvalidParameterValue");
        assert.equal(e.message, err.message);
        return true;
      },
    );
  }
});
