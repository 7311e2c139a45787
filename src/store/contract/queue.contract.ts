/**
 * What asynchronous invocation relies on from every event queue's work: enqueue, claim,
 * settle, recover, backlog, redrive (`queue-records.contract.ts` has the records). Times are
 * epoch ms past 2^32 and payloads bytes that are not UTF-8, so a store that narrowed either
 * would show.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { event, ids, PHASES, type QueueHarness, RAW_BYTES, T0_MS, withRepo } from "./harness.js";

export function queueContract(open: () => Promise<QueueHarness>): void {
  test("an enqueued event reads back field for field, waiting, with its payload's exact bytes", () =>
    withRepo(open, async ({ repo }) => {
      const e = event("a", { qualifier: "prod", payload: RAW_BYTES, hops: 3, idempotencyKey: "order-1" });
      assert.equal(await repo.enqueue(e), "a");
      assert.deepEqual(await repo.get("a"), {
        ...e,
        status: "queued",
        attempts: 0,
        notBefore: T0_MS,
        updatedAt: T0_MS,
        lastError: undefined,
        result: undefined,
        initPhases: undefined,
        heldMs: 0,
      });
      assert.equal(await repo.get("b"), undefined);
    }));

  test("a claimed event is running, is not handed out again, and keeps its result when it succeeds", () =>
    withRepo(open, async ({ repo }) => {
      await repo.enqueue(event("a", { payload: RAW_BYTES }));
      const claimed = await repo.claim(10, T0_MS + 10);
      assert.deepEqual(
        claimed.map((e) => [e.id, e.status, e.payload, e.updatedAt]),
        [["a", "running", RAW_BYTES, T0_MS + 10]],
      );
      assert.deepEqual(await repo.claim(10, T0_MS + 60_000), [], "a claimed event is not handed out twice");
      const result = Buffer.from([0xff, 0x00, 0x22]);
      await repo.settle("a", { status: "succeeded", attempts: 1, result, initPhases: PHASES }, T0_MS + 50);
      const done = await repo.get("a");
      assert.deepEqual(
        [done?.status, done?.attempts, done?.result, done?.initPhases, done?.lastError, done?.updatedAt],
        ["succeeded", 1, result, PHASES, undefined, T0_MS + 50],
      );
      assert.deepEqual(await repo.claim(10, T0_MS + 60_000), [], "a finished event is not due again");
    }));

  test("an event put back for a retry is due again only at its time, oldest due first", () =>
    withRepo(open, async ({ repo }) => {
      await repo.enqueue(event("early"));
      await repo.enqueue(event("late", { acceptedAt: T0_MS + 1_000 }));
      assert.deepEqual(
        ids(await repo.claim(10, T0_MS + 500)),
        ["early"],
        "an event is not due before acceptance",
      );
      const retryAt = T0_MS + 60_000;
      const retry = { status: "retrying", attempts: 1, notBefore: retryAt, error: "boom" } as const;
      await repo.settle("early", { ...retry, initPhases: PHASES }, T0_MS + 600);
      const waiting = await repo.get("early");
      assert.deepEqual(
        [waiting?.status, waiting?.attempts, waiting?.notBefore, waiting?.lastError, waiting?.heldMs],
        ["retrying", 1, retryAt, "boom", 0],
      );
      assert.deepEqual(ids(await repo.claim(10, retryAt - 1)), ["late"]);
      const again = await repo.claim(10, retryAt);
      assert.deepEqual(
        again.map((e) => [e.id, e.attempts, e.initPhases]),
        [["early", 1, PHASES]],
      );
    }));

  test("time held back by a budget is kept until a settlement changes it", () =>
    withRepo(open, async ({ repo }) => {
      await repo.enqueue(event("a"));
      await repo.claim(1, T0_MS);
      const held = { status: "retrying", attempts: 0, notBefore: T0_MS + 60_000, error: "budget" } as const;
      await repo.settle("a", { ...held, heldMs: 60_000 }, T0_MS);
      assert.equal((await repo.get("a"))?.heldMs, 60_000);
      await repo.claim(1, T0_MS + 60_000);
      await repo.settle("a", { ...held, notBefore: T0_MS + 61_000, error: "throttled" }, T0_MS + 60_000);
      assert.equal((await repo.get("a"))?.heldMs, 60_000, "a retry without a hold leaves it");
      await repo.claim(1, T0_MS + 61_000);
      await repo.settle("a", { status: "failed", attempts: 1, error: "gave up" }, T0_MS + 62_000);
      const failed = await repo.get("a");
      assert.deepEqual(
        [failed?.status, failed?.attempts, failed?.lastError, failed?.heldMs],
        ["failed", 1, "gave up", 60_000],
      );
    }));

  test("a settlement of an event that is not running changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      await repo.enqueue(event("a"));
      await repo.settle("a", { status: "succeeded", attempts: 1, result: Buffer.from("1") }, T0_MS + 1);
      await repo.settle("unknown", { status: "failed", attempts: 1, error: "x" }, T0_MS + 1);
      assert.deepEqual([(await repo.get("a"))?.status, await repo.get("unknown")], ["queued", undefined]);
    }));

  test("a claim takes at most its maximum, oldest due first over all functions", () =>
    withRepo(open, async ({ repo }) => {
      await repo.enqueue(event("b1", { functionName: "b", acceptedAt: T0_MS + 1 }));
      await repo.enqueue(event("a3", { functionName: "a", acceptedAt: T0_MS + 3 }));
      await repo.enqueue(event("a0", { functionName: "a", acceptedAt: T0_MS }));
      await repo.enqueue(event("c2", { functionName: "c", acceptedAt: T0_MS + 2 }));
      await repo.enqueue(event("later", { functionName: "a", acceptedAt: T0_MS + 9_000 }));
      assert.deepEqual(ids(await repo.claim(3, T0_MS + 10)), ["a0", "b1", "c2"]);
      assert.deepEqual(ids(await repo.claim(3, T0_MS + 10)), ["a3"], "events not yet due stay");
    }));

  test("a claim takes at most the given number per function and leaves skipped functions' events", () =>
    withRepo(open, async ({ repo }) => {
      for (let i = 0; i < 5; i++)
        await repo.enqueue(event(`a${i}`, { functionName: "a", acceptedAt: T0_MS + i }));
      for (let i = 0; i < 2; i++) {
        await repo.enqueue(event(`b${i}`, { functionName: "b", acceptedAt: T0_MS + 1_000 + i }));
      }
      await repo.enqueue(event("c0", { functionName: "c", acceptedAt: T0_MS - 500 }));
      assert.deepEqual(ids(await repo.claim(10, T0_MS + 5_000, ["c"], 2)), ["a0", "a1", "b0", "b1"]);
      assert.deepEqual(ids(await repo.claim(10, T0_MS + 5_000)), ["c0", "a2", "a3", "a4"]);
    }));

  test("a deep backlog of one function does not hide another function's events from a claim", () =>
    withRepo(open, async ({ repo }) => {
      await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          repo.enqueue(event(`a${i}`, { functionName: "a", acceptedAt: T0_MS + i })),
        ),
      );
      await repo.enqueue(event("b0", { functionName: "b", acceptedAt: T0_MS + 9_000 }));
      assert.deepEqual(
        ids(await repo.claim(4, T0_MS + 10_000, [], 2)),
        ["a0", "a1", "b0"],
        "the oldest two of a (its cap) and b's event",
      );
      await repo.enqueue(event("c0", { functionName: "c", acceptedAt: T0_MS + 9_500 }));
      assert.deepEqual(
        ids(await repo.claim(4, T0_MS + 10_000, ["a"], 2)),
        ["c0"],
        "a skipped function's backlog is passed over",
      );
    }));

  test("two platforms claiming at once never take the same event, and between them take all", () =>
    withRepo(open, async ({ repo, another }) => {
      const total = 120;
      await Promise.all(
        Array.from({ length: total }, (_, i) =>
          repo.enqueue(event(`e${i}`, { functionName: `fn${i % 3}`, acceptedAt: T0_MS + i })),
        ),
      );
      const second = await another();
      const taken: string[] = [];
      // Several pollers on each platform, each claiming a few at a time until nothing is left.
      const poll = async (q: typeof repo) => {
        for (;;) {
          const claimed = await q.claim(4, T0_MS + total, [], 2);
          if (claimed.length === 0) return;
          taken.push(...ids(claimed));
        }
      };
      await Promise.all([repo, second, repo, second, repo, second].map(poll));
      const twice = taken.filter((id, i) => taken.indexOf(id) !== i);
      assert.deepEqual(twice, [], "events taken by two claims");
      assert.equal(new Set(taken).size, total);
    }));

  test("recovery puts events left running back in the queue, due at once, and leaves others", () =>
    withRepo(open, async ({ repo, another }) => {
      for (const id of ["done", "x", "y"]) await repo.enqueue(event(id));
      await repo.enqueue(event("waiting", { acceptedAt: T0_MS + 10_000 }));
      await repo.claim(10, T0_MS);
      await repo.settle("done", { status: "succeeded", attempts: 1, result: Buffer.from("1") }, T0_MS + 1);
      // The platform that claimed x and y stopped; another starts on the same store.
      const restarted = await another();
      assert.deepEqual(await restarted.claim(10, T0_MS + 5_000), [], "still claimed before recovery");
      assert.equal(await restarted.recover(T0_MS + 5_000), 2);
      const x = await restarted.get("x");
      assert.deepEqual([x?.status, x?.notBefore, x?.attempts], ["queued", T0_MS + 5_000, 0]);
      assert.deepEqual(await restarted.claim(10, T0_MS + 5_000).then(ids), ["x", "y"]);
      assert.equal((await restarted.get("done"))?.status, "succeeded");
      assert.equal(
        (await restarted.get("waiting"))?.notBefore,
        T0_MS + 10_000,
        "a waiting event keeps its time",
      );
      assert.equal(await restarted.recover(T0_MS + 6_000), 2, "claimed again, and again left running");
    }));

  test("the backlog counts waiting events per function, with the oldest accepted time", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.backlog(), []);
      await repo.enqueue(event("a-running", { functionName: "a", acceptedAt: T0_MS }));
      await repo.claim(1, T0_MS);
      await repo.enqueue(event("a-retrying", { functionName: "a", acceptedAt: T0_MS + 1 }));
      await repo.claim(1, T0_MS + 1);
      await repo.settle(
        "a-retrying",
        { status: "retrying", attempts: 1, notBefore: T0_MS + 9, error: "e" },
        T0_MS + 2,
      );
      await repo.enqueue(event("a-queued", { functionName: "a", acceptedAt: T0_MS + 5 }));
      await repo.enqueue(event("b-queued", { functionName: "b", acceptedAt: T0_MS + 7 }));
      await repo.enqueue(event("c-done", { functionName: "c", acceptedAt: T0_MS - 1 }));
      await repo.claim(1, T0_MS + 2, ["a", "b"]);
      await repo.settle("c-done", { status: "failed", attempts: 1, error: "e" }, T0_MS + 3);
      const backlog = (await repo.backlog()).sort((x, y) => (x.functionName < y.functionName ? -1 : 1));
      assert.deepEqual(backlog, [
        { functionName: "a", waiting: 2, oldestAcceptedAt: T0_MS + 1 },
        { functionName: "b", waiting: 1, oldestAcceptedAt: T0_MS + 7 },
      ]);
    }));

  test("a failed event is redriven with a fresh retry budget and age; any other event is not", () =>
    withRepo(open, async ({ repo }) => {
      for (const id of ["failed", "done", "running", "queued"]) await repo.enqueue(event(id));
      await repo.claim(3, T0_MS);
      await repo.settle("failed", { status: "failed", attempts: 3, error: "boom" }, T0_MS + 1);
      await repo.settle("done", { status: "succeeded", attempts: 1, result: Buffer.from("1") }, T0_MS + 1);
      const later = T0_MS + 86_400_000;
      for (const id of ["done", "running", "queued", "unknown"]) {
        assert.equal(await repo.redrive(id, later), false, `${id} is not redriven`);
      }
      assert.equal(await repo.redrive("failed", later), true);
      const back = await repo.get("failed");
      assert.deepEqual(
        [back?.status, back?.attempts, back?.acceptedAt, back?.notBefore, back?.updatedAt],
        ["queued", 0, later, later, later],
      );
      assert.equal(await repo.redrive("failed", later), false, "queued again, it is not failed");
      assert.deepEqual(await repo.claim(10, later).then(ids), ["queued", "failed"]);
      assert.equal((await repo.get("running"))?.status, "running");
    }));
}
