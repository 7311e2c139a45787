/**
 * What the event bus's archives and replays rely on from every store: archives read back as
 * written and outlive their bus; archived events keep their text byte for byte and their
 * arrival order, are read by time window page by page, counted in UTF-8 bytes and expired by
 * time; replays read back and update as written. Times are epoch ms past 2^32.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ArchivedEvent, ReplayRecord } from "../../services/events/model.js";
import type { EventsRepo } from "../../services/events/repo.js";
import { archive, bus, NAMES_IN_BYTE_ORDER, NAMES_SHUFFLED, PREFIX_NAMES } from "./events.contract.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";

/** A replay of `archiveName` into the default bus, starting at T0, of the hour before; `patch` overrides. */
function replay(name: string, archiveName: string, patch: Partial<ReplayRecord> = {}): ReplayRecord {
  return {
    name,
    archiveName,
    description: undefined,
    eventStartTime: T0_MS - 3_600_000,
    eventEndTime: T0_MS,
    destinationBus: "default",
    destinationRules: [],
    state: "STARTING",
    stateReason: undefined,
    startedAt: T0_MS,
    endedAt: undefined,
    lastReplayedAt: undefined,
    ...patch,
  };
}

/** An event envelope as the bus delivers it, JSON text, with `detail` as given. */
function envelope(id: string, detail: unknown = {}): string {
  return JSON.stringify({
    version: "0",
    id,
    "detail-type": "Order Placed",
    source: "shop",
    account: "000000000000",
    time: "2026-12-01T00:00:00Z",
    region: "us-east-1",
    resources: [],
    detail,
  });
}

/** Events as a bus may pass them: any script, emoji, escapes left as written, odd spacing, 256 KiB. */
const ODD_EVENTS = [
  envelope("e1", { note: "Grüße, 世界! שלום 👋🏽 👨‍👩‍👧 🇳🇴", city: ["Zürich", "Zu\u0308rich"] }),
  '{ "id" : "e2",\n\t"detail" :{"raw":"caf\\u00e9 \\ud83d\\ude00","n":1e2} }  ',
  envelope("e3", { big: "😀é€a".repeat(26_214) }),
  "{}",
];

const seqsOf = (events: readonly ArchivedEvent[]): number[] => events.map((e) => e.seq);
const texts = (events: readonly ArchivedEvent[]): string[] => events.map((e) => e.event);
const names = (records: ReadonlyArray<{ name: string }>): string[] => records.map((r) => r.name);

/** Creates bus "orders" and its archive "orders-archive". */
async function withArchive(repo: EventsRepo, name = "orders-archive"): Promise<void> {
  await repo.createBus(bus("orders"));
  await repo.createArchive(archive(name, "orders"));
}

