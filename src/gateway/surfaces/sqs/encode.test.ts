import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeSqsError, encodeSqsResult, queryErrorCode } from "./protocol.js";
import { escapeXml } from "./xml.js";

const NS = 'xmlns="http://queue.amazonaws.com/doc/2012-11-05/"';

test("a JSON result is the output as JSON, with the JSON 1.0 content type and the request id", () => {
  const r = encodeSqsResult("json", "GetQueueUrl", { QueueUrl: "http://h/1/q" }, "req-1");
  assert.deepEqual(r, {
    status: 200,
    headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "req-1" },
    body: '{"QueueUrl":"http://h/1/q"}',
  });
  assert.equal(encodeSqsResult("json", "DeleteQueue", {}, "r").body, "{}");
});

test("a Query result is the action's Response and Result elements, in SQS's namespace, with the request id", () => {
  const r = encodeSqsResult("query", "CreateQueue", { QueueUrl: "http://h/1/q" }, "req-1");
  assert.equal(r.status, 200);
  assert.deepEqual(r.headers, { "content-type": "text/xml", "x-amzn-requestid": "req-1" });
  assert.equal(
    r.body,
    `<?xml version="1.0"?><CreateQueueResponse ${NS}><CreateQueueResult><QueueUrl>http://h/1/q</QueueUrl></CreateQueueResult>` +
      "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></CreateQueueResponse>",
  );
});

test("an action that returns nothing has no Result element", () => {
  assert.equal(
    encodeSqsResult("query", "DeleteMessage", {}, "r").body,
    `<?xml version="1.0"?><DeleteMessageResponse ${NS}><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteMessageResponse>`,
  );
});

const resultOf = (action: string, output: Record<string, unknown>) => {
  const body = encodeSqsResult("query", action, output, "r").body;
  return body.slice(body.indexOf(`<${action}Result>`), body.indexOf("<ResponseMetadata>"));
};

test("lists and maps are flattened into repeated elements under their own names", () => {
  assert.equal(
    resultOf("ListQueues", { QueueUrls: ["u1", "u2"], NextToken: "t" }),
    "<ListQueuesResult><QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl><NextToken>t</NextToken></ListQueuesResult>",
  );
  assert.equal(
    resultOf("ListDeadLetterSourceQueues", { queueUrls: ["u1"] }),
    "<ListDeadLetterSourceQueuesResult><QueueUrl>u1</QueueUrl></ListDeadLetterSourceQueuesResult>",
  );
  assert.equal(
    resultOf("GetQueueAttributes", { Attributes: { VisibilityTimeout: "30", DelaySeconds: "0" } }),
    "<GetQueueAttributesResult><Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute>" +
      "<Attribute><Name>DelaySeconds</Name><Value>0</Value></Attribute></GetQueueAttributesResult>",
  );
  assert.equal(
    resultOf("ListQueueTags", { Tags: { env: "prod" } }),
    "<ListQueueTagsResult><Tag><Key>env</Key><Value>prod</Value></Tag></ListQueueTagsResult>",
  );
  assert.equal(resultOf("ListQueues", {}), "<ListQueuesResult></ListQueuesResult>");
});

test("a received message is written in SQS's element order, whatever order the output's members are in", () => {
  const xml = resultOf("ReceiveMessage", {
    Messages: [
      {
        MessageAttributes: { k: { StringValue: "v", DataType: "String" } },
        Attributes: { SenderId: "AID" },
        Body: "b",
        MD5OfMessageAttributes: "m2",
        MD5OfBody: "m1",
        ReceiptHandle: "r",
        MessageId: "id",
      },
    ],
  });
  assert.equal(
    xml,
    "<ReceiveMessageResult><Message><MessageId>id</MessageId><ReceiptHandle>r</ReceiptHandle><MD5OfBody>m1</MD5OfBody>" +
      "<Body>b</Body><Attribute><Name>SenderId</Name><Value>AID</Value></Attribute><MD5OfMessageAttributes>m2</MD5OfMessageAttributes>" +
      "<MessageAttribute><Name>k</Name><Value><DataType>String</DataType><StringValue>v</StringValue></Value></MessageAttribute>" +
      "</Message></ReceiveMessageResult>",
  );
});

