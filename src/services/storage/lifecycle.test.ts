import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { storageOnSqlite } from "../../../test/helpers/storage-service.js";
import type { FakeClock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { LIFECYCLE_FIRST_SWEEP_MS, LIFECYCLE_SWEEP_EVERY_MS, LifecycleSweep } from "./lifecycle.js";
import { checkLifecycle, DAY_MS, type RuleInput } from "./lifecycle-config.js";
import { Multipart } from "./multipart.js";
import { type NotificationConfiguration, ObjectNotifications } from "./notifications.js";
import { EMPTY_HEADERS } from "./storage.js";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

/** Every lifecycle event goes to one queue, so that the outbox keeps the rows the sweep wrote. */
const NOTIFY: NotificationConfiguration = {
  targets: [
    {
      kind: "queue",
      id: "expired",
      arn: "arn:aws:sqs:us-east-1:000000000000:expired",
      events: ["s3:LifecycleExpiration:*"],
      prefix: undefined,
      suffix: undefined,
    },
  ],
  eventBridge: false,
};

async function service() {
  // 2026-11-24 12:00 UTC.
  const { storage, repo, clock } = await storageOnSqlite({
    name: "lifecycle",
    cleanups,
    more: (repo, clock) => ({
      notifications: new ObjectNotifications({
        repo,
        clock,
        links: () => {
          throw new Error("nothing is delivered here");
        },
        log: () => undefined,
        written: () => undefined,
      }),
    }),
  });
  const multipart = new Multipart(storage);
  const errors: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (msg) => void errors.push(msg),
  };
  const sweep = new LifecycleSweep({ storage, multipart, clock, logger });
  /** A bucket with these rules (S3's input form), events of lifecycle going to the outbox. */
  const bucket = async (name: string, rules: Partial<RuleInput>[], versioned = false) => {
    await storage.createBucket(name);
    if (versioned) await storage.setVersioning(name, "Enabled");
    const config = checkLifecycle({ Rules: rules.map((r) => ({ Status: "Enabled", transitions: 0, ...r })) });
    await repo.putSetting(name, "lifecycle", JSON.stringify(config));
    await repo.putSetting(name, "notification", JSON.stringify(NOTIFY));
  };
  const put = (b: string, key: string, body = "x", tags: Record<string, string> = {}) =>
    storage.putObject(b, key, {
      body: (async function* () {
        yield Buffer.from(body);
      })(),
      size: Buffer.byteLength(body),
      headers: EMPTY_HEADERS,
      userMetadata: {},
      tags,
      checks: {},
    });
  const keys = async (b: string) =>
    (
      await storage.list(b, { prefix: "", delimiter: undefined, maxKeys: 1000, after: undefined })
    ).contents.map((o) => o.key);
  /** `key versionId-or-marker` of every version, by key then newest first. */
  const versions = async (b: string) =>
    (
      await repo.listVersions(b, { prefix: "", afterKey: undefined, afterVersionId: undefined, limit: 5000 })
    ).map((v) => `${v.key} ${v.isDeleteMarker ? "marker" : "version"}`);
  const events = async () => (await repo.dueEvents(clock.now(), 5000)).map((e) => `${e.eventName} ${e.key}`);
  return { storage, multipart, repo, clock, sweep, bucket, put, keys, versions, events, errors };
}

/** Moves a fake clock to an instant (it only moves forward). */
const moveTo = (clock: FakeClock, at: number) => clock.advance(at - clock.now());

