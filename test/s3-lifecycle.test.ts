/**
 * Bucket lifecycle end to end: the operator sets, reads and removes a bucket's lifecycle rules
 * with `@aws-sdk/client-s3`; configurations S3 refuses are refused with S3's errors; and the
 * rules are applied by the platform's hourly sweep, on the platform's clock (a fake one that
 * the test moves days ahead): expired objects go, a versioned bucket's current version is
 * hidden under a delete marker and its older versions removed, incomplete multipart uploads are
 * aborted, and each removal's `LifecycleExpiration:*` event reaches a queue.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  type LifecycleRule,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { S3Event } from "aws-lambda";
import { FakeClock } from "../src/shared/clock.js";
import { signAsOf } from "./helpers/clock-sync.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { errorCodeOf, s3Client, s3Failure, signedFetch } from "./helpers/s3.js";
import { eventually } from "./helpers/wait.js";

/** The platform's clock: `advance` moves it and fires its timers; `jump` sets it ahead at once, as after a machine slept. */
class JumpClock extends FakeClock {
  #ahead = 0;
  override now(): number {
    return super.now() + this.#ahead;
  }
  jump(ms: number): void {
    this.#ahead += ms;
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const clock = new JumpClock(Date.now());
let t: TestPlatform;
let s3: S3Client;
let sqs: SQSClient;

before(async () => {
  t = await startPlatform({ poolSize: 0 }, clock);
  s3 = signAsOf(s3Client(t), clock);
  sqs = signAsOf(
    new SQSClient({
      endpoint: t.url,
      region: "us-east-1",
      credentials: t.platform.credentials,
      maxAttempts: 1,
    }),
    clock,
  );
});
after(async () => {
  s3.destroy();
  sqs.destroy();
  await t.close();
});

const putRules = (bucket: string, rules: LifecycleRule[]) =>
  s3.send(
    new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }),
  );
