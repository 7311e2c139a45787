/**
 * What costs, budgets and invocation records rely on from every store of usage records: written
 * with the log's batches, kept past the log's retention, summed per group over a window.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogsRepo } from "../../control/logs-repo.js";
import type { UsageRecord, UsageRepo, UsageSums } from "../../control/usage-repo.js";
import { logLine, type OpenRepo, reportLine, T0_MS, usageRecord, withRepo } from "./harness.js";

/** Usage records are written by appending their REPORT lines. */
export interface LogsAndUsage {
  readonly logs: LogsRepo;
  readonly usage: UsageRepo;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Sums of `records`, as a store would give them: figures chosen so that sums are exact in binary. */
function sums(key: string, records: readonly UsageRecord[]): UsageSums {
  let durationMs = 0;
  let billedMs = 0;
  let gbSeconds = 0;
  let provisionedDurationGbSeconds = 0;
  for (const r of records) {
    durationMs += r.durationMs;
    billedMs += r.billedMs;
    if (r.provisioned) provisionedDurationGbSeconds += r.gbSeconds;
    else gbSeconds += r.gbSeconds;
  }
  return {
    key,
    requests: records.length,
    errors: records.filter((r) => r.outcome !== "success").length,
    coldStarts: records.filter((r) => r.cold).length,
    durationMs,
    billedMs,
    gbSeconds,
    provisionedDurationGbSeconds,
  };
}

/** A record whose sums are exact in binary (sums in another order give the same figures). */
function billed(requestId: string, atMs: number, patch: Partial<UsageRecord> = {}): UsageRecord {
  return usageRecord(requestId, atMs, { durationMs: 1.25, billedMs: 2, gbSeconds: 0.5, ...patch });
}

export function usageContract(open: OpenRepo<LogsAndUsage>): void {
  test("a record reads back field for field: epoch ms past 2^32, fractions, absent fields", () =>
    withRepo(open, async ({ repo }) => {
      const full = usageRecord("full", 0);
      const sparse = usageRecord("sparse", 1, {
        type: "async",
        cold: true,
        provisioned: true,
        initMs: undefined,
        restoreMs: undefined,
        restoreBilledMs: undefined,
        maxMemoryMb: undefined,
        arrivedAt: undefined,
        handedAfterMs: undefined,
        initPhases: undefined,
        outcome: "Custom.Error\u0000with a NUL",
      });
      await repo.logs.appendLogs([logLine("fn", 0, "START"), reportLine(full), reportLine(sparse)]);
      assert.deepEqual(await repo.usage.usageOf("full"), [full]);
      assert.deepEqual(await repo.usage.usageOf("sparse"), [sparse]);
      assert.deepEqual(await repo.usage.usageOf("none"), []);
      assert.equal(
        (await repo.usage.usageOf("full"))[0]!.durationMs,
        0.1 + 0.2,
        "0.30000000000000004, not 0.3",
      );
    }));

  test("a request id's records, one per attempt, come oldest first, whatever order they were stored in", () =>
    withRepo(open, async ({ repo }) => {
      const third = usageRecord("evt", 2 * 60_000, { type: "async", outcome: "Unhandled" });
      const first = usageRecord("evt", 0, { type: "async", cold: true, outcome: "Unhandled" });
      const second = usageRecord("evt", 60_000, { type: "async", outcome: "Unhandled" });
      // Two attempts in one millisecond (a restart re-running an event): in the order stored.
      const secondAgain = usageRecord("evt", 60_000, { type: "async", outcome: "success", billedMs: 3 });
      await repo.logs.appendLogs([reportLine(third), reportLine(usageRecord("other", 0))]);
      await repo.logs.appendLogs([reportLine(first)]);
      await repo.logs.appendLogs([reportLine(second), reportLine(secondAgain)]);
      assert.deepEqual(await repo.usage.usageOf("evt"), [first, second, secondAgain, third]);
    }));

  test("pruning the log deletes old REPORT lines and keeps every usage record", () =>
    withRepo(open, async ({ repo }) => {
      const old = billed("old", -30 * DAY_MS);
      const recent = billed("recent", 0);
      await repo.logs.appendLogs([
        logLine("fn", -30 * DAY_MS, "START", { requestId: "old" }),
        reportLine(old),
      ]);
      await repo.logs.appendLogs([reportLine(recent)]);
      assert.equal(await repo.logs.pruneLogs(T0_MS - DAY_MS), 2);
      assert.deepEqual(
        (await repo.logs.queryLogs({ functionName: "fn", limit: 100 })).map((l) => l.requestId),
        ["recent"],
      );
      assert.deepEqual(await repo.usage.usageOf("old"), [old]);
      const window = { from: T0_MS - 31 * DAY_MS, to: T0_MS + DAY_MS };
      assert.deepEqual(await repo.usage.queryUsage({ ...window, groupBy: "function" }), [
        sums("fn", [old, recent]),
      ]);
    }));

  test("sums per function, version, UTC day and UTC month over [from, to), of all functions or one", () =>
    withRepo(open, async ({ repo }) => {
      // T0 is 2026-12-01T00:00:00Z: a day's and a month's first millisecond.
      const lastOfNovember = billed("a", -1, { cold: true });
      const firstOfDecember = billed("b", 0, { outcome: "Runtime.ExitError" });
      const provisioned = billed("c", DAY_MS - 1, { provisioned: true, gbSeconds: 0.25, version: "3" });
      const secondOfDecember = billed("d", DAY_MS, { functionName: "B" });
      const atTheEnd = billed("e", 2 * DAY_MS, { functionName: "a" });
      const beforeTheStart = billed("f", -DAY_MS - 1);
      const all = [lastOfNovember, firstOfDecember, provisioned, secondOfDecember, atTheEnd, beforeTheStart];
      await repo.logs.appendLogs(all.slice(0, 3).map(reportLine));
      await repo.logs.appendLogs(all.slice(3).map(reportLine));
      const window = { from: T0_MS - DAY_MS, to: T0_MS + 2 * DAY_MS };
      const q = (groupBy: "function" | "version" | "day" | "month", functionName?: string) =>
        repo.usage.queryUsage({ ...window, groupBy, functionName });

      assert.deepEqual(await q("function"), [
        sums("B", [secondOfDecember]),
        sums("fn", [lastOfNovember, firstOfDecember, provisioned]),
      ]);
      assert.deepEqual(await q("version"), [
        sums("B\u0000$LATEST", [secondOfDecember]),
        sums("fn\u0000$LATEST", [lastOfNovember, firstOfDecember]),
        sums("fn\u00003", [provisioned]),
      ]);
      assert.deepEqual(await q("day"), [
        sums("2026-11-30", [lastOfNovember]),
        sums("2026-12-01", [firstOfDecember, provisioned]),
        sums("2026-12-02", [secondOfDecember]),
      ]);
      assert.deepEqual(await q("month"), [
        sums("2026-11", [lastOfNovember]),
        sums("2026-12", [firstOfDecember, provisioned, secondOfDecember]),
      ]);
      assert.deepEqual(await q("day", "fn"), [
        sums("2026-11-30", [lastOfNovember]),
        sums("2026-12-01", [firstOfDecember, provisioned]),
      ]);
      assert.deepEqual(await q("function", "none"), []);
    }));

  test("a batch of thousands of lines stores every line and every record, in order", () =>
    withRepo(open, async ({ repo }) => {
      const INVOCATIONS = 1_300;
      const records = Array.from({ length: INVOCATIONS }, (_, i) => billed(`r${i}`, i));
      const batch = records.flatMap((u) => [
        logLine("fn", u.startedAt - T0_MS, `START RequestId: ${u.requestId}`, { requestId: u.requestId }),
        reportLine(u),
      ]);
      await repo.logs.appendLogs(batch);
      const stored = await repo.logs.queryLogs({ functionName: "fn", limit: 10_000 });
      assert.deepEqual(
        stored.map((l) => l.message),
        batch.map((e) => e.message),
      );
      assert.deepEqual(
        await repo.usage.queryUsage({ from: T0_MS, to: T0_MS + INVOCATIONS, groupBy: "function" }),
        [sums("fn", records)],
      );
      assert.deepEqual(await repo.usage.usageOf("r1299"), [records[1299]]);
    }));
}
