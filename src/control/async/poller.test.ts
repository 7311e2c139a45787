/**
 * The poller as an event source, on a fake clock and an in-memory queue: it runs what is due,
 * has the policy decide, settles, and routes through its context's enqueue. Waits are on the
 * queue's settlements and the clock's settle(), never on real time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FunctionVersion } from "../../protocol/function.js";
import { FakeClock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import { silentLogger } from "../../shared/logger.js";
import type { Dispatcher } from "../dispatcher.js";
import type { Registry } from "../registry/registry.js";
import type { EventSourceContext } from "../triggers/event-source.js";
import type { AcceptInput } from "./accept.js";
import type { EventConfigs } from "./event-configs.js";
import { AsyncPoller, DEFAULT_ASYNC_SETTINGS } from "./poller.js";
import type { QueuedEvent, Settlement, WorkQueue } from "./queue.js";

const ARN = "arn:aws:lambda:us-east-1:000000000000:function:sink";

/** Due events in memory; `settled()` resolves at the next settlement. */
class MemoryQueue implements WorkQueue {
  readonly events = new Map<string, QueuedEvent>();
  readonly claims: (readonly string[])[] = [];
  #waiting: ((s: Settlement) => void)[] = [];
  #claimWaiters: ((v: unknown) => void)[] = [];

