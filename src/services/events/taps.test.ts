import assert from "node:assert/strict";
import { test } from "node:test";
import type { Envelope } from "./envelope.js";
import { BusTaps } from "./taps.js";

const event = (id: string): Envelope => ({
  version: "0",
  id,
  "detail-type": "T",
  source: "s",
  account: "000000000000",
  time: "2030-01-01T00:00:00Z",
  region: "us-east-1",
  resources: [],
  detail: {},
});

test("each listener of a bus hears its events, and no other bus's, until removed", () => {
  const taps = new BusTaps();
  const heard: string[] = [];
  const stop = taps.add("orders", (e) => heard.push(`a:${e.id}`));
  taps.add("orders", (e) => heard.push(`b:${e.id}`));
  taps.add("other", (e) => heard.push(`other:${e.id}`));
  taps.emit("orders", event("1"));
  stop();
  taps.emit("orders", event("2"));
  assert.deepEqual(heard, ["a:1", "b:1", "b:2"]);
});

test("a listener that throws or rejects changes nothing for the others, and emit never throws", async () => {
  const taps = new BusTaps();
  const heard: string[] = [];
  taps.add("default", () => {
    throw new Error("listener bug");
  });
  taps.add("default", (async () => {
    throw new Error("async listener bug");
  }) as () => void);
  taps.add("default", (e) => heard.push(e.id));
  assert.doesNotThrow(() => taps.emit("default", event("1")));
  // A rejection left unhandled would fail this test file.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(heard, ["1"]);
});

test("end calls each tap's onEnd once, and its listeners hear nothing more", () => {
  const taps = new BusTaps();
  const ended: string[] = [];
  const heard: string[] = [];
  taps.add(
    "a",
    (e) => heard.push(e.id),
    () => ended.push("a"),
  );
  taps.add(
    "b",
    (e) => heard.push(e.id),
    () => ended.push("b"),
  );
  taps.add("b", (e) => heard.push(e.id));
  taps.end();
  taps.emit("a", event("1"));
  taps.end();
  assert.deepEqual(ended.sort(), ["a", "b"]);
  assert.deepEqual(heard, []);
});