export function eventsArchivesContract(open: OpenRepo<EventsRepo>): void {
  test("an archive reads back as created, unset fields undefined, and creating its name again says false and changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      const full = archive("orders-archive", "orders", {
        eventPattern: '{ "detail" : {"city":["Zürich"]}}',
        description: "Archiv 📦",
        retentionDays: 30,
        state: "DISABLED",
        createdAt: T0_MS + 2 ** 32 + 3,
      });
      assert.equal(await repo.createArchive(full), true, "its bus need not exist in the store");
      assert.equal(await repo.createArchive(archive("plain", "default")), true);
      assert.deepEqual(await repo.getArchive("orders-archive"), full);
      assert.deepEqual(await repo.getArchive("plain"), archive("plain", "default"));
      assert.equal(await repo.createArchive(archive("orders-archive", "other")), false);
      assert.deepEqual(await repo.getArchive("orders-archive"), full);
      assert.equal(await repo.getArchive("missing"), undefined);
    }));

  test("updating an archive replaces its pattern, description, retention and state, keeps its bus and created time, and says false when there is none", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createArchive(
        archive("a", "orders", { eventPattern: '{"source":["shop"]}', description: "old" }),
      );
      await repo.createArchive(archive("b", "orders"));
      const changed = archive("a", "other", {
        eventPattern: undefined,
        description: "neu ✓",
        retentionDays: 7,
        state: "DISABLED",
        createdAt: T0_MS + 99,
      });
      assert.equal(await repo.updateArchive(changed), true);
      assert.deepEqual(await repo.getArchive("a"), { ...changed, busName: "orders", createdAt: T0_MS });
      assert.deepEqual(
        await repo.getArchive("b"),
        archive("b", "orders"),
        "another archive is left as it was",
      );
      assert.equal(await repo.updateArchive(archive("missing", "orders")), false);
      assert.equal(await repo.getArchive("missing"), undefined, "an update creates nothing");
    }));

  test("archives are listed in byte order of their names, of one bus or all, by literal prefix, after the given name, at most the limit", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listArchives({ limit: 10 }), []);
      for (const [i, name] of NAMES_SHUFFLED.entries())
        await repo.createArchive(archive(name, i % 2 === 0 ? "orders" : "other"));
      const list = async (o: { busName?: string; prefix?: string; after?: string; limit: number }) =>
        names(await repo.listArchives(o));
      assert.deepEqual(await list({ limit: 100 }), NAMES_IN_BYTE_ORDER);
      assert.deepEqual(await list({ limit: 3 }), ["-x", ".x", "/x"]);
      assert.deepEqual(await list({ after: "a", limit: 3 }), ["a-1", "a.1", "a1"]);
      assert.deepEqual(await list({ prefix: "a1", limit: 10 }), ["a1", "a10"]);
      const ofOrders = NAMES_SHUFFLED.filter((_, i) => i % 2 === 0);
      assert.deepEqual(await list({ busName: "orders", limit: 100 }), [...ofOrders].sort());
      assert.deepEqual(await list({ busName: "other", limit: 2 }), ["-x", ".x"]);
      assert.deepEqual(await list({ busName: "other", after: "/x", limit: 2 }), ["B", "a"]);
      assert.deepEqual(await list({ busName: "orders", prefix: "a", after: "a.1", limit: 10 }), [
        "a1",
        "a10",
        "a2",
      ]);
      assert.deepEqual(await list({ busName: "Orders", limit: 10 }), [], "bus names match with their case");
      assert.deepEqual(await repo.listArchives({ busName: "other", prefix: "-", limit: 10 }), [
        archive("-x", "other"),
      ]);
    }));

  test("an archive name prefix matches literally: case counts, and _, % and \\ are not wildcards or escapes", () =>
    withRepo(open, async ({ repo }) => {
      for (const name of PREFIX_NAMES) {
        await repo.createArchive(archive(name, "orders"));
        await repo.createReplay(replay(name, "a_1"));
      }
      for (const [prefix, expected] of [
        ["a_", ["a_1"]],
        ["A", ["A_1"]],
        ["50%", ["50%off"]],
        ["x\\", ["x\\y"]],
        ["%", []],
        ["", PREFIX_NAMES],
      ] as const) {
        assert.deepEqual(
          names(await repo.listArchives({ prefix, limit: 10 })),
          expected,
          `archives, ${prefix}`,
        );
        assert.deepEqual(
          names(await repo.listReplays({ prefix, limit: 10 })),
          expected,
          `replays, ${prefix}`,
        );
      }
    }));

  test("archived events read back byte for byte, in arrival order, with seqs that increase", () =>
    withRepo(open, async ({ repo }) => {
      await withArchive(repo);
      // Arrival order, not time order: the second batch has the earliest time.
      await repo.archiveEvents("orders-archive", [
        { time: T0_MS + 2 ** 32, event: ODD_EVENTS[0]! },
        { time: T0_MS + 5, event: ODD_EVENTS[1]! },
      ]);
      await repo.archiveEvents("orders-archive", [
        { time: T0_MS, event: ODD_EVENTS[2]! },
        { time: T0_MS + 5, event: ODD_EVENTS[3]! },
      ]);
      const got = await repo.readArchive("orders-archive", {
        from: 0,
        to: T0_MS * 2,
        afterSeq: 0,
        limit: 10,
      });
      assert.deepEqual(texts(got), ODD_EVENTS);
      for (const [i, e] of got.entries())
        assert.equal(e.event, ODD_EVENTS[i], `event ${i} as the same string`);
      assert.deepEqual(
        got.map((e) => e.time),
        [T0_MS + 2 ** 32, T0_MS + 5, T0_MS, T0_MS + 5],
      );
      const seqs = seqsOf(got);
      assert.ok(seqs[0]! > 0, "seqs start after 0, the first afterSeq");
      for (let i = 1; i < seqs.length; i++)
        assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${i} is past seq ${i - 1}`);
      await repo.archiveEvents("orders-archive", []);
      assert.equal((await repo.archiveStats("orders-archive")).count, 4, "an empty batch adds nothing");
    }));

  test("reading an archive selects the events whose time is in [from, to), after the given seq, at most the limit", () =>
    withRepo(open, async ({ repo }) => {
      await withArchive(repo);
      const times = [10, 20, 30, 30, 40, 25, 50, 20].map((t) => T0_MS + 2 ** 32 + t);
      await repo.archiveEvents(
        "orders-archive",
        times.map((time, i) => ({ time, event: envelope(`e${i}`) })),
      );
      const T = T0_MS + 2 ** 32;
      const read = async (from: number, to: number, afterSeq: number, limit: number) =>
        repo.readArchive("orders-archive", { from: T + from, to: T + to, afterSeq, limit });
      const ids = (events: readonly ArchivedEvent[]) =>
        events.map((e) => (JSON.parse(e.event) as { id: string }).id);

      assert.deepEqual(
        ids(await read(20, 40, 0, 10)),
        ["e1", "e2", "e3", "e5", "e7"],
        "from counts, to does not",
      );
      assert.deepEqual(ids(await read(0, 1000, 0, 100)), ["e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7"]);
      assert.deepEqual(await read(30, 30, 0, 10), [], "an empty window");
      assert.deepEqual(await read(51, 1000, 0, 10), []);

      // Paging through the window by seq.
      const first = await read(20, 40, 0, 2);
      assert.deepEqual(ids(first), ["e1", "e2"]);
      const second = await read(20, 40, first[1]!.seq, 2);
      assert.deepEqual(ids(second), ["e3", "e5"], "an event outside the window is skipped, not counted");
      const third = await read(20, 40, second[1]!.seq, 2);
      assert.deepEqual(ids(third), ["e7"]);
      assert.deepEqual(await read(20, 40, third[0]!.seq, 2), []);
      assert.deepEqual(
        (await read(20, 40, 0, 10)).map((e) => e.time),
        [20, 30, 30, 25, 20].map((t) => T + t),
      );
    }));

  test("each archive holds its own events: reading, counting, expiring and deleting one leaves the others", () =>
    withRepo(open, async ({ repo }) => {
      await withArchive(repo, "a");
      await repo.createArchive(archive("b", "orders"));
      await repo.archiveEvents("a", [{ time: T0_MS, event: envelope("a1") }]);
      await repo.archiveEvents("b", [{ time: T0_MS, event: envelope("b1") }]);
      await repo.archiveEvents("a", [{ time: T0_MS + 1, event: envelope("a2") }]);
      const all = { from: 0, to: T0_MS * 2, afterSeq: 0, limit: 10 };
      assert.deepEqual(texts(await repo.readArchive("a", all)), [envelope("a1"), envelope("a2")]);
      assert.deepEqual(texts(await repo.readArchive("b", all)), [envelope("b1")]);
      assert.deepEqual(await repo.readArchive("missing", all), []);
      assert.equal(await repo.expireArchive("a", T0_MS + 1), 1);
      assert.deepEqual(texts(await repo.readArchive("b", all)), [envelope("b1")]);
      assert.equal(await repo.deleteArchive("a"), true);
      assert.deepEqual(await repo.archiveStats("b"), { count: 1, bytes: Buffer.byteLength(envelope("b1")) });
    }));

  test("an archive's stats count its events and the UTF-8 bytes of their text", () =>
    withRepo(open, async ({ repo }) => {
      await withArchive(repo);
      assert.deepEqual(await repo.archiveStats("orders-archive"), { count: 0, bytes: 0 });
      assert.deepEqual(await repo.archiveStats("missing"), { count: 0, bytes: 0 });
      await repo.archiveEvents(
        "orders-archive",
        ODD_EVENTS.map((event, i) => ({ time: T0_MS + i, event })),
      );
      await repo.archiveEvents("orders-archive", [{ time: T0_MS, event: "é📦" }]);
      const bytes = [...ODD_EVENTS, "é📦"].reduce((sum, e) => sum + Buffer.byteLength(e, "utf8"), 0);
      assert.ok(bytes > [...ODD_EVENTS, "é📦"].join("").length, "bytes, not UTF-16 units");
      assert.deepEqual(await repo.archiveStats("orders-archive"), { count: 5, bytes });
    }));

  test("expiring an archive deletes the events whose time is before the given one, and says how many", () =>
    withRepo(open, async ({ repo }) => {
      await withArchive(repo);
      const T = T0_MS + 2 ** 32;
      // Times out of arrival order: expiry goes by time.
      await repo.archiveEvents(
        "orders-archive",
        [30, 10, 20, 10, 40].map((t, i) => ({ time: T + t, event: `{"n":${i}}` })),
      );
      assert.equal(await repo.expireArchive("orders-archive", T + 10), 0, "before, not at");
      assert.equal(await repo.expireArchive("orders-archive", T + 21), 3);
      const left = await repo.readArchive("orders-archive", { from: 0, to: T * 2, afterSeq: 0, limit: 10 });
      assert.deepEqual(texts(left), ['{"n":0}', '{"n":4}']);
      assert.deepEqual(await repo.archiveStats("orders-archive"), { count: 2, bytes: 14 });
      assert.equal(await repo.expireArchive("orders-archive", T + 21), 0);
      assert.equal(await repo.expireArchive("missing", T + 100), 0);
      assert.equal(await repo.expireArchive("orders-archive", T + 100), 2);
      assert.deepEqual(await repo.archiveStats("orders-archive"), { count: 0, bytes: 0 });
    }));

  test("deleting an archive deletes its events, says false when there is none, and a new one of its name starts empty", () =>
    withRepo(open, async ({ repo }) => {
      await withArchive(repo);
      await repo.archiveEvents("orders-archive", [{ time: T0_MS, event: envelope("e1") }]);
      const [before] = await repo.readArchive("orders-archive", {
        from: 0,
        to: T0_MS + 1,
        afterSeq: 0,
        limit: 1,
      });
      assert.equal(await repo.deleteArchive("orders-archive"), true);
      assert.equal(await repo.getArchive("orders-archive"), undefined);
      assert.equal(await repo.deleteArchive("orders-archive"), false);
      assert.deepEqual(await repo.getBus("orders"), bus("orders"), "its bus stays");

      await repo.createArchive(archive("orders-archive", "orders"));
      assert.deepEqual(await repo.archiveStats("orders-archive"), { count: 0, bytes: 0 });
      await repo.archiveEvents("orders-archive", [{ time: T0_MS, event: envelope("e2") }]);
      const after = await repo.readArchive("orders-archive", {
        from: 0,
        to: T0_MS + 1,
        afterSeq: 0,
        limit: 10,
      });
      assert.deepEqual(texts(after), [envelope("e2")]);
      assert.ok(after[0]!.seq > before!.seq, "a seq is not given out again");
    }));

  test("archiving events in an archive that does not exist is refused and stores nothing", () =>
    withRepo(open, async ({ repo }) => {
      await assert.rejects(repo.archiveEvents("ghost", [{ time: T0_MS, event: "{}" }]));
      await repo.createArchive(archive("ghost", "orders"));
      assert.deepEqual(await repo.archiveStats("ghost"), { count: 0, bytes: 0 });
    }));

  test("a replay reads back as created, unset fields undefined, and creating its name again says false and changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      const full = replay("r1", "orders-archive", {
        description: "Wiederholung ✓",
        eventStartTime: T0_MS - 2 ** 32,
        eventEndTime: T0_MS + 2 ** 32,
        destinationBus: "orders",
        destinationRules: ["paid", "Paid", "règle 📦"],
        state: "RUNNING",
        stateReason: "replaying",
        startedAt: T0_MS + 1,
        endedAt: T0_MS + 2,
        lastReplayedAt: T0_MS + 3,
      });
      assert.equal(await repo.createReplay(full), true);
      assert.equal(await repo.createReplay(replay("r2", "orders-archive")), true);
      assert.deepEqual(await repo.getReplay("r1"), full);
      assert.deepEqual(await repo.getReplay("r2"), replay("r2", "orders-archive"));
      assert.equal(await repo.createReplay(replay("r1", "other")), false);
      assert.deepEqual(await repo.getReplay("r1"), full);
      assert.equal(await repo.getReplay("missing"), undefined);
    }));

  test("updating a replay replaces every field but its name, and says false when there is none", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createReplay(
        replay("r1", "orders-archive", { description: "old", destinationRules: ["paid"] }),
      );
      await repo.createReplay(replay("r2", "orders-archive"));
      const running = replay("r1", "orders-archive", {
        state: "RUNNING",
        lastReplayedAt: T0_MS - 1_800_000,
      });
      assert.equal(await repo.updateReplay(running), true);
      assert.deepEqual(await repo.getReplay("r1"), running);
      const done = {
        ...running,
        state: "COMPLETED",
        stateReason: "all 2 events replayed",
        endedAt: T0_MS + 2 ** 32,
        lastReplayedAt: T0_MS - 1,
      } as const;
      assert.equal(await repo.updateReplay(done), true);
      assert.deepEqual(await repo.getReplay("r1"), done);
      assert.deepEqual(
        await repo.getReplay("r2"),
        replay("r2", "orders-archive"),
        "another replay is left as it was",
      );
      assert.equal(await repo.updateReplay(replay("missing", "orders-archive")), false);
      assert.equal(await repo.getReplay("missing"), undefined, "an update creates nothing");
    }));

  test("replays are listed in byte order of their names, of one archive or all, after the given name, at most the limit", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listReplays({ limit: 10 }), []);
      for (const [i, name] of NAMES_SHUFFLED.entries())
        await repo.createReplay(replay(name, i % 2 === 0 ? "a" : "b"));
      const list = async (o: { archiveName?: string; prefix?: string; after?: string; limit: number }) =>
        names(await repo.listReplays(o));
      assert.deepEqual(await list({ limit: 100 }), NAMES_IN_BYTE_ORDER);
      assert.deepEqual(await list({ after: "Z", limit: 3 }), ["_x", "a", "a-1"]);
      assert.deepEqual(await list({ prefix: "a", after: "a1", limit: 10 }), ["a10", "a2"]);
      const ofA = NAMES_SHUFFLED.filter((_, i) => i % 2 === 0);
      assert.deepEqual(await list({ archiveName: "a", limit: 100 }), [...ofA].sort());
      assert.deepEqual(await list({ archiveName: "b", limit: 2 }), ["-x", ".x"]);
      assert.deepEqual(await list({ archiveName: "b", after: "/x", limit: 2 }), ["B", "a"]);
      assert.deepEqual(await list({ archiveName: "missing", limit: 10 }), []);
      assert.deepEqual(await repo.listReplays({ archiveName: "b", prefix: "-", limit: 10 }), [
        replay("-x", "b"),
      ]);
    }));
}