const rulesOf = async (bucket: string) =>
  JSON.parse(
    JSON.stringify((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules),
  ) as unknown;

/** Days pass on the platform's clock, then the hour of the next sweep; resolves once it has run. */
async function daysPass(days: number): Promise<void> {
  clock.jump(days * DAY_MS);
  clock.advance(HOUR_MS);
  await clock.settle();
}

async function keysOf(bucket: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((o) => o.Key ?? "");
}

describe("lifecycle configuration", () => {
  const RULES: LifecycleRule[] = [
    { ID: "tmp", Status: "Enabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 7 } },
    {
      Status: "Enabled",
      Filter: { And: { Prefix: "docs/", Tags: [{ Key: "draft", Value: "yes" }], ObjectSizeGreaterThan: 0 } },
      NoncurrentVersionExpiration: { NoncurrentDays: 30, NewerNoncurrentVersions: 5 },
    },
    { ID: "markers", Status: "Disabled", Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } },
    {
      ID: "uploads",
      Status: "Enabled",
      Prefix: "uploads/",
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
    },
    {
      ID: "end",
      Status: "Enabled",
      Filter: { Prefix: "" },
      Expiration: { Date: new Date("2030-01-01T00:00:00Z") },
    },
  ];

  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "configured" }));
  });

  test("is put, read back as it was put (with the ID S3 would generate) and deleted", async () => {
    const missing = await s3Failure(
      s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "configured" })),
    );
    assert.deepEqual(
      [missing.name, missing.status, missing.message],
      ["NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist"],
    );
    await putRules("configured", RULES);
    const read = (await rulesOf("configured")) as (LifecycleRule & { ID: string })[];
    assert.equal(read.length, 5);
    const generated = read[1]?.ID ?? "";
    assert.ok(generated.length > 0 && generated.length <= 255);
    assert.deepEqual(read, [
      RULES[0],
      { ...RULES[1], ID: generated },
      RULES[2],
      RULES[3],
      { ...RULES[4], Expiration: { Date: "2030-01-01T00:00:00.000Z" } },
    ]);
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: "configured" }));
    const gone = await s3Failure(
      s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "configured" })),
    );
    assert.equal(gone.name, "NoSuchLifecycleConfiguration");
    const noBucket = await s3Failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "nope" })));
    assert.deepEqual([noBucket.name, noBucket.status], ["NoSuchBucket", 404]);
  });

  const enabled = { Status: "Enabled" as const, Filter: {} };
  const refusals: [string, LifecycleRule[], string, number, RegExp][] = [
    [
      "a rule without an action",
      [{ ...enabled }],
      "InvalidRequest",
      400,
      /^At least one action needs to be specified in a rule$/,
    ],
    [
      "Days of 0",
      [{ ...enabled, Expiration: { Days: 0 } }],
      "InvalidArgument",
      400,
      /^'Days' for Expiration action must be a positive integer$/,
    ],
    [
      "a Date that is not midnight UTC",
      [{ ...enabled, Expiration: { Date: new Date("2030-01-01T12:00:00Z") } }],
      "InvalidArgument",
      400,
      /^'Date' must be at midnight GMT$/,
    ],
    [
      "ExpiredObjectDeleteMarker with Days",
      [{ ...enabled, Expiration: { Days: 1, ExpiredObjectDeleteMarker: true } }],
      "InvalidRequest",
      400,
      /^ExpiredObjectDeleteMarker cannot be specified with Days or Date/,
    ],
    [
      "two rules with one ID",
      [
        { ...enabled, ID: "a", Expiration: { Days: 1 } },
        { ...enabled, ID: "a", Expiration: { Days: 2 } },
      ],
      "InvalidArgument",
      400,
      /^Rule ID must be unique/,
    ],
    [
      "an ID of 256 characters",
      [{ ...enabled, ID: "x".repeat(256), Expiration: { Days: 1 } }],
      "InvalidArgument",
      400,
      /^ID length should not exceed allowed limit of 255/,
    ],
    [
      "a Status that is neither Enabled nor Disabled",
      [{ ...enabled, Status: "On" as "Enabled", Expiration: { Days: 1 } }],
      "MalformedXML",
      400,
      /Enabled or Disabled/,
    ],
    [
      "AbortIncompleteMultipartUpload with a tag filter",
      [
        {
          Status: "Enabled",
          Filter: { Tag: { Key: "a", Value: "b" } },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
      "InvalidRequest",
      400,
      /^AbortIncompleteMultipartUpload cannot be specified with Tags\.$/,
    ],
    [
      "1,001 rules",
      Array.from({ length: 1001 }, (_, i) => ({ ...enabled, ID: `r${i}`, Expiration: { Days: 1 } })),
      "InvalidRequest",
      400,
      /^Number of lifecycle rules should not exceed allowed limit of 1000 rules/,
    ],
    [
      "a Transition",
      [{ ...enabled, Transitions: [{ Days: 30, StorageClass: "GLACIER" }] }],
      "NotImplemented",
      501,
      /one storage class/,
    ],
  ];
  for (const [what, rules, name, status, message] of refusals)
    test(`refuses ${what} with ${name}, keeping the rules it had`, async () => {
      await putRules("configured", [RULES[0] as LifecycleRule]);
      const refused = await s3Failure(putRules("configured", rules));
      assert.deepEqual([refused.name, refused.status], [name, status]);
      assert.match(refused.message, message);
      assert.deepEqual(await rulesOf("configured"), [RULES[0]]);
    });

  test("refuses a body without Content-MD5 or a checksum, as S3 does", async () => {
    const body = Buffer.from(
      "<LifecycleConfiguration><Rule><ID>a</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>",
    );
    const signingDate = new Date(clock.now());
    const bare = await signedFetch(t, "PUT", "/s3/configured?lifecycle", { body, signingDate });
    assert.equal(bare.status, 400);
    assert.equal(errorCodeOf(await bare.text()), "InvalidRequest");
    const md5 = createHash("md5").update(body).digest("base64");
    const withMd5 = await signedFetch(t, "PUT", "/s3/configured?lifecycle", {
      body,
      signingDate,
      headers: { "content-md5": md5 },
    });
    assert.equal(withMd5.status, 200);
    assert.deepEqual(await rulesOf("configured"), [
      { ID: "a", Status: "Enabled", Filter: {}, Expiration: { Days: 1 } },
    ]);
  });
});

