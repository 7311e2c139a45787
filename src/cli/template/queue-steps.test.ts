/** Planning a stack's queues and SQS events: created, updated in place, reset, retagged, deleted when dropped. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { conflicts } from "./ownership.js";
import { parseTemplate } from "./parse.js";
import {
  type BuiltCode,
  type CurrentMapping,
  type CurrentQueue,
  type CurrentState,
  computePlan,
  describePlan,
  type LambdaConfig,
} from "./plan.js";

const TEMPLATE = `Transform: AWS::Serverless-2016-10-31
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      RedrivePolicy: { deadLetterTargetArn: !GetAtt Failed.Arn, maxReceiveCount: 3 }
  Failed:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      AutoPublishAlias: live
      Events:
        Work:
          Type: SQS
          Properties: { Queue: !GetAtt Jobs.Arn, BatchSize: 5, FunctionResponseTypes: [ReportBatchItemFailures] }
`;
const stack = parseTemplate({
  file: "t.yaml",
  text: TEMPLATE,
  stackName: "app",
  region: "us-east-1",
  accountId: "1",
  endpoint: "http://127.0.0.1:9000",
});
const code = new Map<string, BuiltCode>([
  ["Worker", { zip: Buffer.from("zip"), sha256: "SHA", handler: "index.handler" }],
]);
const QUEUE = (name: string) => `arn:aws:sqs:us-east-1:1:${name}`;
const FN = "arn:aws:lambda:us-east-1:1:function:app-Worker";
const tags = (logicalId: string, stackName = "app") => ({
  "nimbus:stack": stackName,
  "nimbus:logical-id": logicalId,
});

const config: LambdaConfig = {
  FunctionName: "app-Worker",
  FunctionArn: FN,
  Runtime: "nodejs20.x",
  Handler: "index.handler",
  MemorySize: 128,
  Timeout: 3,
  Description: "",
  Environment: { Variables: {} },
  CodeSha256: "SHA",
  Version: "$LATEST",
  RevisionId: "r1",
};

/** A queue as GetQueueAttributes All answers it: SQS's defaults, and `over`. */
function queue(name: string, logicalId: string, over: Record<string, string> = {}): CurrentQueue {
  return {
    url: `http://127.0.0.1:9000/1/${name}`,
    attributes: {
      DelaySeconds: "0",
      MaximumMessageSize: "1048576",
      MessageRetentionPeriod: "345600",
      ReceiveMessageWaitTimeSeconds: "0",
      VisibilityTimeout: "30",
      SqsManagedSseEnabled: "true",
      QueueArn: QUEUE(name),
      ...over,
    },
    tags: tags(logicalId),
  };
}

const mapping: CurrentMapping = {
  UUID: "m1",
  EventSourceArn: QUEUE("app-Jobs"),
  FunctionArn: `${FN}:live`,
  BatchSize: 5,
  MaximumBatchingWindowInSeconds: 0,
  State: "Enabled",
  FunctionResponseTypes: ["ReportBatchItemFailures"],
};

/** The platform with the stack deployed as the template says, changed by `over`. */
function deployed(over: Partial<CurrentState> = {}): CurrentState {
  const redrive = JSON.stringify({ deadLetterTargetArn: QUEUE("app-Failed"), maxReceiveCount: "3" });
  const queues = new Map([
    ["app-Failed", queue("app-Failed", "Failed")],
    ["app-Jobs", queue("app-Jobs", "Jobs", { VisibilityTimeout: "60", RedrivePolicy: redrive })],
  ]);
  return {
    region: "us-east-1",
    accountId: "1",
    functions: new Map([["app-Worker", { config, alias: { version: "1", config }, tags: tags("Worker") }]]),
    functionTags: new Map([["app-Worker", tags("Worker")]]),
    apis: new Map(),
    queueTags: new Map([...queues].map(([name, q]) => [name, q.tags])),
    queues,
    mappings: new Map([["app-Worker", [mapping]]]),
    ...over,
  };
}

