/** Reading a function's Schedule and ScheduleV2 events: Scheduler's settings and defaults, and what is refused. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseTemplate, TemplateProblems } from "./parse.js";
import { scheduleGroupName } from "./spec.js";

const HEAD = `Transform: AWS::Serverless-2016-10-31
Resources:
  Failed:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
`;

function parse(events: string, stackName = "app") {
  return parseTemplate({
    file: "/srv/app/template.yaml",
    text: HEAD + events,
    stackName,
    region: "us-east-1",
    accountId: "000000000000",
    endpoint: "http://127.0.0.1:9000",
  });
}

function problems(events: string): string[] {
  try {
    parse(events);
  } catch (err) {
    if (err instanceof TemplateProblems) return [...err.problems];
    throw err;
  }
  assert.fail("expected the template to be refused");
}

describe("reading Schedule and ScheduleV2 events", () => {
  test("a Schedule event: the expression in UTC, Enabled as State, Scheduler's retry defaults, a queue as dead letters", () => {
    const stack = parse(`        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
            Input: '{"job": "tick"}'
            Enabled: false
            Description: every minute
            DeadLetterConfig: { Arn: !GetAtt Failed.Arn }
`);
    assert.equal(stack.scheduleGroup, "app");
    assert.deepEqual(stack.schedules, [
      {
        functionId: "Fn",
        eventId: "Tick",
        type: "Schedule",
        name: "Fn-Tick",
        expression: "rate(1 minute)",
        timezone: "UTC",
        state: "DISABLED",
        description: "every minute",
        input: '{"job": "tick"}',
        flexibleWindowMinutes: undefined,
        startDate: undefined,
        endDate: undefined,
        kmsKeyArn: undefined,
        maximumRetryAttempts: 185,
        maximumEventAgeInSeconds: 86_400,
        deadLetterArn: "arn:aws:sqs:us-east-1:000000000000:app-Failed",
      },
    ]);
  });

  test("a ScheduleV2 event: time zone, window, dates as epoch seconds, the stack's group; IAM properties warned of", () => {
    const stack = parse(`        Nightly:
          Type: ScheduleV2
          Properties:
            Name: nightly-report
            ScheduleExpression: cron(0 2 * * ? *)
            ScheduleExpressionTimezone: Europe/Paris
            State: DISABLED
            FlexibleTimeWindow: { Mode: FLEXIBLE, MaximumWindowInMinutes: 15 }
            StartDate: "2030-01-01T00:00:00"
            EndDate: "2031-01-01T01:00:00+01:00"
            GroupName: !Ref AWS::StackName
            RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: "600" }
            KmsKeyArn: arn:aws:kms:us-east-1:000000000000:key/k
            RoleArn: arn:aws:iam::000000000000:role/mine
            OmitName: true
`);
    const [s] = stack.schedules;
    assert.equal(s!.name, "nightly-report");
    assert.equal(s!.expression, "cron(0 2 * * ? *)");
    assert.equal(s!.timezone, "Europe/Paris");
    assert.equal(s!.state, "DISABLED");
    assert.equal(s!.flexibleWindowMinutes, 15);
    assert.equal(s!.startDate, Date.UTC(2030, 0, 1) / 1000, "a date without an offset is UTC");
    assert.equal(s!.endDate, Date.UTC(2031, 0, 1) / 1000);
    assert.equal(s!.maximumRetryAttempts, 3);
    assert.equal(s!.maximumEventAgeInSeconds, 600);
    assert.equal(s!.kmsKeyArn, "arn:aws:kms:us-east-1:000000000000:key/k");
    assert.deepEqual(
      stack.warnings.map((w) => w.replace(/^\d+:\d+ /, "")),
      [
        "Resources.Fn.Properties.Events.Nightly.Properties.RoleArn: RoleArn has no effect: Nimbus has no IAM roles (its schedules run with arn:aws:iam::<account>:role/nimbus-scheduler)",
        "Resources.Fn.Properties.Events.Nightly.Properties.OmitName: OmitName has no effect: Nimbus names each schedule (Name, or {Function}-{Event}) so that a redeploy finds it",
      ],
    );
  });

  test("the stack's group is named after it, in the letters Scheduler takes", () => {
    assert.equal(scheduleGroupName("my app"), "my-app");
    assert.equal(scheduleGroupName("x".repeat(70)).length, 64);
    assert.equal(scheduleGroupName("a.b_c-1"), "a.b_c-1");
    assert.equal(
      parse("        T: { Type: Schedule, Properties: { Schedule: rate(5 minutes) } }\n", "shop")
        .scheduleGroup,
      "shop",
    );
  });

  test("bad expressions are refused with Scheduler's message, before anything is deployed", () => {
    assert.deepEqual(
      problems(`        A: { Type: Schedule, Properties: { Schedule: cron(0 12 * * *) } }
        B: { Type: ScheduleV2, Properties: { ScheduleExpression: "cron(0 12 * * MON *)" } }
        C: { Type: ScheduleV2, Properties: { ScheduleExpression: rate(2 minute) } }
        D: { Type: ScheduleV2, Properties: { ScheduleExpression: cron(0 99 * * ? *) } }
        E: { Type: ScheduleV2, Properties: { ScheduleExpression: rate(1 hour), ScheduleExpressionTimezone: Mars/Base } }
        F: { Type: Schedule, Properties: { Schedule: at(2030-01-01T00:00:00) } }
        G: { Type: ScheduleV2, Properties: { ScheduleExpression: every day } }
        H: { Type: Schedule, Properties: { Input: "{}" } }
`).map((p) => p.replace(/^\d+:\d+ Resources\.Fn\.Properties\.Events\./, "")),
      [
        "A.Properties.Schedule: Invalid Schedule Expression cron(0 12 * * *). (a cron expression has six fields (minutes hours day-of-month month day-of-week year), this has 5)",
        "B.Properties.ScheduleExpression: Invalid Schedule Expression cron(0 12 * * MON *). (give ? in exactly one of day-of-month and day-of-week)",
        'C.Properties.ScheduleExpression: Invalid Schedule Expression rate(2 minute). (say "1 minute" for one, "2 minutes" for more)',
        "D.Properties.ScheduleExpression: Invalid Schedule Expression cron(0 99 * * ? *). (Invalid value for hour: 99)",
        "E.Properties.ScheduleExpressionTimezone: Invalid time zone Mars/Base: expected an IANA time zone such as Europe/Paris or UTC.",
        "F.Properties.Schedule: an EventBridge rule's Schedule is rate(…) or cron(…): for a one-time at(…), use a ScheduleV2 event",
        "G.Properties.ScheduleExpression: Invalid Schedule Expression every day. (expected rate(value unit) with a unit of minutes, hours or days, cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss))",
        "H.Properties: Schedule is required: rate(…) or cron(…)",
      ],
    );
  });

  test("properties outside SAM's, or outside Scheduler's ranges, are named; another group is refused with why", () => {
    const found = problems(`        A:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
            Input: not json
            Enabled: true
            State: ENABLED
            Target: { Id: x }
            DeadLetterConfig: { Type: SQS }
        B:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 day)
            GroupName: shared
            FlexibleTimeWindow: { Mode: FLEXIBLE }
            RetryPolicy: { MaximumRetryAttempts: 200, MaximumEventAgeInSeconds: 10 }
            StartDate: tomorrow
            Name: "bad name"
        ThisEventHasAVeryLongLogicalIdThatMakesTheDefaultNameTooLongToUse:
          Type: ScheduleV2
          Properties: { ScheduleExpression: rate(1 day), StartDate: "2031-01-01", EndDate: "2030-01-01" }
        C: { Type: ScheduleV2, Properties: { Name: nightly, ScheduleExpression: rate(1 day) } }
        D: { Type: ScheduleV2, Properties: { Name: nightly, ScheduleExpression: rate(2 days) } }
`).map((p) => p.replace(/^\d+:\d+ Resources\.Fn\.Properties\.Events\./, ""));
    assert.deepEqual(found, [
      "A.Properties.Target: Schedule event property Target is not supported",
      "A.Properties.Input: expected JSON text: an EventBridge rule passes its Input as JSON",
      "A.Properties.Enabled: give Enabled or State, not both",
      "A.Properties.DeadLetterConfig.Type: DeadLetterConfig Type (a dead-letter queue SAM makes for the event) is not supported: declare an AWS::SQS::Queue and give its ARN as Arn (!GetAtt Queue.Arn)",
      "B.Properties.RetryPolicy.MaximumRetryAttempts: expected an integer from 0 to 185, got 200",
      "B.Properties.RetryPolicy.MaximumEventAgeInSeconds: expected an integer from 60 to 86400, got 10",
      'B.Properties.Name: the schedule name "bad name" must be 1 to 64 letters, digits, -, _ or .',
      "B.Properties.GroupName: the stack's schedules are in its own schedule group, app: the stack owns that group (its tags say so; Scheduler tags groups, not schedules) and deletes what the template no longer declares in it. Leave GroupName out, or give app",
      'B.Properties.StartDate: expected an ISO 8601 date and time such as 2030-01-01T00:00:00Z, got "tomorrow"',
      "B.Properties.FlexibleTimeWindow: MaximumWindowInMinutes (1 to 1440) is required when Mode is FLEXIBLE",
      'ThisEventHasAVeryLongLogicalIdThatMakesTheDefaultNameTooLongToUse: the schedule\'s name would be "Fn-ThisEventHasAVeryLongLogicalIdThatMakesTheDefaultNameTooLongToUse", more than 64 characters: give the event a Name (at most 64 characters)',
      "ThisEventHasAVeryLongLogicalIdThatMakesTheDefaultNameTooLongToUse.Properties.EndDate: the EndDate must be later than the StartDate",
      "D: the schedule name nightly is also Fn's event C's: names are unique in the stack's schedule group",
    ]);
  });
});
