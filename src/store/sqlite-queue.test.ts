/**
 * What only the SQLite queue has: a thread of its own that closes and reopens on the file, and
 * commits that an fsync makes durable. Its behaviour as a queue is the store contract's
 * (`store/contract/queue.contract.ts`).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { event } from "./contract/harness.js";
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

test("events a stopped process left running are delivered again after recovery", async () => {
  const path = await database();
  const first = new SqliteEventQueue(path);
  await first.enqueue(event("x", { acceptedAt: 1_000 }));
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
