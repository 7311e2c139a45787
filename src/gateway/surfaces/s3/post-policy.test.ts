// biome-ignore-all lint/suspicious/noTemplateCurlyInString: S3's ${filename} is written so in a form's key, on purpose
/** A form upload's policy, read and evaluated as S3 does (end to end: test/storage-post.test.ts). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { S3Error } from "../../../services/storage/errors.js";
import { evaluatePostPolicy, type FormField, type PostPolicy, parsePostPolicy } from "./post-policy.js";

const NOW = Date.parse("2026-11-24T12:00:00Z");
const LATER = "2026-11-24T13:00:00Z";

const encode = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString("base64");
const policy = (conditions: unknown[], expiration = LATER): PostPolicy =>
  parsePostPolicy(encode({ expiration, conditions }));

/** A form of these fields (names as sent), posted to bucket "photos". */
function form(fields: Record<string, string>, key = fields.key ?? "k") {
  const map = new Map<string, FormField>();
  for (const [name, value] of Object.entries(fields)) map.set(name.toLowerCase(), { name, value });
  return { fields: map, bucket: "photos", key };
}

function refusal(f: () => unknown): { code: string; status: number; message: string } {
  try {
    f();
  } catch (err) {
    if (err instanceof S3Error) return { code: err.code, status: err.status, message: err.message };
    throw err;
  }
  throw new Error("expected an S3Error");
}

describe("reading a POST policy", () => {
  test("a policy with its expiration and conditions is read, each condition's field without $ and case", () => {
    const p = policy([
      { bucket: "photos" },
      ["eq", "$Key", "a.txt"],
      ["starts-with", "$Content-Type", "image/"],
      ["content-length-range", 1, "100"],
    ]);
    assert.equal(p.expiration, Date.parse(LATER));
    assert.deepEqual(
      p.conditions.map((c) =>
        c.op === "content-length-range" ? [c.op, c.min, c.max] : [c.op, c.field, c.value],
      ),
      [
        ["eq", "bucket", "photos"],
        ["eq", "key", "a.txt"],
        ["starts-with", "content-type", "image/"],
        ["content-length-range", 1, 100],
      ],
    );
  });

  test("what S3 refuses is InvalidPolicyDocument saying what is wrong", () => {
    const cases: [string, RegExp][] = [
      ["not base64!", /not base64/],
      [Buffer.from("{not json").toString("base64"), /Invalid JSON/],
      [encode({ conditions: [] }), /Policy missing expiration/],
      [encode({ expiration: "tomorrow", conditions: [] }), /Invalid 'expiration' value: "tomorrow"/],
      [encode({ expiration: LATER }), /Policy missing conditions/],
      [encode({ expiration: LATER, conditions: [{ a: "1", b: "2" }] }), /exactly one property/],
      [encode({ expiration: LATER, conditions: [{ a: 1 }] }), /value of "a" must be a string/],
      [encode({ expiration: LATER, conditions: [["matches", "$key", "x"]] }), /unknown operation "matches"/],
      [encode({ expiration: LATER, conditions: [["eq", "key", "x"]] }), /\["eq", "\$field", "value"\]/],
      [encode({ expiration: LATER, conditions: [["eq", "$key"]] }), /must have 3 elements, it has 2/],
      [encode({ expiration: LATER, conditions: [["content-length-range", 10, 1]] }), /content-length-range/],
      [encode({ expiration: LATER, conditions: [["content-length-range", -1, 10]] }), /content-length-range/],
    ];
    for (const [text, message] of cases) {
      const r = refusal(() => parsePostPolicy(text));
      assert.deepEqual([r.code, r.status], ["InvalidPolicyDocument", 400], text);
      assert.match(r.message, message, text);
    }
  });
});

