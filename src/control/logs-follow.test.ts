/** Following a function's logs: new lines reach followers through the live fan-out. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEntry } from "../protocol/invoke.js";
import { FakeClock } from "../shared/clock.js";
import { LocalFanOut } from "../shared/fanout-local.js";
import type { Logger } from "../shared/logger.js";
import { silentLogger } from "../shared/logger.js";
import { LogService } from "./logs.js";
import type { LogRecord, LogsRepo } from "./logs-repo.js";

function service(live = new LocalFanOut(), logger: Logger = silentLogger) {
  const stored: LogRecord[] = [];
  const store: LogsRepo = {
    appendLogs: async (entries) => void stored.push(...entries),
    queryLogs: async () => [],
    pruneLogs: async () => 0,
  };
  const clock = new FakeClock();
  const logs = new LogService({ store, clock, logger, retentionMs: 3_600_000, live });
  return { logs, stored, clock };
}

function line(functionName: string, message: string): LogRecord {
  return {
    functionName,
    version: "$LATEST",
    instanceId: "i-1",
    requestId: "req-1",
    timestamp: 1_000,
    message,
  };
}

test("a follower gets each new line of its function, and only those, until it stops", async () => {
  const { logs } = service();
  const got: LogEntry[] = [];
  const stop = logs.follow("resize", (e) => got.push(e));
  logs.write(line("resize", "first"));
  logs.write(line("other", "not ours"));
  logs.write({ ...line("resize", "during init"), requestId: undefined });
  stop();
  logs.write(line("resize", "after"));
  assert.deepEqual(got, [
    {
      functionName: "resize",
      version: "$LATEST",
      instanceId: "i-1",
      requestId: "req-1",
      timestamp: 1_000,
      message: "first",
    },
    {
      functionName: "resize",
      version: "$LATEST",
      instanceId: "i-1",
      requestId: undefined,
      timestamp: 1_000,
      message: "during init",
    },
  ]);
  await logs.close();
});

test("a follower sees no usage record: the line is published as plain JSON for other nodes", async () => {
  const live = new LocalFanOut();
  const { logs } = service(live);
  const published: unknown[] = [];
  live.subscribe("logs.resize", (m) => published.push(m));
  logs.write({
    ...line("resize", "REPORT RequestId: req-1"),
    usage: { requestId: "req-1" } as LogRecord["usage"],
  });
  assert.equal(published.length, 1);
  assert.deepEqual(JSON.parse(JSON.stringify(published[0])), published[0]);
  assert.equal((published[0] as Record<string, unknown>).usage, undefined);
  await logs.close();
});

test("lines nobody follows are not published; once followed they are, until the follow stops", async () => {
  const topics: string[] = [];
  const live = new LocalFanOut();
  const publish = live.publish.bind(live);
  live.publish = (topic, message) => {
    topics.push(topic);
    return publish(topic, message);
  };
  const { logs, stored } = service(live);
  logs.write(line("resize", "unheard"));
  const stop = logs.follow("resize", () => {});
  logs.write(line("resize", "heard"));
  logs.write(line("other", "unheard"));
  stop();
  logs.write(line("resize", "unheard again"));
  assert.deepEqual(topics, ["logs.resize"]);
  await logs.flush();
  assert.equal(stored.length, 4, "every line is stored all the same");
  await logs.close();
});

test("a follower on another service sharing the fan-out hears the lines, as a follower on another node would", async () => {
  const live = new LocalFanOut();
  const writer = service(live);
  const reader = service(live);
  const got: string[] = [];
  reader.logs.follow("resize", (e) => got.push(e.message));
  writer.logs.write(line("resize", "from the other node"));
  assert.deepEqual(got, ["from the other node"]);
  await writer.logs.close();
  await reader.logs.close();
});

test("following a name no function can have gets nothing, and fails nothing", async () => {
  const { logs } = service();
  const got: LogEntry[] = [];
  const stop = logs.follow("no.such*function", (e) => got.push(e));
  logs.write(line("resize", "x"));
  stop();
  assert.deepEqual(got, []);
  await logs.close();
});

test("a failing follower is logged; the line is still stored and other followers still get it", async () => {
  const warnings: string[] = [];
  const { logs, stored } = service(new LocalFanOut(), {
    ...silentLogger,
    warn: (m) => void warnings.push(m),
  });
  const got: string[] = [];
  logs.follow("resize", () => {
    throw new Error("the stream broke");
  });
  logs.follow("resize", (e) => got.push(e.message));
  logs.write(line("resize", "kept"));
  await logs.flush();
  assert.deepEqual(got, ["kept"]);
  assert.deepEqual(
    stored.map((e) => e.message),
    ["kept"],
  );
  await new Promise<void>((r) => setImmediate(r));
  assert.deepEqual(warnings, ["could not hand a log line to its followers"]);
  await logs.close();
});

test("closing the service ends every follow, so long-lived streams let the server close", async () => {
  const { logs } = service();
  const ended: string[] = [];
  logs.follow(
    "a",
    () => {},
    () => ended.push("a"),
  );
  const stop = logs.follow(
    "b",
    () => {},
    () => ended.push("b"),
  );
  stop();
  await logs.close();
  assert.deepEqual(ended, ["a"]);
});
