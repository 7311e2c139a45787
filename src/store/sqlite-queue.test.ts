import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { NewEvent } from "../control/async/queue.js";
import { SqliteStore } from "./sqlite.js";
import { SqliteEventQueue } from "./sqlite-queue.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A migrated database file in a fresh directory. */
async function database(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-queue-"));
  dirs.push(dir);
  const path = join(dir, "nimbus.db");
  await new SqliteStore(path).close();
  return path;
}

function event(id: string, at = 1_000): NewEvent {
  return {
    id,
    functionName: "fn",
    qualifier: undefined,
    payload: Buffer.from(JSON.stringify({ id })),
    traceId: `Root=1-${id}`,
    acceptedAt: at,
    hops: 0,
  };
}

test("an enqueued event is claimed once, runs, and keeps its result", async () => {
  const q = new SqliteEventQueue(await database());
  try {
    await q.enqueue(event("a"));
    assert.equal((await q.get("a"))?.status, "queued");
    const claimed = await q.claim(10, 1_000);
    assert.deepEqual(
      claimed.map((e) => [e.id, e.status, e.payload.toString()]),
      [["a", "running", '{"id":"a"}']],
    );
    assert.deepEqual(await q.claim(10, 1_000), [], "a claimed event is not handed out twice");
    await q.settle("a", { status: "succeeded", attempts: 1, result: Buffer.from('"ok"') }, 1_050);
    const done = await q.get("a");
    assert.equal(done?.status, "succeeded");
    assert.equal(done?.attempts, 1);
    assert.equal(done?.result?.toString(), '"ok"');
    assert.equal(done?.updatedAt, 1_050);
  } finally {
    await q.close();
  }
});

test("an event put back for a retry is due again only at its time, oldest due first", async () => {
  const q = new SqliteEventQueue(await database());
  try {
    await q.enqueue(event("early", 1_000));
    await q.enqueue(event("late", 2_000));
    assert.deepEqual(await q.claim(10, 1_500).then((es) => es.map((e) => e.id)), ["early"]);
    await q.settle("early", { status: "retrying", attempts: 1, notBefore: 61_000, error: "boom" }, 1_600);
    assert.equal((await q.get("early"))?.lastError, "boom");
    assert.deepEqual(await q.claim(10, 60_999).then((es) => es.map((e) => e.id)), ["late"]);
    const again = await q.claim(10, 61_000);
    assert.deepEqual(
      again.map((e) => [e.id, e.attempts]),
      [["early", 1]],
    );
  } finally {
    await q.close();
  }
});

test("a claim takes at most the given number per function and leaves skipped functions' events", async () => {
  const q = new SqliteEventQueue(await database());
  try {
    for (let i = 0; i < 5; i++) await q.enqueue({ ...event(`a${i}`, 1_000 + i), functionName: "a" });
    for (let i = 0; i < 2; i++) await q.enqueue({ ...event(`b${i}`, 2_000 + i), functionName: "b" });
    await q.enqueue({ ...event("c0", 500), functionName: "c" });
    const claimed = await q.claim(10, 5_000, ["c"], 2);
    assert.deepEqual(
      claimed.map((e) => e.id),
      ["a0", "a1", "b0", "b1"],
    );
    assert.deepEqual(
      (await q.claim(10, 5_000)).map((e) => e.id),
      ["c0", "a2", "a3", "a4"],
    );
  } finally {
    await q.close();
  }
});

test("a deep backlog of one function does not hide another function's events from a claim", async () => {
  const q = new SqliteEventQueue(await database());
  try {
    await Promise.all(
      Array.from({ length: 2_000 }, (_, i) => q.enqueue({ ...event(`a${i}`, 1_000 + i), functionName: "a" })),
    );
    await q.enqueue({ ...event("b0", 9_000), functionName: "b" });
    assert.deepEqual(
      (await q.claim(4, 10_000, [], 2)).map((e) => e.id),
      ["a0", "a1", "b0"],
      "the oldest two of a (its cap) and b's event",
    );
    await q.enqueue({ ...event("c0", 9_500), functionName: "c" });
    assert.deepEqual(
      (await q.claim(4, 10_000, ["a"], 2)).map((e) => e.id),
      ["c0"],
      "a skipped function's backlog is passed over",
    );
  } finally {
    await q.close();
  }
});

test("events a stopped process left running are delivered again after recovery", async () => {
  const path = await database();
  const first = new SqliteEventQueue(path);
  await first.enqueue(event("x"));
  await first.claim(10, 1_000);
  await first.close();

  const second = new SqliteEventQueue(path);
  try {
    assert.deepEqual(await second.claim(10, 5_000), [], "still claimed before recovery");
    assert.equal(await second.recover(5_000), 1);
    assert.deepEqual(await second.claim(10, 5_000).then((es) => es.map((e) => e.id)), ["x"]);
  } finally {
    await second.close();
  }
});

