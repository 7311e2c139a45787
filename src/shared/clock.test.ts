import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { FakeClock } from "./clock.js";

test("settle() waits for the work that the timers fired by advance() returned", async () => {
  const clock = new FakeClock();
  const done: string[] = [];
  clock.setTimeout(async () => {
    await nextTurn();
    await nextTurn();
    done.push("timeout");
  }, 1000);
  clock.setInterval(async () => {
    await nextTurn();
    done.push("tick");
  }, 400);
  clock.advance(999);
  assert.deepEqual(done, [], "nothing has finished yet: the work is asynchronous");
  await clock.settle();
  assert.deepEqual(done, ["tick", "tick"]);
  clock.advance(1);
  await clock.settle();
  assert.deepEqual(done, ["tick", "tick", "timeout"]);
});

test("settle() resolves when the work fails, and at once when there is none", async () => {
  const clock = new FakeClock();
  await clock.settle();
  let failed = false;
  clock.setTimeout(async () => {
    await nextTurn();
    failed = true;
    throw new Error("the work's own failure");
  }, 10);
  clock.advance(10);
  await clock.settle();
  assert.equal(failed, true);
});