  add(id: string, functionName: string, acceptedAt: number): void {
    this.events.set(id, {
      id,
      functionName,
      qualifier: undefined,
      payload: Buffer.from('{"n":1}'),
      traceId: "Root=1-abc;Parent=1;Sampled=0;Lineage=nimbus:0",
      acceptedAt,
      hops: 0,
      status: "queued",
      attempts: 0,
      notBefore: acceptedAt,
      updatedAt: acceptedAt,
      lastError: undefined,
      result: undefined,
      initPhases: undefined,
      heldMs: 0,
    });
  }
  settled(): Promise<Settlement> {
    return new Promise((r) => this.#waiting.push(r));
  }
  /** Resolves with the index of the first claim whose skip list satisfies `skipped`, once made. */
  async claimWhere(skipped: (skip: readonly string[]) => boolean): Promise<number> {
    for (;;) {
      const i = this.claims.findIndex(skipped);
      if (i >= 0) return i;
      await new Promise((r) => this.#claimWaiters.push(r));
    }
  }
  async enqueue(): Promise<string> {
    throw new Error("the poller does not enqueue");
  }
  async claim(max: number, now: number, skip: readonly string[] = []): Promise<QueuedEvent[]> {
    this.claims.push(skip);
    for (const w of this.#claimWaiters.splice(0)) w(undefined);
    const due = [...this.events.values()]
      .filter((e) => (e.status === "queued" || e.status === "retrying") && e.notBefore <= now)
      .filter((e) => !skip.includes(e.functionName))
      .slice(0, max);
    for (const e of due) this.events.set(e.id, { ...e, status: "running" });
    return due;
  }
  async settle(id: string, s: Settlement, now: number): Promise<void> {
    const e = this.events.get(id)!;
    this.events.set(id, {
      ...e,
      status: s.status,
      attempts: s.attempts,
      notBefore: s.status === "retrying" ? s.notBefore : e.notBefore,
      lastError: s.status === "succeeded" ? undefined : s.error,
      heldMs: s.status === "retrying" ? (s.heldMs ?? e.heldMs) : e.heldMs,
      updatedAt: now,
    });
    for (const w of this.#waiting.splice(0)) w(s);
  }
  async recover(): Promise<number> {
    return 0;
  }
  async backlog() {
    return [];
  }
  async redrive(): Promise<boolean> {
    return false;
  }
  async prune(): Promise<number> {
    return 0;
  }
}

function poller(invoke: Dispatcher["invoke"]) {
  const clock = new FakeClock();
  const queue = new MemoryQueue();
  const registry = {
    resolve: async () => ({ fn: { version: "$LATEST", deadLetterTarget: undefined } as FunctionVersion }),
  } as unknown as Registry;
  const configs = {
    effective: async (functionName: string) => ({
      functionName,
      qualifier: "$LATEST",
      maximumRetryAttempts: 1,
      maximumEventAgeInSeconds: 21_600,
      onSuccess: undefined,
      onFailure: ARN,
      lastModified: 0,
    }),
  } as unknown as EventConfigs;
  const p = new AsyncPoller({
    queue,
    registry,
    dispatcher: { invoke },
    configs,
    region: "us-east-1",
    accountId: "000000000000",
    settings: DEFAULT_ASYNC_SETTINGS,
    errorType: (code) => `Lambda:${code}`,
  });
  const delivered: AcceptInput[] = [];
  let onDelivery: () => void = () => {};
  const ctx: EventSourceContext = {
    clock,
    logger: silentLogger,
    invoke: () => assert.fail("the poller runs events through the dispatcher"),
    enqueue: async (input) => {
      delivered.push(input);
      onDelivery();
      return "delivered";
    },
  };
  const delivery = () => new Promise<void>((r) => (onDelivery = r));
  return { p, clock, queue, ctx, delivered, delivery };
}

const failing: Dispatcher["invoke"] = async () =>
  ({
    outcome: { kind: "error", errorType: "RangeError", payload: Buffer.from('{"errorType":"RangeError"}') },
    initPhases: undefined,
  }) as unknown as Awaited<ReturnType<Dispatcher["invoke"]>>;

test("a failed event runs again when its retry delay is up, not before; its last failure goes to the destination through the context", async () => {
  let runs = 0;
  const { p, clock, queue, ctx, delivered, delivery } = poller((...args) => {
    runs++;
    return failing(...args);
  });
  queue.add("e1", "fails", clock.now());
  await p.start(ctx);
  const first = await queue.settled();
  assert.deepEqual([first.status, first.attempts], ["retrying", 1]);
  assert.equal(first.status === "retrying" && first.notBefore, clock.now() + 60_000);

  clock.advance(59_999);
  await clock.settle();
  assert.equal(runs, 1, "not run again before the minute is up");

  const second = queue.settled();
  const delivered1 = delivery();
  clock.advance(1);
  await clock.settle();
  assert.deepEqual([(await second).status, runs], ["failed", 2]);
  await delivered1;
  assert.equal(delivered.length, 1);
  assert.equal(delivered[0]!.functionName, "sink");
  assert.equal(JSON.parse(delivered[0]!.payload.toString()).requestContext.condition, "RetriesExhausted");
  await p.stop();
});

test("while a function is throttled its events stay in the queue; after the pause they are claimed again", async () => {
  let runs = 0;
  const { p, clock, queue, ctx } = poller(async () => {
    runs++;
    throw new NimbusError("TooManyRequests", "Rate Exceeded.");
  });
  queue.add("e1", "busy", clock.now());
  await p.start(ctx);
  const s = await queue.settled();
  assert.deepEqual([s.status, s.attempts], ["retrying", 0], "a throttle uses up no attempt");
  // Right after the throttle, the function's events are skipped...
  const paused = await queue.claimWhere((skip) => skip.includes("busy"));
  const again = queue.settled();
  clock.advance(DEFAULT_ASYNC_SETTINGS.backoffMs[0]);
  await clock.settle();
  // ...and once the pause is over, claimed again: the event, due again, runs.
  assert.deepEqual(queue.claims[paused + 1], []);
  await again;
  assert.equal(runs, 2);
  await p.stop();
});

test("events accepted for a throttled function do not wake the poller; those of another function do", async () => {
  const { p, clock, queue, ctx } = poller(async () => {
    throw new NimbusError("TooManyRequests", "Rate Exceeded.");
  });
  queue.add("e1", "busy", clock.now());
  await p.start(ctx);
  await queue.settled();
  await queue.claimWhere((skip) => skip.includes("busy"));
  await clock.settle();
  const before = queue.claims.length;
  // A flood of events for the paused function: no claim (each would skip it anyway).
  for (let i = 0; i < 100; i++) p.wake("busy");
  await clock.settle();
  assert.equal(queue.claims.length, before);
  // Another function's event is looked for at once.
  p.wake("other");
  await queue.claimWhere(() => queue.claims.length > before);
  assert.equal(queue.claims.length, before + 1);
  await p.stop();
});

test("a stopped poller claims nothing more, on wake-ups or ticks", async () => {
  const { p, clock, queue, ctx } = poller(failing);
  await p.start(ctx);
  await clock.settle();
  await p.stop();
  const claims = queue.claims.length;
  queue.add("late", "f", clock.now());
  p.wake();
  clock.advance(10 * DEFAULT_ASYNC_SETTINGS.pollEveryMs);
  await clock.settle();
  assert.equal(queue.claims.length, claims);
  assert.equal(queue.events.get("late")!.status, "queued");
});