test("batch results carry their entries and their errors, SenderFault as true or false", () => {
  assert.equal(
    resultOf("SendMessageBatch", {
      Successful: [{ Id: "a", MessageId: "m", MD5OfMessageBody: "x" }],
      Failed: [{ Id: "b", SenderFault: false, Code: "InternalError", Message: "m" }],
    }),
    "<SendMessageBatchResult><SendMessageBatchResultEntry><Id>a</Id><MessageId>m</MessageId><MD5OfMessageBody>x</MD5OfMessageBody>" +
      "</SendMessageBatchResultEntry><BatchResultErrorEntry><Id>b</Id><SenderFault>false</SenderFault><Code>InternalError</Code>" +
      "<Message>m</Message></BatchResultErrorEntry></SendMessageBatchResult>",
  );
});

test("text is escaped: markup, quotes and CR, which a parser would otherwise turn into LF", () => {
  assert.equal(
    escapeXml(`<a href="x">'&'</a>]]>\r\n\t🚀`),
    "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;]]&gt;&#xD;\n\t🚀",
  );
  assert.match(
    resultOf("ListQueueTags", { Tags: { "<k>": "&v" } }),
    /<Tag><Key>&lt;k&gt;<\/Key><Value>&amp;v<\/Value><\/Tag>/,
  );
  assert.match(encodeSqsResult("query", "PurgeQueue", {}, "<id>").body, /<RequestId>&lt;id&gt;<\/RequestId>/);
});

test("a result shaped wrongly for its action fails loudly rather than writing XML no client reads", () => {
  assert.throws(
    () => encodeSqsResult("query", "ListQueues", { QueueUrls: "u1" }, "r"),
    /QueueUrls must be an array/,
  );
  assert.throws(() => encodeSqsResult("query", "Nope", {}, "r"), /SQS action Nope has no Query result shape/);
});

test("a JSON error names the exception in __type and gives the Query code and fault in x-amzn-query-error", () => {
  const err = {
    code: "QueueDoesNotExist",
    message: "The specified queue does not exist.",
    status: 400,
    sender: true,
  };
  assert.deepEqual(encodeSqsError("json", err, "req-9"), {
    status: 400,
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amzn-requestid": "req-9",
      "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender",
    },
    body: '{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}',
  });
  const internal = encodeSqsError(
    "json",
    { code: "InternalError", message: "x", status: 500, sender: false },
    "r",
  );
  assert.equal(internal.headers["x-amzn-query-error"], "InternalError;Receiver");
  assert.equal(internal.status, 500);
});

test("a Query error is SQS's ErrorResponse, under the legacy code, escaped", () => {
  const r = encodeSqsError(
    "query",
    { code: "QueueNameExists", message: 'queue "a" <exists>', status: 400, sender: true },
    "req-9",
  );
  assert.equal(r.status, 400);
  assert.deepEqual(r.headers, { "content-type": "text/xml", "x-amzn-requestid": "req-9" });
  assert.equal(
    r.body,
    `<?xml version="1.0"?><ErrorResponse ${NS}><Error><Type>Sender</Type><Code>QueueAlreadyExists</Code>` +
      "<Message>queue &quot;a&quot; &lt;exists&gt;</Message><Detail/></Error><RequestId>req-9</RequestId></ErrorResponse>",
  );
});

test("codes the model gives a legacy name map to it; the others are the same in both protocols", () => {
  assert.equal(queryErrorCode("PurgeQueueInProgress"), "AWS.SimpleQueueService.PurgeQueueInProgress");
  assert.equal(queryErrorCode("ReceiptHandleIsInvalid"), "ReceiptHandleIsInvalid");
  assert.equal(queryErrorCode("InvalidParameterValue"), "InvalidParameterValue");
  assert.equal(queryErrorCode("toString"), "toString");
});
