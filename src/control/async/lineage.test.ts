/** The loop guard's state in the trace header, from a client's call to the guard's stop. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  destinationHeader,
  formatLineage,
  isLoop,
  MAX_HOPS,
  nextHop,
  parseLineage,
  wasStopped,
} from "./lineage.js";

const T0 = Date.UTC(2026, 11, 1);

test("a header is read back as written, with a fresh parent each time", () => {
  const l = { root: "1-abc-def", hops: 3, stopped: false };
  const header = formatLineage(l);
  assert.match(header, /^Root=1-abc-def;Parent=[0-9a-f]{16};Sampled=0;Lineage=nimbus:3$/);
  assert.deepEqual(parseLineage(header), l);
  assert.notEqual(formatLineage(l), header);
  assert.deepEqual(parseLineage(formatLineage({ ...l, stopped: true })), { ...l, stopped: true });
});

test("a call without our lineage starts a chain; one with it is the next hop of the caller's chain", () => {
  for (const header of [undefined, "", "Root=1-abc-def;Parent=1;Sampled=1"]) {
    const l = nextHop(header, T0);
    assert.equal(l.hops, 0);
    assert.equal(l.stopped, false);
    assert.match(l.root, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  }
  assert.deepEqual(nextHop("Root=1-abc;Parent=2;Sampled=0;Lineage=nimbus:4:stopped", T0), {
    root: "1-abc",
    hops: 5,
    stopped: true,
  });
});

test(`a chain is a loop past ${MAX_HOPS} hops`, () => {
  assert.equal(isLoop(MAX_HOPS), false);
  assert.equal(isLoop(MAX_HOPS + 1), true);
});

test("a destination is one more hop of the event's chain, and keeps its root and its stop", () => {
  const event = { traceId: formatLineage({ root: "1-abc", hops: 4, stopped: false }), hops: 4 };
  assert.deepEqual(nextHop(destinationHeader(event, false, T0), T0), {
    root: "1-abc",
    hops: 5,
    stopped: false,
  });
  const afterStop = { traceId: formatLineage({ root: "1-abc", hops: 2, stopped: true }), hops: 2 };
  assert.deepEqual(nextHop(destinationHeader(afterStop, false, T0), T0), {
    root: "1-abc",
    hops: 3,
    stopped: true,
  });
});

test("after a stop, the destination runs once and what it starts is stopped without being routed", () => {
  const looping = { traceId: formatLineage({ root: "1-abc", hops: MAX_HOPS + 1, stopped: false }), hops: 17 };
  const destination = nextHop(destinationHeader(looping, true, T0), T0);
  assert.deepEqual(destination, { root: "1-abc", hops: MAX_HOPS, stopped: true });
  assert.equal(isLoop(destination.hops), false, "the destination itself runs");
  const started = nextHop(formatLineage(destination), T0);
  assert.equal(isLoop(started.hops), true);
  assert.equal(wasStopped(formatLineage(started)), true, "its stop is not routed again");
});
