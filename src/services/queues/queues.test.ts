/**
 * The queue service on the embedded store, with a fake clock: SQS's rules as a client sees
 * them through the service's JSON-protocol shapes (the wire itself is tested at the surface).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { LocalFanOut } from "../../shared/fanout-local.js";
import { SqliteStore } from "../../store/sqlite.js";
import { SqsError } from "./errors.js";
import { type CallContext, QueuesService } from "./queues.js";

const ctx: CallContext = { endpoint: "http://127.0.0.1:9000" };
const account = { region: "us-east-1", accountId: "000000000000" };
let dir: string;
let store: SqliteStore;
let clock: FakeClock;
let sqs: QueuesService;
let fanout: LocalFanOut;
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "nimbus-queues-"));
  store = new SqliteStore(join(dir, "nimbus.db"));
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  clock = new FakeClock();
  fanout = new LocalFanOut();
  sqs = new QueuesService({ repo: store, clock, fanout, account });
});

/** A fresh queue (names never repeat across tests: they share one store). */
async function queue(attributes: Record<string, string> = {}, suffix = ""): Promise<string> {
  const name = `q${++n}${suffix}`;
  return (await sqs.createQueue({ QueueName: name, Attributes: attributes }, ctx)).QueueUrl as string;
}

function rejects(p: Promise<unknown>, code: string, message?: RegExp) {
  return assert.rejects(p, (err: Error) => {
    assert.ok(err instanceof SqsError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** Resolves once a long poll on the queue is parked, waiting for a message or its time. */
async function parked(url: string): Promise<void> {
  const topic = `queues.${url.split("/").pop()}`;
  for (let i = 0; i < 1000 && !fanout.hasSubscribers(topic); i++) await new Promise((r) => setImmediate(r));
  assert.ok(fanout.hasSubscribers(topic), "the receive never waited");
}

type Msg = { MessageId: string; ReceiptHandle: string; Body: string; Attributes?: Record<string, string> };
async function receive(QueueUrl: string, extra: Record<string, unknown> = {}): Promise<Msg[]> {
  return ((await sqs.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10, ...extra }, ctx)).Messages ??
    []) as Msg[];
}

describe("queues", () => {
  test("create, find by name, list by prefix with pages, delete", async () => {
    const url = await queue();
    const name = url.split("/").pop()!;
    assert.equal(url, `http://127.0.0.1:9000/000000000000/${name}`);
    assert.equal((await sqs.getQueueUrl({ QueueName: name }, ctx)).QueueUrl, url);
    // The same create again is answered with the same URL; a different attribute is refused.
    assert.equal((await sqs.createQueue({ QueueName: name }, ctx)).QueueUrl, url);
    await rejects(
      sqs.createQueue({ QueueName: name, Attributes: { VisibilityTimeout: "5" } }, ctx),
      "QueueNameExists",
      /VisibilityTimeout/,
    );
    for (const s of ["a", "b", "c"]) await sqs.createQueue({ QueueName: `page-${s}` }, ctx);
    const first = await sqs.listQueues({ QueueNamePrefix: "page-", MaxResults: 2 }, ctx);
    assert.deepEqual(
      (first.QueueUrls as string[]).map((u) => u.split("/").pop()),
      ["page-a", "page-b"],
    );
    const second = await sqs.listQueues(
      { QueueNamePrefix: "page-", MaxResults: 2, NextToken: first.NextToken },
      ctx,
    );
    assert.deepEqual(
      (second.QueueUrls as string[]).map((u) => u.split("/").pop()),
      ["page-c"],
    );
    assert.equal(second.NextToken, undefined);
    await sqs.deleteQueue({ QueueUrl: url });
    await rejects(sqs.getQueueUrl({ QueueName: name }, ctx), "QueueDoesNotExist");
    await rejects(sqs.sendMessage({ QueueUrl: url, MessageBody: "x" }), "QueueDoesNotExist");
  });

  test("bad names and attributes are refused and say what is expected", async () => {
    await rejects(sqs.createQueue({ QueueName: "has space" }, ctx), "InvalidParameterValue", /alphanumeric/);
    await rejects(sqs.createQueue({ QueueName: "x".repeat(81) }, ctx), "InvalidParameterValue", /1 to 80/);
    await rejects(
      sqs.createQueue({ QueueName: "a.fifo", Attributes: { FifoQueue: "false" } }, ctx),
      "InvalidAttributeValue",
    );
    await rejects(
      sqs.createQueue({ QueueName: "b", Attributes: { VisibilityTimeout: "43201" } }, ctx),
      "InvalidAttributeValue",
      /0 to 43200/,
    );
    await rejects(
      sqs.createQueue({ QueueName: "b", Attributes: { Colour: "red" } }, ctx),
      "InvalidAttributeName",
      /Colour/,
    );
    await rejects(
      sqs.createQueue({ QueueName: "b", Attributes: { ContentBasedDeduplication: "true" } }, ctx),
      "InvalidAttributeName",
      /FIFO/,
    );
    const missing = "arn:aws:sqs:us-east-1:000000000000:nowhere";
    await rejects(
      sqs.createQueue(
        {
          QueueName: "b",
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: missing, maxReceiveCount: 3 }) },
        },
        ctx,
      ),
      "InvalidParameterValue",
      /does not exist/,
    );
    assert.deepEqual((await sqs.listQueues({ QueueNamePrefix: "b" }, ctx)).QueueUrls, []);
  });

  test("attributes: defaults, settings, and the counts of visible, in-flight and delayed messages", async () => {
    const url = await queue({ DelaySeconds: "0" });
    const attrs = async () =>
      (await sqs.getQueueAttributes({ QueueUrl: url, AttributeNames: ["All"] })).Attributes as Record<
        string,
        string
      >;
    const a = await attrs();
    assert.equal(a.VisibilityTimeout, "30");
    assert.equal(a.MaximumMessageSize, "1048576");
    assert.equal(a.MessageRetentionPeriod, "345600");
    assert.match(a.QueueArn!, /^arn:aws:sqs:us-east-1:000000000000:q\d+$/);
    await sqs.setQueueAttributes({ QueueUrl: url, Attributes: { VisibilityTimeout: "60" } });
    assert.equal((await attrs()).VisibilityTimeout, "60");
    await sqs.sendMessage({ QueueUrl: url, MessageBody: "now" });
    await sqs.sendMessage({ QueueUrl: url, MessageBody: "later", DelaySeconds: 10 });
    await sqs.sendMessage({ QueueUrl: url, MessageBody: "taken" });
    await receive(url, { MaxNumberOfMessages: 1 });
    const c = await attrs();
    assert.deepEqual(
      [
        c.ApproximateNumberOfMessages,
        c.ApproximateNumberOfMessagesNotVisible,
        c.ApproximateNumberOfMessagesDelayed,
      ],
      ["1", "1", "1"],
    );
  });
});