test("hundreds of concurrent enqueues share commits and are all stored", async () => {
  const q = new SqliteEventQueue(await database());
  try {
    const ids = Array.from({ length: 500 }, (_, i) => `e${i}`);
    await Promise.all(ids.map((id) => q.enqueue(event(id))));
    const claimed = await q.claim(1_000, 1_000);
    assert.equal(claimed.length, 500);
    assert.deepEqual(new Set(claimed.map((e) => e.id)), new Set(ids));
  } finally {
    await q.close();
  }
});

test("an event repeating a kept idempotency key of its function is not queued again", async () => {
  const q = new SqliteEventQueue(await database());
  try {
    const keyed = (id: string, fn = "fn") => ({ ...event(id), functionName: fn, idempotencyKey: "order-17" });
    assert.equal(await q.enqueue(keyed("first")), "first");
    // Concurrent repeats share a commit with each other: still one event.
    const ids = await Promise.all([q.enqueue(keyed("second")), q.enqueue(keyed("third"))]);
    assert.deepEqual(ids, ["first", "first"]);
    assert.equal(await q.get("second"), undefined);
    assert.equal(await q.enqueue(keyed("other-fn", "fn2")), "other-fn", "keys are per function");
    assert.equal((await q.claim(10, 1_000)).length, 2);
  } finally {
    await q.close();
  }
});

test("records of finished invocations older than the retention are pruned; others stay", async () => {
  const q = new SqliteEventQueue(await database());
  try {
    await q.record(event("old-sync"), { status: "succeeded", attempts: 1, result: Buffer.from("1") }, 1_000);
    await q.enqueue({ ...event("old-failed"), idempotencyKey: "k" });
    await q.claim(10, 1_000);
    await q.settle("old-failed", { status: "failed", attempts: 1, error: "{}" }, 2_000);
    await q.enqueue(event("waiting", 500));
    await q.record(event("recent"), { status: "failed", attempts: 1, error: "{}" }, 9_000);
    assert.equal(await q.prune(5_000), 2);
    assert.equal(await q.get("old-sync"), undefined);
    assert.equal(await q.get("old-failed"), undefined);
    assert.equal((await q.get("waiting"))?.status, "queued", "a queued event is never pruned");
    assert.equal((await q.get("recent"))?.status, "failed");
    assert.equal(
      await q.enqueue({ ...event("new"), idempotencyKey: "k" }),
      "new",
      "a pruned key is free again",
    );
  } finally {
    await q.close();
  }
});

test("a duplicate id is refused and does not disturb the events enqueued beside it", async () => {
  const q = new SqliteEventQueue(await database());
  try {
    await q.enqueue(event("dup"));
    const results = await Promise.allSettled([q.enqueue(event("dup")), q.enqueue(event("fresh"))]);
    assert.equal(results[0].status, "rejected");
    assert.equal(results[1].status, "fulfilled");
    assert.equal((await q.get("fresh"))?.status, "queued");
  } finally {
    await q.close();
  }
});

test("every acknowledged event survives kill -9 of the process that enqueued it", async () => {
  const path = await database();
  const script = join(dirs.at(-1)!, "enqueuer.mjs");
  const queueModule = new URL("./sqlite-queue.js", import.meta.url).href;
  writeFileSync(
    script,
    `import { SqliteEventQueue } from ${JSON.stringify(queueModule)};
     const q = new SqliteEventQueue(${JSON.stringify(path)});
     let n = 0;
     // Keep 20 enqueues in flight; print each id once it is acknowledged.
     const one = async () => { for (;;) { const id = "k" + n++; await q.enqueue({ id, functionName: "fn", qualifier: undefined,
       payload: Buffer.from("{}"), traceId: "t", acceptedAt: 1, hops: 0 }); process.stdout.write(id + "\\n"); } };
     for (let i = 0; i < 20; i++) one();`,
  );
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"], env: {} });
  let out = "";
  await new Promise<void>((resolve) => {
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.split("\n").length > 300) resolve();
    });
  });
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  const acknowledged = out.split("\n").filter((l) => /^k\d+$/.test(l));
  assert.ok(acknowledged.length >= 300);

  const q = new SqliteEventQueue(path);
  try {
    const missing: string[] = [];
    for (const id of acknowledged) if (!(await q.get(id))) missing.push(id);
    assert.deepEqual(missing, [], "acknowledged events lost to kill -9");
  } finally {
    await q.close();
  }
});
