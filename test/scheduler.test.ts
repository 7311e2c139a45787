/**
 * End to end: schedules through `@aws-sdk/client-scheduler` unchanged, on a platform whose
 * clock the test moves: groups and tags, schedules and Scheduler's errors, a rate schedule
 * firing once a minute with EventBridge's scheduled event, a one-time `at()` with its Input,
 * retries and the dead-letter queue, and ticks across a restart (none twice, a missed one once).
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DeleteFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  SchedulerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateScheduleCommand,
  ValidationException,
} from "@aws-sdk/client-scheduler";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { NimbusClient } from "../src/cli/client.js";
import { createPlatform } from "../src/platform/create-platform.js";
import { FakeClock } from "../src/shared/clock.js";
import { loadConfig } from "../src/shared/config.js";
import { silentLogger } from "../src/shared/logger.js";
import { signAsOf } from "./helpers/clock-sync.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";
import { testStore } from "./helpers/store.js";
import { eventually } from "./helpers/wait.js";

const ACCOUNT = "000000000000";
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/scheduler`;
const ECHO = `export const handler = async (e) => e;`;

// Starts at a whole minute near the real time: the SDK signs with the real clock plus its offset.
const clock = new FakeClock(Math.floor(Date.now() / 60_000) * 60_000);
let t: TestPlatform;
let scheduler: SchedulerClient;
let sqs: SQSClient;
let client: NimbusClient;

before(async () => {
  t = await startPlatform({}, clock);
  const o = { endpoint: t.url, region: "us-east-1", credentials: t.platform.credentials, maxAttempts: 1 };
  scheduler = signAsOf(new SchedulerClient(o), clock);
  sqs = signAsOf(new SQSClient(o), clock);
  signAsOf(t.lambda, clock);
  client = new NimbusClient({
    endpoint: t.url,
    region: "us-east-1",
    ...t.platform.credentials,
    now: () => clock.now(),
  });
});
after(async () => {
  scheduler.destroy();
  sqs.destroy();
  await t.close();
});

/** Moves the platform's clock and waits for the ticks it fired to be taken and delivered. */
async function advance(ms: number): Promise<void> {
  clock.advance(ms);
  await clock.settle();
}

type Invocation = { status: string; result: unknown };
async function invocations(c: NimbusClient, fn: string): Promise<Invocation[]> {
  const res = await c.call("GET", "/nimbus/v1/invocations", { query: { function: fn, limit: "100" } });
  return ((await res.json()) as { invocations: Invocation[] }).invocations;
}
function settled(c: NimbusClient, fn: string, n: number): Promise<Invocation[]> {
  return eventually(
    () => invocations(c, fn),
    (l) => l.length >= n && l.every((i) => i.status === "succeeded"),
    { what: `${n} finished invocations of ${fn}`, timeoutMs: 10_000, everyMs: 20 },
  );
}

const schedule = (over: Partial<CreateScheduleCommandInput>): CreateScheduleCommandInput => ({
  Name: "s",
  ScheduleExpression: "rate(1 minute)",
  FlexibleTimeWindow: { Mode: "OFF" },
  Target: { Arn: fnArn("tick"), RoleArn: ROLE },
  ...over,
});

async function refused(p: Promise<unknown>, type: new (...a: never[]) => Error, message: RegExp) {
  await assert.rejects(p, (err: Error) => {
    assert.ok(err instanceof type, `${err.name}: ${err.message}`);
    assert.match(err.message, message);
    return true;
  });
}