describe("messages", () => {
  test("a received message is invisible for the visibility timeout, then comes back with its count", async () => {
    const url = await queue({ VisibilityTimeout: "30" });
    const sent = await sqs.sendMessage({ QueueUrl: url, MessageBody: "hello ✓ 🚀" });
    assert.match(String(sent.MD5OfMessageBody), /^[0-9a-f]{32}$/);
    const [m] = await receive(url, { AttributeNames: ["All"] });
    assert.equal(m!.Body, "hello ✓ 🚀");
    assert.equal(m!.MessageId, sent.MessageId);
    assert.equal(m!.Attributes?.ApproximateReceiveCount, "1");
    assert.deepEqual(await receive(url), []);
    clock.advance(30_000);
    const [again] = await receive(url, { AttributeNames: ["ApproximateReceiveCount"] });
    assert.equal(again!.Attributes?.ApproximateReceiveCount, "2");
    // The first receive's handle no longer deletes it; the latest does.
    await sqs.deleteMessage({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle });
    clock.advance(30_000);
    const [third] = await receive(url);
    assert.ok(third);
    await sqs.deleteMessage({ QueueUrl: url, ReceiptHandle: third.ReceiptHandle });
    clock.advance(30_000);
    assert.deepEqual(await receive(url), []);
  });

  test("change visibility: 0 returns it at once; a visible message is not in flight", async () => {
    const url = await queue();
    await sqs.sendMessage({ QueueUrl: url, MessageBody: "m" });
    const [m] = await receive(url);
    await sqs.changeMessageVisibility({
      QueueUrl: url,
      ReceiptHandle: m!.ReceiptHandle,
      VisibilityTimeout: 0,
    });
    const [back] = await receive(url);
    assert.equal(back!.MessageId, m!.MessageId);
    await rejects(
      sqs.changeMessageVisibility({ QueueUrl: url, ReceiptHandle: m!.ReceiptHandle, VisibilityTimeout: 5 }),
      "ReceiptHandleIsInvalid",
    );
    await sqs.changeMessageVisibility({
      QueueUrl: url,
      ReceiptHandle: back!.ReceiptHandle,
      VisibilityTimeout: 0,
    });
    await rejects(
      sqs.changeMessageVisibility({
        QueueUrl: url,
        ReceiptHandle: back!.ReceiptHandle,
        VisibilityTimeout: 5,
      }),
      "MessageNotInflight",
    );
  });

  test("message bodies and attributes are checked: empty, too large by one byte, bad characters, bad attributes", async () => {
    const url = await queue({ MaximumMessageSize: "1024" });
    await rejects(sqs.sendMessage({ QueueUrl: url, MessageBody: "" }), "MissingParameter", /MessageBody/);
    await sqs.sendMessage({ QueueUrl: url, MessageBody: "x".repeat(1024) });
    await rejects(
      sqs.sendMessage({ QueueUrl: url, MessageBody: "x".repeat(1025) }),
      "InvalidParameterValue",
      /shorter than 1024/,
    );
    await rejects(
      sqs.sendMessage({
        QueueUrl: url,
        MessageBody: "x".repeat(1000),
        MessageAttributes: { k: { DataType: "String", StringValue: "y".repeat(30) } },
      }),
      "InvalidParameterValue",
      /1024/,
    );
    await rejects(sqs.sendMessage({ QueueUrl: url, MessageBody: "bell \u0007" }), "InvalidMessageContents");
    await rejects(
      sqs.sendMessage({
        QueueUrl: url,
        MessageBody: "x",
        MessageAttributes: { "AWS.x": { DataType: "String", StringValue: "v" } },
      }),
      "InvalidParameterValue",
      /AWS\./,
    );
    await rejects(
      sqs.sendMessage({
        QueueUrl: url,
        MessageBody: "x",
        MessageAttributes: { n: { DataType: "Number", StringValue: "ten" } },
      }),
      "InvalidParameterValue",
      /number/,
    );
    const eleven = Object.fromEntries(
      Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "v" }]),
    );
    await rejects(
      sqs.sendMessage({ QueueUrl: url, MessageBody: "x", MessageAttributes: eleven }),
      "InvalidParameterValue",
      /\[11\].*\[10\]/,
    );
  });

  test("message attributes come back as asked: by name, prefix or All, with their MD5", async () => {
    const url = await queue();
    await sqs.sendMessage({
      QueueUrl: url,
      MessageBody: "x",
      MessageAttributes: {
        "order.id": { DataType: "String", StringValue: "17" },
        "order.total": { DataType: "Number", StringValue: "42.5" },
        blob: { DataType: "Binary", BinaryValue: Buffer.from([0, 1, 2]).toString("base64") },
      },
    });
    const [m] = (await receive(url, { MessageAttributeNames: ["order.*"], VisibilityTimeout: 0 })) as Array<
      Msg & { MessageAttributes?: object; MD5OfMessageAttributes?: string }
    >;
    assert.deepEqual(Object.keys(m!.MessageAttributes ?? {}).sort(), ["order.id", "order.total"]);
    assert.match(m!.MD5OfMessageAttributes ?? "", /^[0-9a-f]{32}$/);
    const [all] = (await receive(url, { MessageAttributeNames: ["All"] })) as Array<
      Msg & { MessageAttributes?: object }
    >;
    assert.equal(Object.keys(all!.MessageAttributes ?? {}).length, 3);
  });

  test("batches: 1 to 10 distinct ids; a bad entry fails alone", async () => {
    const url = await queue();
    await rejects(sqs.sendMessageBatch({ QueueUrl: url, Entries: [] }), "EmptyBatchRequest");
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: "x" }));
    await rejects(sqs.sendMessageBatch({ QueueUrl: url, Entries: eleven }), "TooManyEntriesInBatchRequest");
    await rejects(
      sqs.sendMessageBatch({
        QueueUrl: url,
        Entries: [
          { Id: "a", MessageBody: "x" },
          { Id: "a", MessageBody: "y" },
        ],
      }),
      "BatchEntryIdsNotDistinct",
    );
    const out = await sqs.sendMessageBatch({
      QueueUrl: url,
      Entries: [
        { Id: "good", MessageBody: "one" },
        { Id: "bad", MessageBody: "" },
        { Id: "good2", MessageBody: "two" },
      ],
    });
    assert.deepEqual(
      (out.Successful as Array<{ Id: string }>).map((s) => s.Id),
      ["good", "good2"],
    );
    assert.deepEqual(
      (out.Failed as Array<{ Id: string; Code: string }>).map((f) => [f.Id, f.Code]),
      [["bad", "MissingParameter"]],
    );
    const got = await receive(url);
    assert.deepEqual(got.map((m) => m.Body).sort(), ["one", "two"]);
    const del = await sqs.deleteMessageBatch({
      QueueUrl: url,
      Entries: got.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
    });
    assert.equal((del.Successful as unknown[]).length, 2);
  });

  test("a long poll returns as soon as a message is sent, and empty when its wait ends", async () => {
    const url = await queue();
    const waiting = receive(url, { WaitTimeSeconds: 20 });
    await parked(url);
    await sqs.sendMessage({ QueueUrl: url, MessageBody: "wake" });
    assert.deepEqual(
      (await waiting).map((m) => m.Body),
      ["wake"],
    );
    const empty = receive(url, { WaitTimeSeconds: 5 });
    await parked(url);
    clock.advance(5_000);
    assert.deepEqual(await empty, []);
  });

  test("a long poll wakes when a delayed message comes due", async () => {
    const url = await queue();
    await sqs.sendMessage({ QueueUrl: url, MessageBody: "soon", DelaySeconds: 3 });
    const waiting = receive(url, { WaitTimeSeconds: 20 });
    await parked(url);
    clock.advance(3_000);
    assert.deepEqual(
      (await waiting).map((m) => m.Body),
      ["soon"],
    );
  });

  test("after maxReceiveCount receives, the next receive moves the message to the dead-letter queue", async () => {
    const dlq = await queue();
    const dlqArn = `arn:aws:sqs:us-east-1:000000000000:${dlq.split("/").pop()}`;
    const url = await queue({
      VisibilityTimeout: "1",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
    });
    await sqs.sendMessage({ QueueUrl: url, MessageBody: "poison" });
    for (let i = 0; i < 2; i++) {
      assert.equal((await receive(url)).length, 1);
      clock.advance(1_000);
    }
    assert.deepEqual(await receive(url), []);
    const [dead] = await receive(dlq, { AttributeNames: ["All"] });
    assert.equal(dead!.Body, "poison");
    assert.equal(
      dead!.Attributes?.DeadLetterQueueSourceArn,
      `arn:aws:sqs:us-east-1:000000000000:${url.split("/").pop()}`,
    );
    const sources = await sqs.listDeadLetterSourceQueues({ QueueUrl: dlq }, ctx);
    assert.deepEqual(sources.queueUrls, [url]);
  });
});

