import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compilePattern, InvalidPatternError, matchesPattern } from "./pattern.js";

const order = {
  source: "shop.orders",
  "detail-type": "Order Placed",
  detail: {
    id: "o-17",
    total: 42.5,
    items: 3,
    country: "FR",
    email: "Ada@Example.com",
    file: "invoice-17.pdf",
    tags: ["gift", "express"],
    lines: [
      { sku: "A-1", qty: 1 },
      { sku: "B-2", qty: 2 },
    ],
    coupon: null,
    paid: true,
    ip: "10.0.3.7",
  },
};

function yes(pattern: unknown, event: unknown = order) {
  assert.equal(matchesPattern(pattern, event), true, JSON.stringify(pattern));
}
function no(pattern: unknown, event: unknown = order) {
  assert.equal(matchesPattern(pattern, event), false, JSON.stringify(pattern));
}

describe("event patterns: matching", () => {
  test("exact values: strings, numbers (as numbers), booleans and null; any listed value will do", () => {
    yes({ source: ["shop.orders"] });
    yes({ source: ["other", "shop.orders"] });
    no({ source: ["shop"] });
    yes({ detail: { total: [42.5] } });
    yes({ detail: { items: [3.0] } });
    no({ detail: { items: ["3"] } });
    yes({ detail: { paid: [true] } });
    yes({ detail: { coupon: [null] } });
    no({ detail: { paid: [null] } });
  });

  test("every field of a pattern must match; nested objects descend", () => {
    yes({ source: ["shop.orders"], "detail-type": ["Order Placed"], detail: { country: ["FR"] } });
    no({ source: ["shop.orders"], detail: { country: ["DE"] } });
    no({ detail: { id: { deeper: ["x"] } } });
  });

  test("an array in the event matches when any element does, for leaves and for objects", () => {
    yes({ detail: { tags: ["express"] } });
    no({ detail: { tags: ["overnight"] } });
    yes({ detail: { lines: { sku: ["B-2"] } } });
    no({ detail: { lines: { sku: ["C-3"] } } });
    yes({ detail: { lines: { sku: ["B-2"], qty: [2] } } });
    no({ detail: { lines: { sku: ["B-2"], qty: [1] } } }, order);
  });

  test("a value pattern never matches a whole object", () => {
    no({ detail: ["o-17"] });
    no({ detail: [{ exists: true }] });
  });

  test("prefix, suffix and equals-ignore-case, with or without case", () => {
    yes({ source: [{ prefix: "shop." }] });
    no({ source: [{ prefix: "Shop." }] });
    yes({ source: [{ prefix: { "equals-ignore-case": "SHOP." } }] });
    yes({ detail: { file: [{ suffix: ".pdf" }] } });
    yes({ detail: { file: [{ suffix: { "equals-ignore-case": ".PDF" } }] } });
    no({ detail: { file: [{ suffix: ".png" }] } });
    yes({ detail: { email: [{ "equals-ignore-case": "ada@example.COM" }] } });
    no({ detail: { items: [{ prefix: "3" }] } });
  });

  test("wildcard: * stands for any run of characters; other characters are literal", () => {
    yes({ detail: { file: [{ wildcard: "invoice-*.pdf" }] } });
    yes({ detail: { file: [{ wildcard: "*" }] } });
    no({ detail: { file: [{ wildcard: "invoice-*.png" }] } });
    no({ detail: { file: [{ wildcard: "invoice-1?.pdf" }] } });
    yes({ x: [{ wildcard: "a.b(c)*" }] }, { x: "a.b(c)d" });
    no({ x: [{ wildcard: "a.b" }] }, { x: "axb" });
  });

  test("anything-but: values, lists, and prefix, suffix, equals-ignore-case, wildcard", () => {
    yes({ detail: { country: [{ "anything-but": "DE" }] } });
    no({ detail: { country: [{ "anything-but": ["DE", "FR"] }] } });
    yes({ detail: { items: [{ "anything-but": [1, 2] }] } });
    no({ detail: { items: [{ "anything-but": 3 }] } });
    no({ source: [{ "anything-but": { prefix: "shop" } }] });
    yes({ source: [{ "anything-but": { prefix: "billing" } }] });
    no({ detail: { file: [{ "anything-but": { suffix: ".pdf" } }] } });
    no({ detail: { email: [{ "anything-but": { "equals-ignore-case": ["x", "ADA@EXAMPLE.COM"] } }] } });
    no({ detail: { file: [{ "anything-but": { wildcard: "*.pdf" } }] } });
    // Absent fields are not "anything but": only exists: false matches them.
    no({ detail: { missing: [{ "anything-but": "x" }] } });
    // Each element of an array is a value of its own.
    yes({ detail: { tags: [{ "anything-but": "gift" }] } });
  });

  test("numeric: comparisons and ranges, on numbers only", () => {
    yes({ detail: { total: [{ numeric: [">", 40] }] } });
    yes({ detail: { total: [{ numeric: [">=", 42.5, "<", 100] }] } });
    no({ detail: { total: [{ numeric: [">", 0, "<=", 42] }] } });
    yes({ detail: { items: [{ numeric: ["=", 3] }] } });
    no({ detail: { id: [{ numeric: [">", 0] }] } });
  });

  test("exists: true for a present leaf (null included), false for an absent field", () => {
    yes({ detail: { coupon: [{ exists: true }] } });
    yes({ detail: { gift: [{ exists: false }] } });
    no({ detail: { id: [{ exists: false }] } });
    no({ detail: { gift: [{ exists: true }] } });
    yes({ detail: { gift: ["x", { exists: false }] } });
    no({ detail: { gift: ["x"] } });
  });

  test("cidr: IPv4 and IPv6 addresses within a block", () => {
    yes({ detail: { ip: [{ cidr: "10.0.0.0/16" }] } });
    no({ detail: { ip: [{ cidr: "10.1.0.0/16" }] } });
    yes({ ip: [{ cidr: "2001:db8::/32" }] }, { ip: "2001:db8::1" });
    no({ ip: [{ cidr: "2001:db8::/32" }] }, { ip: "10.0.0.1" });
    no({ ip: [{ cidr: "10.0.0.0/8" }] }, { ip: "not an address" });
  });

  test("$or: any one of the alternatives, at any level", () => {
    yes({ $or: [{ source: ["billing"] }, { detail: { country: ["FR"] } }] });
    no({ $or: [{ source: ["billing"] }, { detail: { country: ["DE"] } }] });
    yes({ source: ["shop.orders"], detail: { $or: [{ items: [{ numeric: [">", 5] }] }, { paid: [true] }] } });
    no({ source: ["billing"], $or: [{ detail: { paid: [true] } }, { detail: { items: [3] } }] });
  });

  test("events that are not objects match nothing", () => {
    no({ a: [{ exists: false }] }, "text");
    no({ a: [{ exists: false }] }, null);
    no({ a: [{ exists: false }] }, [1]);
  });
});

