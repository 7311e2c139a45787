import assert from "node:assert/strict";
import { test } from "node:test";
import type { S3Error } from "../../../services/storage/errors.js";
import { checkConfiguration } from "../../../services/storage/notifications.js";
import { eventOrigin, notificationXml, parseNotificationXml } from "./notification-routes.js";
import type { S3Call } from "./request.js";

const FN = "arn:aws:lambda:us-east-1:000000000000:function:thumbs";
const QUEUE = "arn:aws:sqs:us-east-1:000000000000:uploads";
const xml = (body: string) =>
  Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</NotificationConfiguration>`,
  );

test("S3's NotificationConfiguration is read in client-s3's form, the legacy one and with the bus", () => {
  const input = parseNotificationXml(
    xml(
      `<QueueConfiguration><Queue>${QUEUE}</Queue><Event>s3:ObjectRemoved:*</Event></QueueConfiguration>` +
        `<CloudFunctionConfiguration><Id>thumbs</Id><CloudFunction>${FN}</CloudFunction>` +
        "<Event>s3:ObjectCreated:Put</Event><Event>s3:ObjectCreated:Copy</Event>" +
        "<Filter><S3Key><FilterRule><Name>prefix</Name><Value>my photos/</Value></FilterRule>" +
        "<FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter>" +
        "</CloudFunctionConfiguration>" +
        `<LambdaFunctionConfiguration><Function>${FN}:live</Function><Event>s3:ObjectRemoved:Delete</Event></LambdaFunctionConfiguration>` +
        "<EventBridgeConfiguration/>",
    ),
  );
  assert.deepEqual(input, {
    targets: [
      { kind: "queue", id: undefined, arn: QUEUE, events: ["s3:ObjectRemoved:*"], rules: [] },
      {
        kind: "function",
        id: "thumbs",
        arn: FN,
        events: ["s3:ObjectCreated:Put", "s3:ObjectCreated:Copy"],
        rules: [
          { name: "prefix", value: "my photos/" },
          { name: "suffix", value: ".jpg" },
        ],
      },
      { kind: "function", id: undefined, arn: `${FN}:live`, events: ["s3:ObjectRemoved:Delete"], rules: [] },
    ],
    eventBridge: true,
  });
  assert.deepEqual(parseNotificationXml(xml("")), { targets: [], eventBridge: false });
});

test("a configuration is written back as S3 writes it, and reads the same", () => {
  const config = checkConfiguration({
    targets: [
      {
        kind: "function",
        id: "a&b",
        arn: FN,
        events: ["s3:ObjectCreated:*"],
        rules: [{ name: "Suffix", value: ".jpg" }],
      },
      { kind: "queue", id: "q", arn: QUEUE, events: ["s3:ObjectRemoved:*"], rules: [] },
    ],
    eventBridge: true,
  });
  const written = notificationXml(config);
  assert.match(written, /<QueueConfiguration><Id>q<\/Id><Queue>/);
  assert.match(written, /<FilterRule><Name>Suffix<\/Name><Value>\.jpg<\/Value><\/FilterRule>/);
  assert.match(written, /<Id>a&amp;b<\/Id>/);
  assert.deepEqual(checkConfiguration(parseNotificationXml(Buffer.from(written))).targets, [
    config.targets[1],
    config.targets[0],
  ]);
});

test("an SNS topic is not implemented; a document that is not one is MalformedXML", () => {
  const topic = (() => {
    try {
      parseNotificationXml(
        xml("<TopicConfiguration><Topic>arn:aws:sns:us-east-1:0:t</Topic></TopicConfiguration>"),
      );
    } catch (err) {
      return err as S3Error;
    }
    return undefined;
  })();
  assert.equal(topic?.code, "NotImplemented");
  assert.throws(
    () => parseNotificationXml(Buffer.from("<VersioningConfiguration/>")),
    (e: S3Error) => e.code === "MalformedXML",
  );
});

test("an event names the request's id and the client's address, an IPv4 one without its IPv6 prefix", () => {
  const call = (remoteAddress: string | undefined) =>
    ({
      requestId: "r1",
      incoming: remoteAddress === undefined ? undefined : { socket: { remoteAddress } },
    }) as unknown as S3Call;
  assert.deepEqual(eventOrigin(call("::ffff:10.0.0.7")), { requestId: "r1", sourceIp: "10.0.0.7" });
  assert.deepEqual(eventOrigin(call("2001:db8::1")), { requestId: "r1", sourceIp: "2001:db8::1" });
  assert.deepEqual(eventOrigin(call(undefined)), { requestId: "r1", sourceIp: "127.0.0.1" });
});
