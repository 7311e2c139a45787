/**
 * The wake loop: one pass at a time (a change during a pass makes exactly one more), a sleep
 * until the time `next()` gives on the clock, a pass at once when that time has come, a failing
 * pass tried again a second later, and nothing after `stop()`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "./clock.js";
import { silentLogger } from "./logger.js";
import { retryDelayMs, WakeLoop } from "./wake-loop.js";

function loop(clock: FakeClock, o: { next?: () => number; fail?: () => boolean } = {}) {
  let passes = 0;
  let release: (() => void) | undefined;
  let hold = false;
  const l = new WakeLoop({
    what: "test",
    pass: async () => {
      passes++;
      if (o.fail?.()) throw new Error("down");
      if (hold) await new Promise<void>((r) => (release = r));
    },
    next: async () => o.next?.() ?? clock.now() + 10_000,
  });
  return {
    l,
    passes: () => passes,
    hold: (on: boolean) => (hold = on),
    release: () => release?.(),
  };
}

test("changes during a pass make one more pass, not one each", async () => {
  const clock = new FakeClock();
  const w = loop(clock);
  await w.l.start(clock, silentLogger);
  assert.equal(w.passes(), 1);
  w.hold(true);
  w.l.changed();
  w.l.changed();
  w.l.changed();
  w.hold(false);
  w.release();
  await w.l.idle();
  assert.equal(w.passes(), 3, "the pass that was held, and one more for the changes during it");
  await w.l.stop();
});

test("it sleeps until next(), passes at once when that time has come, and not after stop()", async () => {
  const clock = new FakeClock();
  let due = clock.now() + 5000;
  let calls = 0;
  const w = loop(clock, { next: () => (++calls === 1 ? clock.now() : due) });
  await w.l.start(clock, silentLogger);
  assert.equal(w.passes(), 2, "next() said now once: a second pass at once");
  clock.advance(4999);
  await clock.settle();
  assert.equal(w.passes(), 2);
  due = clock.now() + 60_000;
  clock.advance(1);
  await clock.settle();
  assert.equal(w.passes(), 3);
  await w.l.stop();
  clock.advance(120_000);
  await clock.settle();
  w.l.changed();
  assert.equal(w.passes(), 3);
});

test("a pass that fails is tried again a second later", async () => {
  const clock = new FakeClock();
  let failing = true;
  const w = loop(clock, { fail: () => failing });
  await w.l.start(clock, silentLogger);
  assert.equal(w.passes(), 1);
  failing = false;
  clock.advance(999);
  await clock.settle();
  assert.equal(w.passes(), 1);
  clock.advance(1);
  await clock.settle();
  assert.equal(w.passes(), 2);
  await w.l.stop();
});

test("wakeBy brings the next pass forward, never back; asked during a pass, it holds after it", async () => {
  const clock = new FakeClock();
  const w = loop(clock); // next() says 10 s on
  await w.l.start(clock, silentLogger);
  w.l.wakeBy(clock.now() + 20_000);
  w.l.wakeBy(clock.now() + 3000);
  clock.advance(2999);
  await clock.settle();
  assert.equal(w.passes(), 1);
  clock.advance(1);
  await clock.settle();
  assert.equal(w.passes(), 2, "woken at 3 s, not 10");
  w.hold(true);
  w.l.changed();
  w.l.wakeBy(clock.now() + 500);
  w.hold(false);
  w.release();
  await w.l.idle();
  assert.equal(w.passes(), 3);
  clock.advance(500);
  await clock.settle();
  assert.equal(w.passes(), 4, "the wake asked for during the pass");
  await w.l.stop();
});

test("retries wait 1 s, doubling, at most 5 minutes", () => {
  assert.deepEqual([1, 2, 3, 9, 10, 40].map(retryDelayMs), [1000, 2000, 4000, 256_000, 300_000, 300_000]);
});
