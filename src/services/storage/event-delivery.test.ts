import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { silentLogger } from "../../shared/logger.js";
import {
  encodeEventKey,
  eventBridgeEvent,
  idempotencyKey,
  MAX_EVENT_AGE_MS,
  ObjectEventDelivery,
  s3Event,
} from "./event-delivery.js";
import type { ObjectEventRecord } from "./model.js";
import {
  checkConfiguration,
  type NotificationConfiguration,
  type NotificationLinks,
} from "./notifications.js";

const ACCOUNT = { region: "eu-west-1", accountId: "123456789012" };
const FN = "arn:aws:lambda:eu-west-1:123456789012:function:thumbs";
const QUEUE = "arn:aws:sqs:eu-west-1:123456789012:uploads";

const event = (over: Partial<ObjectEventRecord> = {}): ObjectEventRecord => ({
  id: "e1",
  eventName: "ObjectCreated:Put",
  bucket: "photos",
  key: "2026/my cat.jpg",
  size: 1024,
  etag: "0123456789abcdef0123456789abcdef",
  versionId: undefined,
  sequencer: "0019A2B3C4D5E6F700",
  sourceIp: "10.1.2.3",
  requestId: "REQ1",
  createdAt: Date.UTC(2026, 10, 24, 12, 0, 0),
  attempts: 0,
  dueAt: Date.UTC(2026, 10, 24, 12, 0, 0),
  ...over,
});

describe("object events' shapes", () => {
  test("S3's event record: a key URL-encoded with + for spaces, the configuration's id, the request", () => {
    assert.deepEqual(s3Event(event({ versionId: "v1" }), "thumbs-rule", ACCOUNT), {
      Records: [
        {
          eventVersion: "2.1",
          eventSource: "aws:s3",
          awsRegion: "eu-west-1",
          eventTime: "2026-11-24T12:00:00.000Z",
          eventName: "ObjectCreated:Put",
          userIdentity: { principalId: "123456789012" },
          requestParameters: { sourceIPAddress: "10.1.2.3" },
          responseElements: { "x-amz-request-id": "REQ1", "x-amz-id-2": "REQ1" },
          s3: {
            s3SchemaVersion: "1.0",
            configurationId: "thumbs-rule",
            bucket: {
              name: "photos",
              ownerIdentity: { principalId: "123456789012" },
              arn: "arn:aws:s3:::photos",
            },
            object: {
              key: "2026/my+cat.jpg",
              size: 1024,
              eTag: "0123456789abcdef0123456789abcdef",
              versionId: "v1",
              sequencer: "0019A2B3C4D5E6F700",
            },
          },
        },
      ],
    });
    const removed = s3Event(event({ eventName: "ObjectRemoved:Delete" }), "r", ACCOUNT).Records[0]?.s3.object;
    assert.deepEqual(removed, { key: "2026/my+cat.jpg", sequencer: "0019A2B3C4D5E6F700" }, "no size or ETag");
  });

  test("keys are encoded as S3 encodes them, and read back with + as a space", () => {
    const keys = ["a b/c+d=e&f.txt", "ün/ï (1)!.png", "x~y*z'"];
    assert.deepEqual(keys.map(encodeEventKey), [
      "a+b/c%2Bd%3De%26f.txt",
      "%C3%BCn/%C3%AF+%281%29%21.png",
      "x%7Ey*z%27",
    ]);
    for (const k of keys) assert.equal(decodeURIComponent(encodeEventKey(k).replace(/\+/g, " ")), k);
  });

  test("EventBridge's detail: Object Created with size and ETag, Object Deleted with its deletion type", () => {
    assert.deepEqual(
      eventBridgeEvent(event({ eventName: "ObjectCreated:CompleteMultipartUpload" }), ACCOUNT),
      {
        detailType: "Object Created",
        detail: {
          version: "0",
          bucket: { name: "photos" },
          object: {
            key: "2026/my cat.jpg",
            size: 1024,
            etag: "0123456789abcdef0123456789abcdef",
            sequencer: "0019A2B3C4D5E6F700",
          },
          "request-id": "REQ1",
          requester: "123456789012",
          "source-ip-address": "10.1.2.3",
          reason: "CompleteMultipartUpload",
        },
      },
    );
    const marker = eventBridgeEvent(
      event({ eventName: "ObjectRemoved:DeleteMarkerCreated", versionId: "m1" }),
      ACCOUNT,
    );
    assert.equal(marker.detailType, "Object Deleted");
    assert.deepEqual(marker.detail.object, {
      key: "2026/my cat.jpg",
      "version-id": "m1",
      sequencer: "0019A2B3C4D5E6F700",
    });
    assert.deepEqual(
      [marker.detail.reason, marker.detail["deletion-type"]],
      ["DeleteObject", "Delete Marker Created"],
    );
    // Lifecycle's, as S3 describes them: the reason names the rule's doing, not a request.
    const details = ["LifecycleExpiration:Delete", "LifecycleExpiration:DeleteMarkerCreated"].map(
      (eventName) => {
        const e = eventBridgeEvent(event({ eventName }), ACCOUNT);
        return [e.detailType, e.detail.reason, e.detail["deletion-type"]];
      },
    );
    assert.deepEqual(details, [
      ["Object Deleted", "Lifecycle Expiration", "Permanently Deleted"],
      ["Object Deleted", "Lifecycle Expiration", "Delete Marker Created"],
    ]);
  });
});

