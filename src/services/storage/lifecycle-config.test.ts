import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { S3Error } from "./errors.js";
import {
  checkLifecycle,
  DAY_MS,
  dueAt,
  filterMatches,
  filterOf,
  type LifecycleInput,
  type RuleInput,
} from "./lifecycle-config.js";

const rule = (r: Partial<RuleInput>): RuleInput => ({
  Status: "Enabled",
  Filter: {},
  Expiration: { Days: "30" },
  transitions: 0,
  ...r,
});
const config = (...rules: RuleInput[]): LifecycleInput => ({ Rules: rules });

/** What a refused configuration answered: its code, status and message. */
function refusal(input: LifecycleInput): { code: string; status: number; message: string } {
  try {
    checkLifecycle(input);
  } catch (err) {
    if (err instanceof S3Error) return { code: err.code, status: err.status, message: err.message };
    throw err;
  }
  throw new Error("the configuration was accepted; expected it to be refused");
}

describe("checkLifecycle", () => {
  test("a configuration with every action and filter is stored in S3's JSON form, numbers as numbers", () => {
    const checked = checkLifecycle(
      config(
        rule({ ID: "logs", Filter: { Prefix: "logs/" }, Expiration: { Days: "7" } }),
        rule({
          ID: "versions",
          Filter: {
            And: {
              Prefix: "docs/",
              Tags: [{ Key: "keep", Value: "no" }],
              ObjectSizeGreaterThan: "0",
              ObjectSizeLessThan: "1048576",
            },
          },
          Expiration: undefined,
          NoncurrentVersionExpiration: { NoncurrentDays: "30", NewerNoncurrentVersions: "3" },
        }),
        rule({ ID: "markers", Status: "Disabled", Expiration: { ExpiredObjectDeleteMarker: "true" } }),
        rule({
          ID: "uploads",
          Filter: undefined,
          Prefix: "",
          Expiration: { Date: "2027-01-01T00:00:00Z" },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: "2" },
        }),
      ),
    );
    assert.deepEqual(checked, {
      Rules: [
        { ID: "logs", Status: "Enabled", Filter: { Prefix: "logs/" }, Expiration: { Days: 7 } },
        {
          ID: "versions",
          Status: "Enabled",
          Filter: {
            And: {
              Prefix: "docs/",
              Tags: [{ Key: "keep", Value: "no" }],
              ObjectSizeGreaterThan: 0,
              ObjectSizeLessThan: 1048576,
            },
          },
          NoncurrentVersionExpiration: { NoncurrentDays: 30, NewerNoncurrentVersions: 3 },
        },
        { ID: "markers", Status: "Disabled", Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } },
        {
          ID: "uploads",
          Status: "Enabled",
          Prefix: "",
          Expiration: { Date: "2027-01-01T00:00:00.000Z" },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
        },
      ],
    });
  });

  test("a rule without an ID (or an empty one) gets one, as S3 gives it", () => {
    let n = 0;
    const checked = checkLifecycle(
      config(rule({}), rule({ ID: "" }), rule({ ID: "mine" })),
      () => `generated-${++n}`,
    );
    assert.deepEqual(
      checked.Rules.map((r) => r.ID),
      ["generated-1", "generated-2", "mine"],
    );
    const random = checkLifecycle(config(rule({}), rule({})));
    assert.notEqual(random.Rules[0]?.ID, random.Rules[1]?.ID);
    assert.ok((random.Rules[0]?.ID.length ?? 0) > 0);
  });

  test("a Date is ISO 8601 at midnight UTC, with or without a time or an offset", () => {
    const date = (d: string) =>
      checkLifecycle(config(rule({ Expiration: { Date: d } }))).Rules[0]?.Expiration?.Date;
    assert.equal(date("2027-03-01"), "2027-03-01T00:00:00.000Z");
    assert.equal(date("2027-03-01T00:00:00.000Z"), "2027-03-01T00:00:00.000Z");
    assert.equal(date("2027-03-01T02:00:00+02:00"), "2027-03-01T00:00:00.000Z");
  });

  const refusals: [string, LifecycleInput, string, RegExp][] = [
    ["no rule", config(), "MalformedXML", /at least one <Rule>/],
    [
      "1,001 rules",
      config(...Array.from({ length: 1001 }, (_, i) => rule({ ID: `r${i}` }))),
      "InvalidRequest",
      /^Number of lifecycle rules should not exceed allowed limit of 1000 rules/,
    ],
    [
      "a rule without an action",
      config(rule({ Expiration: undefined })),
      "InvalidRequest",
      /^At least one action needs to be specified in a rule$/,
    ],
    [
      "an ID of 256 characters",
      config(rule({ ID: "x".repeat(256) })),
      "InvalidArgument",
      /^ID length should not exceed allowed limit of 255/,
    ],
    [
      "two rules with one ID",
      config(rule({ ID: "a" }), rule({ ID: "a" })),
      "InvalidArgument",
      /^Rule ID must be unique/,
    ],
    [
      "a Status other than Enabled or Disabled",
      config(rule({ Status: "enabled" })),
      "MalformedXML",
      /Enabled or Disabled/,
    ],
    ["both Prefix and Filter", config(rule({ Prefix: "a/" })), "MalformedXML", /both <Prefix> and <Filter>/],
    [
      "neither Prefix nor Filter",
      config(rule({ Filter: undefined })),
      "MalformedXML",
      /neither <Filter> nor <Prefix>/,
    ],
    [
      "a Filter with two predicates",
      config(rule({ Filter: { Prefix: "a/", ObjectSizeLessThan: "10" } })),
      "MalformedXML",
      /combine them in <And>/,
    ],
    [
      "an empty And",
      config(rule({ Filter: { And: { Tags: [] } } })),
      "MalformedXML",
      /<And> of rule 1 is empty/,
    ],
    [
      "Days of 0",
      config(rule({ Expiration: { Days: "0" } })),
      "InvalidArgument",
      /^'Days' for Expiration action must be a positive integer$/,
    ],
    [
      "Days that are not a number",
      config(rule({ Expiration: { Days: "1.5" } })),
      "MalformedXML",
      /whole number/,
    ],
    [
      "both Days and Date",
      config(rule({ Expiration: { Days: "1", Date: "2027-01-01" } })),
      "MalformedXML",
      /both <Days> and <Date>/,
    ],
    ["an empty Expiration", config(rule({ Expiration: {} })), "MalformedXML", /none of <Days>/],
    [
      "a Date not at midnight",
      config(rule({ Expiration: { Date: "2027-01-01T12:00:00Z" } })),
      "InvalidArgument",
      /^'Date' must be at midnight GMT$/,
    ],
    [
      "a Date that is not a date",
      config(rule({ Expiration: { Date: "next tuesday" } })),
      "MalformedXML",
      /not an ISO 8601 date/,
    ],
    [
      "ExpiredObjectDeleteMarker with Days",
      config(rule({ Expiration: { Days: "1", ExpiredObjectDeleteMarker: "true" } })),
      "InvalidRequest",
      /^ExpiredObjectDeleteMarker cannot be specified with Days or Date/,
    ],
    [
      "ExpiredObjectDeleteMarker with a tag filter",
      config(
        rule({
          Filter: { Tag: { Key: "a", Value: "b" } },
          Expiration: { ExpiredObjectDeleteMarker: "true" },
        }),
      ),
      "InvalidRequest",
      /cannot be specified with Tags/,
    ],
    [
      "NoncurrentDays of 0",
      config(rule({ NoncurrentVersionExpiration: { NoncurrentDays: "0" } })),
      "InvalidArgument",
      /^'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer$/,
    ],
    [
      "NewerNoncurrentVersions of 101",
      config(rule({ NoncurrentVersionExpiration: { NoncurrentDays: "1", NewerNoncurrentVersions: "101" } })),
      "InvalidArgument",
      /must be between 1 and 100/,
    ],
    [
      "NewerNoncurrentVersions with the legacy Prefix",
      config(
        rule({
          Filter: undefined,
          Prefix: "a/",
          NoncurrentVersionExpiration: { NoncurrentDays: "1", NewerNoncurrentVersions: "2" },
        }),
      ),
      "InvalidRequest",
      /A Filter must be specified when NewerNoncurrentVersions is specified/,
    ],
    [
      "DaysAfterInitiation of 0",
      config(rule({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: "0" } })),
      "InvalidArgument",
      /^'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer$/,
    ],
    [
      "AbortIncompleteMultipartUpload with a tag filter",
      config(
        rule({
          Filter: { And: { Prefix: "a/", Tags: [{ Key: "a", Value: "b" }] } },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: "1" },
        }),
      ),
      "InvalidRequest",
      /^AbortIncompleteMultipartUpload cannot be specified with Tags\.$/,
    ],
    [
      "two tags with one key",
      config(
        rule({
          Filter: {
            And: {
              Tags: [
                { Key: "a", Value: "1" },
                { Key: "a", Value: "2" },
              ],
            },
          },
        }),
      ),
      "InvalidRequest",
      /^Duplicate Tag Keys are not allowed\.$/,
    ],
    [
      "an empty tag key",
      config(rule({ Filter: { Tag: { Key: "", Value: "b" } } })),
      "InvalidArgument",
      /TagKey/,
    ],
    [
      "sizes that leave no room",
      config(rule({ Filter: { And: { Tags: [], ObjectSizeGreaterThan: "10", ObjectSizeLessThan: "10" } } })),
      "InvalidArgument",
      /'ObjectSizeGreaterThan' \(10\) must be less than 'ObjectSizeLessThan' \(10\)/,
    ],
  ];
  for (const [what, input, code, message] of refusals)
    test(`refuses ${what} with ${code}`, () => {
      const r = refusal(input);
      assert.equal(r.code, code);
      assert.equal(r.status, 400);
      assert.match(r.message, message);
    });

  test("refuses transitions with 501 NotImplemented: Nimbus has one storage class", () => {
    const r = refusal(config(rule({ transitions: 1 })));
    assert.deepEqual([r.code, r.status], ["NotImplemented", 501]);
    assert.match(r.message, /one storage class/);
  });
});

