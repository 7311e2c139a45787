/**
 * The PostgreSQL queue's promises to a platform that dies: an event acknowledged by `enqueue`
 * is committed (kill -9 the process right after, and it is there), and an event claimed by a
 * process killed before it settled is delivered again after recovery.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { TestPostgres } from "../contract/test-postgres.js";
import { connectPostgres, type PostgresOptions } from "./connect.js";
import { PostgresEventQueue } from "./queue.js";
import { openPostgresRepos } from "./repos.js";

const server = new TestPostgres(process.env.NIMBUS_TEST_POSTGRES_URL);
after(() => server.close());

const T0_MS = 1_796_083_200_000;
const REPOS_MODULE = new URL("./repos.js", import.meta.url).href;

/** Events acknowledged before the kill: enough that the kill lands among enqueues in flight. */
const ACKNOWLEDGED_BEFORE_KILL = 200;

/**
 * Runs `body` (the text of an async function of `queue` and `print`) in a child process on the
 * schema, until `enough` says what it printed is enough; then kills it with SIGKILL and
 * returns the lines it printed.
 */
async function runUntilKilled(
  options: PostgresOptions,
  body: string,
  enough: (lines: string[]) => boolean,
): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-pg-queue-"));
  try {
    const script = join(dir, "child.mjs");
    await writeFile(
      script,
      `import { openPostgresRepos } from ${JSON.stringify(REPOS_MODULE)};
       const { queue } = await openPostgresRepos(${JSON.stringify(options)});
       const print = (line) => process.stdout.write(line + "\\n");
       await (${body})(queue, print);
       setInterval(() => {}, 60_000);`,
    );
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"], env: {} });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let out = "";
    const lines = () => out.split("\n").slice(0, -1);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (enough(lines())) resolve();
      });
      void exited.then(() => reject(new Error(`the child exited before it was killed; it printed: ${out}`)));
    });
    const seen = lines();
    child.kill("SIGKILL");
    await exited;
    return seen;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A queue on a fresh pool: nothing of the killed process's connections or caches. */
async function withFreshQueue(options: PostgresOptions, body: (q: PostgresEventQueue) => Promise<void>) {
  const sql = connectPostgres(options);
  try {
    await body(new PostgresEventQueue(sql));
  } finally {
    await sql.end();
  }
}

test("every event acknowledged by enqueue survives kill -9 of the process right after", async () => {
  const { options, drop } = await server.freshSchema();
  try {
    const acknowledged = await runUntilKilled(
      options,
      `async (queue, print) => {
         let n = 0;
         // 20 enqueues in flight; each id printed the moment its enqueue resolves.
         const one = async () => { for (;;) { const id = "k" + n++;
           await queue.enqueue({ id, functionName: "fn", qualifier: undefined, payload: Buffer.from([0xff, n & 0xff]),
             traceId: "t", acceptedAt: ${T0_MS}, hops: 0 });
           print(id); } };
         for (let i = 0; i < 20; i++) void one();
       }`,
      (lines) => lines.length >= ACKNOWLEDGED_BEFORE_KILL,
    );
    await withFreshQueue(options, async (q) => {
      const missing: string[] = [];
      for (const id of acknowledged) if ((await q.get(id))?.status !== "queued") missing.push(id);
      assert.deepEqual(missing, [], "acknowledged events lost to kill -9");
    });
  } finally {
    await drop();
  }
});

test("an event claimed by a process killed with kill -9 is delivered again after recovery", async () => {
  const { options, drop } = await server.freshSchema();
  try {
    const repos = await openPostgresRepos(options);
    const payload = Buffer.from([0x7b, 0xff, 0x7d]);
    try {
      await repos.queue.enqueue({
        id: "x",
        functionName: "fn",
        qualifier: undefined,
        payload,
        traceId: "t",
        acceptedAt: T0_MS,
        hops: 0,
      });
    } finally {
      await repos.close();
    }
    const claimed = await runUntilKilled(
      options,
      `async (queue, print) => { for (const e of await queue.claim(10, ${T0_MS})) print(e.id); print("done"); }`,
      (lines) => lines.includes("done"),
    );
    assert.deepEqual(claimed, ["x", "done"]);
    await withFreshQueue(options, async (q) => {
      assert.equal((await q.get("x"))?.status, "running");
      assert.deepEqual(await q.claim(10, T0_MS + 1_000), [], "still claimed before recovery");
      assert.equal(await q.recover(T0_MS + 1_000), 1);
      const again = await q.claim(10, T0_MS + 1_000);
      assert.deepEqual(
        again.map((e) => [e.id, e.payload, e.attempts]),
        [["x", payload, 0]],
      );
    });
  } finally {
    await drop();
  }
});
