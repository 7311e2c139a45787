/**
 * End to end: queues trigger functions through event source mappings, managed with
 * `@aws-sdk/client-lambda` and fed with `@aws-sdk/client-sqs`, with Lambda's SQS semantics:
 * a batch that succeeds is deleted, one that fails comes back and reaches the queue's
 * dead-letter queue, partial batch responses delete only the successes, filters drop what
 * they do not match, and a disabled mapping reads nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from "@aws-sdk/client-lambda";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { NimbusClient } from "../src/cli/client.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";
import { eventually } from "./helpers/wait.js";

let t: TestPlatform;
let sqs: SQSClient;
let client: NimbusClient;
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

before(async () => {
  t = await startPlatform();
  sqs = new SQSClient({ endpoint: t.url, region: "us-east-1", credentials: t.platform.credentials });
  client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
});
after(async () => {
  sqs.destroy();
  await t.close();
});

async function queue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
}

/** The bodies a function logged as `BODY <body>`, in order. */
async function bodiesSeen(fn: string): Promise<string[]> {
  const res = await client.call("GET", "/nimbus/v1/logs", { query: { function: fn } });
  const entries = ((await res.json()) as { entries: { message: string }[] }).entries;
  return entries.flatMap((e) => [...e.message.matchAll(/BODY (\S+)/g)].map((m) => m[1]!));
}

async function counts(url: string): Promise<[string, string]> {
  const { Attributes: a } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return [a!.ApproximateNumberOfMessages!, a!.ApproximateNumberOfMessagesNotVisible!];
}

const LOGGING = `export const handler = async (event) => {
  for (const r of event.Records) console.log("BODY " + r.body + " " + r.eventSource + " " + r.attributes.ApproximateReceiveCount);
};`;

