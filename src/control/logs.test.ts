/** Function logs and the usage records their REPORT lines carry, stored in a real SQLite file. */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FakeClock } from "../shared/clock.js";
import { LocalFanOut } from "../shared/fanout-local.js";
import type { Logger } from "../shared/logger.js";
import { silentLogger } from "../shared/logger.js";
import { SqliteStore } from "../store/sqlite.js";
import type { MetadataStore } from "../store/types.js";
import { LogService } from "./logs.js";
import type { LogRecord } from "./logs-repo.js";
import type { UsageRecord } from "./usage-repo.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function store(): SqliteStore {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-logs-"));
  dirs.push(dir);
  return new SqliteStore(join(dir, "nimbus.db"));
}

const HOUR = 3_600_000;

function usage(requestId: string, startedAt: number): UsageRecord {
  return {
    requestId,
    functionName: "fn",
    version: "$LATEST",
    type: "sync",
    cold: false,
    provisioned: false,
    startedAt,
    durationMs: 1.5,
    billedMs: 2,
    memoryMb: 1024,
    gbSeconds: 0.002,
    initMs: undefined,
    restoreMs: undefined,
    restoreBilledMs: undefined,
    maxMemoryMb: 60,
    outcome: "success",
    traceId: `Root=1-${requestId}`,
    arrivedAt: startedAt,
    handedAfterMs: 0.1,
    totalMs: 1.8,
    initPhases: undefined,
  };
}

/** START, a line of output, END and REPORT (carrying its usage record) of one invocation. */
function invocation(requestId: string, at: number): LogRecord[] {
  const line = (message: string, u?: UsageRecord): LogRecord => ({
    functionName: "fn",
    version: "$LATEST",
    instanceId: "",
    requestId,
    timestamp: at,
    message,
    ...(u ? { usage: u } : {}),
  });
  return [
    line(`START RequestId: ${requestId} Version: $LATEST`),
    line(`hello from ${requestId}`),
    line(`END RequestId: ${requestId}`),
    line(`REPORT RequestId: ${requestId}\tDuration: 1.50 ms`, usage(requestId, at)),
  ];
}

test("a REPORT line's usage record outlives the log's retention and its pruning; the log shows only lines within it", async () => {
  const clock = new FakeClock();
  const s = store();
  const logs = new LogService({
    store: s,
    clock,
    logger: silentLogger,
    retentionMs: 24 * HOUR,
    live: new LocalFanOut(),
  });
  try {
    const old = clock.now();
    for (const e of invocation("old", old)) logs.write(e);
    clock.advance(24.5 * HOUR);
    for (const e of invocation("new", clock.now())) logs.write(e);
    await logs.flush();

    const shown = await logs.query({ functionName: "fn", limit: 100 });
    assert.deepEqual(
      shown.map((e) => e.message),
      invocation("new", 0).map((e) => e.message),
      "lines older than the retention are not shown",
    );
    const stored = await s.queryLogs({ functionName: "fn", limit: 100 });
    assert.equal(stored.length, 8, "the hourly pruning has not run since they expired");
    // Its next run deletes every line of the old invocation, REPORT included: its usage record
    // is kept apart.
    clock.advance(HOUR);
    await logs.prune();
    const kept = await s.queryLogs({ functionName: "fn", limit: 100 });
    assert.deepEqual(
      kept.map((e) => e.message),
      invocation("new", 0).map((e) => e.message),
    );
    assert.deepEqual(
      (await s.usageOf("old")).map((r) => [r.requestId, r.startedAt, r.billedMs]),
      [["old", old, 2]],
    );
    const sums = await s.queryUsage({ from: old, to: clock.now() + 1, groupBy: "function" });
    assert.deepEqual(
      sums.map((u) => [u.key, u.requests, u.billedMs]),
      [["fn", 2, 4]],
    );
  } finally {
    await logs.close();
    await s.close();
  }
});

test("entries whose write failed are kept and stored by the next flush; none is lost", async () => {
  const clock = new FakeClock();
  const s = store();
  let failures = 1;
  const flaky: MetadataStore = Object.create(s, {
    appendLogs: {
      value: (entries: readonly LogRecord[]) =>
        failures-- > 0 ? Promise.reject(new Error("disk I/O error")) : s.appendLogs(entries),
    },
  });
  const errors: string[] = [];
  const logger: Logger = { ...silentLogger, error: (msg: string) => void errors.push(msg) };
  const logs = new LogService({
    store: flaky,
    clock,
    logger,
    retentionMs: 24 * HOUR,
    live: new LocalFanOut(),
  });
  try {
    for (const e of invocation("a", clock.now())) logs.write(e);
    await logs.flush();
    assert.deepEqual(errors, ["could not store function logs"]);
    for (const e of invocation("b", clock.now())) logs.write(e);
    await logs.flush();
    const stored = await s.queryLogs({ functionName: "fn", limit: 100 });
    assert.deepEqual(
      stored.map((e) => e.message),
      [...invocation("a", 0), ...invocation("b", 0)].map((e) => e.message),
    );
    assert.equal((await s.usageOf("a")).length, 1);
  } finally {
    await logs.close();
    await s.close();
  }
});
