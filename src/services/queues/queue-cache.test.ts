import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { queue } from "../../store/contract/queues.contract.js";
import { openSqlite } from "../../store/contract/stores.js";
import { QUEUE_CACHE_TTL_MS, withQueueCache } from "./queue-cache.js";
import type { QueuesRepo } from "./repo.js";

/** The store's queues repository, counting the reads of queue records that reach it. */
async function counted() {
  const store = await openSqlite();
  const reads = { n: 0 };
  const repo = store.queues;
  const counting = new Proxy(repo, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "getQueue") reads.n++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as QueuesRepo;
  return { store, repo: counting, reads };
}

test("queue records come from memory while fresh; a change made through the cache is seen at once", async () => {
  const { store, repo, reads } = await counted();
  const clock = new FakeClock();
  const cached = withQueueCache(repo, clock);
  try {
    assert.equal(
      await cached.createQueue(queue("orders", { attributes: { VisibilityTimeout: "30" } })),
      true,
    );
    assert.equal((await cached.getQueue("orders"))?.attributes.VisibilityTimeout, "30");
    await cached.getQueue("orders");
    assert.equal(reads.n, 1);

    assert.equal(await cached.updateQueue(queue("orders", { attributes: { VisibilityTimeout: "5" } })), true);
    assert.equal((await cached.getQueue("orders"))?.attributes.VisibilityTimeout, "5");
    assert.equal(await cached.deleteQueue("orders"), true);
    assert.equal(await cached.getQueue("orders"), undefined);

    // A change made elsewhere (another node) shows once the entry is older than the TTL.
    await repo.createQueue(queue("jobs", { attributes: { DelaySeconds: "0" } }));
    assert.equal((await cached.getQueue("jobs"))?.attributes.DelaySeconds, "0");
    await repo.updateQueue(queue("jobs", { attributes: { DelaySeconds: "9" } }));
    clock.advance(QUEUE_CACHE_TTL_MS - 1);
    assert.equal((await cached.getQueue("jobs"))?.attributes.DelaySeconds, "0", "still fresh");
    clock.advance(1);
    assert.equal((await cached.getQueue("jobs"))?.attributes.DelaySeconds, "9");
  } finally {
    await store.close();
  }
});