describe("evaluating a POST policy", () => {
  const signing = { "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": "c", "x-amz-date": "d" };
  const signed = [
    { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
    ["starts-with", "$x-amz-credential", ""],
    ["starts-with", "$x-amz-date", ""],
  ];

  test("a form every condition holds for passes, with the size range it sets", () => {
    const p = policy([
      ...signed,
      { bucket: "photos" },
      ["starts-with", "$key", "up/"],
      ["content-length-range", 10, 20],
    ]);
    const f = form(
      { ...signing, key: "up/${filename}", policy: "…", "X-Amz-Signature": "s", file: "" },
      "up/cat.png",
    );
    assert.deepEqual(evaluatePostPolicy(p, f, NOW), { min: 10, max: 20 });
  });

  test("exact matches are exact, field names without case; $bucket is the bucket posted to", () => {
    const p = policy([
      ...signed,
      ["eq", "$KEY", "a.txt"],
      { bucket: "photos" },
      { "Content-Type": "text/plain" },
    ]);
    assert.equal(
      evaluatePostPolicy(p, form({ ...signing, key: "a.txt", "content-type": "text/plain" }), NOW),
      undefined,
    );
    const wrongType = refusal(() =>
      evaluatePostPolicy(p, form({ ...signing, key: "a.txt", "content-type": "text/html" }), NOW),
    );
    assert.deepEqual(
      [wrongType.code, wrongType.status, wrongType.message],
      [
        "AccessDenied",
        403,
        'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "text/plain"]',
      ],
    );
    const otherBucket = policy([...signed, { key: "a.txt" }, { bucket: "videos" }]);
    assert.match(
      refusal(() =>
        evaluatePostPolicy(otherBucket, form({ ...signing, key: "a.txt", bucket: "videos" }), NOW),
      ).message,
      /Condition failed: \["eq", "\$bucket", "videos"\]/,
    );
  });

  test('starts-with takes a prefix, "" takes anything, and each of a comma-separated Content-Type must start with it', () => {
    const p = policy([
      ...signed,
      ["starts-with", "$key", "users/u1/"],
      ["starts-with", "$Content-Type", "image/"],
      ["starts-with", "$x-amz-meta-tag", ""],
    ]);
    const ok = { ...signing, "x-amz-meta-tag": "anything" };
    assert.equal(
      evaluatePostPolicy(
        p,
        form({ ...ok, key: "users/u1/a.png", "Content-Type": "image/png, image/gif" }),
        NOW,
      ),
      undefined,
    );
    assert.match(
      refusal(() =>
        evaluatePostPolicy(p, form({ ...ok, key: "users/u2/a.png", "Content-Type": "image/png" }), NOW),
      ).message,
      /Condition failed: \["starts-with", "\$key", "users\/u1\/"\]/,
    );
    assert.match(
      refusal(() =>
        evaluatePostPolicy(
          p,
          form({ ...ok, key: "users/u1/a", "Content-Type": "image/png, text/html" }),
          NOW,
        ),
      ).message,
      /\$Content-Type/,
    );
  });

  test('a field the form lacks is empty: it fails an exact match of a value, passes starts-with ""', () => {
    const p = policy([...signed, { key: "k" }, ["starts-with", "$Cache-Control", ""]]);
    assert.equal(evaluatePostPolicy(p, form({ ...signing, key: "k" }), NOW), undefined);
    const needsType = policy([...signed, { key: "k" }, { "content-type": "text/plain" }]);
    assert.equal(
      refusal(() => evaluatePostPolicy(needsType, form({ ...signing, key: "k" }), NOW)).code,
      "AccessDenied",
    );
  });

  test("fields no condition names are extra, listed as sent; policy, signature, file and x-ignore- ones need none", () => {
    const p = policy([...signed, { key: "k" }]);
    const r = refusal(() =>
      evaluatePostPolicy(
        p,
        form({
          ...signing,
          key: "k",
          "Content-Type": "a/b",
          "x-amz-meta-Who": "me",
          "x-ignore-me": "1",
          Policy: "p",
          "X-Amz-Signature": "s",
        }),
        NOW,
      ),
    );
    assert.deepEqual(
      [r.code, r.message],
      ["AccessDenied", "Invalid according to Policy: Extra input fields: Content-Type, x-amz-meta-Who"],
    );
  });

  test("a policy past its expiration is refused whatever the form", () => {
    const p = policy([...signed, { key: "k" }], "2026-11-24T11:59:59Z");
    const r = refusal(() => evaluatePostPolicy(p, form({ ...signing, key: "k" }), NOW));
    assert.deepEqual(
      [r.code, r.status, r.message],
      ["AccessDenied", 403, "Invalid according to Policy: Policy expired."],
    );
  });

  test("several content-length-ranges allow what they all allow", () => {
    const p = policy([
      ...signed,
      { key: "k" },
      ["content-length-range", 0, 100],
      ["content-length-range", 10, 1000],
    ]);
    assert.deepEqual(evaluatePostPolicy(p, form({ ...signing, key: "k" }), NOW), { min: 10, max: 100 });
  });
});
