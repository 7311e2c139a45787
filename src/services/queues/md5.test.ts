import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { HttpRequest } from "@smithy/protocol-http";
import { HttpResponse } from "@smithy/protocol-http";
import { md5OfBody, md5OfMessageAttributes } from "./md5.js";

/** A real SQS client whose every call gets `answer` as a JSON 1.0 response: no network. */
function clientAnswering(answer: Record<string, unknown>): SQSClient {
  return new SQSClient({
    region: "us-east-1",
    endpoint: "http://localhost:9324",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
    requestHandler: {
      handle: async (_req: HttpRequest) => ({
        response: new HttpResponse({
          statusCode: 200,
          headers: { "content-type": "application/x-amz-json-1.0" },
          body: Buffer.from(JSON.stringify(answer)),
        }),
      }),
    },
  });
}

const QUEUE_URL = "http://localhost:9324/000000000000/orders";
const BODIES = ["hello", "é ü ß — 日本語 — 🚀", "line\r\nnext\rcr", '<xml attr="&">\'</xml>', " "];

test("the body digest is the one the SDK checks on SendMessage: it accepts ours and refuses a wrong one", async () => {
  for (const body of BODIES) {
    const client = clientAnswering({ MessageId: "m-1", MD5OfMessageBody: md5OfBody(body) });
    const out = await client.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: body }));
    assert.equal(out.MessageId, "m-1");
  }
  const wrong = clientAnswering({ MessageId: "m-1", MD5OfMessageBody: md5OfBody("other") });
  await assert.rejects(
    wrong.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: "hello" })),
    /InvalidChecksumError/,
  );
});

test("the body digest is the one the SDK checks on ReceiveMessage, for every message", async () => {
  const messages = BODIES.map((Body, i) => ({
    MessageId: `m-${i}`,
    ReceiptHandle: `r-${i}`,
    Body,
    MD5OfBody: md5OfBody(Body),
  }));
  const out = await clientAnswering({ Messages: messages }).send(
    new ReceiveMessageCommand({ QueueUrl: QUEUE_URL }),
  );
  assert.deepEqual(
    out.Messages?.map((m) => m.Body),
    BODIES,
  );
  const corrupt = messages.map((m, i) => (i === 1 ? { ...m, MD5OfBody: md5OfBody("x") } : m));
  await assert.rejects(
    clientAnswering({ Messages: corrupt }).send(new ReceiveMessageCommand({ QueueUrl: QUEUE_URL })),
    /Invalid MD5 checksum on messages: m-1/,
  );
});

test("the body digest is MD5 of the UTF-8 bytes", () => {
  assert.equal(md5OfBody(""), "d41d8cd98f00b204e9800998ecf8427e");
  assert.equal(md5OfBody("The quick brown fox jumps over the lazy dog"), "9e107d9d372bb6826bd81d3542a419d6");
  assert.equal(md5OfBody("é"), createHash("md5").update(Uint8Array.of(0xc3, 0xa9)).digest("hex"));
  assert.notEqual(md5OfBody("é"), md5OfBody("e\u0301"), "no Unicode normalisation: the bytes as sent");
});

// The SDKs do not check attribute digests in JS, so these vectors come from AWS: the message
// attributes of the SQS developer guide's examples, and the Java SDK's sample attributes.
test("the attributes digest matches AWS's published values for string attributes", () => {
  assert.equal(
    md5OfMessageAttributes({ SellerName: { DataType: "String", StringValue: "Example Store" } }),
    "cd28f3b68aeee4b2eac9c66f2f694b58",
  );
  assert.equal(
    md5OfMessageAttributes({
      SellerName: { DataType: "String", StringValue: "Example Store" },
      Region: { DataType: "String", StringValue: "WA" },
      PostalCode: { DataType: "String", StringValue: "99065" },
      City: { DataType: "String", StringValue: "Any City" },
    }),
    "66d793da93becb551e41562575418975",
    "attributes are digested by name, whatever order they were given in",
  );
  assert.equal(
    md5OfMessageAttributes({
      City: { DataType: "String", StringValue: "Any City" },
      PostalCode: { DataType: "String", StringValue: "99065" },
      PricePerGallon: { DataType: "Number", StringValue: "1.99" },
      Region: { DataType: "String", StringValue: "WA" },
      SellerName: { DataType: "String", StringValue: "Example Store" },
    }),
    "10809b55e3d9b22c17220b7dbaf283ef",
  );
  assert.equal(
    md5OfMessageAttributes({
      test_attribute_name_2: { DataType: "String", StringValue: "test_attribute_value_2" },
      test_attribute_name_1: { DataType: "String", StringValue: "test_attribute_value_1" },
    }),
    "d53f3b558fe951154770f25cb63dbba9",
  );
});

test("the attributes digest matches AWS's published value for a binary attribute, given in base64", () => {
  const value = Buffer.from("test_attribute_value").toString("base64");
  assert.equal(
    md5OfMessageAttributes({ test_attribute_name: { DataType: "Binary", BinaryValue: value } }),
    "23f6bd27ea87aab7dfeadcc9aebee495",
  );
});

test("a custom binary type digests as binary: the transport byte follows the value, not the type's name", () => {
  const bytes = Buffer.from([0, 1, 2, 255]).toString("base64");
  const custom = md5OfMessageAttributes({ img: { DataType: "Binary.png", BinaryValue: bytes } });
  const asString = md5OfMessageAttributes({ img: { DataType: "Binary.png", StringValue: bytes } });
  assert.notEqual(custom, asString);
});

test("no attributes, no digest", () => {
  assert.equal(md5OfMessageAttributes({}), undefined);
});
