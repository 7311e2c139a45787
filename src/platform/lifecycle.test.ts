import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLogger } from "../shared/logger.js";
import { Lifecycle } from "./lifecycle.js";

function recorder() {
  const log: string[] = [];
  const part = (name: string, fail?: "start" | "stop") => ({
    name,
    start: () => {
      if (fail === "start") throw new Error(`${name} cannot start`);
      log.push(`start ${name}`);
    },
    stop: async () => {
      if (fail === "stop") throw new Error(`${name} cannot stop`);
      log.push(`stop ${name}`);
    },
  });
  return { log, part };
}

test("components start as they are added and stop in reverse", async () => {
  const { log, part } = recorder();
  const life = new Lifecycle(silentLogger);
  await life.add(part("lock"));
  await life.add(part("store"));
  await life.add(part("server"));
  assert.deepEqual(life.started(), ["lock", "store", "server"]);
  await life.stop();
  assert.deepEqual(log, [
    "start lock",
    "start store",
    "start server",
    "stop server",
    "stop store",
    "stop lock",
  ]);
});

test("a component that cannot start stops those before it, and the start fails with its error", async () => {
  const { log, part } = recorder();
  const life = new Lifecycle(silentLogger);
  await life.add(part("lock"));
  await life.add(part("store"));
  await assert.rejects(life.add(part("worker", "start")), /worker cannot start/);
  assert.deepEqual(log, ["start lock", "start store", "stop store", "stop lock"]);
  assert.deepEqual(life.started(), []);
});

test("stopping goes on past a component that cannot stop, and says which", async () => {
  const { log, part } = recorder();
  const errors: string[] = [];
  const logger = { ...silentLogger, error: (msg: string) => errors.push(msg) };
  const life = new Lifecycle(logger);
  await life.add(part("lock"));
  await life.add(part("worker", "stop"));
  await life.add(part("server"));
  await life.stop();
  assert.deepEqual(log, ["start lock", "start worker", "start server", "stop server", "stop lock"]);
  assert.deepEqual(errors, ["could not stop worker"]);
});

test("a second stop waits for the first and stops nothing twice", async () => {
  const { log, part } = recorder();
  const life = new Lifecycle(silentLogger);
  await life.add(part("store"));
  await Promise.all([life.stop(), life.stop()]);
  assert.deepEqual(log, ["start store", "stop store"]);
});