describe("the Scheduler API", () => {
  test("groups with tags, schedules created, read, listed, updated and deleted", async () => {
    await createNodeFunction(t.lambda, "crud", ECHO);
    const { ScheduleGroupArn } = await scheduler.send(
      new CreateScheduleGroupCommand({ Name: "team", Tags: [{ Key: "owner", Value: "ops" }] }),
    );
    assert.equal(ScheduleGroupArn, `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule-group/team`);
    const group = await scheduler.send(new GetScheduleGroupCommand({ Name: "team" }));
    assert.equal(group.State, "ACTIVE");
    assert.ok(group.CreationDate instanceof Date);
    await scheduler.send(
      new TagResourceCommand({ ResourceArn: ScheduleGroupArn, Tags: [{ Key: "tier", Value: "1" }] }),
    );
    await scheduler.send(new UntagResourceCommand({ ResourceArn: ScheduleGroupArn, TagKeys: ["owner"] }));
    const tags = await scheduler.send(new ListTagsForResourceCommand({ ResourceArn: ScheduleGroupArn }));
    assert.deepEqual(tags.Tags, [{ Key: "tier", Value: "1" }]);
    const groups = await scheduler.send(new ListScheduleGroupsCommand({}));
    assert.deepEqual(
      groups.ScheduleGroups?.map((g) => g.Name),
      ["default", "team"],
    );

    const start = new Date(clock.now() + 3_600_000);
    const created = await scheduler.send(
      new CreateScheduleCommand(
        schedule({
          Name: "nightly",
          GroupName: "team",
          ScheduleExpression: "cron(0 2 * * ? *)",
          ScheduleExpressionTimezone: "Europe/Paris",
          StartDate: start,
          Description: "the nightly run",
          FlexibleTimeWindow: { Mode: "FLEXIBLE", MaximumWindowInMinutes: 15 },
          Target: {
            Arn: fnArn("crud"),
            RoleArn: ROLE,
            Input: '{"job":"nightly"}',
            RetryPolicy: { MaximumRetryAttempts: 3 },
          },
        }),
      ),
    );
    assert.equal(created.ScheduleArn, `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/team/nightly`);
    const got = await scheduler.send(new GetScheduleCommand({ Name: "nightly", GroupName: "team" }));
    assert.equal(got.ScheduleExpressionTimezone, "Europe/Paris");
    assert.equal(got.StartDate?.getTime(), start.getTime());
    assert.deepEqual(got.FlexibleTimeWindow, { Mode: "FLEXIBLE", MaximumWindowInMinutes: 15 });
    assert.deepEqual(got.Target, {
      Arn: fnArn("crud"),
      RoleArn: ROLE,
      Input: '{"job":"nightly"}',
      RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 3 },
    });
    assert.equal(got.State, "ENABLED");
    assert.equal(got.ActionAfterCompletion, "NONE");

    await scheduler.send(
      new UpdateScheduleCommand({
        ...schedule({ Name: "nightly", GroupName: "team" }),
        State: "DISABLED",
        Target: { Arn: fnArn("crud"), RoleArn: ROLE },
      }),
    );
    const updated = await scheduler.send(new GetScheduleCommand({ Name: "nightly", GroupName: "team" }));
    assert.equal(updated.State, "DISABLED");
    assert.equal(updated.ScheduleExpression, "rate(1 minute)");
    assert.equal(updated.Description, undefined, "an update replaces the whole schedule");
    const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: "team", State: "DISABLED" }));
    assert.deepEqual(
      listed.Schedules?.map((s) => [s.Name, s.GroupName, s.Target?.Arn]),
      [["nightly", "team", fnArn("crud")]],
    );

    await scheduler.send(new DeleteScheduleGroupCommand({ Name: "team" }));
    await refused(
      scheduler.send(new GetScheduleCommand({ Name: "nightly", GroupName: "team" })),
      ResourceNotFoundException,
      /Schedule nightly does not exist/,
    );
  });

  test("bad input is refused with Scheduler's errors and nothing is written", async () => {
    await createNodeFunction(t.lambda, "strict", ECHO);
    const target = { Arn: fnArn("strict"), RoleArn: ROLE };
    const bad: Array<[Partial<CreateScheduleCommandInput>, new (...a: never[]) => Error, RegExp]> = [
      [
        { ScheduleExpression: "cron(0 12 * * *)" },
        ValidationException,
        /^Invalid Schedule Expression cron\(0 12 \* \* \*\)\. .*six fields/,
      ],
      [
        { ScheduleExpression: "rate(5 minute)" },
        ValidationException,
        /Invalid Schedule Expression rate\(5 minute\)/,
      ],
      [{ ScheduleExpressionTimezone: "Mars/Olympus" }, ValidationException, /IANA time zone/],
      [{ Target: { Arn: fnArn("ghost"), RoleArn: ROLE } }, ValidationException, /ghost does not exist/],
      [
        { Target: { Arn: fnArn("strict"), RoleArn: undefined as unknown as string } },
        ValidationException,
        /RoleArn is required/,
      ],
      [
        { GroupName: "nowhere", Target: target },
        ResourceNotFoundException,
        /Schedule group nowhere does not exist/,
      ],
      [
        { FlexibleTimeWindow: { Mode: "FLEXIBLE" }, Target: target },
        ValidationException,
        /MaximumWindowInMinutes is required/,
      ],
      [{ Name: "bad name!", Target: target }, ValidationException, /failed to satisfy constraint/],
      [{ EndDate: new Date(clock.now() - 60_000), Target: target }, ValidationException, /EndDate/],
      [
        { Target: { ...target, RetryPolicy: { MaximumEventAgeInSeconds: 59 } } },
        ValidationException,
        /from 60 to 86400/,
      ],
    ];
    for (const [over, type, message] of bad)
      await refused(
        scheduler.send(new CreateScheduleCommand(schedule({ Name: "refused", Target: target, ...over }))),
        type,
        message,
      );
    await refused(
      scheduler.send(new GetScheduleCommand({ Name: "refused" })),
      ResourceNotFoundException,
      /does not exist/,
    );

    await scheduler.send(
      new CreateScheduleCommand(schedule({ Name: "once", Target: target, State: "DISABLED" })),
    );
    await refused(
      scheduler.send(new CreateScheduleCommand(schedule({ Name: "once", Target: target }))),
      ConflictException,
      /already exists/,
    );
    await refused(
      scheduler.send(new DeleteScheduleGroupCommand({ Name: "default" })),
      ValidationException,
      /cannot be deleted/,
    );
    await scheduler.send(new DeleteScheduleCommand({ Name: "once" }));
  });
});