describe("the lifecycle sweep", () => {
  test("an unversioned object goes at the first midnight UTC at least Days after its creation, with a LifecycleExpiration:Delete event", async () => {
    const s = await service();
    await s.bucket("logs", [{ Filter: { Prefix: "tmp/" }, Expiration: { Days: "1" } }]);
    await s.put("logs", "tmp/a.log", "hello");
    await s.put("logs", "keep/b.log");
    // Made at 12:00 on the 24th: 1 day is 12:00 on the 25th, rounded up to 00:00 on the 26th.
    moveTo(s.clock, Date.UTC(2026, 10, 25, 23, 59));
    assert.deepEqual(await s.sweep.runOnce(), {
      expired: 0,
      deleteMarkers: 0,
      noncurrent: 0,
      expiredMarkers: 0,
      uploadsAborted: 0,
    });
    moveTo(s.clock, Date.UTC(2026, 10, 26));
    assert.equal((await s.sweep.runOnce()).expired, 1);
    assert.deepEqual(await s.keys("logs"), ["keep/b.log"]);
    assert.deepEqual(await s.repo.usage("logs"), { objects: 1, bytes: 1 });
    assert.deepEqual(await s.events(), ["LifecycleExpiration:Delete tmp/a.log"]);
  });

  test("in a versioned bucket a current version is hidden under a delete marker, the noncurrent one goes after NoncurrentDays, then the lone marker", async () => {
    const s = await service();
    await s.bucket(
      "docs",
      [
        { ID: "current", Filter: {}, Expiration: { Days: "1" } },
        { ID: "noncurrent", Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: "2" } },
        { ID: "markers", Filter: {}, Expiration: { ExpiredObjectDeleteMarker: "true" } },
      ],
      true,
    );
    await s.put("docs", "report.pdf");
    moveTo(s.clock, Date.UTC(2026, 10, 26, 1));
    assert.equal((await s.sweep.runOnce()).deleteMarkers, 1);
    assert.deepEqual(await s.versions("docs"), ["report.pdf marker", "report.pdf version"]);
    assert.deepEqual(await s.keys("docs"), []);
    // The version became noncurrent at 01:00 on the 26th: 2 days later, rounded up, is the 29th.
    moveTo(s.clock, Date.UTC(2026, 10, 28, 23));
    assert.equal((await s.sweep.runOnce()).noncurrent, 0);
    moveTo(s.clock, Date.UTC(2026, 10, 29));
    const second = await s.sweep.runOnce();
    assert.deepEqual([second.noncurrent, second.expiredMarkers], [1, 0]);
    assert.deepEqual(await s.versions("docs"), ["report.pdf marker"]);
    // Now the marker is all that is left of the key: it goes at the next sweep.
    assert.equal((await s.sweep.runOnce()).expiredMarkers, 1);
    assert.deepEqual(await s.versions("docs"), []);
    assert.deepEqual(await s.repo.usage("docs"), { objects: 0, bytes: 0 });
    assert.deepEqual(await s.events(), [
      "LifecycleExpiration:DeleteMarkerCreated report.pdf",
      "LifecycleExpiration:Delete report.pdf",
      "LifecycleExpiration:Delete report.pdf",
    ]);
  });

  test("NewerNoncurrentVersions keeps that many of the newest noncurrent versions", async () => {
    const s = await service();
    await s.bucket(
      "keep",
      [{ Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: "1", NewerNoncurrentVersions: "2" } }],
      true,
    );
    for (const body of ["v1", "v2", "v3", "v4", "v5"]) {
      await s.put("keep", "k", body);
      s.clock.advance(60_000);
    }
    s.clock.advance(3 * DAY_MS);
    assert.equal((await s.sweep.runOnce()).noncurrent, 2);
    const left = await s.repo.listVersions("keep", {
      prefix: "",
      afterKey: undefined,
      afterVersionId: undefined,
      limit: 10,
    });
    assert.deepEqual(
      left.map((v) => v.size),
      [2, 2, 2],
    );
    assert.deepEqual(await s.repo.usage("keep"), { objects: 3, bytes: 6 });
  });

  test("filters by tag and size are applied, disabled rules are not, and a Date rule expires at its date", async () => {
    const s = await service();
    await s.bucket("mixed", [
      { Filter: { Tag: { Key: "temp", Value: "yes" } }, Expiration: { Days: "1" } },
      { Filter: { ObjectSizeGreaterThan: "3" }, Expiration: { Date: "2026-12-10" } },
      { Status: "Disabled", Filter: {}, Expiration: { Days: "1" } },
    ]);
    await s.put("mixed", "tagged", "x", { temp: "yes" });
    await s.put("mixed", "other-tag", "x", { temp: "no" });
    await s.put("mixed", "large", "12345");
    moveTo(s.clock, Date.UTC(2026, 11, 9, 23));
    assert.equal((await s.sweep.runOnce()).expired, 1);
    assert.deepEqual(await s.keys("mixed"), ["large", "other-tag"]);
    moveTo(s.clock, Date.UTC(2026, 11, 10));
    assert.equal((await s.sweep.runOnce()).expired, 1);
    assert.deepEqual(await s.keys("mixed"), ["other-tag"]);
  });

  test("incomplete multipart uploads under the rule's prefix are aborted after DaysAfterInitiation", async () => {
    const s = await service();
    await s.bucket("uploads", [
      { Prefix: "tmp/", AbortIncompleteMultipartUpload: { DaysAfterInitiation: "2" } },
    ]);
    const o = { headers: EMPTY_HEADERS, userMetadata: {}, tags: {}, checksumAlgorithm: undefined };
    await s.multipart.create("uploads", "tmp/big.bin", o);
    const kept = await s.multipart.create("uploads", "video/big.bin", o);
    moveTo(s.clock, Date.UTC(2026, 10, 26, 23));
    assert.equal((await s.sweep.runOnce()).uploadsAborted, 0);
    moveTo(s.clock, Date.UTC(2026, 10, 27));
    assert.equal((await s.sweep.runOnce()).uploadsAborted, 1);
    const left = await s.repo.listUploads("uploads", {
      prefix: "",
      afterKey: undefined,
      afterUploadId: undefined,
      limit: 10,
    });
    assert.deepEqual(
      left.map((u) => u.uploadId),
      [kept],
    );
  });

  test("a key whose versions run across a page is swept whole, the page's last version removed included", async () => {
    const s = await service();
    await s.bucket("paged", [{ Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: "1" } }], true);
    // 998 keys of one version, then "z" with three: its newest is the 999th, the next the 1,000th.
    for (let i = 0; i < 998; i++) await s.put("paged", `a${String(i).padStart(4, "0")}`);
    for (const body of ["old", "mid", "new"]) await s.put("paged", "z", body);
    s.clock.advance(2 * DAY_MS);
    assert.equal((await s.sweep.runOnce()).noncurrent, 2);
    const z = await s.repo.listVersions("paged", {
      prefix: "z",
      afterKey: undefined,
      afterVersionId: undefined,
      limit: 10,
    });
    assert.deepEqual(
      z.map((v) => v.size),
      [3],
    );
    assert.equal((await s.keys("paged")).length, 999);
  });

  test("a bucket whose sweep fails is logged and the other buckets are swept", async () => {
    const s = await service();
    await s.bucket("broken", [{ Filter: {}, Expiration: { Days: "1" } }]);
    await s.repo.putSetting("broken", "lifecycle", "{not json");
    await s.bucket("fine", [{ Filter: {}, Expiration: { Days: "1" } }]);
    await s.put("fine", "a");
    s.clock.advance(2 * DAY_MS);
    assert.equal((await s.sweep.runOnce()).expired, 1);
    assert.deepEqual(s.errors, ['object storage: the lifecycle sweep of bucket "broken" failed']);
  });

  test("once started it sweeps shortly after, then every hour of the clock", async () => {
    const s = await service();
    await s.bucket("timed", [{ Filter: {}, Expiration: { Days: "1" } }]);
    await s.put("timed", "a");
    await s.sweep.start();
    s.clock.advance(LIFECYCLE_FIRST_SWEEP_MS);
    await s.clock.settle();
    assert.deepEqual(await s.keys("timed"), ["a"]);
    await s.put("timed", "b");
    moveTo(s.clock, Date.UTC(2026, 10, 26) - 1);
    await s.clock.settle();
    assert.deepEqual(await s.keys("timed"), ["a", "b"]);
    // "a" (made at 12:00 on the 24th) and "b" (12:01) are due at 00:00 on the 26th: that hour's sweep takes both.
    s.clock.advance(LIFECYCLE_SWEEP_EVERY_MS);
    await s.clock.settle();
    assert.deepEqual(await s.keys("timed"), []);
    await s.sweep.stop();
  });
});
