/** Planning a stack's schedules: its group and schedules created, replaced whole when changed, deleted when dropped. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { conflicts } from "./ownership.js";
import { parseTemplate } from "./parse.js";
import { type BuiltCode, type CurrentState, computePlan, describePlan, type LambdaConfig } from "./plan.js";
import type { CurrentSchedule } from "./schedule-steps.js";

const TEMPLATE = `Transform: AWS::Serverless-2016-10-31
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      AutoPublishAlias: live
      Events:
        Tick:
          Type: Schedule
          Properties: { Schedule: rate(1 minute), Input: '{"job":"tick"}' }
        Nightly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 2 * * ? *)
            ScheduleExpressionTimezone: Europe/Paris
            RetryPolicy: { MaximumRetryAttempts: 3 }
`;
const parse = (text: string) =>
  parseTemplate({
    file: "t.yaml",
    text,
    stackName: "app",
    region: "us-east-1",
    accountId: "1",
    endpoint: "http://127.0.0.1:9000",
  });
const stack = parse(TEMPLATE);
const code = new Map<string, BuiltCode>([
  ["Worker", { zip: Buffer.from("zip"), sha256: "SHA", handler: "index.handler" }],
]);
const FN = "arn:aws:lambda:us-east-1:1:function:app-Worker";
const GROUP = {
  name: "app",
  arn: "arn:aws:scheduler:us-east-1:1:schedule-group/app",
  tags: { "nimbus:stack": "app" },
};
const tags = { "nimbus:stack": "app", "nimbus:logical-id": "Worker" };
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

/** A schedule as GetSchedule answers it: Scheduler's defaults, and `over`. */
function schedule(name: string, over: Partial<CurrentSchedule> = {}): CurrentSchedule {
  return {
    Name: name,
    ScheduleExpression: "rate(1 minute)",
    ScheduleExpressionTimezone: "UTC",
    State: "ENABLED",
    FlexibleTimeWindow: { Mode: "OFF" },
    Target: {
      Arn: `${FN}:live`,
      RoleArn: "arn:aws:iam::1:role/nimbus-scheduler",
      Input: '{"job":"tick"}',
      RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
    },
    ...over,
  };
}

const NIGHTLY = schedule("Worker-Nightly", {
  ScheduleExpression: "cron(0 2 * * ? *)",
  ScheduleExpressionTimezone: "Europe/Paris",
  Target: {
    Arn: `${FN}:live`,
    RoleArn: "arn:aws:iam::1:role/nimbus-scheduler",
    RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 3 },
  },
});

/** The platform with the stack deployed as the template says, changed by `over`. */
function deployed(over: Partial<CurrentState> = {}): CurrentState {
  return {
    region: "us-east-1",
    accountId: "1",
    functions: new Map([["app-Worker", { config, alias: { version: "1", config }, tags }]]),
    functionTags: new Map([["app-Worker", tags]]),
    apis: new Map(),
    scheduleGroup: GROUP,
    schedules: new Map([
      ["Worker-Tick", schedule("Worker-Tick")],
      ["Worker-Nightly", NIGHTLY],
    ]),
    ...over,
  };
}

