import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { LocalFanOut } from "../../shared/fanout-local.js";
import { QueueWaiters } from "./waiters.js";

test("a send after arming and before waiting still wakes the receiver at once", async () => {
  const clock = new FakeClock();
  const w = new QueueWaiters(new LocalFanOut(), clock);
  const armed = w.arm("q");
  w.notify("q");
  let woke = false;
  await armed.wait(20_000).then(() => (woke = true));
  assert.equal(woke, true);
  armed.disarm();
});

test("an armed wait ends on a send, on its time, or on abort; a send to another queue does not wake it", async () => {
  const clock = new FakeClock();
  const fanout = new LocalFanOut();
  const w = new QueueWaiters(fanout, clock);
  const settled = (p: Promise<void>) => {
    let done = false;
    void p.then(() => (done = true));
    return () => done;
  };
  const a = w.arm("a");
  const byTime = settled(a.wait(5000));
  w.notify("b");
  await new Promise((r) => setImmediate(r));
  assert.equal(byTime(), false);
  clock.advance(5000);
  await new Promise((r) => setImmediate(r));
  assert.equal(byTime(), true);
  a.disarm();
  assert.equal(fanout.hasSubscribers("queues.a"), false, "disarmed: no listener left");

  const abort = new AbortController();
  const b = w.arm("b", abort.signal);
  const byAbort = settled(b.wait(5000));
  abort.abort();
  await new Promise((r) => setImmediate(r));
  assert.equal(byAbort(), true);
  b.disarm();
});
