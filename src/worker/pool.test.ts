import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../shared/clock.js";
import { silentLogger } from "../shared/logger.js";
import { type PooledRuntime, RuntimePool } from "./pool.js";
import type { RuntimeApiServer } from "./runtime-api/server.js";
import { LateTarget } from "./runtime-api/target.js";
import type { Sandbox } from "./sandbox/types.js";

/** A pooled runtime whose process and readiness the test controls. */
function fakeRuntime(id: string) {
  let exit: () => void = () => {};
  const exited = new Promise<{ code: number | null; signal: null }>((r) => {
    exit = () => r({ code: null, signal: null });
  });
  let kills = 0;
  const target = new LateTarget();
  const runtime = {
    id,
    instanceDir: `/tmp/${id}`,
    tmpDir: `/tmp/${id}/tmp`,
    taskDir: `/tmp/${id}/task`,
    apiDir: `/tmp/${id}/api`,
    apiSocket: `/tmp/${id}/api/runtime.sock`,
    api: { close() {} } as unknown as RuntimeApiServer,
    target,
    sandbox: {
      pid: 1,
      uid: undefined,
      limited: Promise.resolve(),
      exited,
      kill() {
        kills++;
        exit();
      },
    } as unknown as Sandbox,
  } satisfies PooledRuntime;
  return {
    runtime,
    ready: () => target.awaitFunction(() => {}),
    kills: () => kills,
  };
}

const turn = () => new Promise((r) => setImmediate(r));

test("a runtime that never waits for a function is killed at the ready timeout, and another one starts", async () => {
  const clock = new FakeClock();
  const started: ReturnType<typeof fakeRuntime>[] = [];
  const pool = new RuntimePool({
    size: 1,
    readyTimeoutMs: 1000,
    clock,
    logger: silentLogger,
    start: async () => {
      const r = fakeRuntime(`r${started.length}`);
      started.push(r);
      return r.runtime;
    },
    discard: () => {},
  });
  pool.keep("node");
  await turn();
  assert.equal(started.length, 1);
  clock.advance(999);
  await turn();
  assert.equal(started[0]!.kills(), 0);
  clock.advance(1);
  await turn();
  await turn();
  assert.equal(started[0]!.kills(), 1, "killed at the timeout");
  assert.equal(started.length, 2, "a lone failure is replaced at once");
  started[1]!.ready();
  await turn();
  await turn();
  assert.equal(pool.ready("node"), 1);
  assert.equal(pool.take("node"), started[1]!.runtime);
  assert.equal(pool.ready("node"), 0);
  await pool.close();
});

test("failures in a row back off before the next start, and close cancels the wait", async () => {
  const clock = new FakeClock();
  let starts = 0;
  const pool = new RuntimePool({
    size: 1,
    readyTimeoutMs: 1000,
    clock,
    logger: silentLogger,
    start: async () => {
      starts++;
      throw new Error("cannot start");
    },
    discard: () => {},
  });
  pool.keep("node");
  for (let i = 0; i < 5; i++) await turn();
  assert.equal(starts, 2, "the first failure is retried at once, the second waits");
  clock.advance(999);
  await turn();
  assert.equal(starts, 2);
  clock.advance(1);
  for (let i = 0; i < 5; i++) await turn();
  assert.equal(starts, 3, "after 1 s");
  await pool.close();
  clock.advance(60_000);
  for (let i = 0; i < 5; i++) await turn();
  assert.equal(starts, 3, "nothing starts after close");
});
