/**
 * End to end through `nimbus deploy --template`: a function's Schedule and ScheduleV2 events
 * made schedules of EventBridge Scheduler in the stack's own schedule group, read back with
 * `@aws-sdk/client-scheduler`. Deployed again, nothing changes; a changed expression updates its
 * schedule; a dropped event deletes its schedule, and the last one the group. A bad cron is
 * refused with Scheduler's message before anything is made; a group of the stack's name that
 * is not the stack's is refused too. (Schedules firing is scheduler.test.ts's.)
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GetFunctionCommand, ResourceNotFoundException as NoFunction } from "@aws-sdk/client-lambda";
import {
  CreateScheduleGroupCommand,
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListSchedulesCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { type CliResult, nimbus } from "./helpers/cli.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";

const ACCOUNT = "000000000000";
const FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:s-Worker`;
let t: TestPlatform;
let scheduler: SchedulerClient;
let root: string;

const TEMPLATE = `Transform: AWS::Serverless-2016-10-31
Resources:
  Failed:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker
      Handler: index.handler
      Runtime: nodejs20.x
      AutoPublishAlias: live
      Events:
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
            Input: '{"job":"tick"}'
        Nightly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 2 * * ? *)
            ScheduleExpressionTimezone: Europe/Paris
            RetryPolicy: { MaximumRetryAttempts: 3 }
            DeadLetterConfig: { Arn: !GetAtt Failed.Arn }
`;

before(async () => {
  t = await startPlatform();
  scheduler = new SchedulerClient({
    endpoint: t.url,
    region: "us-east-1",
    credentials: t.platform.credentials,
    maxAttempts: 1,
  });
  root = mkdtempSync(join(tmpdir(), "nimbus-sam-s-"));
});
after(async () => {
  scheduler.destroy();
  await t.close();
  await rm(root, { recursive: true, force: true });
});

/** Deploys `template` as the stack named after its directory, `stack`. */
async function deployAs(stack: string, template: string): Promise<CliResult> {
  const dir = join(root, stack);
  mkdirSync(join(dir, "worker"), { recursive: true });
  writeFileSync(join(dir, "worker", "index.mjs"), "export const handler = async (e) => e;");
  writeFileSync(join(dir, "template.yaml"), template);
  return nimbus(t.dataDir, "deploy", "--template", join(dir, "template.yaml"));
}

