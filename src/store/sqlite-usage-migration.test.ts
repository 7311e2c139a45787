/**
 * A data directory made before usage records had a table of their own: its records move out of
 * the log's REPORT rows, its log keeps every line and seq, and what users see is unchanged.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import type { LogRecord } from "../control/logs-repo.js";
import type { UsageRecord } from "../control/usage-repo.js";
import { SqliteStore } from "./sqlite.js";
import { LEGACY_ORDER, SQLITE_MODULES } from "./sqlite-migrations.js";
import { USAGE_TABLE_MIGRATION } from "./sqlite-usage.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** 2026-12-01T00:00:00.000Z. */
const T0_MS = 1_796_083_200_000;
const HOUR_MS = 3_600_000;

function record(requestId: string, startedAt: number, patch: Partial<UsageRecord> = {}): UsageRecord {
  return {
    requestId,
    functionName: "fn",
    version: "3",
    type: "async",
    cold: true,
    provisioned: false,
    startedAt,
    durationMs: 12.345,
    billedMs: 130,
    memoryMb: 1769,
    gbSeconds: (130 / 1000) * (1769 / 1024),
    initMs: 117.2,
    restoreMs: undefined,
    restoreBilledMs: undefined,
    maxMemoryMb: 61,
    outcome: "Function.Unhandled",
    traceId: `Root=1-${requestId}`,
    arrivedAt: startedAt - 3,
    handedAfterMs: 0.25,
    totalMs: 12.9,
    initPhases: {
      codeMs: 1.5,
      codeCached: true,
      sandboxMs: 3.5,
      pooled: false,
      runtimeMs: 40.25,
      functionInitMs: 70,
    },
    ...patch,
  };
}

/** The log rows the previous writer inserted: the usage record on its REPORT line's row. */
const OLD_COLUMNS = `function_name, version, instance_id, request_id, message, type, outcome, trace_id, init_phases,
  ts, started_at, cold, provisioned, duration_ms, billed_ms, memory_mb, gb_seconds, init_ms, restore_ms,
  restore_billed_ms, max_memory_mb, arrived_at, handed_after_ms, total_ms`;

function oldRow(e: LogRecord): unknown[] {
  const u = e.usage;
  const n = (v: number | boolean | undefined) => (v === undefined ? null : Number(v));
  return [
    e.functionName,
    e.version,
    e.instanceId,
    e.requestId ?? null,
    e.message,
    u?.type ?? null,
    u?.outcome ?? null,
    u?.traceId ?? null,
    u?.initPhases ? JSON.stringify(u.initPhases) : null,
    e.timestamp,
    n(u?.startedAt),
    n(u?.cold),
    n(u?.provisioned),
    n(u?.durationMs),
    n(u?.billedMs),
    n(u?.memoryMb),
    n(u?.gbSeconds),
    n(u?.initMs),
    n(u?.restoreMs),
    n(u?.restoreBilledMs),
    n(u?.maxMemoryMb),
    n(u?.arrivedAt),
    n(u?.handedAfterMs),
    n(u?.totalMs),
  ];
}

function line(requestId: string, at: number, message: string, usage?: UsageRecord): LogRecord {
  return { functionName: "fn", version: "3", instanceId: "i-1", requestId, timestamp: at, message, usage };
}

function stepOf(module: string, version: number): string {
  return SQLITE_MODULES.find((m) => m.module === module)!.steps[version - 1]!;
}

/** A database at the last schema before the usage table, holding `entries` as that schema's writer stored them. */
function previousDatabase(entries: readonly LogRecord[]): string {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-usage-migration-"));
  dirs.push(dir);
  const path = join(dir, "nimbus.db");
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  // As a Nimbus of that time made it: its steps counted in user_version, in their old order.
  const steps = LEGACY_ORDER.findIndex((step) =>
    step.some(([m, v]) => stepOf(m, v) === USAGE_TABLE_MIGRATION),
  );
  for (const step of LEGACY_ORDER.slice(0, steps)) for (const [m, v] of step) db.exec(stepOf(m, v));
  db.pragma(`user_version = ${steps}`);
  const insert = db.prepare(`INSERT INTO logs (${OLD_COLUMNS}) VALUES (${Array(24).fill("?").join(", ")})`);
  for (const e of entries) insert.run(oldRow(e));
  db.close();
  return path;
}

