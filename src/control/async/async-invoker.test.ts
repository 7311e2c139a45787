import assert from "node:assert/strict";
import { test } from "node:test";
import type { FunctionVersion } from "../../protocol/function.js";
import { FakeClock } from "../../shared/clock.js";
import { silentLogger } from "../../shared/logger.js";
import type { Dispatcher } from "../dispatcher.js";
import type { Registry } from "../registry/registry.js";
import { AsyncInvoker, DEFAULT_ASYNC_SETTINGS } from "./async-invoker.js";
import type { EventConfigs } from "./event-configs.js";
import type { EventQueue, QueuedEvent } from "./queue.js";

/** A queue holding `backlog` events per function, recording what each claim skipped. */
function fakeQueue(backlog: Record<string, number>, acceptedAt: number) {
  const waiting = Object.entries(backlog).flatMap(([fn, n]) =>
    Array.from({ length: n }, (_, i) => ({ id: `${fn}-${i}`, functionName: fn })),
  );
  const skips: string[][] = [];
  const queue = {
    async claim(max: number, _now: number, skip: readonly string[] = [], perFunction = max) {
      skips.push([...skip]);
      const out: QueuedEvent[] = [];
      const taken = new Map<string, number>();
      for (let i = 0; i < waiting.length && out.length < max; ) {
        const e = waiting[i]!;
        if (skip.includes(e.functionName) || (taken.get(e.functionName) ?? 0) >= perFunction) {
          i++;
          continue;
        }
        waiting.splice(i, 1);
        taken.set(e.functionName, (taken.get(e.functionName) ?? 0) + 1);
        out.push({
          ...e,
          qualifier: undefined,
          payload: Buffer.from("{}"),
          traceId: "Root=1-x",
          acceptedAt,
          hops: 0,
          status: "running",
          attempts: 0,
          notBefore: 0,
          updatedAt: 0,
          lastError: undefined,
          result: undefined,
          initPhases: undefined,
          heldMs: 0,
        });
      }
      return out;
    },
    async settle() {},
    async recover() {
      return 0;
    },
  } as unknown as EventQueue;
  return { queue, skips, waiting };
}

test("one function's backlog takes at most half the poller, so other functions' events still start", async () => {
  const clock = new FakeClock();
  const { queue, waiting } = fakeQueue({ busy: 200, other: 3 }, clock.now());
  const started: string[] = [];
  // Invocations that never finish: the poller's slots stay taken.
  const dispatcher = {
    invoke: (_fn: FunctionVersion, req: { requestId: string }) => {
      started.push(req.requestId);
      return new Promise(() => {});
    },
  } as unknown as Dispatcher;
  const registry = { resolve: async () => ({ fn: { version: "$LATEST" } }) } as unknown as Registry;
  const configs = {
    effective: async () => ({ maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21_600 }),
  } as unknown as EventConfigs;
  const invoker = new AsyncInvoker({
    queue,
    registry,
    dispatcher,
    configs,
    clock,
    region: "us-east-1",
    accountId: "000000000000",
    settings: { ...DEFAULT_ASYNC_SETTINGS, maxInFlight: 8 },
    errorType: (code) => code,
  });
  await invoker.poller.start({
    clock,
    logger: silentLogger,
    invoke: () => assert.fail("the poller invokes through the dispatcher"),
    enqueue: () => assert.fail("nothing ends, so nothing goes to a destination"),
  });
  for (let i = 0; i < 50 && started.length < 7; i++) await new Promise((r) => setImmediate(r));
  await invoker.poller.stop();
  const busy = started.filter((id) => id.startsWith("busy-")).length;
  const other = started.filter((id) => id.startsWith("other-")).length;
  assert.equal(busy, 4, "the busy function is held to half of the 8 slots");
  assert.equal(other, 3, "the other function's events start although they queued behind");
  assert.equal(waiting.filter((e) => e.functionName === "busy").length, 196);
});
