/**
 * End to end: object events through `@aws-sdk/client-s3` unchanged. A bucket's notification
 * configuration (PutBucketNotificationConfiguration) sends S3's event records to functions as
 * asynchronous invocations (each function here returns its event, read back from its
 * invocation records) and to queues, exactly for the keys its prefix and suffix match; with
 * EventBridge on, every object event is on the bus as `nimbus.storage`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketNotificationConfigurationCommand,
  type LambdaFunctionConfiguration,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { CreateQueueCommand, type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { S3Event } from "aws-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";
import { s3Client, s3Failure } from "./helpers/s3.js";
import { eventually } from "./helpers/wait.js";

const ACCOUNT = "000000000000";
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;
const ECHO = `export const handler = async (e) => e;`;

let t: TestPlatform;
let s3: S3Client;
let sqs: SQSClient;
let eb: EventBridgeClient;
let client: NimbusClient;

before(async () => {
  t = await startPlatform();
  s3 = s3Client(t);
  const o = { endpoint: t.url, region: "us-east-1", credentials: t.platform.credentials, maxAttempts: 1 };
  sqs = new SQSClient(o);
  eb = new EventBridgeClient(o);
  client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
  for (const name of ["recorder", "removals", "markers"]) await createNodeFunction(t.lambda, name, ECHO);
});
after(async () => {
  s3.destroy();
  sqs.destroy();
  eb.destroy();
  await t.close();
});

type Received = S3Event | { Event: string; Bucket: string };

/** What a function was invoked with (each returns its event), once `n` invocations succeeded. */
async function received(fn: string, n: number): Promise<Received[]> {
  const read = async () => {
    const res = await client.call("GET", "/nimbus/v1/invocations", { query: { function: fn, limit: "100" } });
    return ((await res.json()) as { invocations: { status: string; result: Received }[] }).invocations;
  };
  const list = await eventually(read, (l) => l.filter((i) => i.status === "succeeded").length >= n, {
    what: `${n} invocations of ${fn}`,
    timeoutMs: 15_000,
    everyMs: 50,
  });
  return list.filter((i) => i.status === "succeeded").map((i) => i.result);
}

/** `eventName key` of each S3 record received, sorted (asynchronous invocations run in any order). */
const records = (events: Received[]) =>
  events
    .flatMap((e) => ("Records" in e ? e.Records : []))
    .map((r) => `${r.eventName} ${r.s3.object.key}`)
    .sort();

const lambdaConfig = (
  id: string,
  fn: string,
  events: string[],
  rules: { Name: "prefix" | "suffix"; Value: string }[] = [],
): LambdaFunctionConfiguration => ({
  Id: id,
  LambdaFunctionArn: fnArn(fn),
  Events: events as LambdaFunctionConfiguration["Events"],
  ...(rules.length > 0 ? { Filter: { Key: { FilterRules: rules } } } : {}),
});