test("a database whose usage records sit on log rows keeps them all, and its log, when the usage table comes", async () => {
  const old = T0_MS - 30 * 24 * HOUR_MS;
  const firstTry = record("evt", T0_MS);
  const retry = record("evt", T0_MS + 60_000, { cold: false, initMs: undefined, initPhases: undefined });
  const sync = record("req", T0_MS + 5, {
    type: "sync",
    provisioned: true,
    outcome: "success",
    initMs: undefined,
    restoreMs: 210.5,
    restoreBilledMs: 211,
    arrivedAt: undefined,
    handedAfterMs: undefined,
  });
  const pruned = record("old", old, { outcome: "success" });
  const entries = [
    // Older than any retention: the previous pruning kept only its REPORT row.
    line("old", old, "REPORT RequestId: old", pruned),
    line("evt", T0_MS, "START RequestId: evt Version: 3"),
    line("evt", T0_MS, "an error \u0000 with a NUL"),
    line("evt", T0_MS, "REPORT RequestId: evt", firstTry),
    line("req", T0_MS + 5, "REPORT RequestId: req", sync),
    line("evt", T0_MS + 60_000, "REPORT RequestId: evt", retry),
    line("evt", T0_MS + 60_000, "a line whose row is gone"),
  ];
  const path = previousDatabase(entries);
  // Its newest row was deleted: its seq (7) must not be handed out again.
  const db = new Database(path);
  db.prepare("DELETE FROM logs WHERE seq = 7").run();
  db.close();

  const store = new SqliteStore(path);
  try {
    assert.deepEqual(
      await store.usageOf("evt"),
      [firstTry, retry],
      "every attempt, oldest first, field for field",
    );
    assert.deepEqual(await store.usageOf("req"), [sync]);
    assert.deepEqual(await store.usageOf("old"), [pruned]);
    const sums = await store.queryUsage({ from: old, to: T0_MS + HOUR_MS, groupBy: "function" });
    assert.deepEqual(
      sums.map((s) => [s.key, s.requests, s.errors, s.coldStarts, s.billedMs]),
      [["fn", 4, 2, 3, 520]],
    );

    const logs = await store.queryLogs({ functionName: "fn", limit: 100 });
    assert.deepEqual(
      logs.map((e) => [e.seq, e.requestId, e.timestamp, e.message]),
      entries.slice(0, 6).map((e, i) => [i + 1, e.requestId, e.timestamp, e.message]),
      "every line kept with its seq",
    );
    assert.deepEqual(Object.keys(logs[0]!).sort(), [
      "functionName",
      "instanceId",
      "message",
      "requestId",
      "seq",
      "timestamp",
      "version",
    ]);

    await store.appendLogs([line("new", T0_MS + HOUR_MS, "START RequestId: new Version: 3")]);
    const [added] = await store.queryLogs({ functionName: "fn", requestId: "new", limit: 1 });
    assert.equal(added?.seq, 8, "seqs continue after the highest ever given");

    // Pruning is by age alone now: the old REPORT line goes, its usage record stays.
    assert.equal(await store.pruneLogs(T0_MS), 1);
    assert.deepEqual(await store.usageOf("old"), [pruned]);
  } finally {
    await store.close();
  }

  const after = new Database(path, { readonly: true });
  try {
    const columns = (table: string) =>
      (after.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    assert.deepEqual(columns("logs"), [
      "seq",
      "function_name",
      "version",
      "instance_id",
      "request_id",
      "ts",
      "message",
    ]);
    const indexes = (
      after
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        .all() as { name: string }[]
    ).map((r) => r.name);
    assert.ok(
      [
        "logs_by_function",
        "logs_by_request",
        "logs_by_time",
        "usage_by_function",
        "usage_by_request",
        "usage_by_time",
      ].every((i) => indexes.includes(i)),
      `indexes: ${indexes.join(", ")}`,
    );
  } finally {
    after.close();
  }
});

test("a fresh database and a migrated one have the same schema", async () => {
  const migrated = previousDatabase([]);
  const dir = mkdtempSync(join(tmpdir(), "nimbus-usage-migration-"));
  dirs.push(dir);
  const fresh = join(dir, "nimbus.db");
  for (const path of [migrated, fresh]) await new SqliteStore(path).close();
  const schema = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();
    } finally {
      db.close();
    }
  };
  assert.deepEqual(schema(migrated), schema(fresh));
});