describe("planning queues and SQS events", () => {
  test("from nothing: the dead-letter queue, the queue, the function, then its mapping to the alias", () => {
    const plan = computePlan(stack, code, {
      region: "us-east-1",
      accountId: "1",
      functions: new Map(),
      functionTags: new Map(),
      apis: new Map(),
    });
    assert.equal(
      describePlan(plan),
      [
        "+ create queue app-Failed",
        "+ create queue app-Jobs",
        "+ create function app-Worker",
        "+ create alias app-Worker:live (publish a version and point the alias at it)",
        "+ create event source mapping app-Jobs → app-Worker:live",
        "",
      ].join("\n"),
    );
    const failed = plan.steps[0]!;
    assert.ok(failed.kind === "queue");
    assert.equal(failed.attributes.RedrivePolicy, undefined, "no RedrivePolicy is sent as none");
    const created = plan.steps.at(-1)!;
    assert.ok(created.kind === "mapping");
    assert.deepEqual(created.body, {
      EventSourceArn: QUEUE("app-Jobs"),
      FunctionName: "app-Worker:live",
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: 0,
      Enabled: true,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      FilterCriteria: { Filters: [] },
      ScalingConfig: {},
    });
  });

  test("what matches is unchanged, a RedrivePolicy sent with a string count included", () => {
    const plan = computePlan(stack, code, deployed());
    assert.deepEqual(
      plan.steps.map((s) => s.action),
      ["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"],
    );
  });

  test("changed and dropped settings are set back, in place: a queue's attribute, a mapping's batch size", () => {
    const current = deployed();
    const jobs = current.queues!.get("app-Jobs")!;
    const plan = computePlan(stack, code, {
      ...current,
      queues: new Map([
        ...current.queues!,
        ["app-Jobs", { ...jobs, attributes: { ...jobs.attributes, DelaySeconds: "5", RedrivePolicy: "" } }],
      ]),
      mappings: new Map([["app-Worker", [{ ...mapping, BatchSize: 10, State: "Disabled" }]]]),
    });
    const lines = describePlan(plan).trimEnd().split("\n");
    assert.equal(lines[1], "~ update queue app-Jobs: DelaySeconds 5 → 0, RedrivePolicy");
    assert.equal(
      lines[4],
      "~ update event source mapping app-Jobs → app-Worker:live: BatchSize 10 → 5, Enabled false → true",
    );
    const q = plan.steps[1]!;
    assert.ok(q.kind === "queue");
    assert.deepEqual(Object.keys(q.attributes), ["DelaySeconds", "RedrivePolicy"]);
    const m = plan.steps[4]!;
    assert.ok(m.kind === "mapping");
    assert.equal(m.uuid, "m1");
    assert.equal(m.body.EventSourceArn, undefined, "an update keeps the queue");
  });

  test("what the stack made and no longer declares is deleted: mappings first, queues last; others' are left", () => {
    const current = deployed();
    const plan = computePlan(stack, code, {
      ...current,
      functionTags: new Map([...current.functionTags, ["app-Old", tags("Old")]]),
      queueTags: new Map([
        ...current.queueTags!,
        ["app-Gone", tags("Gone")],
        ["other-Gone", tags("Gone", "other")],
        ["by-hand", {}],
      ]),
      queues: new Map([...current.queues!, ["app-Gone", queue("app-Gone", "Gone")]]),
      mappings: new Map([
        ["app-Worker", [mapping, { ...mapping, UUID: "m2", EventSourceArn: QUEUE("app-Gone") }]],
        ["app-Old", [{ ...mapping, UUID: "m3", FunctionArn: "x" }]],
      ]),
    });
    const lines = describePlan(plan).trimEnd().split("\n");
    assert.deepEqual(lines.slice(-4), [
      "- delete event source mapping app-Gone → app-Worker",
      "- delete event source mapping app-Jobs → app-Old",
      "- delete function app-Old",
      "- delete queue app-Gone",
    ]);
    assert.doesNotMatch(describePlan(plan), /other-Gone|by-hand/);
  });

  test("a declared queue that exists and is not the stack's is a conflict", () => {
    const [found] = conflicts(stack, {
      ...deployed(),
      queueTags: new Map([["app-Jobs", { team: "x" }]]),
    });
    assert.match(found!, /^Jobs: queue app-Jobs already exists and was not made by a stack/);
    assert.match(found!, /another QueueName; or, to hand it to this stack, tag it nimbus:stack=app/);
  });
});