describe("bucket notifications", () => {
  test("a configuration is checked by S3's rules, stored and read back; each function gets S3's test event", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "events" }));
    const put = (configs: LambdaFunctionConfiguration[]) =>
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: "events",
          NotificationConfiguration: { LambdaFunctionConfigurations: configs },
        }),
      );
    const unknown = await s3Failure(put([lambdaConfig("x", "nope", ["s3:ObjectCreated:*"])]));
    assert.deepEqual(
      [unknown.name, unknown.status, unknown.message],
      ["InvalidArgument", 400, "Unable to validate the following destination configurations"],
    );
    const overlapping = await s3Failure(
      put([
        lambdaConfig("a", "recorder", ["s3:ObjectCreated:*"], [{ Name: "prefix", Value: "photos/" }]),
        lambdaConfig("b", "removals", ["s3:ObjectCreated:Put"], [{ Name: "prefix", Value: "photos/2026/" }]),
      ]),
    );
    assert.equal(overlapping.name, "InvalidArgument");
    const twoPrefixes = await s3Failure(
      put([
        lambdaConfig(
          "a",
          "recorder",
          ["s3:ObjectCreated:*"],
          [
            { Name: "prefix", Value: "a/" },
            { Name: "prefix", Value: "b/" },
          ],
        ),
      ]),
    );
    assert.match(twoPrefixes.message, /more than one prefix rule/);
    const empty = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: "events" }));
    assert.equal(empty.LambdaFunctionConfigurations, undefined, "nothing stored by the refusals");

    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "events",
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            lambdaConfig(
              "images",
              "recorder",
              ["s3:ObjectCreated:*"],
              [
                { Name: "prefix", Value: "photos/" },
                { Name: "suffix", Value: ".jpg" },
              ],
            ),
            lambdaConfig(
              "removed",
              "removals",
              ["s3:ObjectRemoved:*"],
              [{ Name: "prefix", Value: "photos/" }],
            ),
          ],
          EventBridgeConfiguration: {},
        },
      }),
    );
    const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: "events" }));
    assert.deepEqual(got.LambdaFunctionConfigurations, [
      {
        Id: "images",
        LambdaFunctionArn: fnArn("recorder"),
        Events: ["s3:ObjectCreated:*"],
        Filter: {
          Key: {
            FilterRules: [
              { Name: "Prefix", Value: "photos/" },
              { Name: "Suffix", Value: ".jpg" },
            ],
          },
        },
      },
      {
        Id: "removed",
        LambdaFunctionArn: fnArn("removals"),
        Events: ["s3:ObjectRemoved:*"],
        Filter: { Key: { FilterRules: [{ Name: "Prefix", Value: "photos/" }] } },
      },
    ]);
    assert.deepEqual(got.EventBridgeConfiguration, {});
    const [first] = await received("recorder", 1);
    assert.deepEqual(
      { ...first, Time: undefined, RequestId: undefined, HostId: undefined },
      {
        Service: "Amazon S3",
        Event: "s3:TestEvent",
        Bucket: "events",
        Time: undefined,
        RequestId: undefined,
        HostId: undefined,
      },
    );
  });

  test("puts, copies, completed uploads and deletes reach a function exactly for the keys it matches, in S3's shape", async () => {
    const put = await s3.send(
      new PutObjectCommand({ Bucket: "events", Key: "photos/my cat.jpg", Body: "meow" }),
    );
    // Neither matches both the prefix and the suffix: no event.
    await s3.send(new PutObjectCommand({ Bucket: "events", Key: "photos/cat.png", Body: "png" }));
    await s3.send(new PutObjectCommand({ Bucket: "events", Key: "other/dog.jpg", Body: "woof" }));
    await s3.send(
      new CopyObjectCommand({
        Bucket: "events",
        Key: "photos/copy.jpg",
        CopySource: `events/${encodeURIComponent("photos/my cat.jpg")}`,
      }),
    );
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "events", Key: "photos/big.jpg" }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: "events",
        Key: "photos/big.jpg",
        UploadId,
        PartNumber: 1,
        Body: "big",
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "events",
        Key: "photos/big.jpg",
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await s3.send(new DeleteObjectCommand({ Bucket: "events", Key: "photos/my cat.jpg" }));
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: "events",
        Delete: {
          Objects: [{ Key: "photos/copy.jpg" }, { Key: "photos/cat.png" }, { Key: "other/dog.jpg" }],
        },
      }),
    );

    // Events are handed over in order: once the last removal ran, every earlier event was.
    const removals = await received("removals", 4);
    assert.deepEqual(records(removals), [
      "ObjectRemoved:Delete photos/cat.png",
      "ObjectRemoved:Delete photos/copy.jpg",
      "ObjectRemoved:Delete photos/my+cat.jpg",
    ]);
    const created = await received("recorder", 4);
    assert.deepEqual(records(created), [
      "ObjectCreated:CompleteMultipartUpload photos/big.jpg",
      "ObjectCreated:Copy photos/copy.jpg",
      "ObjectCreated:Put photos/my+cat.jpg",
    ]);
    assert.equal(created.length, 4, "the test event and three records, none for the keys not matched");

    const record = created
      .flatMap((e) => ("Records" in e ? e.Records : []))
      .find((r) => r.eventName === "ObjectCreated:Put");
    assert.ok(record);
    assert.match(record.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(record.s3.object.sequencer, /^[0-9A-F]{18}$/);
    assert.deepEqual(
      {
        ...record,
        eventTime: undefined,
        s3: { ...record.s3, object: { ...record.s3.object, sequencer: undefined } },
      },
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: undefined,
        eventName: "ObjectCreated:Put",
        userIdentity: { principalId: ACCOUNT },
        requestParameters: { sourceIPAddress: "127.0.0.1" },
        responseElements: {
          "x-amz-request-id": put.$metadata.requestId,
          "x-amz-id-2": put.$metadata.requestId,
        },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "images",
          bucket: { name: "events", ownerIdentity: { principalId: ACCOUNT }, arn: "arn:aws:s3:::events" },
          object: {
            key: "photos/my+cat.jpg",
            size: 4,
            eTag: put.ETag?.replaceAll('"', ""),
            sequencer: undefined,
          },
        },
      },
    );
  });

  test("a delete in a versioned bucket is ObjectRemoved:DeleteMarkerCreated, with the marker's version id", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "versioned" }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: "versioned", VersioningConfiguration: { Status: "Enabled" } }),
    );
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "versioned",
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [lambdaConfig("markers", "markers", ["s3:ObjectRemoved:*"])],
        },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: "versioned", Key: "doc.txt", Body: "v1" }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: "versioned", Key: "doc.txt" }));
    assert.equal(del.DeleteMarker, true);
    const events = await received("markers", 2);
    const [record] = events.flatMap((e) => ("Records" in e ? e.Records : []));
    assert.equal(record?.eventName, "ObjectRemoved:DeleteMarkerCreated");
    assert.equal(record?.s3.object.versionId, del.VersionId);
  });

  test("a queue gets the test event and the records; with EventBridge on, the bus gets nimbus.storage events", async () => {
    const { QueueUrl: direct } = await sqs.send(new CreateQueueCommand({ QueueName: "uploads" }));
    const { QueueUrl: bus } = await sqs.send(new CreateQueueCommand({ QueueName: "storage-bus" }));
    await eb.send(
      new PutRuleCommand({ Name: "storage", EventPattern: JSON.stringify({ source: ["nimbus.storage"] }) }),
    );
    await eb.send(
      new PutTargetsCommand({ Rule: "storage", Targets: [{ Id: "q", Arn: queueArn("storage-bus") }] }),
    );
    await s3.send(new CreateBucketCommand({ Bucket: "queued" }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "queued",
        NotificationConfiguration: {
          QueueConfigurations: [{ Id: "q", QueueArn: queueArn("uploads"), Events: ["s3:ObjectCreated:Put"] }],
          EventBridgeConfiguration: {},
        },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: "queued", Key: "in box/a.txt", Body: "a" }));
    await s3.send(new DeleteObjectCommand({ Bucket: "queued", Key: "in box/a.txt" }));

    const bodies = (await receiveAll(direct!, 2)).map((m) => JSON.parse(m.Body!) as Received);
    assert.equal((bodies[0] as { Event: string }).Event, "s3:TestEvent");
    assert.deepEqual(records(bodies.slice(1)), ["ObjectCreated:Put in+box/a.txt"]);

    const onBus = (await receiveAll(bus!, 2)).map((m) => JSON.parse(m.Body!));
    assert.deepEqual(
      onBus.map((e) => [e.source, e["detail-type"], e.resources, e.detail.object.key, e.detail.reason]),
      [
        ["nimbus.storage", "Object Created", ["arn:aws:s3:::queued"], "in box/a.txt", "PutObject"],
        ["nimbus.storage", "Object Deleted", ["arn:aws:s3:::queued"], "in box/a.txt", "DeleteObject"],
      ],
    );
    assert.deepEqual(onBus[0].detail.bucket, { name: "queued" });
    assert.deepEqual(
      [onBus[0].detail.object.size, onBus[0].detail["source-ip-address"], onBus[1].detail["deletion-type"]],
      [1, "127.0.0.1", "Permanently Deleted"],
    );
  });
});

/** At least `n` messages of a queue, in the order they were sent. */
async function receiveAll(queueUrl: string, n: number): Promise<Message[]> {
  const got: Message[] = [];
  await eventually(
    async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ["SentTimestamp"],
        }),
      );
      got.push(...(out.Messages ?? []));
      return got.length;
    },
    (count) => count >= n,
    { what: `${n} messages`, timeoutMs: 10_000 },
  );
  return got.sort((a, b) => Number(a.Attributes?.SentTimestamp) - Number(b.Attributes?.SentTimestamp));
}
