import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import type { S3Error } from "./errors.js";
import type { BucketRecord } from "./model.js";
import {
  checkConfiguration,
  matchingTargets,
  type NotificationInput,
  type NotificationLinks,
  ObjectNotifications,
  Sequencer,
  wantsEvent,
} from "./notifications.js";

const FN = "arn:aws:lambda:us-east-1:000000000000:function:thumbs";
const FN2 = "arn:aws:lambda:us-east-1:000000000000:function:audit";
const QUEUE = "arn:aws:sqs:us-east-1:000000000000:uploads";

type Target = NotificationInput["targets"][number];
const fn = (over: Partial<Target> = {}): Target => ({
  kind: "function",
  id: "thumbs",
  arn: FN,
  events: ["s3:ObjectCreated:*"],
  rules: [],
  ...over,
});
const config = (...targets: Target[]) => checkConfiguration({ targets, eventBridge: false });

function refused(f: () => unknown): S3Error {
  try {
    f();
  } catch (err) {
    return err as S3Error;
  }
  throw new Error("expected the configuration to be refused");
}

describe("a notification configuration", () => {
  test("is kept as given, with an id made for a destination without one and repeated events once", () => {
    const c = checkConfiguration({
      targets: [
        fn({
          events: ["s3:ObjectCreated:Put", "s3:ObjectCreated:Put"],
          rules: [
            { name: "prefix", value: "images/" },
            { name: "Suffix", value: ".jpg" },
          ],
        }),
        { kind: "queue", id: undefined, arn: QUEUE, events: ["s3:ObjectRemoved:*"], rules: [] },
      ],
      eventBridge: true,
    });
    assert.deepEqual(c.targets[0], {
      kind: "function",
      id: "thumbs",
      arn: FN,
      events: ["s3:ObjectCreated:Put"],
      prefix: "images/",
      suffix: ".jpg",
    });
    assert.match(c.targets[1]?.id ?? "", /^[A-Za-z0-9+/=]{20,}$/);
    assert.deepEqual(
      [c.targets[1]?.prefix, c.targets[1]?.suffix, c.eventBridge],
      [undefined, undefined, true],
    );
  });

  test("names S3's event types Nimbus sends; one S3 has and Nimbus never sends is NotImplemented; others are InvalidArgument", () => {
    for (const e of [
      "s3:ObjectCreated:*",
      "s3:ObjectCreated:Put",
      "s3:ObjectCreated:Post",
      "s3:ObjectCreated:Copy",
      "s3:ObjectCreated:CompleteMultipartUpload",
      "s3:ObjectRemoved:*",
      "s3:ObjectRemoved:Delete",
      "s3:ObjectRemoved:DeleteMarkerCreated",
    ])
      assert.equal(config(fn({ events: [e] })).targets[0]?.events[0], e);
    const restore = refused(() => config(fn({ events: ["s3:ObjectRestore:Post"] })));
    assert.deepEqual([restore.code, restore.status], ["NotImplemented", 501]);
    const unknown = refused(() => config(fn({ events: ["s3:ObjectCreated:Upload"] })));
    assert.deepEqual(
      [unknown.code, unknown.fields.ArgumentValue],
      ["InvalidArgument", "s3:ObjectCreated:Upload"],
    );
    assert.equal(refused(() => config(fn({ events: [] }))).code, "InvalidArgument");
    assert.equal(refused(() => config(fn({ arn: "" }))).code, "InvalidArgument");
  });

  test("has at most one prefix and one suffix rule per destination, named prefix or suffix", () => {
    const two = refused(() =>
      config(
        fn({
          rules: [
            { name: "prefix", value: "a/" },
            { name: "Prefix", value: "b/" },
          ],
        }),
      ),
    );
    assert.equal(two.code, "InvalidArgument");
    assert.match(two.message, /more than one prefix rule/);
    const suffixes = refused(() =>
      config(
        fn({
          rules: [
            { name: "suffix", value: ".a" },
            { name: "suffix", value: ".b" },
          ],
        }),
      ),
    );
    assert.match(suffixes.message, /more than one suffix rule/);
    assert.match(
      refused(() => config(fn({ rules: [{ name: "contains", value: "x" }] }))).message,
      /prefix or suffix/,
    );
  });

  test("refuses two destinations one event could reach: a shared event type with overlapping prefixes and suffixes", () => {
    const other = (events: string[], rules: Target["rules"] = []) =>
      fn({ id: "other", arn: FN2, events, rules });
    const same = refused(() => config(fn(), other(["s3:ObjectCreated:Put"])));
    assert.equal(same.code, "InvalidArgument");
    assert.match(same.message, /Configurations overlap/);
    const nested = refused(() =>
      config(
        fn({ rules: [{ name: "prefix", value: "images/" }] }),
        other(["s3:ObjectCreated:*"], [{ name: "prefix", value: "images/2026/" }]),
      ),
    );
    assert.match(nested.message, /ambiguously defined/);
    // Disjoint: another event family, prefixes apart, or suffixes apart.
    config(fn(), other(["s3:ObjectRemoved:*"]));
    config(
      fn({ rules: [{ name: "prefix", value: "images/" }] }),
      other(["s3:ObjectCreated:*"], [{ name: "prefix", value: "logs/" }]),
    );
    config(
      fn({ rules: [{ name: "suffix", value: ".jpg" }] }),
      other(["s3:ObjectCreated:Put"], [{ name: "suffix", value: ".png" }]),
    );
    assert.equal(refused(() => config(fn(), fn({ events: ["s3:ObjectRemoved:*"] }))).code, "InvalidArgument");
  });
});

