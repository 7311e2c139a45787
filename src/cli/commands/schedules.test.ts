import assert from "node:assert/strict";
import { test } from "node:test";
import { describeSchedule, type Schedule, targetName, updateOf } from "./schedules.js";

const schedule = (over: Partial<Schedule> = {}): Schedule => ({
  Arn: "arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly",
  Name: "nightly",
  GroupName: "default",
  ScheduleExpression: "cron(0 2 * * ? *)",
  ScheduleExpressionTimezone: "UTC",
  State: "ENABLED",
  CreationDate: 1_900_000_000,
  LastModificationDate: 1_900_000_100.5,
  Target: {
    Arn: "arn:aws:lambda:us-east-1:000000000000:function:report",
    RoleArn: "arn:aws:iam::000000000000:role/nimbus-scheduler",
    Input: '{"x":1}',
    RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3 },
  },
  FlexibleTimeWindow: { Mode: "FLEXIBLE", MaximumWindowInMinutes: 10 },
  ActionAfterCompletion: "NONE",
  ...over,
});

test("an update keeps everything of the schedule but its read-only members, with the new state", () => {
  const s = schedule({ StartDate: 2_000_000_000, EndDate: 2_100_000_000, Description: "d" });
  const { Arn, Name, CreationDate, LastModificationDate, ...kept } = s;
  assert.deepEqual(updateOf(s, "DISABLED", 1_950_000_000_000), { ...kept, State: "DISABLED" });
});

test("a start date already past is left out of the update, which would refuse it", () => {
  const body = updateOf(schedule({ StartDate: 1_900_000_000 }), "DISABLED", 1_950_000_000_000);
  assert.equal("StartDate" in body, false);
  assert.equal(body.State, "DISABLED");
});

test("targets show as a function's name (with its qualifier) or a queue's", () => {
  assert.equal(targetName("arn:aws:lambda:us-east-1:000000000000:function:report"), "report");
  assert.equal(targetName("arn:aws:lambda:us-east-1:000000000000:function:report:live"), "report:live");
  assert.equal(targetName("arn:aws:sqs:us-east-1:000000000000:jobs"), "sqs:jobs");
  assert.equal(targetName("arn:aws:events:x"), "arn:aws:events:x");
});

test("get shows what is set and leaves out what is not", () => {
  const text = describeSchedule(schedule());
  assert.match(text, /^nightly \(group default\)\n/);
  assert.match(text, /^ {2}expression {3}cron\(0 2 \* \* \? \*\) \(UTC\)$/m);
  assert.match(text, /^ {2}window {7}flexible, up to 10 minutes$/m);
  assert.match(text, /^ {2}retry {8}up to 3 times within 3600 s$/m);
  assert.match(text, /^ {2}created {6}2030-03-17T17:46:40\.000Z$/m);
  assert.doesNotMatch(text, /start|dead-letter|description/);
});
