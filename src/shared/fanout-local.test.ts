/** The in-process fan-out: topics, subscribers, and the rules a network implementation shares. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type FanOutMessage, isTopic } from "./fanout.js";
import { LocalFanOut } from "./fanout-local.js";

test("a message reaches every subscriber of its topic, in order, and no one else", async () => {
  const live = new LocalFanOut();
  const got: string[] = [];
  live.subscribe("logs.a", (m, t) => got.push(`1 ${t} ${JSON.stringify(m)}`));
  live.subscribe("logs.a", (m) => got.push(`2 ${JSON.stringify(m)}`));
  live.subscribe("logs.b", (m) => got.push(`b ${JSON.stringify(m)}`));
  await live.publish("logs.a", { n: 1 });
  await live.publish("logs.a", [2, null]);
  await live.publish("logs.c", "nobody listens");
  assert.deepEqual(got, ['1 logs.a {"n":1}', '2 {"n":1}', "1 logs.a [2,null]", "2 [2,null]"]);
});

test("a subscriber hears nothing once it unsubscribed; unsubscribing twice is harmless", async () => {
  const live = new LocalFanOut();
  const got: FanOutMessage[] = [];
  const stop = live.subscribe("t", (m) => got.push(m));
  await live.publish("t", 1);
  stop();
  stop();
  await live.publish("t", 2);
  live.subscribe("t", (m) => got.push(m));
  await live.publish("t", 3);
  assert.deepEqual(got, [1, 3]);
});

test("a failing subscriber does not keep the message from the others; publish reports its failure", async () => {
  const live = new LocalFanOut();
  const got: FanOutMessage[] = [];
  live.subscribe("t", () => {
    throw new Error("the stream is gone");
  });
  live.subscribe("t", (m) => got.push(m));
  await assert.rejects(live.publish("t", "x"), /the stream is gone/);
  assert.deepEqual(got, ["x"]);
});

test("topics are what a NATS subject without wildcards can be; others are refused", async () => {
  for (const t of ["logs", "logs.resize", "logs.my-fn_2", "a.b.c"]) assert.equal(isTopic(t), true, t);
  for (const t of ["", "logs.", ".logs", "logs..a", "logs.*", "logs.>", "logs.a b", "logs.é"]) {
    assert.equal(isTopic(t), false, t);
  }
  const live = new LocalFanOut();
  assert.throws(() => live.subscribe("logs.*", () => {}), /fan-out topic "logs\.\*" is invalid/);
  await assert.rejects(live.publish("logs.a b", 1), /is invalid/);
});

test("a topic has subscribers from the first subscribe until the last one leaves", () => {
  const live = new LocalFanOut();
  assert.equal(live.hasSubscribers("logs.a"), false);
  const first = live.subscribe("logs.a", () => {});
  const second = live.subscribe("logs.a", () => {});
  assert.equal(live.hasSubscribers("logs.a"), true);
  assert.equal(live.hasSubscribers("logs.b"), false, "only its own topic");
  first();
  assert.equal(live.hasSubscribers("logs.a"), true, "one still listens");
  second();
  assert.equal(live.hasSubscribers("logs.a"), false);
});
