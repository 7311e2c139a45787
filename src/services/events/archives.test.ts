/** Archive retention on a platform that keeps running: the hourly sweep, on a fake clock. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { SqliteStore } from "../../store/sqlite.js";
import { Archives } from "./archives.js";
import type { Envelope } from "./envelope.js";

const ACCOUNT = { region: "us-east-1", accountId: "000000000000" };

test("events past an archive's retention go within the hour, while the platform runs", async () => {
  const clock = new FakeClock();
  const store = new SqliteStore(":memory:");
  const archives = new Archives({
    repo: store,
    clock,
    account: ACCOUNT,
    replay: async () => {},
    busExists: async () => true,
  });
  try {
    await archives.start();
    await archives.createArchive({
      ArchiveName: "kept-a-day",
      EventSourceArn: `arn:aws:events:us-east-1:${ACCOUNT.accountId}:event-bus/default`,
      RetentionDays: 1,
    });
    const event = (at: number): Envelope => ({
      version: "0",
      id: `e-${at}`,
      "detail-type": "Tick",
      source: "test",
      account: ACCOUNT.accountId,
      time: new Date(at).toISOString(),
      region: ACCOUNT.region,
      resources: [],
      detail: {},
    });
    await archives.record("default", event(clock.now()));
    clock.advance(12 * 3600_000);
    await archives.record("default", event(clock.now()));
    clock.advance(12 * 3600_000 + 1);
    await clock.settle();
    assert.equal((await store.archiveStats("kept-a-day")).count, 2, "a day to the millisecond: both kept");
    clock.advance(3600_000);
    await clock.settle();
    assert.equal(
      (await store.archiveStats("kept-a-day")).count,
      1,
      "the day-old event went at the next sweep",
    );
    archives.stop();
    clock.advance(13 * 3600_000);
    await clock.settle();
    assert.equal((await store.archiveStats("kept-a-day")).count, 1, "a stopped platform sweeps nothing");
  } finally {
    archives.stop();
    await store.close();
  }
});
