/**
 * What the records of invocations rely on from every event queue: what is kept (every event
 * enqueued, once; synchronous invocations' records; idempotency keys while their records are
 * kept), how it is listed, and what pruning deletes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { event, ids, PHASES, type QueueHarness, RAW_BYTES, T0_MS, withRepo } from "./harness.js";

export function queueRecordsContract(open: () => Promise<QueueHarness>): void {
  test("hundreds of concurrent enqueues are all stored, each once", () =>
    withRepo(open, async ({ repo }) => {
      const all = Array.from({ length: 500 }, (_, i) => `e${i}`);
      assert.deepEqual(await Promise.all(all.map((id) => repo.enqueue(event(id)))), all);
      const claimed = await repo.claim(1_000, T0_MS);
      assert.equal(claimed.length, 500);
      assert.deepEqual(new Set(ids(claimed)), new Set(all));
    }));

  test("a duplicate id is refused and does not disturb the events enqueued beside it", () =>
    withRepo(open, async ({ repo }) => {
      await repo.enqueue(event("dup"));
      const results = await Promise.allSettled([
        repo.enqueue(event("dup", { functionName: "other" })),
        repo.enqueue(event("fresh")),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["rejected", "fulfilled"],
      );
      assert.equal((await repo.get("dup"))?.functionName, "fn", "the first event is kept as it was");
      assert.equal((await repo.get("fresh"))?.status, "queued");
    }));

  test("an event repeating a kept idempotency key of its function is not queued again", () =>
    withRepo(open, async ({ repo, another }) => {
      const keyed = (id: string, functionName = "fn") =>
        event(id, { functionName, idempotencyKey: "order-17" });
      assert.equal(await repo.enqueue(keyed("first")), "first");
      // Repeats at once, one through another platform: still one event.
      const second = await another();
      const repeats = await Promise.all([repo.enqueue(keyed("second")), second.enqueue(keyed("third"))]);
      assert.deepEqual(repeats, ["first", "first"]);
      assert.equal(await repo.get("second"), undefined);
      assert.equal(await repo.enqueue(keyed("other-fn", "fn2")), "other-fn", "keys are per function");
      assert.deepEqual((await repo.claim(10, T0_MS).then(ids)).sort(), ["first", "other-fn"]);
      await repo.settle("first", { status: "succeeded", attempts: 1, result: Buffer.from("1") }, T0_MS + 1);
      assert.equal(
        await repo.enqueue(keyed("after")),
        "first",
        "a finished event's key is kept with its record",
      );
    }));

  test("a synchronous invocation's record is kept as it ended, and is never claimed", () =>
    withRepo(open, async ({ repo }) => {
      const ok = event("sync-ok", { qualifier: "1", payload: RAW_BYTES, hops: 2 });
      await repo.record(
        ok,
        { status: "succeeded", attempts: 1, result: RAW_BYTES, initPhases: PHASES },
        T0_MS + 30,
      );
      await repo.record(
        event("sync-failed"),
        { status: "failed", attempts: 1, error: '{"errorType":"E"}' },
        T0_MS + 40,
      );
      const kept = await repo.get("sync-ok");
      assert.deepEqual(
        [kept?.status, kept?.attempts, kept?.payload, kept?.result, kept?.initPhases, kept?.updatedAt],
        ["succeeded", 1, RAW_BYTES, RAW_BYTES, PHASES, T0_MS + 30],
      );
      assert.deepEqual(
        [kept?.qualifier, kept?.hops, kept?.acceptedAt, kept?.traceId, kept?.lastError],
        ["1", 2, T0_MS, "Root=1-sync-ok", undefined],
      );
      const failed = await repo.get("sync-failed");
      assert.deepEqual(
        [failed?.status, failed?.lastError, failed?.result],
        ["failed", '{"errorType":"E"}', undefined],
      );
      assert.deepEqual(await repo.claim(10, T0_MS + 86_400_000), []);
      assert.deepEqual(await repo.backlog(), []);
    }));

  test("records list newest first, by function and by status, up to the limit", () =>
    withRepo(open, async ({ repo }) => {
      await repo.enqueue(event("a1", { functionName: "a", acceptedAt: T0_MS + 1 }));
      await repo.enqueue(event("b2", { functionName: "b", acceptedAt: T0_MS + 2 }));
      await repo.enqueue(event("a3", { functionName: "a", acceptedAt: T0_MS + 3 }));
      await repo.record(
        event("a4", { functionName: "a", acceptedAt: T0_MS + 4 }),
        { status: "failed", attempts: 1, error: "e" },
        T0_MS + 5,
      );
      await repo.enqueue(event("a4-same-ms", { functionName: "a", acceptedAt: T0_MS + 4 }));
      assert.deepEqual(await repo.list({ limit: 10 }).then(ids), ["a4-same-ms", "a4", "a3", "b2", "a1"]);
      assert.deepEqual(await repo.list({ limit: 2 }).then(ids), ["a4-same-ms", "a4"]);
      assert.deepEqual(await repo.list({ functionName: "a", limit: 3 }).then(ids), [
        "a4-same-ms",
        "a4",
        "a3",
      ]);
      assert.deepEqual(await repo.list({ status: "failed", limit: 10 }).then(ids), ["a4"]);
      assert.deepEqual(await repo.list({ functionName: "b", status: "queued", limit: 10 }).then(ids), ["b2"]);
      assert.deepEqual(await repo.list({ functionName: "b", status: "failed", limit: 10 }), []);
      assert.deepEqual(await repo.list({ functionName: "none", limit: 10 }), []);
    }));

  test("records of finished invocations older than the cutoff are pruned; unfinished ones never are", () =>
    withRepo(open, async ({ repo }) => {
      const old = T0_MS - 86_400_000;
      await repo.record(
        event("old-sync"),
        { status: "succeeded", attempts: 1, result: Buffer.from("1") },
        old,
      );
      for (const id of ["old-failed", "old-running", "old-retrying"]) {
        await repo.enqueue(
          event(id, { acceptedAt: old, idempotencyKey: id === "old-failed" ? "k" : undefined }),
        );
      }
      await repo.claim(10, old);
      await repo.settle("old-failed", { status: "failed", attempts: 1, error: "{}" }, old + 1);
      await repo.settle(
        "old-retrying",
        { status: "retrying", attempts: 1, notBefore: T0_MS, error: "e" },
        old + 1,
      );
      await repo.enqueue(event("old-queued", { acceptedAt: old }));
      await repo.record(event("recent"), { status: "failed", attempts: 1, error: "{}" }, T0_MS);
      assert.equal(await repo.prune(T0_MS), 2);
      assert.equal(await repo.get("old-sync"), undefined);
      assert.equal(await repo.get("old-failed"), undefined);
      for (const [id, status] of [
        ["old-running", "running"],
        ["old-retrying", "retrying"],
        ["old-queued", "queued"],
        ["recent", "failed"],
      ]) {
        assert.equal((await repo.get(id!))?.status, status, `${id} is kept`);
      }
      assert.equal(await repo.prune(T0_MS), 0);
      assert.equal(
        await repo.enqueue(event("new", { idempotencyKey: "k" })),
        "new",
        "a pruned record's key is free again",
      );
    }));
}