describe("matching an event", () => {
  const c = config(
    fn({
      events: ["s3:ObjectCreated:*"],
      rules: [
        { name: "prefix", value: "photos/" },
        { name: "suffix", value: ".jpg" },
      ],
    }),
    fn({ id: "removals", arn: FN2, events: ["s3:ObjectRemoved:Delete"] }),
  );

  test("takes the event type (a family's wildcard covers its events), the prefix and the suffix", () => {
    const ids = (name: string, key: string) => matchingTargets(c, name, key).map((t) => t.id);
    assert.deepEqual(ids("ObjectCreated:Put", "photos/cat.jpg"), ["thumbs"]);
    assert.deepEqual(ids("ObjectCreated:CompleteMultipartUpload", "photos/a/b.jpg"), ["thumbs"]);
    assert.deepEqual(ids("ObjectCreated:Put", "photos/cat.png"), []);
    assert.deepEqual(ids("ObjectCreated:Put", "other/cat.jpg"), []);
    assert.deepEqual(ids("ObjectRemoved:Delete", "photos/cat.jpg"), ["removals"]);
    assert.deepEqual(ids("ObjectRemoved:DeleteMarkerCreated", "photos/cat.jpg"), []);
  });

  test("the bus wants every event; without it, only a matching destination makes one", () => {
    assert.equal(wantsEvent(c, "ObjectCreated:Put", "other/x"), false);
    assert.equal(wantsEvent({ ...c, eventBridge: true }, "ObjectCreated:Put", "other/x"), true);
  });

  test("sequencers are 18 hex digits and increase even when the clock stands still", () => {
    const s = new Sequencer();
    const a = s.next(1_800_000_000_000);
    const b = s.next(1_800_000_000_000);
    const c2 = s.next(1_799_999_999_999);
    const d = s.next(1_800_000_000_001);
    for (const x of [a, b, c2, d]) assert.match(x, /^[0-9A-F]{18}$/);
    assert.ok(a < b && b < c2 && c2 < d, [a, b, c2, d].join(" "));
  });
});