describe("delivering object events", () => {
  function setup(o: { config?: NotificationConfiguration; refuse?: () => boolean } = {}) {
    const clock = new FakeClock(Date.UTC(2026, 10, 24, 12, 0, 0));
    const outbox: ObjectEventRecord[] = [];
    const handed: { to: string; payload: unknown; key?: string | undefined }[] = [];
    const links: NotificationLinks = {
      account: ACCOUNT,
      exists: async () => true,
      invokeAsync: async (arn, payload, key) => {
        if (o.refuse?.()) throw new Error("the async queue is not taking events");
        handed.push({ to: arn, payload: JSON.parse(payload), key });
      },
      sendToQueue: async (arn, body) => void handed.push({ to: arn, payload: JSON.parse(body) }),
      publish: async (detailType, detail, resources) =>
        void handed.push({ to: "bus", payload: { detailType, detail, resources } }),
    };
    const config =
      o.config ??
      checkConfiguration({
        targets: [
          {
            kind: "function",
            id: "thumbs",
            arn: FN,
            events: ["s3:ObjectCreated:*"],
            rules: [{ name: "suffix", value: ".jpg" }],
          },
          { kind: "queue", id: "q", arn: QUEUE, events: ["s3:ObjectRemoved:*"], rules: [] },
        ],
        eventBridge: true,
      });
    const delivery = new ObjectEventDelivery({
      repo: {
        dueEvents: async (at, limit) =>
          outbox
            .filter((e) => e.dueAt <= at)
            .sort((a, b) => a.createdAt - b.createdAt)
            .slice(0, limit),
        retryEvent: async (id, dueAt) => {
          const i = outbox.findIndex((e) => e.id === id);
          if (i >= 0) outbox[i] = { ...outbox[i]!, attempts: outbox[i]!.attempts + 1, dueAt };
        },
        deleteEvent: async (id) => {
          const i = outbox.findIndex((e) => e.id === id);
          if (i >= 0) outbox.splice(i, 1);
        },
      },
      clock,
      logger: silentLogger,
      links: () => links,
      configuration: async (bucket) => (bucket === "photos" ? config : undefined),
    });
    return { clock, outbox, handed, delivery };
  }

  test("a due event goes to each destination that wants it and to the bus, then leaves the outbox", async () => {
    const { outbox, handed, delivery, clock } = setup();
    outbox.push(event({ createdAt: clock.now(), dueAt: clock.now() }));
    await delivery.start();
    await delivery.idle();
    assert.deepEqual(
      handed.map((h) => [h.to, h.key]),
      [
        [FN, idempotencyKey("e1", "thumbs")],
        ["bus", undefined],
      ],
    );
    const [fnPayload, busPayload] = handed.map((h) => h.payload);
    assert.equal((fnPayload as ReturnType<typeof s3Event>).Records[0]?.s3.configurationId, "thumbs");
    assert.deepEqual((busPayload as { resources: string[] }).resources, ["arn:aws:s3:::photos"]);
    assert.equal(outbox.length, 0);

    // Written later: delivered when the writer says so, in order; a key no destination wants goes to the bus only.
    outbox.push(
      event({ id: "e2", key: "a.png", createdAt: clock.now(), dueAt: clock.now() }),
      event({ id: "e3", eventName: "ObjectRemoved:Delete", createdAt: clock.now() + 1, dueAt: clock.now() }),
    );
    delivery.changed();
    await delivery.idle();
    assert.deepEqual(
      handed.slice(2).map((h) => h.to),
      ["bus", QUEUE, "bus"],
    );
    assert.equal(outbox.length, 0);
    await delivery.stop();
  });

  test("an event of a bucket gone, or that its configuration no longer wants, leaves without a hand-over", async () => {
    const { outbox, handed, delivery, clock } = setup({ config: { targets: [], eventBridge: false } });
    outbox.push(event({ dueAt: clock.now() }), event({ id: "gone", bucket: "deleted", dueAt: clock.now() }));
    await delivery.start();
    await delivery.idle();
    assert.deepEqual([handed, outbox], [[], []]);
    await delivery.stop();
  });

  test("a refused hand-over is tried again after 1 s, then 2 s, on the clock, and the event leaves once taken", async () => {
    let refusals = 2;
    const { outbox, handed, delivery, clock } = setup({ refuse: () => refusals-- > 0 });
    outbox.push(event({ dueAt: clock.now() }));
    await delivery.start();
    await delivery.idle();
    assert.deepEqual(
      outbox.map((e) => [e.attempts, e.dueAt - clock.now()]),
      [[1, 1000]],
    );
    clock.advance(999);
    await clock.settle();
    assert.equal(outbox[0]?.attempts, 1, "not before it is due");
    clock.advance(1);
    await clock.settle();
    assert.deepEqual(
      outbox.map((e) => [e.attempts, e.dueAt - clock.now()]),
      [[2, 2000]],
    );
    clock.advance(2000);
    await clock.settle();
    assert.equal(outbox.length, 0);
    assert.deepEqual(
      handed.map((h) => h.to),
      [FN, "bus"],
    );
    await delivery.stop();
  });

  test("an event refused for longer than the maximum age is given up", async () => {
    const { outbox, delivery, clock } = setup({ refuse: () => true });
    outbox.push(event({ createdAt: clock.now() - MAX_EVENT_AGE_MS, dueAt: clock.now() }));
    await delivery.start();
    await delivery.idle();
    assert.equal(outbox.length, 0);
    await delivery.stop();
  });

  test("stopped, it delivers nothing more", async () => {
    const { outbox, handed, delivery, clock } = setup();
    await delivery.start();
    await delivery.idle();
    await delivery.stop();
    outbox.push(event({ dueAt: clock.now() }));
    delivery.changed();
    clock.advance(60_000);
    await clock.settle();
    assert.deepEqual(handed, []);
    assert.equal(outbox.length, 1);
  });
});