async function deploy(template: string): Promise<string> {
  const res = await deployAs("s", template);
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

const get = (Name: string) => scheduler.send(new GetScheduleCommand({ Name, GroupName: "s" }));
const gone = (err: Error) => err instanceof ResourceNotFoundException;

describe("templates with Schedule and ScheduleV2 events", () => {
  test("deployed into the stack's group, redeployed with nothing to do, updated, and what is dropped deleted", async () => {
    const first = await deploy(TEMPLATE);
    assert.match(
      first,
      /\+ create queue s-Failed\n\+ create function s-Worker\n\+ create alias s-Worker:live \(.*\)\n\+ create schedule group s\n\+ create schedule s\/Worker-Tick → s-Worker:live\n\+ create schedule s\/Worker-Nightly → s-Worker:live\napplied 6 change\(s\)\n$/,
    );
    const group = await scheduler.send(new GetScheduleGroupCommand({ Name: "s" }));
    const { Tags } = await scheduler.send(new ListTagsForResourceCommand({ ResourceArn: group.Arn! }));
    assert.deepEqual(Tags, [{ Key: "nimbus:stack", Value: "s" }]);
    const { Schedules } = await scheduler.send(new ListSchedulesCommand({ GroupName: "s" }));
    assert.deepEqual(Schedules?.map((s) => s.Name).sort(), ["Worker-Nightly", "Worker-Tick"]);

    const tick = await get("Worker-Tick");
    assert.equal(tick.ScheduleExpression, "rate(1 minute)");
    assert.equal(tick.ScheduleExpressionTimezone, "UTC");
    assert.equal(tick.State, "ENABLED");
    assert.deepEqual(tick.FlexibleTimeWindow, { Mode: "OFF" });
    assert.equal(tick.Target?.Arn, `${FN}:live`, "a function's events go to its AutoPublishAlias");
    assert.equal(tick.Target?.RoleArn, `arn:aws:iam::${ACCOUNT}:role/nimbus-scheduler`);
    assert.equal(tick.Target?.Input, '{"job":"tick"}');
    assert.deepEqual(tick.Target?.RetryPolicy, {
      MaximumEventAgeInSeconds: 86_400,
      MaximumRetryAttempts: 185,
    });
    const nightly = await get("Worker-Nightly");
    assert.equal(nightly.ScheduleExpression, "cron(0 2 * * ? *)");
    assert.equal(nightly.ScheduleExpressionTimezone, "Europe/Paris");
    assert.equal(nightly.Target?.RetryPolicy?.MaximumRetryAttempts, 3);
    assert.equal(nightly.Target?.DeadLetterConfig?.Arn, `arn:aws:sqs:us-east-1:${ACCOUNT}:s-Failed`);
    assert.equal(nightly.Target?.Input, undefined);

    assert.match(await deploy(TEMPLATE), /\nno changes\n$/);

    const changed = await deploy(TEMPLATE.replace("rate(1 minute)", "rate(5 minutes)"));
    assert.match(
      changed,
      /^~ update schedule s\/Worker-Tick → s-Worker:live: ScheduleExpression rate\(1 minute\) → rate\(5 minutes\)$/m,
    );
    assert.match(changed, /^= unchanged schedule s\/Worker-Nightly → s-Worker:live$/m);
    assert.match(changed, /applied 1 change\(s\)\n$/);
    const updated = await get("Worker-Tick");
    assert.equal(updated.ScheduleExpression, "rate(5 minutes)");
    assert.equal(updated.Target?.Input, '{"job":"tick"}', "the update sends the whole schedule");
    assert.equal(updated.CreationDate?.getTime(), tick.CreationDate?.getTime(), "the same schedule, updated");

    const dropped = await deploy(TEMPLATE.replace(/ {8}Tick:\n(.*\n){4}/, ""));
    assert.match(dropped, /^- delete schedule s\/Worker-Tick$/m);
    assert.match(dropped, /applied 1 change\(s\)\n$/);
    await assert.rejects(get("Worker-Tick"), gone);
    assert.equal((await get("Worker-Nightly")).ScheduleExpression, "cron(0 2 * * ? *)");

    const none = await deploy(TEMPLATE.replace(/ {6}Events:[\s\S]*$/, ""));
    assert.match(none, /- delete schedule s\/Worker-Nightly\n- delete schedule group s\n/);
    await assert.rejects(scheduler.send(new GetScheduleGroupCommand({ Name: "s" })), gone);
  });

  test("a bad cron is refused with Scheduler's message before anything is made", async () => {
    const res = await deployAs("bad", TEMPLATE.replace("cron(0 2 * * ? *)", "cron(0 2 * * *)"));
    assert.equal(res.code, 2, `${res.stdout}\n${res.stderr}`);
    assert.match(
      res.stderr,
      /Resources\.Worker\.Properties\.Events\.Nightly\.Properties\.ScheduleExpression: Invalid Schedule Expression cron\(0 2 \* \* \*\)\. \(a cron expression has six fields .*, this has 5\)\n/,
    );
    assert.match(res.stderr, /nothing was changed\n$/);
    await assert.rejects(
      t.lambda.send(new GetFunctionCommand({ FunctionName: "bad-Worker" })),
      (err: Error) => err instanceof NoFunction,
    );
    await assert.rejects(scheduler.send(new GetScheduleGroupCommand({ Name: "bad" })), gone);
  });

  test("a schedule group of the stack's name that the stack did not make is refused", async () => {
    await scheduler.send(new CreateScheduleGroupCommand({ Name: "taken" }));
    const res = await deployAs("taken", TEMPLATE);
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.match(
      res.stderr,
      /error: schedule group taken already exists and was not made by a stack \(it has no nimbus:stack tag\); .*tag it nimbus:stack=taken\nnothing was changed\n$/,
    );
    await assert.rejects(
      t.lambda.send(new GetFunctionCommand({ FunctionName: "taken-Worker" })),
      (err: Error) => err instanceof NoFunction,
    );
  });
});