describe("firing", () => {
  test("rate(1 minute) fires once a minute; without Input the function gets the scheduled event", async () => {
    await createNodeFunction(t.lambda, "minutely", ECHO);
    await scheduler.send(
      new CreateScheduleCommand(
        schedule({ Name: "minutely", Target: { Arn: fnArn("minutely"), RoleArn: ROLE } }),
      ),
    );
    const created = clock.now();
    await advance(59_000);
    assert.equal((await invocations(client, "minutely")).length, 0, "nothing before the first minute");
    await advance(1000);
    const [first] = await settled(client, "minutely", 1);
    assert.deepEqual(
      { ...(first!.result as Record<string, unknown>), id: "…" },
      {
        version: "0",
        id: "…",
        "detail-type": "Scheduled Event",
        source: "aws.scheduler",
        account: ACCOUNT,
        time: new Date(created + 60_000).toISOString().replace(".000Z", "Z"),
        region: "us-east-1",
        resources: [`arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/default/minutely`],
        detail: {},
      },
    );
    await advance(60_000);
    await settled(client, "minutely", 2);
    await advance(30_000);
    assert.equal((await invocations(client, "minutely")).length, 2, "once per minute, not more");
    await scheduler.send(new DeleteScheduleCommand({ Name: "minutely" }));
    await advance(60_000);
    assert.equal((await invocations(client, "minutely")).length, 2, "a deleted schedule fires no more");
  });

  test("at() fires once with its Input and the context filled in; DELETE after completion removes it", async () => {
    await createNodeFunction(t.lambda, "once", ECHO);
    const when = new Date(clock.now() + 120_000).toISOString().slice(0, 19);
    await scheduler.send(
      new CreateScheduleCommand(
        schedule({
          Name: "once",
          ScheduleExpression: `at(${when})`,
          ActionAfterCompletion: "DELETE",
          Target: {
            Arn: fnArn("once"),
            RoleArn: ROLE,
            Input: '{"at":"<aws.scheduler.scheduled-time>","n":"<aws.scheduler.attempt-number>"}',
          },
        }),
      ),
    );
    await advance(120_000);
    const [run] = await settled(client, "once", 1);
    assert.deepEqual(run!.result, { at: `${when}Z`, n: "1" });
    await refused(
      scheduler.send(new GetScheduleCommand({ Name: "once" })),
      ResourceNotFoundException,
      /does not exist/,
    );
    await advance(600_000);
    assert.equal((await invocations(client, "once")).length, 1);
  });

  test("a tick its target cannot take is retried, then sent to the dead-letter queue", async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: "schedule-dlq" }));
    await createNodeFunction(t.lambda, "doomed", ECHO);
    await scheduler.send(
      new CreateScheduleCommand(
        schedule({
          Name: "doomed",
          ScheduleExpression: "rate(1 hour)",
          Target: {
            Arn: fnArn("doomed"),
            RoleArn: ROLE,
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
            DeadLetterConfig: { Arn: queueArn("schedule-dlq") },
          },
        }),
      ),
    );
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: "doomed" }));
    await advance(3_600_000);
    const empty = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 0 }));
    assert.equal(empty.Messages, undefined, "not before the retries");
    await advance(1000); // retry 1
    await advance(2000); // retry 2: the last
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq.QueueUrl,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
      }),
    );
    const [letter] = got.Messages ?? [];
    assert.ok(letter, "the tick reached the dead-letter queue");
    assert.equal(JSON.parse(letter.Body!)["detail-type"], "Scheduled Event");
    assert.equal(letter.MessageAttributes?.RETRY_ATTEMPTS?.StringValue, "2");
    assert.match(letter.MessageAttributes?.ERROR_MESSAGE?.StringValue ?? "", /doomed/);
    assert.equal(
      letter.MessageAttributes?.SCHEDULE_ARN?.StringValue,
      `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/default/doomed`,
    );
    await scheduler.send(new DeleteScheduleCommand({ Name: "doomed" }));
  });

  test("a queue target gets the tick as a message", async () => {
    const q = await sqs.send(
      new CreateQueueCommand({ QueueName: "ticks.fifo", Attributes: { FifoQueue: "true" } }),
    );
    await refused(
      scheduler.send(
        new CreateScheduleCommand(
          schedule({ Name: "to-fifo", Target: { Arn: queueArn("ticks.fifo"), RoleArn: ROLE } }),
        ),
      ),
      ValidationException,
      /MessageGroupId/,
    );
    await scheduler.send(
      new CreateScheduleCommand(
        schedule({
          Name: "to-fifo",
          ScheduleExpression: "rate(2 minutes)",
          Target: {
            Arn: queueArn("ticks.fifo"),
            RoleArn: ROLE,
            Input: '{"hello":"queue"}',
            SqsParameters: { MessageGroupId: "g" },
          },
        }),
      ),
    );
    await advance(120_000);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, WaitTimeSeconds: 1 }));
    assert.deepEqual(
      got.Messages?.map((m) => m.Body),
      ['{"hello":"queue"}'],
    );
    await scheduler.send(new DeleteScheduleCommand({ Name: "to-fifo" }));
  });
});