describe("what a rule says about an object", () => {
  const object = { key: "docs/a.pdf", size: 100, tags: { keep: "no", team: "x" } };

  test("a filter takes an object when its prefix, every tag and both size bounds (exclusive) hold", () => {
    assert.ok(filterMatches({}, object));
    assert.ok(filterMatches({ Prefix: "docs/" }, object));
    assert.ok(!filterMatches({ Prefix: "logs/" }, object));
    assert.ok(filterMatches({ Tag: { Key: "keep", Value: "no" } }, object));
    assert.ok(!filterMatches({ Tag: { Key: "keep", Value: "yes" } }, object));
    assert.ok(filterMatches({ ObjectSizeGreaterThan: 99 }, object));
    assert.ok(!filterMatches({ ObjectSizeGreaterThan: 100 }, object));
    assert.ok(!filterMatches({ ObjectSizeLessThan: 100 }, object));
    const and = { Prefix: "docs/", Tags: [{ Key: "keep", Value: "no" }], ObjectSizeLessThan: 101 };
    assert.ok(filterMatches({ And: and }, object));
    assert.ok(!filterMatches({ And: { ...and, Tags: [...and.Tags, { Key: "team", Value: "y" }] } }, object));
    // A delete marker or an upload has no size or tags: the prefix alone is matched.
    assert.ok(filterMatches({ And: { ...and, ObjectSizeGreaterThan: 1000 } }, object, true));
  });

  test("a rule's legacy Prefix is its filter", () => {
    assert.deepEqual(filterOf({ ID: "a", Status: "Enabled", Prefix: "tmp/" }), { Prefix: "tmp/" });
  });

  test("an age runs out at the first midnight UTC at least that many days after it began", () => {
    // S3's example: made at 10:30 on the 15th, 3 days: gone at 00:00 on the 19th.
    assert.equal(dueAt(Date.UTC(2026, 0, 15, 10, 30), 3), Date.UTC(2026, 0, 19));
    // Made at midnight: exactly the days later.
    assert.equal(dueAt(Date.UTC(2026, 0, 15), 1), Date.UTC(2026, 0, 16));
    assert.equal(dueAt(Date.UTC(2026, 0, 15, 23, 59, 59, 999), 1), Date.UTC(2026, 0, 17));
    assert.equal(dueAt(0, 2), 2 * DAY_MS);
  });
});
