import assert from "node:assert/strict";
import { test } from "node:test";
import { newRequestId } from "./ids.js";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("request ids are version 7 UUIDs, unique across more ids than one pool holds", () => {
  const ids = new Set<string>();
  for (let i = 0; i < 5_000; i++) {
    const id = newRequestId();
    assert.match(id, V7);
    ids.add(id);
  }
  assert.equal(ids.size, 5_000);
});

test("ids made in the same millisecond, and in later ones, sort in the order they were made", () => {
  const ms = Date.now() + 60_000;
  const made = [
    newRequestId(ms),
    newRequestId(ms),
    newRequestId(ms),
    newRequestId(ms + 1),
    newRequestId(ms + 1),
    newRequestId(ms + 250),
  ];
  assert.deepEqual([...made].sort(), made);
  // The time is in the first 48 bits.
  assert.equal(Number.parseInt(made[5]!.replace(/-/g, "").slice(0, 12), 16), ms + 250);
});

test("a clock that steps back does not make an id sort before the last one", () => {
  const ms = Date.now() + 120_000;
  const first = newRequestId(ms);
  const after = newRequestId(ms - 5_000);
  assert.ok(after > first, `${after} should sort after ${first}`);
});