describe("across a restart", () => {
  test("no tick fires twice; the latest tick missed while down fires once if still within its window", async () => {
    const own = new FakeClock(Math.floor(Date.now() / 60_000) * 60_000);
    const dataDir = mkdtempSync(join(tmpdir(), "nimbus-schedules-restart-"));
    chmodSync(dataDir, 0o711);
    const { store, drop } = await testStore();
    const start = async () => {
      const platform = await createPlatform(loadConfig({}, {}, { port: 0, dataDir, store }), {
        logger: silentLogger,
        clock: own,
      });
      const url = await platform.listen();
      const o = { endpoint: url, region: "us-east-1", credentials: platform.credentials, maxAttempts: 1 };
      const c = new NimbusClient({
        endpoint: url,
        region: "us-east-1",
        ...platform.credentials,
        now: () => own.now(),
      });
      return {
        platform,
        lambda: signAsOf(new LambdaClient(o), own),
        scheduler: signAsOf(new SchedulerClient(o), own),
        c,
      };
    };
    const step = async (ms: number) => {
      own.advance(ms);
      await own.settle();
    };
    try {
      const first = await start();
      await createNodeFunction(first.lambda, "kept", ECHO);
      await createNodeFunction(first.lambda, "hourly", ECHO);
      const target = (fn: string, age?: number) => ({
        Arn: fnArn(fn),
        RoleArn: ROLE,
        ...(age ? { RetryPolicy: { MaximumEventAgeInSeconds: age } } : {}),
      });
      await first.scheduler.send(
        new CreateScheduleCommand(schedule({ Name: "kept", Target: target("kept") })),
      );
      await first.scheduler.send(
        new CreateScheduleCommand(
          schedule({ Name: "hourly", ScheduleExpression: "rate(1 hour)", Target: target("hourly", 60) }),
        ),
      );
      await step(60_000);
      await settled(first.c, "kept", 1);
      first.lambda.destroy();
      first.scheduler.destroy();
      await first.platform.close();

      // Down for an hour and 100 s: "kept" missed 61 ticks, the last 40 s ago; "hourly"'s one
      // tick is 100 s old, past its 60 s window.
      own.advance(3_660_000 - 60_000 + 100_000 - 60_000);
      const second = await start();
      try {
        await own.settle();
        const kept = await settled(second.c, "kept", 2);
        assert.equal(kept.length, 2, "one delivery for the missed ticks");
        assert.equal((await invocations(second.c, "hourly")).length, 0, "a tick past its window is skipped");
        await step(20_000);
        await settled(second.c, "kept", 3);
        await step(30_000);
        assert.equal((await invocations(second.c, "kept")).length, 3, "once a minute again");
      } finally {
        second.lambda.destroy();
        second.scheduler.destroy();
        await second.platform.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await drop();
    }
  });
});
