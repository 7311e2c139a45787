import assert from "node:assert/strict";
import { test } from "node:test";
import { TailBuffer, type TailItem } from "./events-tail.js";

function drain(b: TailBuffer): TailItem[] {
  const out: TailItem[] = [];
  for (let i = b.take(); i; i = b.take()) out.push(i);
  return out;
}

test("events are given out in order while the client keeps up", () => {
  const b = new TailBuffer(3);
  b.push("1");
  b.push("2");
  assert.deepEqual(drain(b), [
    { kind: "event", data: "1" },
    { kind: "event", data: "2" },
  ]);
  assert.equal(b.take(), undefined);
});

test("past its capacity events are dropped, and the count comes where they were, before later ones", () => {
  const b = new TailBuffer(2);
  for (const d of ["1", "2", "3", "4", "5"]) b.push(d);
  assert.deepEqual(b.take(), { kind: "event", data: "1" });
  b.push("6");
  assert.deepEqual(drain(b), [
    { kind: "event", data: "2" },
    { kind: "dropped", count: 3 },
    { kind: "event", data: "6" },
  ]);
});

test("a count with no event after it is given out once the client has caught up", () => {
  const b = new TailBuffer(1);
  b.push("1");
  b.push("2");
  assert.deepEqual(drain(b), [
    { kind: "event", data: "1" },
    { kind: "dropped", count: 1 },
  ]);
});

test("wait resolves at once when something is there, else at the next push or wake", async () => {
  const b = new TailBuffer(2);
  b.push("1");
  await b.wait();
  drain(b);
  let woken = false;
  const waiting = b.wait().then(() => {
    woken = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(woken, false);
  b.push("2");
  await waiting;
  drain(b);
  const closing = b.wait();
  b.wake();
  await closing;
});
