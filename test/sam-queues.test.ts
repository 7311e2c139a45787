/**
 * End to end through `nimbus deploy --template`: a SAM template's AWS::SQS::Queue resources
 * (one the other's dead-letter queue) and a function's SQS event. Deployed, the queue feeds the
 * function; deployed again, nothing changes; a changed BatchSize and a dropped VisibilityTimeout
 * update the mapping and the queue in place; a dropped event and queue are deleted.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ListEventSourceMappingsCommand } from "@aws-sdk/client-lambda";
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  QueueDoesNotExist,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { NimbusClient } from "../src/cli/client.js";
import { nimbus } from "./helpers/cli.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { eventually } from "./helpers/wait.js";

let t: TestPlatform;
let sqs: SQSClient;
let client: NimbusClient;
let dir: string;

const TEMPLATE = `Transform: AWS::Serverless-2016-10-31
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 20
      RedrivePolicy: { deadLetterTargetArn: !GetAtt Failed.Arn, maxReceiveCount: 3 }
  Failed:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker
      Handler: index.handler
      Runtime: nodejs20.x
      Environment:
        Variables: { QUEUE_URL: !Ref Jobs }
      Events:
        Work:
          Type: SQS
          Properties: { Queue: !GetAtt Jobs.Arn, BatchSize: 5 }
`;

before(async () => {
  t = await startPlatform();
  sqs = new SQSClient({ endpoint: t.url, region: "us-east-1", credentials: t.platform.credentials });
  client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
  dir = join(mkdtempSync(join(tmpdir(), "nimbus-sam-q-")), "q");
  mkdirSync(join(dir, "worker"), { recursive: true });
  writeFileSync(
    join(dir, "worker", "index.mjs"),
    `export const handler = async (e) => { for (const r of e.Records) console.log("GOT " + r.body + " " + process.env.QUEUE_URL); };`,
  );
});
after(async () => {
  sqs.destroy();
  await t.close();
  await rm(join(dir, ".."), { recursive: true, force: true });
});

async function deploy(template: string): Promise<string> {
  const path = join(dir, "template.yaml");
  writeFileSync(path, template);
  const res = await nimbus(t.dataDir, "deploy", "--template", path);
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

async function mappings() {
  const out = await t.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: "q-Worker" }));
  return out.EventSourceMappings ?? [];
}

describe("templates with queues and SQS events", () => {
  test("deployed, fed, redeployed with nothing to do, updated in place, and what is dropped deleted", async () => {
    const first = await deploy(TEMPLATE);
    assert.match(
      first,
      /\+ create queue q-Failed\n\+ create queue q-Jobs\n\+ create function q-Worker\n\+ create event source mapping q-Jobs → q-Worker\napplied 4 change\(s\)\n$/,
    );
    const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: "q-Jobs" }))).QueueUrl!;
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }),
    );
    assert.equal(Attributes?.VisibilityTimeout, "20");
    assert.deepEqual(JSON.parse(Attributes?.RedrivePolicy ?? "{}"), {
      deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:q-Failed",
      maxReceiveCount: 3,
    });
    assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags, {
      "nimbus:stack": "q",
      "nimbus:logical-id": "Jobs",
    });

    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "job-1" }));
    const logs = await eventually(
      async () => {
        const res = await client.call("GET", "/nimbus/v1/logs", { query: { function: "q-Worker" } });
        return ((await res.json()) as { entries: { message: string }[] }).entries.map((e) => e.message);
      },
      (lines) => lines.some((l) => l.includes("GOT job-1")),
      { what: "the message in the function's logs", timeoutMs: 20_000, everyMs: 50 },
    );
    assert.ok(
      logs.some((l) => l.includes(`GOT job-1 ${url}`)),
      "!Ref of a queue is its URL",
    );

    const again = await deploy(TEMPLATE);
    assert.match(again, /\nno changes\n$/);
    const [mapping] = await mappings();

    const changed = await deploy(
      TEMPLATE.replace("BatchSize: 5", "BatchSize: 3").replace("      VisibilityTimeout: 20\n", ""),
    );
    assert.match(changed, /^~ update queue q-Jobs: VisibilityTimeout 20 → 30$/m);
    assert.match(changed, /^~ update event source mapping q-Jobs → q-Worker: BatchSize 5 → 3$/m);
    const updated = await mappings();
    assert.deepEqual(
      updated.map((m) => [m.UUID, m.BatchSize]),
      [[mapping!.UUID, 3]],
      "the same mapping, updated",
    );

    const dropped = await deploy(
      TEMPLATE.replace(/ {6}RedrivePolicy:.*\n/, "")
        .replace(/ {2}Failed:\n.*\n/, "")
        .replace(/ {6}Events:[\s\S]*$/, ""),
    );
    assert.match(dropped, /^~ update queue q-Jobs: VisibilityTimeout 30 → 20, RedrivePolicy$/m);
    assert.match(dropped, /^- delete event source mapping q-Jobs → q-Worker$/m);
    assert.match(dropped, /^- delete queue q-Failed$/m);
    assert.deepEqual(await mappings(), []);
    await assert.rejects(
      sqs.send(new GetQueueUrlCommand({ QueueName: "q-Failed" })),
      (err: Error) => err instanceof QueueDoesNotExist,
    );
  });
});
