/**
 * End to end: kill -9 the platform while it holds a few hundred accepted events, start it
 * again on the same data directory, and check that every event acknowledged with 202 ran.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { NimbusClient, resolveClientOptions } from "../src/cli/client.js";
import { exited, nimbus, startUp } from "./helpers/cli.js";
import { testStore } from "./helpers/store.js";

const EVENTS = 300;

test("every event acknowledged before a kill -9 runs after the restart", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-crash-"));
  chmodSync(dataDir, 0o711);
  const fnDir = mkdtempSync(join(tmpdir(), "nimbus-crash-fn-"));
  writeFileSync(
    join(fnDir, "index.mjs"),
    `export const handler = async (e) => { await new Promise((r) => setTimeout(r, 20)); return e.n; };`,
  );
  // The same store after the restart (NIMBUS_TEST_STORE: SQLite in the data directory, or a PostgreSQL schema).
  const { store, drop } = await testStore();
  // A run that fails on a loaded machine (an init past its timeout) is retried in 100 ms, not
  // Lambda's minute: the test is about events kept, not about retry delays.
  const flags = ["--store", store, "--async-retry-delays-ms", "100,100"];
  let up = startUp(dataDir, ...flags);
  try {
    await up.out.waitFor(/Nimbus is running at/);
    assert.equal((await nimbus(dataDir, "deploy", fnDir, "--name", "steady")).code, 0);
    const client = new NimbusClient(resolveClientOptions({ data: dataDir }, {}));

    // Accept events from 20 concurrent clients; kill the platform mid-stream.
    const acknowledged: string[] = [];
    let next = 0;
    let killed = false;
    const sender = async () => {
      while (!killed && next < EVENTS) {
        const n = next++;
        try {
          const res = await client.request("POST", "/2015-03-31/functions/steady/invocations", {
            body: JSON.stringify({ n }),
            headers: { "x-amz-invocation-type": "Event" },
          });
          if (res.status === 202) acknowledged.push(res.headers.get("x-amzn-requestid")!);
        } catch {
          // The connection died with the platform: not acknowledged, so not promised.
        }
        if (acknowledged.length === EVENTS / 2 && !killed) {
          killed = true;
          up.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, sender));
    await exited(up.child);
    assert.ok(acknowledged.length >= EVENTS / 2, `only ${acknowledged.length} acknowledged`);

    up = startUp(dataDir, ...flags);
    await up.out.waitFor(/Nimbus is running at/);
    const restarted = new NimbusClient(resolveClientOptions({ data: dataDir }, {}));
    let succeeded = new Set<string>();
    for (let i = 0; i < 400 && acknowledged.some((id) => !succeeded.has(id)); i++) {
      const res = await restarted.call("GET", "/nimbus/v1/invocations", {
        query: { function: "steady", status: "succeeded", limit: "1000" },
      });
      const body = (await res.json()) as { invocations: { requestId: string }[] };
      succeeded = new Set(body.invocations.map((r) => r.requestId));
      if (acknowledged.some((id) => !succeeded.has(id))) await new Promise((r) => setTimeout(r, 50));
    }
    const lost = acknowledged.filter((id) => !succeeded.has(id));
    // What became of them, when some did not run: kept and waiting, failed, or not there at all.
    const fates = await Promise.all(
      lost.map(async (id) => {
        const res = await restarted.call("GET", `/nimbus/v1/invocations/${id}`);
        return `${id}: ${res.status} ${await res.text()}`;
      }),
    );
    assert.deepEqual(
      lost,
      [],
      `${lost.length} of ${acknowledged.length} acknowledged events never ran:\n${fates.join("\n")}`,
    );
  } finally {
    if (up.child.exitCode === null) {
      up.child.kill("SIGTERM");
      await exited(up.child);
    }
    await rm(dataDir, { recursive: true, force: true });
    await drop();
    await rm(fnDir, { recursive: true, force: true });
  }
});

test("SIGTERM leaves waiting events in the queue, and the next start runs them", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-term-"));
  chmodSync(dataDir, 0o711);
  const fnDir = mkdtempSync(join(tmpdir(), "nimbus-term-fn-"));
  writeFileSync(join(fnDir, "index.mjs"), `export const handler = async (e) => e.n;`);
  const { store, drop } = await testStore();
  let up = startUp(dataDir, "--store", store, "--async-backoff-ms", "50,200");
  try {
    await up.out.waitFor(/Nimbus is running at/);
    assert.equal((await nimbus(dataDir, "deploy", fnDir, "--name", "held")).code, 0);
    const client = new NimbusClient(resolveClientOptions({ data: dataDir }, {}));
    const concurrency = (n: number) =>
      client.call("PUT", "/2017-10-31/functions/held/concurrency", {
        body: JSON.stringify({ ReservedConcurrentExecutions: n }),
      });
    // Reserved concurrency 0: every event waits, throttled.
    await concurrency(0);
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      const res = await client.call("POST", "/2015-03-31/functions/held/invocations", {
        body: JSON.stringify({ n }),
        headers: { "x-amz-invocation-type": "Event" },
      });
      ids.push(res.headers.get("x-amzn-requestid")!);
    }
    up.child.kill("SIGTERM");
    assert.equal(await exited(up.child), 0);

    up = startUp(dataDir, "--store", store, "--async-backoff-ms", "50,200");
    await up.out.waitFor(/Nimbus is running at/);
    const restarted = new NimbusClient(resolveClientOptions({ data: dataDir }, {}));
    await restarted.call("PUT", "/2017-10-31/functions/held/concurrency", {
      body: JSON.stringify({ ReservedConcurrentExecutions: 5 }),
    });
    const results = new Map<string, unknown>();
    for (let i = 0; i < 200 && results.size < ids.length; i++) {
      for (const id of ids) {
        const r = (await (await restarted.call("GET", `/nimbus/v1/invocations/${id}`)).json()) as {
          status: string;
          result: unknown;
        };
        if (r.status === "succeeded") results.set(id, r.result);
      }
      if (results.size < ids.length) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(
      ids.map((id) => results.get(id)),
      [0, 1, 2, 3, 4],
    );
  } finally {
    if (up.child.exitCode === null && up.child.signalCode === null) {
      up.child.kill("SIGTERM");
      await exited(up.child);
    }
    await rm(dataDir, { recursive: true, force: true });
    await drop();
    await rm(fnDir, { recursive: true, force: true });
  }
});
