/** What `nimbus logs`, its filters and `--follow` rely on from every store of function logs. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogQuery, LogRecord, LogsRepo, StoredLog } from "../../control/logs-repo.js";
import { logLine, type OpenRepo, T0_MS, withRepo } from "./harness.js";

/** What a stored line shows of the entry it was made from. */
function shown(e: LogRecord): Omit<StoredLog, "seq"> {
  return {
    functionName: e.functionName,
    version: e.version,
    instanceId: e.instanceId,
    requestId: e.requestId,
    timestamp: e.timestamp,
    message: e.message,
  };
}

function withoutSeq(logs: readonly StoredLog[]): Omit<StoredLog, "seq">[] {
  return logs.map(({ seq: _, ...rest }) => rest);
}

function messages(logs: readonly StoredLog[]): string[] {
  return logs.map((l) => l.message);
}

export function logsContract(open: OpenRepo<LogsRepo>): void {
  test("lines read back in the order appended, field for field, with rising seqs", () =>
    withRepo(open, async ({ repo }) => {
      const first = [
        logLine("fn", 0, "START RequestId: r1 Version: $LATEST", { requestId: "r1" }),
        logLine("fn", 1, "tabs\tquotes \" ' \\ accents é, emoji 🦆, a NUL \u0000 inside", {
          requestId: "r1",
        }),
        logLine("other", 1, "another function's line"),
        logLine("fn", 2, "a line of init, before any request"),
      ];
      const second = [logLine("fn", 3, "", { version: "7", instanceId: "i-9", requestId: "r2" })];
      await repo.appendLogs(first);
      await repo.appendLogs([]);
      await repo.appendLogs(second);
      const stored = await repo.queryLogs({ functionName: "fn", limit: 100 });
      assert.deepEqual(withoutSeq(stored), [first[0]!, first[1]!, first[3]!, second[0]!].map(shown));
      assert.equal(stored[0]!.timestamp, T0_MS, "epoch ms past 2^32 kept exactly");
      const seqs = stored.map((l) => l.seq);
      assert.ok(
        seqs.every((s, i) => Number.isInteger(s) && s > 0 && (i === 0 || s > seqs[i - 1]!)),
        `seqs rise: ${seqs}`,
      );
      assert.deepEqual(messages(await repo.queryLogs({ functionName: "other", limit: 100 })), [
        "another function's line",
      ]);
      assert.deepEqual(await repo.queryLogs({ functionName: "none", limit: 100 }), []);
    }));

  test("each filter narrows a function's lines: request id, version, text, [from, to)", () =>
    withRepo(open, async ({ repo }) => {
      await repo.appendLogs([
        logLine("fn", 0, "a: start", { requestId: "a" }),
        logLine("fn", 10, "a: Hello", { requestId: "a" }),
        logLine("fn", 20, "b: hello", { requestId: "b", version: "2" }),
        logLine("fn", 30, "b: done", { requestId: "b", version: "2" }),
        logLine("fn", 40, "no request: hello"),
        logLine("other", 20, "other: hello", { requestId: "a" }),
      ]);
      const q = async (filters: Partial<LogQuery>) =>
        messages(await repo.queryLogs({ functionName: "fn", limit: 100, ...filters }));
      assert.deepEqual(await q({ requestId: "a" }), ["a: start", "a: Hello"]);
      assert.deepEqual(await q({ version: "2" }), ["b: hello", "b: done"]);
      assert.deepEqual(await q({ version: "$LATEST" }), ["a: start", "a: Hello", "no request: hello"]);
      assert.deepEqual(await q({ contains: "hello" }), ["b: hello", "no request: hello"], "case counts");
      assert.deepEqual(await q({ from: T0_MS + 10 }), [
        "a: Hello",
        "b: hello",
        "b: done",
        "no request: hello",
      ]);
      assert.deepEqual(await q({ to: T0_MS + 30 }), ["a: start", "a: Hello", "b: hello"], "to is exclusive");
      assert.deepEqual(await q({ from: T0_MS + 10, to: T0_MS + 40, contains: "hello", version: "2" }), [
        "b: hello",
      ]);
      assert.deepEqual(await q({ requestId: "a", contains: "b:" }), []);
      assert.deepEqual(await q({ contains: "" }), await q({}), "the empty text is in every line");
    }));

  test("text is found literally: % and _ are plain characters, and so are \\ and a NUL", () =>
    withRepo(open, async ({ repo }) => {
      const lines = [
        "100% done",
        "100 done",
        "snake_case",
        "snakeXcase",
        "C:\\temp",
        "C:temp",
        "binary \u0000 output",
        "binary output",
        "100% of _ both",
      ];
      await repo.appendLogs(lines.map((m, i) => logLine("fn", i, m)));
      const q = async (contains: string) =>
        messages(await repo.queryLogs({ functionName: "fn", contains, limit: 100 }));
      assert.deepEqual(await q("%"), ["100% done", "100% of _ both"]);
      assert.deepEqual(await q("0% d"), ["100% done"]);
      assert.deepEqual(await q("_"), ["snake_case", "100% of _ both"]);
      assert.deepEqual(await q("e_c"), ["snake_case"]);
      assert.deepEqual(await q("%_"), []);
      assert.deepEqual(await q("\\"), ["C:\\temp"]);
      assert.deepEqual(await q("\u0000"), ["binary \u0000 output"]);
      assert.deepEqual(await q("y \u0000 o"), ["binary \u0000 output"]);
      assert.deepEqual(await q("binary"), ["binary \u0000 output", "binary output"]);
      assert.deepEqual(await q("\uFFFD"), [], "a NUL is not stored as anything else");
    }));

  test("paging after a seq, a page at a time, visits every line once, in order", () =>
    withRepo(open, async ({ repo }) => {
      const all = Array.from({ length: 23 }, (_, i) => `line ${i}`);
      await repo.appendLogs(all.slice(0, 10).map((m, i) => logLine("fn", i, m)));
      await repo.appendLogs(all.slice(10).map((m, i) => logLine("fn", 10 + i, m)));
      const pages: string[][] = [];
      let afterSeq: number | undefined;
      for (;;) {
        const page = await repo.queryLogs({ functionName: "fn", afterSeq, limit: 5 });
        if (page.length === 0) break;
        pages.push(messages(page));
        afterSeq = page[page.length - 1]!.seq;
      }
      assert.deepEqual(pages.flat(), all);
      assert.deepEqual(
        pages.map((p) => p.length),
        [5, 5, 5, 5, 3],
      );
      await repo.appendLogs([logLine("fn", 30, "later")]);
      assert.deepEqual(messages(await repo.queryLogs({ functionName: "fn", afterSeq, limit: 5 })), ["later"]);
    }));

  test("a follower paging after seq while batches are appended at once sees every line once, in order", () =>
    withRepo(open, async ({ repo }) => {
      const BATCHES = 12;
      const LINES = 40;
      const seen: StoredLog[] = [];
      let afterSeq: number | undefined;
      const poll = async () => {
        for (;;) {
          const page = await repo.queryLogs({ functionName: "fn", afterSeq, limit: 50 });
          if (page.length === 0) return;
          seen.push(...page);
          afterSeq = page[page.length - 1]!.seq;
        }
      };
      let appending = true;
      const appends = Promise.all(
        Array.from({ length: BATCHES }, (_, b) =>
          repo.appendLogs(Array.from({ length: LINES }, (_, i) => logLine("fn", b, `batch ${b} line ${i}`))),
        ),
      ).finally(() => {
        appending = false;
      });
      // Between polls the follower lets the event loop run, as a real one waits between reads.
      while (appending) {
        await poll();
        await new Promise((resolve) => setImmediate(resolve));
      }
      await appends;
      await poll();
      const got = messages(seen);
      assert.equal(new Set(got).size, got.length, "no line twice");
      assert.equal(got.length, BATCHES * LINES, "no line skipped");
      for (let b = 0; b < BATCHES; b++) {
        const own = got.filter((m) => m.startsWith(`batch ${b} `));
        assert.deepEqual(
          own,
          Array.from({ length: LINES }, (_, i) => `batch ${b} line ${i}`),
          "a batch's lines are together, in order",
        );
      }
      const stored = messages(await repo.queryLogs({ functionName: "fn", limit: 1000 }));
      assert.deepEqual(got, stored, "the follower saw the lines in seq order");
    }));

  test("pruning deletes the lines older than the cutoff, of every function, and says how many", () =>
    withRepo(open, async ({ repo }) => {
      await repo.appendLogs([
        logLine("fn", 0, "old"),
        logLine("other", 5, "old too"),
        logLine("fn", 10, "at the cutoff"),
        logLine("fn", 20, "new"),
      ]);
      assert.equal(await repo.pruneLogs(T0_MS + 10), 2);
      assert.deepEqual(messages(await repo.queryLogs({ functionName: "fn", limit: 100 })), [
        "at the cutoff",
        "new",
      ]);
      assert.deepEqual(await repo.queryLogs({ functionName: "other", limit: 100 }), []);
      assert.equal(await repo.pruneLogs(T0_MS + 10), 0);
    }));
}
