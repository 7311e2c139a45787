/**
 * End to end: queues through `@aws-sdk/client-sqs` unchanged (AWS JSON 1.0, which checks the
 * MD5 of every body it sends and receives), the Query protocol older clients speak, and the
 * platform's own errors in each. Durability across kill -9: `sqs-crash.test.ts`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  TagQueueCommand,
} from "@aws-sdk/client-sqs";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../src/shared/sha256.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { eventually } from "./helpers/wait.js";

let t: TestPlatform;
let sqs: SQSClient;

before(async () => {
  t = await startPlatform();
  sqs = new SQSClient({ endpoint: t.url, region: "us-east-1", credentials: t.platform.credentials });
});
after(async () => {
  sqs.destroy();
  await t.close();
});

const arnOf = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

describe("SQS through @aws-sdk/client-sqs", () => {
  test("create, find, list, tag, attributes, delete", async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: "orders", tags: { team: "shop" } }),
    );
    assert.equal(QueueUrl, `${t.url}/000000000000/orders`);
    assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName: "orders" }))).QueueUrl, QueueUrl);
    assert.deepEqual((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: "ord" }))).QueueUrls, [
      QueueUrl,
    ]);
    await sqs.send(new TagQueueCommand({ QueueUrl, Tags: { env: "dev" } }));
    assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags, {
      team: "shop",
      env: "dev",
    });
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }),
    );
    assert.equal(Attributes?.QueueArn, arnOf("orders"));
    assert.equal(Attributes?.VisibilityTimeout, "30");
    await assert.rejects(
      sqs.send(new CreateQueueCommand({ QueueName: "orders", Attributes: { DelaySeconds: "5" } })),
      (err: Error) => err instanceof QueueNameExists && /DelaySeconds/.test(err.message),
    );
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    await assert.rejects(
      sqs.send(new GetQueueUrlCommand({ QueueName: "orders" })),
      (err: Error) => err instanceof QueueDoesNotExist,
    );
  });

  test("send, receive with attributes, change visibility, delete; the client checks every MD5", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "work" }));
    const body = `{"order": 7, "note": "<&> \r\n ✓ 🚀"}`;
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: body,
        MessageAttributes: {
          kind: { DataType: "String", StringValue: "order" },
          n: { DataType: "Number", StringValue: "7" },
        },
        MessageSystemAttributes: {
          AWSTraceHeader: { DataType: "String", StringValue: "Root=1-5e1b4151-5ac6c58f5b5dbd6a1c2c7e29" },
        },
      }),
    );
    assert.ok(sent.MessageId);
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const m = got.Messages?.[0];
    assert.equal(m?.Body, body);
    assert.equal(m?.MessageAttributes?.kind?.StringValue, "order");
    assert.equal(m?.Attributes?.ApproximateReceiveCount, "1");
    assert.equal(m?.Attributes?.AWSTraceHeader, "Root=1-5e1b4151-5ac6c58f5b5dbd6a1c2c7e29");
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: m!.ReceiptHandle, VisibilityTimeout: 0 }),
    );
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    assert.equal(again.Messages?.[0]?.MessageId, sent.MessageId);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: again.Messages![0]!.ReceiptHandle }));
    const counts = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    assert.deepEqual(counts.Attributes, {
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "0",
    });
  });

  test("batches, and a long poll answered as soon as a message arrives", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "batches" }));
    const waiting = sqs.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 }),
    );
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 100));
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: "a", MessageBody: "one" },
          { Id: "b", MessageBody: "two" },
        ],
      }),
    );
    assert.deepEqual(out.Successful?.map((s) => s.Id).sort(), ["a", "b"]);
    const got = await waiting;
    assert.ok(Date.now() - started < 5000, "the long poll waited past the send");
    const all = [...(got.Messages ?? [])];
    if (all.length < 2)
      all.push(
        ...((await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }))).Messages ??
          []),
      );
    assert.deepEqual(all.map((m) => m.Body).sort(), ["one", "two"]);
    const del = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: all.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    assert.equal(del.Successful?.length, 2);
  });

  test("FIFO: order within a group, deduplication by content", async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: "steps.fifo",
        Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
      }),
    );
    for (const body of ["1", "2", "2", "3"])
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageGroupId: "g" }));
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["SequenceNumber"],
      }),
    );
    assert.deepEqual(
      got.Messages?.map((m) => m.Body),
      ["1", "2", "3"],
    );
    const seqs = got.Messages!.map((m) => BigInt(m.Attributes!.SequenceNumber!));
    assert.ok(seqs[0]! < seqs[1]! && seqs[1]! < seqs[2]!);
  });

  test("a poisoned message reaches the dead-letter queue; a move task brings it back", async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: "jobs-dlq" }));
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: "jobs",
        Attributes: {
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf("jobs-dlq"), maxReceiveCount: 1 }),
        },
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "poison" }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));
    assert.equal(first.Messages?.length, 1);
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined);
    const dead = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq.QueueUrl,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ["DeadLetterQueueSourceArn"],
      }),
    );
    assert.equal(dead.Messages?.[0]?.Attributes?.DeadLetterQueueSourceArn, arnOf("jobs"));
    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: arnOf("jobs-dlq") }));
    assert.ok(TaskHandle);
    await eventually(
      async () =>
        (await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: arnOf("jobs-dlq") }))).Results?.[0],
      (r) => r?.Status === "COMPLETED",
      { what: "the move task" },
    );
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    assert.equal(back.Messages?.[0]?.Body, "poison");
    await sqs.send(new PurgeQueueCommand({ QueueUrl }));
  });

  test("bad input is refused with SQS's errors and loses nothing", async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: "strict", Attributes: { MaximumMessageSize: "1024" } }),
    );
    await assert.rejects(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "x".repeat(1025) })),
      (err: Error & { Code?: string }) => err.name === "InvalidParameterValue" && /1024/.test(err.message),
    );
    await assert.rejects(
      sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 })),
      (err: Error) => /MaxNumberOfMessages/.test(err.message),
    );
    await assert.rejects(
      sqs.send(new SendMessageCommand({ QueueUrl: `${t.url}/000000000000/nowhere`, MessageBody: "x" })),
      (err: Error) => err instanceof QueueDoesNotExist,
    );
    const wrong = new SQSClient({
      endpoint: t.url,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDWRONG", secretAccessKey: "nope" },
    });
    await assert.rejects(
      wrong.send(new ListQueuesCommand({})),
      (err: Error & { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 403,
    );
    wrong.destroy();
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
    );
    assert.equal(attrs.Attributes?.ApproximateNumberOfMessages, "0");
  });
});

describe("SQS's Query protocol (older clients)", () => {
  const signer = () =>
    new SignatureV4({
      service: "sqs",
      region: "us-east-1",
      credentials: t.platform.credentials,
      sha256: Sha256,
    });

  async function query(
    path: string,
    params: Record<string, string>,
  ): Promise<{ status: number; text: string }> {
    const url = new URL(path, t.url);
    const body = new URLSearchParams({ ...params, Version: "2012-11-05" }).toString();
    const signed = await signer().sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    const res = await fetch(url, { method: "POST", headers: signed.headers as Record<string, string>, body });
    return { status: res.status, text: await res.text() };
  }

  test("a queue's URL takes form parameters and answers in XML", async () => {
    const created = await query("/", { Action: "CreateQueue", QueueName: "legacy" });
    assert.equal(created.status, 200);
    assert.match(created.text, /<CreateQueueResult><QueueUrl>http:\/\/.+\/000000000000\/legacy<\/QueueUrl>/);
    const sent = await query("/000000000000/legacy", {
      Action: "SendMessage",
      MessageBody: "a < b & c",
      "MessageAttribute.1.Name": "k",
      "MessageAttribute.1.Value.DataType": "String",
      "MessageAttribute.1.Value.StringValue": "v",
    });
    assert.match(sent.text, /<MD5OfMessageBody>[0-9a-f]{32}<\/MD5OfMessageBody>/);
    const got = await query("/000000000000/legacy", {
      Action: "ReceiveMessage",
      "MessageAttributeName.1": "All",
    });
    assert.match(got.text, /<Body>a &lt; b &amp; c<\/Body>/);
    assert.match(
      got.text,
      /<MessageAttribute><Name>k<\/Name><Value>(<StringValue>v<\/StringValue><DataType>String<\/DataType>|<DataType>String<\/DataType><StringValue>v<\/StringValue>)<\/Value><\/MessageAttribute>/,
    );
  });

  test("errors come back as Query's ErrorResponse with the legacy code", async () => {
    const res = await query("/000000000000/never-made", {
      Action: "GetQueueAttributes",
      "AttributeName.1": "All",
    });
    assert.equal(res.status, 400);
    assert.match(res.text, /<Code>AWS\.SimpleQueueService\.NonExistentQueue<\/Code>/);
    const bad = await query("/", { Action: "Explode" });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /<Code>InvalidAction<\/Code>/);
  });
});
