/**
 * End to end: the event bus through `@aws-sdk/client-eventbridge` unchanged: buses, rules with
 * patterns, targets (a function, a queue, another bus) with their input, PutEvents,
 * TestEventPattern, dead-letter queues, archives and replay, and Lambda's errors for bad input.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateArchiveCommand,
  CreateEventBusCommand,
  DeleteRuleCommand,
  DescribeArchiveCommand,
  DescribeReplayCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTagsForResourceCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  StartReplayCommand,
  TagResourceCommand,
  TestEventPatternCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { NimbusClient } from "../src/cli/client.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";
import { eventually } from "./helpers/wait.js";

let t: TestPlatform;
let eb: EventBridgeClient;
let sqs: SQSClient;
let client: NimbusClient;
const ACCOUNT = "000000000000";
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;
const busArn = (name: string) => `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/${name}`;

before(async () => {
  t = await startPlatform();
  const o = { endpoint: t.url, region: "us-east-1", credentials: t.platform.credentials };
  eb = new EventBridgeClient(o);
  sqs = new SQSClient(o);
  client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
});
after(async () => {
  eb.destroy();
  sqs.destroy();
  await t.close();
});

async function logged(fn: string, marker: string): Promise<string[]> {
  const read = async () => {
    const res = await client.call("GET", "/nimbus/v1/logs", { query: { function: fn } });
    const entries = ((await res.json()) as { entries: { message: string }[] }).entries;
    return entries.map((e) => e.message).filter((m) => m.includes(marker));
  };
  return eventually(read, (lines) => lines.length > 0, {
    what: `${marker} in ${fn}'s logs`,
    timeoutMs: 10_000,
  });
}

async function receiveOne(queueUrl: string) {
  const msgs = await eventually(
    async () =>
      (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ["All"],
          }),
        )
      ).Messages ?? [],
    (m) => m.length > 0,
    { what: "a message", timeoutMs: 10_000 },
  );
  return msgs[0]!;
}

describe("the event bus", () => {
  test("a rule's pattern routes an event to a function, transformed, and not the events it does not match", async () => {
    await createNodeFunction(
      t.lambda,
      "on-order",
      `export const handler = async (e) => { console.log("GOT " + JSON.stringify(e)); };`,
    );
    const { RuleArn } = await eb.send(
      new PutRuleCommand({
        Name: "orders",
        EventPattern: JSON.stringify({ source: ["shop"], detail: { total: [{ numeric: [">", 10] }] } }),
      }),
    );
    assert.equal(RuleArn, `arn:aws:events:us-east-1:${ACCOUNT}:rule/orders`);
    const put = await eb.send(
      new PutTargetsCommand({
        Rule: "orders",
        Targets: [
          {
            Id: "fn",
            Arn: fnArn("on-order"),
            InputTransformer: {
              InputPathsMap: { id: "$.detail.id" },
              InputTemplate: '{"order": "<id>", "rule": "<aws.events.rule-name>"}',
            },
          },
        ],
      }),
    );
    assert.equal(put.FailedEntryCount, 0);
    const out = await eb.send(
      new PutEventsCommand({
        Entries: [
          { Source: "shop", DetailType: "Order Placed", Detail: JSON.stringify({ id: "small", total: 5 }) },
          { Source: "shop", DetailType: "Order Placed", Detail: JSON.stringify({ id: "big", total: 50 }) },
        ],
      }),
    );
    assert.equal(out.FailedEntryCount, 0);
    assert.equal(out.Entries?.length, 2);
    assert.ok(out.Entries?.every((e) => typeof e.EventId === "string"));
    const lines = await logged("on-order", "GOT");
    assert.deepEqual(
      lines.map((l) => l.slice(l.indexOf("GOT")).trim()),
      ['GOT {"order":"big","rule":"orders"}'],
    );
  });

  test("a queue target gets the whole event; a custom bus routes to another bus", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "audit" }));
    await eb.send(new CreateEventBusCommand({ Name: "partners" }));
    await eb.send(
      new PutRuleCommand({
        Name: "to-default",
        EventBusName: "partners",
        EventPattern: JSON.stringify({ source: ["partner.x"] }),
      }),
    );
    await eb.send(
      new PutTargetsCommand({
        Rule: "to-default",
        EventBusName: "partners",
        Targets: [{ Id: "bus", Arn: busArn("default") }],
      }),
    );
    await eb.send(
      new PutRuleCommand({ Name: "audit-all", EventPattern: JSON.stringify({ source: ["partner.x"] }) }),
    );
    await eb.send(
      new PutTargetsCommand({ Rule: "audit-all", Targets: [{ Id: "q", Arn: queueArn("audit") }] }),
    );
    await eb.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: "partners", Source: "partner.x", DetailType: "Ping", Detail: '{"n":1}' }],
      }),
    );
    const m = await receiveOne(QueueUrl!);
    const event = JSON.parse(m.Body!);
    assert.equal(event.source, "partner.x");
    assert.equal(event["detail-type"], "Ping");
    assert.deepEqual(event.detail, { n: 1 });
    assert.equal(event.account, ACCOUNT);
    assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test("rules: describe, list, disable (then nothing is delivered), delete only without targets", async () => {
    const rule = await eb.send(new DescribeRuleCommand({ Name: "orders" }));
    assert.equal(rule.State, "ENABLED");
    assert.equal(rule.EventBusName, "default");
    const listed = await eb.send(new ListRulesCommand({ NamePrefix: "ord" }));
    assert.deepEqual(
      listed.Rules?.map((r) => r.Name),
      ["orders"],
    );
    await eb.send(new DisableRuleCommand({ Name: "audit-all" }));
    await assert.rejects(
      eb.send(new DeleteRuleCommand({ Name: "audit-all" })),
      (err: Error) => err.name === "ValidationException" && /has targets/.test(err.message),
    );
    const targets = await eb.send(new ListTargetsByRuleCommand({ Rule: "audit-all" }));
    assert.deepEqual(
      targets.Targets?.map((x) => x.Id),
      ["q"],
    );
    await eb.send(new RemoveTargetsCommand({ Rule: "audit-all", Ids: ["q"] }));
    await eb.send(new DeleteRuleCommand({ Name: "audit-all" }));
    await assert.rejects(
      eb.send(new DescribeRuleCommand({ Name: "audit-all" })),
      (err: Error) => err.name === "ResourceNotFoundException",
    );
  });

  test("TestEventPattern answers whether an event matches, and refuses a bad pattern", async () => {
    const event = JSON.stringify({
      id: "1",
      account: ACCOUNT,
      source: "shop",
      time: "2026-12-06T00:00:00Z",
      region: "us-east-1",
      "detail-type": "x",
      detail: { total: 3 },
    });
    assert.equal(
      (await eb.send(new TestEventPatternCommand({ EventPattern: '{"source":["shop"]}', Event: event })))
        .Result,
      true,
    );
    assert.equal(
      (
        await eb.send(
          new TestEventPatternCommand({
            EventPattern: '{"detail":{"total":[{"numeric":[">",5]}]}}',
            Event: event,
          }),
        )
      ).Result,
      false,
    );
    await assert.rejects(
      eb.send(new TestEventPatternCommand({ EventPattern: '{"source":"shop"}', Event: event })),
      (err: Error) => err.name === "InvalidEventPatternException" && /source/.test(err.message),
    );
  });

  test("a target that fails sends the event to its dead-letter queue, saying why", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "bus-dlq" }));
    await createNodeFunction(t.lambda, "short-lived", "export const handler = async () => 1;");
    await eb.send(new PutRuleCommand({ Name: "doomed", EventPattern: JSON.stringify({ source: ["doom"] }) }));
    await eb.send(
      new PutTargetsCommand({
        Rule: "doomed",
        Targets: [{ Id: "fn", Arn: fnArn("short-lived"), DeadLetterConfig: { Arn: queueArn("bus-dlq") } }],
      }),
    );
    await t.lambda.send(
      new (await import("@aws-sdk/client-lambda")).DeleteFunctionCommand({ FunctionName: "short-lived" }),
    );
    await eb.send(new PutEventsCommand({ Entries: [{ Source: "doom", DetailType: "x", Detail: "{}" }] }));
    const m = await receiveOne(QueueUrl!);
    assert.equal(JSON.parse(m.Body!).source, "doom");
    assert.equal(
      m.MessageAttributes?.RULE_ARN?.StringValue,
      `arn:aws:events:us-east-1:${ACCOUNT}:rule/doomed`,
    );
    assert.match(m.MessageAttributes?.ERROR_MESSAGE?.StringValue ?? "", /short-lived/);
  });

  test("an archive keeps what passes; a replay sends it again, marked with its name", async () => {
    await createNodeFunction(
      t.lambda,
      "replayed",
      `export const handler = async (e) => { console.log("SEEN " + (e["replay-name"] ?? "live") + " " + e.detail.n); };`,
    );
    await eb.send(new CreateEventBusCommand({ Name: "history" }));
    await eb.send(
      new PutRuleCommand({
        Name: "all",
        EventBusName: "history",
        EventPattern: JSON.stringify({ source: ["hist"] }),
      }),
    );
    await eb.send(
      new PutTargetsCommand({
        Rule: "all",
        EventBusName: "history",
        Targets: [{ Id: "fn", Arn: fnArn("replayed") }],
      }),
    );
    const { ArchiveArn } = await eb.send(
      new CreateArchiveCommand({ ArchiveName: "history-archive", EventSourceArn: busArn("history") }),
    );
    const start = new Date(Date.now() - 60_000);
    await eb.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: "history", Source: "hist", DetailType: "x", Detail: '{"n":1}' }],
      }),
    );
    await logged("replayed", "SEEN live 1");
    const archived = await eb.send(new DescribeArchiveCommand({ ArchiveName: "history-archive" }));
    assert.equal(archived.EventCount, 1);
    // The event's time is its second (rounded down) and it was logged before now: [start, now) holds it.
    await eb.send(
      new StartReplayCommand({
        ReplayName: "again",
        EventSourceArn: ArchiveArn,
        EventStartTime: start,
        EventEndTime: new Date(),
        Destination: { Arn: busArn("history") },
      }),
    );
    await eventually(
      () => eb.send(new DescribeReplayCommand({ ReplayName: "again" })),
      (r) => r.State === "COMPLETED",
      { what: "the replay" },
    );
    await logged("replayed", "SEEN again 1");
  });

  test("the platform publishes its own events: a function created, an async invocation's outcome", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "platform-events" }));
    await eb.send(
      new PutRuleCommand({
        Name: "watch-platform",
        EventPattern: JSON.stringify({ source: ["nimbus.lambda"], detail: { functionName: ["watched"] } }),
      }),
    );
    await eb.send(
      new PutTargetsCommand({
        Rule: "watch-platform",
        Targets: [{ Id: "q", Arn: queueArn("platform-events") }],
      }),
    );
    await createNodeFunction(t.lambda, "watched", "export const handler = async () => 1;");
    const created = JSON.parse((await receiveOne(QueueUrl!)).Body!);
    assert.equal(created["detail-type"], "Function Created");
    assert.deepEqual(created.resources, [fnArn("watched")]);
    await t.lambda.send(
      new (await import("@aws-sdk/client-lambda")).InvokeCommand({
        FunctionName: "watched",
        InvocationType: "Event",
      }),
    );
    const seen: string[] = [];
    await eventually(
      async () => {
        const got = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
        );
        for (const m of got.Messages ?? []) seen.push(JSON.parse(m.Body!)["detail-type"]);
        return seen;
      },
      (s) => s.includes("Async Invocation Succeeded"),
      { what: "the invocation's outcome", timeoutMs: 10_000 },
    );
  });

  test("a rule that invokes a function on its own success stops at the loop guard", async () => {
    await createNodeFunction(
      t.lambda,
      "echo-loop",
      `export const handler = async () => { console.log("LOOP"); };`,
    );
    await eb.send(
      new PutRuleCommand({
        Name: "loop",
        EventPattern: JSON.stringify({
          source: ["nimbus.lambda"],
          "detail-type": ["Async Invocation Succeeded"],
          detail: { functionName: ["echo-loop"] },
        }),
      }),
    );
    await eb.send(new PutTargetsCommand({ Rule: "loop", Targets: [{ Id: "fn", Arn: fnArn("echo-loop") }] }));
    await t.lambda.send(
      new (await import("@aws-sdk/client-lambda")).InvokeCommand({
        FunctionName: "echo-loop",
        InvocationType: "Event",
      }),
    );
    const count = async () => {
      const res = await client.call("GET", "/nimbus/v1/logs", {
        query: { function: "echo-loop", filter: "LOOP" },
      });
      return ((await res.json()) as { entries: { message: string }[] }).entries.filter((e) =>
        e.message.includes("LOOP"),
      ).length;
    };
    // It runs the chain's hops and then stops: the count stays put.
    const settled = await eventually(
      async () => {
        const before = await count();
        await new Promise((r) => setTimeout(r, 500));
        return [before, await count()] as const;
      },
      ([a, b]) => a > 1 && a === b,
      { what: "the chain to stop", timeoutMs: 20_000 },
    );
    assert.ok(settled[0] <= 18, `the chain ran ${settled[0]} times`);
    await eb.send(new RemoveTargetsCommand({ Rule: "loop", Ids: ["fn"] }));
  });

  test("bad input: entries failing alone, limits, unknown targets, unknown buses", async () => {
    const out = await eb.send(
      new PutEventsCommand({
        Entries: [
          { Source: "s", DetailType: "d", Detail: "not json" },
          { Source: "s", DetailType: "d" },
          { Source: "s", DetailType: "d", Detail: "{}", EventBusName: "nowhere" },
          { Source: "s", DetailType: "d", Detail: "{}" },
        ],
      }),
    );
    assert.equal(out.FailedEntryCount, 3);
    assert.deepEqual(
      out.Entries?.map((e) => e.ErrorCode ?? "ok"),
      ["MalformedDetail", "InvalidArgument", "InvalidArgument", "ok"],
    );
    await assert.rejects(
      eb.send(
        new PutEventsCommand({
          Entries: Array.from({ length: 11 }, () => ({ Source: "s", DetailType: "d", Detail: "{}" })),
        }),
      ),
      (err: Error) => err.name === "ValidationException",
    );
    await assert.rejects(
      eb.send(
        new PutEventsCommand({
          Entries: [
            { Source: "s", DetailType: "d", Detail: JSON.stringify({ pad: "x".repeat(256 * 1024) }) },
          ],
        }),
      ),
      (err: Error) => err.name === "ValidationException" && /over the limit/.test(err.message),
    );
    await eb.send(new PutRuleCommand({ Name: "strict", EventPattern: '{"source":["s"]}' }));
    const put = await eb.send(
      new PutTargetsCommand({
        Rule: "strict",
        Targets: [
          { Id: "ghost", Arn: fnArn("ghost") },
          { Id: "s3", Arn: "arn:aws:s3:::bucket" },
        ],
      }),
    );
    assert.equal(put.FailedEntryCount, 2);
    assert.match(put.FailedEntries?.[0]?.ErrorMessage ?? "", /does not exist/);
    assert.match(put.FailedEntries?.[1]?.ErrorMessage ?? "", /not one Nimbus serves/);
    await assert.rejects(
      eb.send(new PutRuleCommand({ Name: "nope", EventBusName: "nowhere", EventPattern: "{}" })),
      (err: Error) => err.name === "ResourceNotFoundException",
    );
    await assert.rejects(
      eb.send(new PutRuleCommand({ Name: "timed", ScheduleExpression: "rate(5 minutes)" })),
      (err: Error) => err.name === "ValidationException" && /Scheduler/.test(err.message),
    );
  });

  test("tags of buses and rules by ARN: tag, list, untag; what is not there or not allowed is refused", async () => {
    await eb.send(new CreateEventBusCommand({ Name: "tagged", Tags: [{ Key: "team", Value: "shop" }] }));
    await eb.send(
      new PutRuleCommand({ Name: "tagged-rule", EventBusName: "tagged", EventPattern: '{"source":["t"]}' }),
    );
    const ruleArn = `arn:aws:events:us-east-1:${ACCOUNT}:rule/tagged/tagged-rule`;
    const list = async (arn: string) =>
      (await eb.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags?.map((t) => [
        t.Key,
        t.Value,
      ]);
    assert.deepEqual(await list(busArn("tagged")), [["team", "shop"]]);
    assert.deepEqual(await list(ruleArn), []);
    await eb.send(
      new TagResourceCommand({
        ResourceARN: ruleArn,
        Tags: [
          { Key: "env", Value: "dev" },
          { Key: "owner", Value: "ada" },
        ],
      }),
    );
    await eb.send(new TagResourceCommand({ ResourceARN: ruleArn, Tags: [{ Key: "env", Value: "prod" }] }));
    assert.deepEqual(await list(ruleArn), [
      ["env", "prod"],
      ["owner", "ada"],
    ]);
    await eb.send(new UntagResourceCommand({ ResourceARN: ruleArn, TagKeys: ["owner", "missing"] }));
    assert.deepEqual(await list(ruleArn), [["env", "prod"]]);
    await eb.send(
      new PutRuleCommand({ Name: "tagged-rule", EventBusName: "tagged", EventPattern: '{"source":["u"]}' }),
    );
    assert.deepEqual(await list(ruleArn), [["env", "prod"]], "a rule put again keeps its tags");
    await eb.send(
      new TagResourceCommand({ ResourceARN: busArn("default"), Tags: [{ Key: "k", Value: "v" }] }),
    );
    assert.deepEqual(await list(busArn("default")), [["k", "v"]]);

    await assert.rejects(eb.send(new ListTagsForResourceCommand({ ResourceARN: busArn("nosuch") })), {
      name: "ResourceNotFoundException",
    });
    await assert.rejects(
      eb.send(new TagResourceCommand({ ResourceARN: ruleArn, Tags: [{ Key: "aws:x", Value: "v" }] })),
      /reserved/,
    );
    await assert.rejects(
      eb.send(
        new TagResourceCommand({
          ResourceARN: ruleArn,
          Tags: Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: "v" })),
        }),
      ),
      /at most 50 tags; this would give it 51/,
    );
    await assert.rejects(
      eb.send(new ListTagsForResourceCommand({ ResourceARN: "arn:aws:sqs:us-east-1:000000000000:q" })),
      /not an event bus or rule ARN of this account/,
    );
  });
});