describe("planning schedules", () => {
  test("from nothing: the function and its alias, the stack's group, then each schedule on the alias", () => {
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
        "+ create function app-Worker",
        "+ create alias app-Worker:live (publish a version and point the alias at it)",
        "+ create schedule group app",
        "+ create schedule app/Worker-Tick → app-Worker:live",
        "+ create schedule app/Worker-Nightly → app-Worker:live",
        "",
      ].join("\n"),
    );
    const tick = plan.steps[3]!;
    assert.ok(tick.kind === "schedule");
    assert.deepEqual(tick.body, {
      GroupName: "app",
      ScheduleExpression: "rate(1 minute)",
      ScheduleExpressionTimezone: "UTC",
      State: "ENABLED",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: {
        Arn: `${FN}:live`,
        RoleArn: "arn:aws:iam::1:role/nimbus-scheduler",
        Input: '{"job":"tick"}',
        RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
      },
    });
  });

  test("what matches is unchanged", () => {
    const plan = computePlan(stack, code, deployed());
    assert.deepEqual(
      plan.steps.map((s) => `${s.kind} ${s.action}`),
      ["function unchanged", "alias unchanged", "schedule unchanged", "schedule unchanged"],
    );
  });

  test("a changed schedule is replaced whole; what the event dropped goes back to Scheduler's default", () => {
    const plan = computePlan(
      parse(
        TEMPLATE.replace("rate(1 minute)", "rate(5 minutes)").replace("      AutoPublishAlias: live\n", ""),
      ),
      code,
      deployed({
        functions: new Map([["app-Worker", { config, tags }]]),
        schedules: new Map([
          ["Worker-Tick", schedule("Worker-Tick", { State: "DISABLED", Description: "by hand" })],
          [
            "Worker-Nightly",
            {
              ...NIGHTLY,
              FlexibleTimeWindow: { Mode: "FLEXIBLE", MaximumWindowInMinutes: 5 },
              StartDate: Date.UTC(2030, 0, 1) / 1000,
            },
          ],
        ]),
      }),
    );
    const lines = describePlan(plan).trimEnd().split("\n");
    assert.deepEqual(lines.slice(1), [
      "~ update schedule app/Worker-Tick → app-Worker: target app-Worker:live → app-Worker, ScheduleExpression rate(1 minute) → rate(5 minutes), State DISABLED → ENABLED, Description",
      "~ update schedule app/Worker-Nightly → app-Worker: target app-Worker:live → app-Worker, FlexibleTimeWindow FLEXIBLE 5 min → OFF, StartDate 2030-01-01T00:00:00.000Z → (none)",
    ]);
    const tick = plan.steps[1]!;
    assert.ok(tick.kind === "schedule");
    assert.equal(tick.body.ScheduleExpression, "rate(5 minutes)");
    assert.equal(tick.body.Description, undefined);
    assert.equal((tick.body.Target as { Arn: string }).Arn, FN);
  });

  test("a schedule the template no longer declares is deleted, and the group once it declares none", () => {
    const current = deployed({
      schedules: new Map([...deployed().schedules!, ["Worker-Old", schedule("Worker-Old")]]),
    });
    assert.deepEqual(
      describePlan(computePlan(stack, code, current))
        .trimEnd()
        .split("\n")
        .slice(-1),
      ["- delete schedule app/Worker-Old"],
    );
    const none = parse(TEMPLATE.replace(/ {6}Events:[\s\S]*$/, ""));
    assert.deepEqual(
      describePlan(computePlan(none, code, current))
        .trimEnd()
        .split("\n")
        .slice(2),
      [
        "- delete schedule app/Worker-Nightly",
        "- delete schedule app/Worker-Old",
        "- delete schedule app/Worker-Tick",
        "- delete schedule group app",
      ],
    );
  });

  test("a group of the stack's name that is not the stack's is a conflict, and nothing in it is deleted", () => {
    for (const [groupTags, whose] of [
      [{}, /was not made by a stack .*; or, to hand it to this stack, tag it nimbus:stack=app$/],
      [{ "nimbus:stack": "other" }, /belongs to stack other; .*another --stack-name$/],
    ] as const) {
      const current = deployed({ scheduleGroup: { ...GROUP, tags: groupTags }, schedules: new Map() });
      const [found] = conflicts(stack, current);
      assert.match(found!, /^schedule group app already exists and /);
      assert.match(found!, whose);
      const none = parse(TEMPLATE.replace(/ {6}Events:[\s\S]*$/, ""));
      assert.deepEqual(conflicts(none, current), [], "a stack without schedules does not use the group");
      assert.doesNotMatch(describePlan(computePlan(none, code, current)), /schedule/);
    }
  });
});