describe("a bucket's notifications", () => {
  function setup(existing: readonly string[] = [FN, QUEUE]) {
    const clock = new FakeClock();
    const settings = new Map<string, string>();
    const bucket = (): BucketRecord => ({
      name: "b",
      createdAt: 0,
      versioning: "Unversioned",
      publicRead: false,
      settings: settings.has("b") ? { notification: settings.get("b")! } : {},
    });
    const sent: string[] = [];
    const links: NotificationLinks = {
      account: { region: "us-east-1", accountId: "000000000000" },
      exists: async (arn) => existing.includes(arn),
      invokeAsync: async (arn, payload) => void sent.push(`${arn} ${payload}`),
      sendToQueue: async (arn, body) => void sent.push(`${arn} ${body}`),
      publish: async () => undefined,
    };
    let written = 0;
    const n = new ObjectNotifications({
      repo: {
        getBucket: async (name) => (name === "b" ? bucket() : undefined),
        putSetting: async (name, _kind, json) => {
          if (name !== "b") return false;
          if (json === undefined) settings.delete(name);
          else settings.set(name, json);
          return true;
        },
      },
      clock,
      links: () => links,
      log: () => undefined,
      written: () => void written++,
    });
    return { n, bucket, sent, settings, clock, written: () => written };
  }
  const put = (n: ObjectNotifications, input: NotificationInput, bucket = "b") =>
    n.put(bucket, input, { requestId: "req-1", skipDestinationValidation: false });

  test("a configuration is stored and read back; each destination gets S3's test event", async () => {
    const { n, sent } = setup();
    const input: NotificationInput = {
      targets: [fn(), { kind: "queue", id: "q", arn: QUEUE, events: ["s3:ObjectRemoved:*"], rules: [] }],
      eventBridge: true,
    };
    await put(n, input);
    // Stored as JSON: a filter not given is absent.
    assert.deepEqual(await n.get("b"), JSON.parse(JSON.stringify(checkConfiguration(input))));
    assert.equal(sent.length, 2);
    const [arn, body] = [sent[0]!.slice(0, FN.length), JSON.parse(sent[0]!.slice(FN.length + 1))];
    assert.equal(arn, FN);
    assert.deepEqual(
      { ...body, Time: undefined, HostId: undefined },
      {
        Service: "Amazon S3",
        Event: "s3:TestEvent",
        Bucket: "b",
        RequestId: "req-1",
        Time: undefined,
        HostId: undefined,
      },
    );
    assert.match(body.Time, /^\d{4}-\d\d-\d\dT/);
    // An empty configuration removes it.
    await put(n, { targets: [], eventBridge: false });
    assert.deepEqual(await n.get("b"), { targets: [], eventBridge: false });
  });

  test("a destination that is not a function or standard queue of the platform is refused, each one named", async () => {
    const { n, settings } = setup([FN]);
    const err = await put(n, {
      targets: [
        fn({ arn: FN2 }),
        fn({
          id: "q-as-fn",
          arn: QUEUE,
          events: ["s3:ObjectRemoved:*"],
          rules: [{ name: "prefix", value: "a/" }],
        }),
        {
          kind: "queue",
          id: "q",
          arn: QUEUE,
          events: ["s3:ObjectRemoved:Delete"],
          rules: [{ name: "prefix", value: "b/" }],
        },
      ],
      eventBridge: false,
    }).then(
      () => assert.fail("accepted"),
      (e: S3Error) => e,
    );
    assert.equal(err.code, "InvalidArgument");
    assert.equal(err.message, "Unable to validate the following destination configurations");
    assert.deepEqual(
      [err.fields.ArgumentName1, err.fields.ArgumentName2, err.fields.ArgumentName3],
      [FN2, QUEUE, QUEUE],
    );
    assert.equal(settings.size, 0, "nothing stored");
    await assert.rejects(put(n, { targets: [fn()], eventBridge: false }, "missing"), /bucket does not exist/);
  });

  test("a change writes an event row only when the bucket's configuration wants it", async () => {
    const { n, bucket, clock } = setup();
    const object = { key: "photos/a.jpg", size: 3, etag: '"abc"', versionId: undefined };
    const origin = { requestId: "r", sourceIp: "10.0.0.1" };
    assert.equal(n.eventFor(bucket(), "ObjectCreated:Put", object, origin), undefined, "no configuration");
    await put(n, { targets: [fn({ rules: [{ name: "prefix", value: "photos/" }] })], eventBridge: false });
    assert.equal(
      n.eventFor(bucket(), "ObjectRemoved:Delete", object, origin),
      undefined,
      "another event type",
    );
    assert.equal(n.eventFor(bucket(), "ObjectCreated:Put", { ...object, key: "x.jpg" }, origin), undefined);
    const e = n.eventFor(bucket(), "ObjectCreated:Copy", object, origin);
    assert.deepEqual(
      { ...e, id: undefined, sequencer: undefined },
      {
        id: undefined,
        eventName: "ObjectCreated:Copy",
        bucket: "b",
        key: "photos/a.jpg",
        size: 3,
        etag: "abc",
        versionId: undefined,
        sequencer: undefined,
        sourceIp: "10.0.0.1",
        requestId: "r",
        createdAt: clock.now(),
        attempts: 0,
        dueAt: clock.now(),
      },
    );
  });

  test("a committed event wakes the deliverer; a change without one does not", () => {
    const { n, written } = setup();
    n.committed(undefined);
    assert.equal(written(), 0);
    n.committed({} as never);
    assert.equal(written(), 1);
  });
});
