import assert from "node:assert/strict";
import { test } from "node:test";
import type { SQSEvent } from "aws-lambda";
import { batchItemFailures, sqsRecord } from "./sqs.js";

test("an SQS record has Lambda's shape, message attributes in lower camel case with their list members", () => {
  const record = sqsRecord(
    {
      messageId: "m-1",
      receiptHandle: "h",
      body: "hi",
      md5OfBody: "49f68a5c8493ec2c0bf489821c21fc3b",
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1",
        SenderId: "0",
        ApproximateFirstReceiveTimestamp: "2",
      },
      messageAttributes: { k: { dataType: "String", stringValue: "v" } },
    },
    "arn:aws:sqs:us-east-1:000000000000:q",
    "us-east-1",
  );
  const event = { Records: [record] } satisfies SQSEvent;
  assert.deepEqual(event.Records[0]!.messageAttributes, {
    k: { stringValue: "v", stringListValues: [], binaryListValues: [], dataType: "String" },
  });
  assert.equal(record.eventSource, "aws:sqs");
  assert.equal(record.eventSourceARN, "arn:aws:sqs:us-east-1:000000000000:q");
  assert.equal("md5OfMessageAttributes" in record, false);
});

test("partial batch responses: failures listed, none, or invalid (then the whole batch failed)", () => {
  const ids = new Set(["a", "b"]);
  const read = (s: string) => batchItemFailures(Buffer.from(s), ids);
  assert.deepEqual(read('{"batchItemFailures":[{"itemIdentifier":"b"}]}'), ["b"]);
  assert.deepEqual(read('{"batchItemFailures":[]}'), []);
  assert.deepEqual(read('{"batchItemFailures":null}'), []);
  assert.deepEqual(read("null"), []);
  assert.deepEqual(read('"done"'), []);
  assert.deepEqual(read("{}"), []);
  assert.equal(read('{"batchItemFailures":[{"itemIdentifier":"zzz"}]}'), undefined);
  assert.equal(read('{"batchItemFailures":[{"itemIdentifier":""}]}'), undefined);
  assert.equal(read('{"batchItemFailures":[{}]}'), undefined);
  assert.equal(read('{"batchItemFailures":"b"}'), undefined);
});