describe("event source mappings", () => {
  test("messages sent to a queue reach the function in batches and leave the queue", async () => {
    const url = await queue("inbox");
    await createNodeFunction(t.lambda, "reader", LOGGING);
    const m = await t.lambda.send(
      new CreateEventSourceMappingCommand({
        EventSourceArn: queueArn("inbox"),
        FunctionName: "reader",
        BatchSize: 5,
      }),
    );
    assert.equal(m.State, "Enabled");
    assert.equal(m.BatchSize, 5);
    assert.match(m.FunctionArn ?? "", /:function:reader$/);
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: ["a", "b", "c"].map((b) => ({ Id: b, MessageBody: b })),
      }),
    );
    const seen = await eventually(
      () => bodiesSeen("reader"),
      (b) => b.length >= 3,
      { what: "the bodies", timeoutMs: 10_000 },
    );
    assert.deepEqual([...seen].sort(), ["a", "b", "c"]);
    await eventually(
      () => counts(url),
      (c) => c[0] === "0" && c[1] === "0",
      { what: "an empty queue", timeoutMs: 5000 },
    );
    // The batch's result is recorded after its messages are deleted: it may come a moment later.
    await eventually(
      () => t.lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID })),
      (got) => got.LastProcessingResult === "OK",
      { what: "LastProcessingResult OK", timeoutMs: 5000 },
    );
    const listed = await t.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: "reader" }));
    assert.deepEqual(
      listed.EventSourceMappings?.map((x) => x.UUID),
      [m.UUID],
    );
  });

  test("a disabled mapping reads nothing; enabled again, it takes what waited", async () => {
    const url = await queue("paused");
    await createNodeFunction(t.lambda, "paused-reader", LOGGING);
    const m = await t.lambda.send(
      new CreateEventSourceMappingCommand({
        EventSourceArn: queueArn("paused"),
        FunctionName: "paused-reader",
        Enabled: false,
      }),
    );
    assert.equal(m.State, "Disabled");
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "waiting" }));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await counts(url), ["1", "0"]);
    const updated = await t.lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: true }));
    assert.equal(updated.State, "Enabled");
    assert.deepEqual(
      await eventually(
        () => bodiesSeen("paused-reader"),
        (b) => b.length > 0,
        { what: "the body" },
      ),
      ["waiting"],
    );
    const deleted = await t.lambda.send(new DeleteEventSourceMappingCommand({ UUID: m.UUID }));
    assert.equal(deleted.State, "Deleting");
    await assert.rejects(
      t.lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID })),
      (err: Error) => err.name === "ResourceNotFoundException",
    );
  });

  test("a failing batch comes back after the visibility timeout and ends in the dead-letter queue", async () => {
    const dlq = await queue("failed-dlq");
    await queue("failing", {
      VisibilityTimeout: "1",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn("failed-dlq"), maxReceiveCount: 2 }),
    });
    await createNodeFunction(
      t.lambda,
      "thrower",
      `export const handler = async (e) => { console.log("TRY " + e.Records[0].attributes.ApproximateReceiveCount); throw new Error("no"); };`,
    );
    const m = await t.lambda.send(
      new CreateEventSourceMappingCommand({ EventSourceArn: queueArn("failing"), FunctionName: "thrower" }),
    );
    await sqs.send(
      new SendMessageCommand({ QueueUrl: `${t.url}/000000000000/failing`, MessageBody: "poison" }),
    );
    const dead = await eventually(
      async () =>
        (await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 1 }))).Messages ?? [],
      (msgs) => msgs.length > 0,
      { what: "the dead letter", timeoutMs: 15_000 },
    );
    assert.equal(dead[0]!.Body, "poison");
    const got = await t.lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }));
    assert.equal(got.LastProcessingResult, "PROBLEM: Function call failed");
  });

  test("with ReportBatchItemFailures only the reported messages stay", async () => {
    const url = await queue("partial", { VisibilityTimeout: "60" });
    await createNodeFunction(
      t.lambda,
      "picky",
      `export const handler = async (e) => ({ batchItemFailures: e.Records.filter((r) => r.body === "bad").map((r) => ({ itemIdentifier: r.messageId })) });`,
    );
    // Sent before the mapping exists, so that one batch takes all three.
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: ["good", "bad", "fine"].map((b) => ({ Id: b, MessageBody: b })),
      }),
    );
    await t.lambda.send(
      new CreateEventSourceMappingCommand({
        EventSourceArn: queueArn("partial"),
        FunctionName: "picky",
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      }),
    );
    // The bad one is in flight (its visibility timeout is a minute); the others are deleted.
    await eventually(
      () => counts(url),
      (c) => c[0] === "0" && c[1] === "1",
      { what: "one message left in flight", timeoutMs: 10_000 },
    );
  });

  test("filters: a message matching no pattern is deleted without invoking", async () => {
    const url = await queue("filtered");
    await createNodeFunction(t.lambda, "filtered-reader", LOGGING);
    await t.lambda.send(
      new CreateEventSourceMappingCommand({
        EventSourceArn: queueArn("filtered"),
        FunctionName: "filtered-reader",
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ body: { kind: ["keep"] } }) }] },
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify({ kind: "drop" }) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify({ kind: "keep" }) }));
    await eventually(
      () => counts(url),
      (c) => c[0] === "0" && c[1] === "0",
      { what: "an empty queue", timeoutMs: 10_000 },
    );
    assert.deepEqual(await bodiesSeen("filtered-reader"), ['{"kind":"keep"}']);
  });

  test("bad mappings are refused with Lambda's errors and nothing is created", async () => {
    await createNodeFunction(t.lambda, "strict-reader", LOGGING);
    await queue("strict.fifo", { FifoQueue: "true" });
    const refused = (input: Record<string, unknown>, name: string, message: RegExp) =>
      assert.rejects(
        t.lambda.send(new CreateEventSourceMappingCommand({ FunctionName: "strict-reader", ...input })),
        (err: Error) => {
          assert.equal(err.name, name, err.message);
          assert.match(err.message, message);
          return true;
        },
      );
    await refused(
      { EventSourceArn: queueArn("nowhere") },
      "InvalidParameterValueException",
      /existing queue/,
    );
    await refused(
      { EventSourceArn: "arn:aws:kinesis:us-east-1:000000000000:stream/s" },
      "InvalidParameterValueException",
      /SQS queue/,
    );
    await refused(
      { EventSourceArn: queueArn("strict.fifo"), BatchSize: 11 },
      "InvalidParameterValueException",
      /between 1 and 10 for a FIFO queue/,
    );
    await refused(
      {
        EventSourceArn: queueArn("strict.fifo"),
        FilterCriteria: { Filters: [{ Pattern: '{"body": "x"}' }] },
      },
      "InvalidParameterValueException",
      /EventBridge pattern/,
    );
    await refused(
      { EventSourceArn: queueArn("strict.fifo"), FunctionName: "no-such-function" },
      "ResourceNotFoundException",
      /no-such-function/,
    );
    const listed = await t.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: "strict-reader" }));
    assert.deepEqual(listed.EventSourceMappings, []);
    await t.lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: "strict-reader",
        EventSourceArn: queueArn("strict.fifo"),
      }),
    );
    await refused({ EventSourceArn: queueArn("strict.fifo") }, "ResourceConflictException", /already exists/);
  });
});