describe("event patterns: what is refused, and why", () => {
  const refused = (pattern: unknown, reason: RegExp) =>
    assert.throws(
      () => compilePattern(pattern),
      (err: Error) => err instanceof InvalidPatternError && reason.test(err.message),
      JSON.stringify(pattern),
    );

  test("not JSON, not an object, empty", () => {
    refused("{not json", /not valid JSON/);
    refused("[1]", /must be a JSON object/);
    refused({}, /empty object/);
    refused({ detail: {} }, /"detail".*empty object/);
  });

  test("a field holding a scalar, an empty list, or an unknown filter names the field", () => {
    refused({ source: "shop" }, /"source".*object \(a nested pattern\) or an array/);
    refused({ detail: { id: [] } }, /"detail\.id".*empty array/);
    refused({ source: [{ regex: "x" }] }, /unknown filter "regex"/);
    refused({ source: [{ prefix: "a", suffix: "b" }] }, /exactly one of/);
    refused({ source: [["nested"]] }, /must be a string, number/);
  });

  test("each filter's argument is checked", () => {
    refused({ a: [{ prefix: "" }] }, /prefix.*non-empty string/);
    refused({ a: [{ prefix: { lower: "x" } }] }, /equals-ignore-case/);
    refused({ a: [{ exists: "yes" }] }, /exists takes true or false/);
    refused({ a: [{ numeric: [">"] }] }, /one or two comparisons/);
    refused({ a: [{ numeric: ["~", 1] }] }, /not one of =, <, <=, >, >=/);
    refused({ a: [{ numeric: [">", 6e9] }] }, /between -5e9 and 5e9/);
    refused({ a: [{ numeric: [">", 1, ">", 2] }] }, /lower bound .* upper bound/);
    refused({ a: [{ "anything-but": [] }] }, /non-empty list/);
    refused({ a: [{ "anything-but": [{ x: 1 }] }] }, /strings or numbers/);
    refused({ a: [{ "anything-but": { numeric: [">", 1] } }] }, /one of prefix, suffix/);
    refused({ a: [{ wildcard: "a**b" }] }, /consecutive wildcard/);
    refused({ a: [{ cidr: "10.0.0.0" }] }, /CIDR block/);
    refused({ a: [{ cidr: "10.0.0.0/33" }] }, /CIDR block/);
    refused({ $or: [{ a: ["x"] }] }, /\$or takes an array of at least two/);
  });
});