describe("the lifecycle sweep", () => {
  test("removes expired objects and aborts old uploads, on the platform's clock, leaving what its filters do not take", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "scratch" }));
    await putRules("scratch", [
      { ID: "tmp", Status: "Enabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 1 } },
      {
        ID: "uploads",
        Status: "Enabled",
        Filter: {},
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ]);
    for (const key of ["tmp/a.txt", "tmp/b.txt", "keep/c.txt"])
      await s3.send(new PutObjectCommand({ Bucket: "scratch", Key: key, Body: key }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: "scratch", Key: "big.bin" }));
    await daysPass(0);
    assert.deepEqual(await keysOf("scratch"), ["keep/c.txt", "tmp/a.txt", "tmp/b.txt"]);
    await daysPass(2);
    assert.deepEqual(await keysOf("scratch"), ["keep/c.txt"]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: "scratch" }));
    assert.deepEqual(uploads.Uploads ?? [], []);
  });

  test("in a versioned bucket hides the current version under a delete marker, then removes the old version and the lone marker, each event reaching a queue", async () => {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "expirations" }))).QueueUrl;
    await s3.send(new CreateBucketCommand({ Bucket: "archive" }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: "archive", VersioningConfiguration: { Status: "Enabled" } }),
    );
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "archive",
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Id: "expired",
              QueueArn: "arn:aws:sqs:us-east-1:000000000000:expirations",
              Events: ["s3:LifecycleExpiration:*"],
            },
          ],
        },
      }),
    );
    await putRules("archive", [
      { ID: "current", Status: "Enabled", Filter: {}, Expiration: { Days: 1 } },
      { ID: "old", Status: "Enabled", Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
      { ID: "markers", Status: "Enabled", Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    const put = await s3.send(
      new PutObjectCommand({ Bucket: "archive", Key: "report 2026.pdf", Body: "v1" }),
    );
    const versions = async () => {
      const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: "archive" }));
      return [
        ...(listed.Versions ?? []).map(
          (v) => `version ${v.VersionId === put.VersionId ? "v1" : v.VersionId}`,
        ),
        ...(listed.DeleteMarkers ?? []).map((m) => `marker latest=${m.IsLatest}`),
      ];
    };

    await daysPass(2);
    const hidden = await s3Failure(
      s3.send(new GetObjectCommand({ Bucket: "archive", Key: "report 2026.pdf" })),
    );
    assert.equal(hidden.name, "NoSuchKey");
    assert.deepEqual(await versions(), ["version v1", "marker latest=true"]);
    await daysPass(2);
    assert.deepEqual(await versions(), ["marker latest=true"]);
    // The marker was the key's only version once the old one went: the next hour's sweep removes it.
    await daysPass(0);
    assert.deepEqual(await versions(), []);

    const received: string[] = [];
    await eventually(
      async () => {
        const got = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
        );
        for (const m of got.Messages ?? []) {
          const body = JSON.parse(m.Body ?? "{}") as S3Event | { Event: string };
          if ("Records" in body)
            for (const r of body.Records)
              received.push(`${r.eventName} ${r.s3.object.key} ${r.s3.configurationId}`);
        }
        return received;
      },
      (r) => r.length >= 3,
      { what: "three lifecycle events in the queue", timeoutMs: 10_000, everyMs: 50 },
    );
    assert.deepEqual(received, [
      "LifecycleExpiration:DeleteMarkerCreated report+2026.pdf expired",
      "LifecycleExpiration:Delete report+2026.pdf expired",
      "LifecycleExpiration:Delete report+2026.pdf expired",
    ]);
  });
});
