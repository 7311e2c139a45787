import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeSqsRequest, SqsProtocolError, type SqsRequest } from "./protocol.js";

const QUEUE_URL = "http://localhost:9324/000000000000/orders";

function form(body: string, url = "/", headers: Record<string, string> = {}): SqsRequest {
  return {
    method: "POST",
    url,
    headers: new Headers({
      host: "localhost:9324",
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      ...headers,
    }),
    body: Buffer.from(body),
  };
}

function json(action: string, body: string, headers: Record<string, string> = {}): SqsRequest {
  return {
    method: "POST",
    url: "/",
    headers: new Headers({
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": `AmazonSQS.${action}`,
      ...headers,
    }),
    body: Buffer.from(body),
  };
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

test("Query's flattened attributes, message attributes and numbers read as the JSON shape, whatever order the numbers come in", () => {
  const call = decodeSqsRequest(
    form(
      "Action=SendMessage&Version=2012-11-05&QueueUrl=" +
        encodeURIComponent(QUEUE_URL) +
        "&MessageBody=hello+world%21&DelaySeconds=45" +
        "&MessageAttribute.2.Name=b&MessageAttribute.2.Value.DataType=Binary&MessageAttribute.2.Value.BinaryValue=AAH%2F" +
        "&MessageAttribute.1.Name=k&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v" +
        "&MessageSystemAttribute.1.Name=AWSTraceHeader&MessageSystemAttribute.1.Value.DataType=String" +
        "&MessageSystemAttribute.1.Value.StringValue=Root%3D1",
    ),
  );
  assert.deepEqual(call, {
    protocol: "query",
    action: "SendMessage",
    input: {
      QueueUrl: QUEUE_URL,
      MessageBody: "hello world!",
      DelaySeconds: 45,
      MessageAttributes: {
        k: { DataType: "String", StringValue: "v" },
        b: { DataType: "Binary", BinaryValue: "AAH/" },
      },
      MessageSystemAttributes: { AWSTraceHeader: { DataType: "String", StringValue: "Root=1" } },
    },
  });
  assert.deepEqual(
    Object.keys(call.input.MessageAttributes as object),
    ["k", "b"],
    "in the order of their numbers",
  );
});

test("Query's lists, tags and batch entries read as the JSON shape", () => {
  const create = decodeSqsRequest(
    form(
      q({
        Action: "CreateQueue",
        QueueName: "orders",
        "Attribute.1.Name": "VisibilityTimeout",
        "Attribute.1.Value": "60",
        "Tag.1.Key": "team",
        "Tag.1.Value": "core",
      }),
    ),
  );
  assert.deepEqual(create.input, {
    QueueName: "orders",
    Attributes: { VisibilityTimeout: "60" },
    tags: { team: "core" },
  });
  const tag = decodeSqsRequest(
    form(q({ Action: "TagQueue", QueueUrl: QUEUE_URL, "Tag.1.Key": "a", "Tag.1.Value": "" })),
  );
  assert.deepEqual(tag.input, { QueueUrl: QUEUE_URL, Tags: { a: "" } });
  const untag = decodeSqsRequest(
    form(q({ Action: "UntagQueue", QueueUrl: QUEUE_URL, "TagKey.2": "b", "TagKey.1": "a" })),
  );
  assert.deepEqual(untag.input, { QueueUrl: QUEUE_URL, TagKeys: ["a", "b"] });
  const receive = decodeSqsRequest(
    form(
      q({
        Action: "ReceiveMessage",
        QueueUrl: QUEUE_URL,
        "AttributeName.1": "All",
        "MessageSystemAttributeName.1": "SentTimestamp",
        "MessageAttributeName.1": "color.*",
        MaxNumberOfMessages: "10",
        VisibilityTimeout: "0",
        WaitTimeSeconds: "20",
      }),
    ),
  );
  assert.deepEqual(receive.input, {
    QueueUrl: QUEUE_URL,
    AttributeNames: ["All"],
    MessageSystemAttributeNames: ["SentTimestamp"],
    MessageAttributeNames: ["color.*"],
    MaxNumberOfMessages: 10,
    VisibilityTimeout: 0,
    WaitTimeSeconds: 20,
  });
  const batch = decodeSqsRequest(
    form(
      q({
        Action: "ChangeMessageVisibilityBatch",
        QueueUrl: QUEUE_URL,
        "ChangeMessageVisibilityBatchRequestEntry.1.Id": "x",
        "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle": "r+/=",
        "ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout": "300",
      }),
    ),
  );
  assert.deepEqual(batch.input, {
    QueueUrl: QUEUE_URL,
    Entries: [{ Id: "x", ReceiptHandle: "r+/=", VisibilityTimeout: 300 }],
  });
});

test("a number that is not one stays text, for the service to refuse with the value", () => {
  const call = decodeSqsRequest(
    form(q({ Action: "ReceiveMessage", QueueUrl: QUEUE_URL, MaxNumberOfMessages: "ten" })),
  );
  assert.equal(call.input.MaxNumberOfMessages, "ten");
});

test("a GET carries its parameters in the query string, and the queue in its path", () => {
  const call = decodeSqsRequest({
    method: "GET",
    url: "/000000000000/orders?Action=GetQueueAttributes&AttributeName.1=All",
    headers: new Headers({ host: "sqs.localhost:9324" }),
    body: Buffer.alloc(0),
  });
  assert.deepEqual(call, {
    protocol: "query",
    action: "GetQueueAttributes",
    input: { AttributeNames: ["All"], QueueUrl: "http://sqs.localhost:9324/000000000000/orders" },
    pathQueueUrl: "http://sqs.localhost:9324/000000000000/orders",
  });
});

test("the queue URL in the path fills QueueUrl only when the input names none, and only for actions that take one", () => {
  const url = "https://localhost:9324/000000000000/orders/";
  const named = decodeSqsRequest(form(q({ Action: "PurgeQueue", QueueUrl: `${QUEUE_URL}-other` }), url));
  assert.equal(named.input.QueueUrl, `${QUEUE_URL}-other`);
  assert.equal(named.pathQueueUrl, "https://localhost:9324/000000000000/orders");
  const listing = decodeSqsRequest(form(q({ Action: "ListQueues" }), url));
  assert.deepEqual(listing.input, {});
  const json_ = decodeSqsRequest({ ...json("DeleteQueue", "{}"), url: "/000000000000/orders" });
  assert.equal(json_.input.QueueUrl, "http://localhost/000000000000/orders", "no Host header: the URL's");
  assert.equal(decodeSqsRequest(form(q({ Action: "ListQueues" }), "/a/b/c")).pathQueueUrl, undefined);
});

test("JSON: the target names the action, an empty body is no parameters, the body is the input", () => {
  assert.deepEqual(decodeSqsRequest(json("ListQueues", "")), {
    protocol: "json",
    action: "ListQueues",
    input: {},
  });
  const call = decodeSqsRequest(json("GetQueueUrl", '{"QueueName":"orders","Unknown":1}'));
  assert.deepEqual(call.input, { QueueName: "orders", Unknown: 1 });
});

function refused(r: SqsRequest, protocol: string, code: string, message: RegExp): void {
  assert.throws(
    () => decodeSqsRequest(r),
    (e: unknown) => {
      assert.ok(e instanceof SqsProtocolError);
      assert.equal(e.protocol, protocol);
      assert.equal(e.code, code);
      assert.equal(e.status, 400);
      assert.equal(e.sender, true);
      assert.match(e.message, message);
      return true;
    },
  );
}

test("a request with no action, or one SQS does not have, is refused in the protocol it came in", () => {
  refused(form("Version=2012-11-05&QueueName=x"), "query", "MissingAction", /expected an Action parameter/);
  refused(
    form("Action=DescribeQueue"),
    "query",
    "InvalidAction",
    /"DescribeQueue" is not an SQS action: expected one of CreateQueue, /,
  );
  refused(form("Action=constructor"), "query", "InvalidAction", /"constructor" is not an SQS action/);
  refused(json("Nope", "{}"), "json", "InvalidAction", /"Nope" is not an SQS action/);
  refused(
    json("x", "{}", { "x-amz-target": "DynamoDB_20120810.GetItem" }),
    "json",
    "InvalidAction",
    /X-Amz-Target "DynamoDB_20120810.GetItem" is not an SQS operation: expected AmazonSQS.<Action>/,
  );
  refused(
    {
      method: "PUT",
      url: "/",
      headers: new Headers({ "content-type": "text/plain" }),
      body: Buffer.from("hi"),
    },
    "query",
    "MissingAction",
    /cannot read an SQS action from a PUT request with content type "text\/plain": expected POST with X-Amz-Target/,
  );
});

test("a JSON body that is not a JSON object is refused, saying what was found", () => {
  refused(
    json("ListQueues", "{not json"),
    "json",
    "SerializationException",
    /the body of ListQueues is not JSON .*expected a JSON object/,
  );
  refused(json("ListQueues", "[1]"), "json", "SerializationException", /is an array: expected a JSON object/);
  refused(json("ListQueues", "null"), "json", "SerializationException", /is null: expected a JSON object/);
  refused(json("ListQueues", '"x"'), "json", "SerializationException", /is a string: expected a JSON object/);
  refused(
    json("ListQueues", "{}", { "content-type": "text/xml" }),
    "json",
    "SerializationException",
    /content type "text\/xml" is not AWS JSON: expected application\/x-amz-json-1.0/,
  );
  refused(
    { ...json("ListQueues", ""), body: Buffer.from([0x7b, 0xff, 0x7d]) },
    "json",
    "SerializationException",
    /not UTF-8/,
  );
});

test("malformed Query parameters are refused rather than guessed at", () => {
  refused(
    form("Action=SendMessage&MessageBody=%FF"),
    "query",
    "MalformedQueryString",
    /"%FF" is not valid form encoding/,
  );
  refused(
    form("Action=CreateQueue&Attribute.first.Name=x"),
    "query",
    "MalformedQueryString",
    /parameter Attribute.first is malformed: expected Attribute.N, N a number from 1/,
  );
  refused(
    form("Action=CreateQueue&Attribute.0.Name=x"),
    "query",
    "MalformedQueryString",
    /Attribute.0 is malformed/,
  );
  refused(
    form("Action=CreateQueue&QueueName=q&Attribute.1.Name=VisibilityTimeout"),
    "query",
    "MissingParameter",
    /Attribute.1.Value is missing: each Attribute.N needs both Name and Value/,
  );
  refused(
    form("Action=SendMessage&MessageAttribute.1.Value.DataType=String"),
    "query",
    "MissingParameter",
    /MessageAttribute.1.Name is missing/,
  );
});

test("a map key named __proto__ stays a key, as JSON.parse keeps it", () => {
  const call = decodeSqsRequest(
    form(q({ Action: "TagQueue", QueueUrl: QUEUE_URL, "Tag.1.Key": "__proto__", "Tag.1.Value": "x" })),
  );
  const tags = call.input.Tags as Record<string, unknown>;
  assert.deepEqual(Object.keys(tags), ["__proto__"]);
  assert.equal(Object.getPrototypeOf(tags), Object.prototype);
});
