/**
 * PostgreSQL's log seqs against a follower, with one append held open mid-transaction: what the
 * contract suite's concurrent appends can only make likely, made certain.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { LogRecord, StoredLog } from "../../control/logs-repo.js";
import { logLine } from "../contract/harness.js";
import { TestPostgres } from "../contract/test-postgres.js";
import { connectPostgres } from "./connect.js";
import { insertSlices } from "./logs.js";
import { openPostgresRepos } from "./repos.js";

const server = new TestPostgres(process.env.NIMBUS_TEST_POSTGRES_URL);
after(() => server.close());

/** How long the trigger holds the first append inside its transaction. */
const HOLD_S = 0.5;

test("an append that commits later gets higher seqs than one still open: a follower skips no line", async () => {
  const { options, drop } = await server.freshSchema();
  const repos = await openPostgresRepos(options);
  const admin = connectPostgres(options);
  try {
    // A line "held" sleeps in its insert, inside its append's transaction.
    await admin.unsafe(`
      CREATE FUNCTION hold_line() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.message = 'held' THEN PERFORM pg_sleep(${HOLD_S}); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER hold_line BEFORE INSERT ON logs FOR EACH ROW EXECUTE FUNCTION hold_line();`);
    const done: string[] = [];
    const append = (e: LogRecord) => repos.logs.appendLogs([e]).then(() => void done.push(e.message));
    const held = append(logLine("fn", 0, "held"));
    for (;;) {
      const [row] = await admin<{ n: number }[]>`
        SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()`;
      if (row!.n > 0) break;
    }
    const next = append(logLine("fn", 1, "next"));

    const seen: StoredLog[] = [];
    let afterSeq: number | undefined;
    while (done.length < 2) {
      const page = await repos.logs.queryLogs({ functionName: "fn", afterSeq, limit: 10 });
      seen.push(...page);
      afterSeq = page.at(-1)?.seq ?? afterSeq;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all([held, next]);
    seen.push(...(await repos.logs.queryLogs({ functionName: "fn", afterSeq, limit: 10 })));

    assert.deepEqual(done, ["held", "next"], "the second append waited for the first to commit");
    assert.deepEqual(
      seen.map((l) => l.message),
      ["held", "next"],
      "the follower saw both lines, in seq order",
    );
  } finally {
    await admin.end();
    await repos.close();
    await drop();
  }
});

test("a batch is cut into inserts of at most 512 rows, then of decreasing powers of two", () => {
  const sizes = (n: number) => insertSlices(Array.from({ length: n }, (_, i) => i)).map((s) => s.length);
  assert.deepEqual(sizes(0), []);
  assert.deepEqual(sizes(1), [1]);
  assert.deepEqual(sizes(999), [512, 256, 128, 64, 32, 4, 2, 1]);
  assert.deepEqual(sizes(1_100), [512, 512, 64, 8, 4]);
  const rows = Array.from({ length: 1_100 }, (_, i) => i);
  assert.deepEqual(insertSlices(rows).flat(), rows, "every row once, in order");
});