describe("FIFO queues", () => {
  test("a group hands out in order, one batch at a time; groups do not wait for each other", async () => {
    const url = await queue({ FifoQueue: "true", ContentBasedDeduplication: "true" }, ".fifo");
    for (const [g, b] of [
      ["a", "a1"],
      ["a", "a2"],
      ["b", "b1"],
    ])
      await sqs.sendMessage({ QueueUrl: url, MessageBody: b, MessageGroupId: g });
    const first = await receive(url, { MaxNumberOfMessages: 1 });
    assert.deepEqual(
      first.map((m) => m.Body),
      ["a1"],
    );
    // a2 waits for a1; b1 does not.
    assert.deepEqual(
      (await receive(url)).map((m) => m.Body),
      ["b1"],
    );
    await sqs.deleteMessage({ QueueUrl: url, ReceiptHandle: first[0]!.ReceiptHandle });
    assert.deepEqual(
      (await receive(url)).map((m) => m.Body),
      ["a2"],
    );
  });

  test("deduplication within five minutes, by id or by content; sequence numbers increase", async () => {
    const url = await queue({ FifoQueue: "true", ContentBasedDeduplication: "true" }, ".fifo");
    const one = await sqs.sendMessage({ QueueUrl: url, MessageBody: "same", MessageGroupId: "g" });
    const dup = await sqs.sendMessage({ QueueUrl: url, MessageBody: "same", MessageGroupId: "g" });
    assert.equal(dup.MessageId, one.MessageId);
    clock.advance(5 * 60 * 1000 + 1);
    const later = await sqs.sendMessage({ QueueUrl: url, MessageBody: "same", MessageGroupId: "g" });
    assert.notEqual(later.MessageId, one.MessageId);
    assert.ok(String(later.SequenceNumber) > String(one.SequenceNumber));
    assert.equal((await receive(url)).length, 2);
  });

  test("FIFO rules: a group id is required, a per-message delay is refused, dedup needs an id or content-based", async () => {
    const url = await queue({ FifoQueue: "true" }, ".fifo");
    await rejects(
      sqs.sendMessage({ QueueUrl: url, MessageBody: "x", MessageDeduplicationId: "d" }),
      "MissingParameter",
      /MessageGroupId/,
    );
    await rejects(
      sqs.sendMessage({ QueueUrl: url, MessageBody: "x", MessageGroupId: "g" }),
      "InvalidParameterValue",
      /ContentBasedDeduplication/,
    );
    await rejects(
      sqs.sendMessage({
        QueueUrl: url,
        MessageBody: "x",
        MessageGroupId: "g",
        MessageDeduplicationId: "d",
        DelaySeconds: 1,
      }),
      "InvalidParameterValue",
      /DelaySeconds/,
    );
    const standard = await queue();
    await rejects(
      sqs.sendMessage({ QueueUrl: standard, MessageBody: "x", MessageDeduplicationId: "d" }),
      "InvalidParameterValue",
      /MessageDeduplicationId/,
    );
  });
});
