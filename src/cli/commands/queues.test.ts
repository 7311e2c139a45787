import assert from "node:assert/strict";
import { test } from "node:test";
import { describeAttributes, describeMessage, queueNameOf } from "./queues.js";

test("a received message shows its id, group, receive count past one and attributes, then its body", () => {
  const text = describeMessage({
    MessageId: "m-1",
    ReceiptHandle: "h",
    Body: "hello",
    Attributes: { MessageGroupId: "g", ApproximateReceiveCount: "3" },
    MessageAttributes: { kind: { DataType: "String", StringValue: "test" } },
  });
  assert.equal(text, "m-1  group=g  received=3  kind=test\nhello\n");
  assert.equal(
    describeMessage({
      MessageId: "m-2",
      ReceiptHandle: "h",
      Body: "x\n",
      Attributes: { ApproximateReceiveCount: "1" },
    }),
    "m-2\nx\n",
  );
});

test("attributes are sorted, timestamps also as ISO times", () => {
  const text = describeAttributes({ VisibilityTimeout: "30", CreatedTimestamp: "1900000000" });
  assert.equal(
    text,
    "ATTRIBUTE          VALUE\n" +
      "CreatedTimestamp   1900000000 (2030-03-17T17:46:40.000Z)\n" +
      "VisibilityTimeout  30\n",
  );
});

test("a queue's name is its URL's last segment", () => {
  assert.equal(queueNameOf("http://127.0.0.1:9000/000000000000/orders%2Dx"), "orders-x");
  assert.equal(queueNameOf("orders"), "orders");
});
