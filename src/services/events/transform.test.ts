import assert from "node:assert/strict";
import { test } from "node:test";
import { checkTransformer, parseJsonPath, select, targetInput } from "./transform.js";

const event = {
  version: "0",
  id: "e-1",
  "detail-type": "Order Placed",
  source: "shop",
  resources: ["arn:a", "arn:b"],
  detail: { "order-id": "o-7", total: 42.5, note: 'say "hi"', items: [{ sku: "A" }], "a b": true },
};
const ctx = {
  ruleName: "r",
  ruleArn: "arn:aws:events:us-east-1:000000000000:rule/r",
  ingestionTime: "2026-12-06T00:00:00Z",
};

test("JSON paths: names with dashes, indexes, quoted names; a path that selects nothing", () => {
  assert.equal(select(event, parseJsonPath("$.detail.order-id")), "o-7");
  assert.equal(select(event, parseJsonPath("$.resources[1]")), "arn:b");
  assert.equal(select(event, parseJsonPath("$.detail.items[0].sku")), "A");
  assert.equal(select(event, parseJsonPath("$.detail['a b']")), true);
  assert.equal(select(event, parseJsonPath("$.detail.missing.deeper")), undefined);
  assert.deepEqual(select(event, parseJsonPath("$")), event);
  assert.throws(() => parseJsonPath("detail.x"), /must start with \$/);
  assert.throws(() => parseJsonPath("$.detail..x"), /empty name/);
  assert.throws(() => parseJsonPath("$.detail[x]"), /\[n\] or \['name'\]/);
});

test("a template: values inside strings as text, elsewhere as JSON; predefined names", () => {
  const transformer = {
    paths: checkTransformer({
      inputPathsMap: {
        id: "$.detail.order-id",
        total: "$.detail.total",
        note: "$.detail.note",
        items: "$.detail.items",
        none: "$.nothing",
      },
      inputTemplate: "x",
    }),
    template:
      '{"order": "<id>", "total": <total>, "items": <items>, "note": "<note>", "missing": <none>, "text": "<none>", "rule": "<aws.events.rule-name>"}',
  };
  const out = JSON.parse(targetInput({ transformer }, event, ctx));
  assert.deepEqual(out, {
    order: "o-7",
    total: 42.5,
    items: [{ sku: "A" }],
    note: 'say "hi"',
    missing: null,
    text: "",
    rule: "r",
  });
});

test("a plain-text template, and the whole event by its predefined name", () => {
  const transformer = {
    paths: checkTransformer({ inputPathsMap: { id: "$.detail.order-id" }, inputTemplate: "x" }),
    template: '"Order <id> <unknown> placed"',
  };
  assert.equal(targetInput({ transformer }, event, ctx), '"Order o-7 <unknown> placed"');
  const whole = { paths: new Map(), template: "<aws.events.event>" };
  assert.deepEqual(JSON.parse(targetInput({ transformer: whole }, event, ctx)), event);
});

test("Input wins as given; InputPath selects; by default the whole event", () => {
  assert.equal(targetInput({ input: '{"fixed":1}' }, event, ctx), '{"fixed":1}');
  assert.equal(targetInput({ inputPath: parseJsonPath("$.detail.total") }, event, ctx), "42.5");
  assert.deepEqual(JSON.parse(targetInput({}, event, ctx)), event);
});

test("a transformer's map is checked: names, paths, size", () => {
  assert.throws(() => checkTransformer({ inputPathsMap: { "aws.x": "$" }, inputTemplate: "x" }), /aws\./);
  assert.throws(
    () => checkTransformer({ inputPathsMap: { ok: "detail" }, inputTemplate: "x" }),
    /must start with \$/,
  );
  assert.throws(() => checkTransformer({ inputPathsMap: {}, inputTemplate: "" }), /1 to 8192/);
});
