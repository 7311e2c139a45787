import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../shared/clock.js";
import { ScaleLimiter } from "./scale-limit.js";

test("a function starts its burst of instances at once, then as many per second as allowed", () => {
  const clock = new FakeClock();
  const limit = new ScaleLimiter({ burst: 3, perSecond: 2, clock });
  assert.deepEqual([limit.take("f"), limit.take("f"), limit.take("f")], [undefined, undefined, undefined]);
  assert.equal(limit.take("f"), 500, "the fourth waits for half a second's refill");
  assert.equal(limit.take("g"), undefined, "another function has its own bucket");
  clock.advance(499);
  assert.equal(limit.take("f"), 1);
  clock.advance(1);
  assert.equal(limit.take("f"), undefined);
  assert.equal(limit.take("f"), 500);
  clock.advance(10_000);
  assert.deepEqual(
    [limit.take("f"), limit.take("f"), limit.take("f"), limit.take("f")],
    [undefined, undefined, undefined, 500],
    "refills stop at the burst",
  );
});

test("a token given back for an instance that was not started can be used again", () => {
  const limit = new ScaleLimiter({ burst: 1, perSecond: 1, clock: new FakeClock() });
  assert.equal(limit.take("f"), undefined);
  assert.equal(limit.take("f"), 1000);
  limit.giveBack("f");
  assert.equal(limit.take("f"), undefined);
});
