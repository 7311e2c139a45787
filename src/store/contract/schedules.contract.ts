/**
 * What the scheduler relies on from every store: groups and schedules read back exactly as
 * written (a target's unset fields too), list in byte order page by page, and go together when
 * a group is deleted; what is due comes earliest first; a tick is taken once however many take
 * it at the same time, and its delivery is written with it, once. Times are epoch ms past 2^32,
 * so a store that narrowed them would show.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  DeliveryRecord,
  ScheduleGroupRecord,
  ScheduleRecord,
  ScheduleTarget,
} from "../../services/scheduler/model.js";
import type { SchedulesRepo } from "../../services/scheduler/repo.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";

const MINUTE_MS = 60_000;

/** A function target with every optional field unset. */
export const BARE_TARGET: ScheduleTarget = {
  arn: "arn:aws:lambda:us-east-1:000000000000:function:fn",
  roleArn: "arn:aws:iam::000000000000:role/nimbus-scheduler",
  input: undefined,
  maximumEventAgeInSeconds: 86_400,
  maximumRetryAttempts: 185,
  deadLetterArn: undefined,
  messageGroupId: undefined,
};

/** A FIFO queue target with every optional field set, its input in several scripts. */
export const FULL_TARGET: ScheduleTarget = {
  arn: "arn:aws:sqs:us-east-1:000000000000:orders.fifo",
  roleArn: "arn:aws:iam::000000000000:role/nimbus-scheduler",
  input: '{"order":"ünits 📦","note":"a\\"quoted\\" 100%_done"}',
  maximumEventAgeInSeconds: 60,
  maximumRetryAttempts: 0,
  deadLetterArn: "arn:aws:sqs:us-east-1:000000000000:dead",
  messageGroupId: "group-1",
};

/** An active group made at T0, without tags; `patch` overrides. */
export function group(name: string, patch: Partial<ScheduleGroupRecord> = {}): ScheduleGroupRecord {
  return { name, state: "ACTIVE", tags: {}, createdAt: T0_MS, modifiedAt: T0_MS, ...patch };
}

/**
 * An enabled rate schedule made at T0, every optional field unset, its next tick a minute on
 * and due then; `patch` overrides.
 */
export function schedule(
  groupName: string,
  name: string,
  patch: Partial<ScheduleRecord> = {},
): ScheduleRecord {
  return {
    groupName,
    name,
    description: undefined,
    expression: "rate(1 minute)",
    timezone: "UTC",
    startDate: undefined,
    endDate: undefined,
    state: "ENABLED",
    flexibleWindowMinutes: undefined,
    actionAfterCompletion: "NONE",
    kmsKeyArn: undefined,
    target: BARE_TARGET,
    createdAt: T0_MS,
    modifiedAt: T0_MS,
    nextTickAt: T0_MS + MINUTE_MS,
    nextDueAt: T0_MS + MINUTE_MS,
    ...patch,
  };
}

/** A schedule with every optional field set: a flexible cron in a time zone, between two dates. */
export function fullSchedule(
  groupName: string,
  name: string,
  patch: Partial<ScheduleRecord> = {},
): ScheduleRecord {
  return schedule(groupName, name, {
    description: "Nightly 📦 export, ünits",
    expression: "cron(0 3 * * ? *)",
    timezone: "Europe/Berlin",
    startDate: T0_MS - 86_400_000,
    endDate: T0_MS + 365 * 86_400_000,
    flexibleWindowMinutes: 15,
    actionAfterCompletion: "DELETE",
    kmsKeyArn: "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    target: FULL_TARGET,
    nextTickAt: T0_MS + 3 * 3_600_000,
    nextDueAt: T0_MS + 3 * 3_600_000 + 7 * MINUTE_MS + 123,
    ...patch,
  });
}

/** The delivery of `s`'s tick at `tickAt`, due then, never attempted; `patch` overrides. */
export function delivery(
  s: ScheduleRecord,
  tickAt: number,
  patch: Partial<DeliveryRecord> = {},
): DeliveryRecord {
  return {
    id: `arn:aws:scheduler:us-east-1:000000000000:schedule/${s.groupName}/${s.name}@${tickAt}`,
    groupName: s.groupName,
    scheduleName: s.name,
    tickAt,
    target: s.target,
    attempts: 0,
    dueAt: tickAt,
    lastError: undefined,
    ...patch,
  };
}

/** Every delivery, earliest first (none is due after the year 2100). */
const allDeliveries = (repo: SchedulesRepo) => repo.dueDeliveries(4_102_444_800_000, 1000);

/** `advance`'s options for taking `s`'s next tick and moving it a minute on, with its delivery. */
function takeTick(s: ScheduleRecord, patch: Partial<Parameters<SchedulesRepo["advance"]>[0]> = {}) {
  const tickAt = s.nextTickAt ?? T0_MS;
  return {
    groupName: s.groupName,
    name: s.name,
    expectedTickAt: tickAt,
    next: { tickAt: tickAt + MINUTE_MS, dueAt: tickAt + MINUTE_MS + 5 },
    remove: false,
    delivery: delivery(s, tickAt),
    ...patch,
  };
}

export function schedulesContract(open: OpenRepo<SchedulesRepo>): void {
  test("a group reads back as created, and creating its name again changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      const g = group("orders", { tags: { team: "ünits 📦", empty: "" } });
      assert.equal(await repo.createGroup(g), true);
      assert.deepEqual(await repo.getGroup("orders"), g);
      assert.equal(await repo.createGroup(group("orders", { createdAt: T0_MS + 1 })), false);
      assert.deepEqual(await repo.getGroup("orders"), g);
      assert.equal(await repo.getGroup("missing"), undefined);
    }));

  test("updating a group replaces it; there is none to update once deleted", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createGroup(group("orders", { tags: { a: "1" } }));
      const changed = group("orders", { state: "DELETING", tags: { b: "2" }, modifiedAt: T0_MS + 5 });
      assert.equal(await repo.updateGroup(changed), true);
      assert.deepEqual(await repo.getGroup("orders"), changed);
      assert.equal(await repo.updateGroup(group("missing")), false);
      assert.equal(await repo.getGroup("missing"), undefined);
      assert.equal(await repo.deleteGroup("orders"), true);
      assert.equal(await repo.deleteGroup("orders"), false);
      assert.equal(await repo.updateGroup(changed), false);
      assert.equal(await repo.getGroup("orders"), undefined);
    }));

  test("groups list in byte order of their names, after the given name, at most the limit, by literal prefix", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listGroups({ limit: 10 }), []);
      for (const name of ["b", "a1", "B", "a-1", "_x", "a10", "a2", "a_1", "50%off", "50-off"])
        await repo.createGroup(group(name));
      const names = async (o: { prefix?: string; after?: string; limit: number }) =>
        (await repo.listGroups(o)).map((g) => g.name);
      const all = ["50%off", "50-off", "B", "_x", "a-1", "a1", "a10", "a2", "a_1", "b"];
      assert.deepEqual(await names({ limit: 20 }), all);
      assert.deepEqual(await names({ prefix: "", limit: 20 }), all);
      assert.deepEqual(await names({ limit: 3 }), ["50%off", "50-off", "B"]);
      assert.deepEqual(await names({ after: "a-1", limit: 3 }), ["a1", "a10", "a2"]);
      assert.deepEqual(await names({ after: "b", limit: 3 }), []);
      assert.deepEqual(await names({ prefix: "a1", limit: 10 }), ["a1", "a10"]);
      assert.deepEqual(await names({ prefix: "a", after: "a1", limit: 2 }), ["a10", "a2"]);
      assert.deepEqual(await names({ prefix: "a_", limit: 10 }), ["a_1"]);
      assert.deepEqual(await names({ prefix: "_", limit: 10 }), ["_x"]);
      assert.deepEqual(await names({ prefix: "50%", limit: 10 }), ["50%off"]);
      assert.deepEqual(await names({ prefix: "%", limit: 10 }), []);
      assert.deepEqual(await names({ prefix: "A", limit: 10 }), []);
      assert.deepEqual((await repo.listGroups({ prefix: "_", limit: 10 }))[0], group("_x"));
    }));

  test("a schedule reads back as created, every optional field set or none; creating its name again changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      const bare = schedule("default", "bare");
      const full = fullSchedule("default", "full");
      const unscheduled = schedule("default", "done", { nextTickAt: undefined, nextDueAt: undefined });
      for (const s of [bare, full, unscheduled]) assert.equal(await repo.createSchedule(s), true);
      assert.deepEqual(await repo.getSchedule("default", "bare"), bare);
      assert.deepEqual(await repo.getSchedule("default", "full"), full);
      assert.deepEqual(await repo.getSchedule("default", "done"), unscheduled);
      assert.equal(await repo.createSchedule(fullSchedule("default", "bare")), false);
      assert.deepEqual(await repo.getSchedule("default", "bare"), bare);
      // The same name in another group is another schedule.
      const other = fullSchedule("other", "bare");
      assert.equal(await repo.createSchedule(other), true);
      assert.deepEqual(await repo.getSchedule("other", "bare"), other);
      assert.deepEqual(await repo.getSchedule("default", "bare"), bare);
      assert.equal(await repo.getSchedule("default", "missing"), undefined);
      assert.equal(await repo.getSchedule("missing", "bare"), undefined);
    }));

  test("updating a schedule replaces it whole, unsetting fields too; deleting says whether there was one", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createSchedule(schedule("default", "s"));
      const full = fullSchedule("default", "s", { state: "DISABLED", modifiedAt: T0_MS + 9 });
      assert.equal(await repo.updateSchedule(full), true);
      assert.deepEqual(await repo.getSchedule("default", "s"), full);
      const bare = schedule("default", "s", { nextTickAt: undefined, nextDueAt: undefined });
      assert.equal(await repo.updateSchedule(bare), true);
      assert.deepEqual(await repo.getSchedule("default", "s"), bare);
      assert.equal(await repo.updateSchedule(schedule("other", "s")), false);
      assert.equal(await repo.getSchedule("other", "s"), undefined);
      assert.equal(await repo.deleteSchedule("default", "s"), true);
      assert.equal(await repo.deleteSchedule("default", "s"), false);
      assert.equal(await repo.getSchedule("default", "s"), undefined);
      assert.equal(await repo.updateSchedule(bare), false);
    }));

  test("schedules list in byte order of (group, name), after the given pair, at most the limit", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listSchedules({ limit: 10 }), []);
      const keys: Array<[string, string]> = [
        ["b", "a"],
        ["a", "b"],
        ["a", "B"],
        ["a", "a-1"],
        ["A", "z"],
        ["a-", "a"],
        ["a", "a1"],
      ];
      for (const [g, n] of keys) await repo.createSchedule(schedule(g, n));
      const pairs = async (o: Parameters<SchedulesRepo["listSchedules"]>[0]) =>
        (await repo.listSchedules(o)).map((s) => `${s.groupName}/${s.name}`);
      const all = ["A/z", "a/B", "a/a-1", "a/a1", "a/b", "a-/a", "b/a"];
      assert.deepEqual(await pairs({ limit: 10 }), all);
      assert.deepEqual(await pairs({ limit: 3 }), all.slice(0, 3));
      assert.deepEqual(await pairs({ after: { groupName: "a", name: "a-1" }, limit: 3 }), [
        "a/a1",
        "a/b",
        "a-/a",
      ]);
      // After a pair that is not there, and past the end of a group.
      assert.deepEqual(await pairs({ after: { groupName: "a", name: "a0" }, limit: 2 }), ["a/a1", "a/b"]);
      assert.deepEqual(await pairs({ after: { groupName: "a", name: "zzz" }, limit: 10 }), ["a-/a", "b/a"]);
      assert.deepEqual(await pairs({ after: { groupName: "b", name: "a" }, limit: 10 }), []);
      assert.deepEqual(await pairs({ groupName: "a", after: { groupName: "a", name: "B" }, limit: 10 }), [
        "a/a-1",
        "a/a1",
        "a/b",
      ]);
      assert.deepEqual((await repo.listSchedules({ limit: 1 }))[0], schedule("A", "z"));
    }));

  test("schedules filter by group, literal name prefix and state, together", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createSchedule(schedule("g", "a_1"));
      await repo.createSchedule(schedule("g", "ab1", { state: "DISABLED" }));
      await repo.createSchedule(schedule("g", "A_1"));
      await repo.createSchedule(schedule("g", "50%off", { state: "DISABLED" }));
      await repo.createSchedule(schedule("g", "50-off"));
      await repo.createSchedule(fullSchedule("h", "a_1", { state: "DISABLED" }));
      await repo.createSchedule(schedule("g_", "a"));
      const pairs = async (o: Omit<Parameters<SchedulesRepo["listSchedules"]>[0], "limit">) =>
        (await repo.listSchedules({ ...o, limit: 10 })).map((s) => `${s.groupName}/${s.name}`);
      assert.deepEqual(await pairs({ groupName: "g" }), ["g/50%off", "g/50-off", "g/A_1", "g/a_1", "g/ab1"]);
      assert.deepEqual(await pairs({ groupName: "g_" }), ["g_/a"]);
      assert.deepEqual(await pairs({ groupName: "missing" }), []);
      assert.deepEqual(await pairs({ prefix: "a_" }), ["g/a_1", "h/a_1"]);
      assert.deepEqual(await pairs({ prefix: "a" }), ["g/a_1", "g/ab1", "g_/a", "h/a_1"]);
      assert.deepEqual(await pairs({ prefix: "50%" }), ["g/50%off"]);
      assert.deepEqual(await pairs({ prefix: "%" }), []);
      assert.deepEqual(await pairs({ prefix: "_" }), []);
      assert.deepEqual(await pairs({ state: "DISABLED" }), ["g/50%off", "g/ab1", "h/a_1"]);
      assert.deepEqual(await pairs({ state: "ENABLED", prefix: "a" }), ["g/a_1", "g_/a"]);
      assert.deepEqual(await pairs({ groupName: "g", prefix: "a", state: "ENABLED" }), ["g/a_1"]);
      assert.deepEqual(
        await pairs({ prefix: "a", state: "DISABLED", after: { groupName: "g", name: "ab1" } }),
        ["h/a_1"],
      );
      assert.deepEqual(await repo.listSchedules({ groupName: "h", limit: 10 }), [
        fullSchedule("h", "a_1", { state: "DISABLED" }),
      ]);
    }));

  test("deleting a group deletes its schedules, not another group's, nor pending deliveries", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createGroup(group("g"));
      await repo.createGroup(group("g2"));
      const s = schedule("g", "s");
      for (const x of [s, schedule("g", "t"), schedule("g2", "s"), schedule("g-", "s")])
        await repo.createSchedule(x);
      assert.equal(await repo.advance(takeTick(s)), true);
      assert.equal(await repo.deleteGroup("g"), true);
      assert.equal(await repo.getGroup("g"), undefined);
      assert.deepEqual(
        (await repo.listSchedules({ limit: 10 })).map((x) => `${x.groupName}/${x.name}`),
        ["g-/s", "g2/s"],
      );
      assert.deepEqual(await allDeliveries(repo), [delivery(s, T0_MS + MINUTE_MS)]);
      assert.deepEqual(await repo.getGroup("g2"), group("g2"));
      assert.equal(await repo.deleteGroup("g"), false);
      assert.equal(await repo.deleteGroup("missing"), false);
    }));

  test("what is due: enabled schedules due at or before the time, earliest first, at most the limit", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.due(T0_MS, 10), []);
      assert.equal(await repo.nextDue(), undefined);
      const late = fullSchedule("g", "late", { nextDueAt: T0_MS + 30 });
      const early = schedule("g", "early", { nextDueAt: T0_MS + 10 });
      const exact = schedule("h", "exact", { nextDueAt: T0_MS + 20 });
      for (const s of [
        late,
        early,
        exact,
        schedule("g", "future", { nextDueAt: T0_MS + 31 }),
        schedule("g", "off", { state: "DISABLED", nextDueAt: T0_MS }),
        schedule("g", "done", { nextTickAt: undefined, nextDueAt: undefined }),
      ])
        await repo.createSchedule(s);
      assert.deepEqual(await repo.due(T0_MS + 30, 10), [early, exact, late]);
      assert.deepEqual(await repo.due(T0_MS + 30, 2), [early, exact]);
      assert.deepEqual(await repo.due(T0_MS + 20, 10), [early, exact]);
      assert.deepEqual(await repo.due(T0_MS + 9, 10), []);
      assert.equal(await repo.nextDue(), T0_MS + 10);
      await repo.updateSchedule({ ...early, state: "DISABLED" });
      assert.deepEqual(await repo.due(T0_MS + 30, 10), [exact, late]);
      assert.equal(await repo.nextDue(), T0_MS + 20);
    }));

  test("only schedules with no due time, or disabled ones, leave nothing next due", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createSchedule(schedule("g", "done", { nextTickAt: undefined, nextDueAt: undefined }));
      await repo.createSchedule(schedule("g", "off", { state: "DISABLED", nextDueAt: T0_MS }));
      assert.equal(await repo.nextDue(), undefined);
      assert.deepEqual(await repo.due(T0_MS + 365 * 86_400_000, 10), []);
    }));

  test("a tick is taken once: the schedule moves on and its delivery is written; again with the same tick, nothing", () =>
    withRepo(open, async ({ repo }) => {
      const s = fullSchedule("g", "s");
      await repo.createSchedule(s);
      const take = takeTick(s);
      assert.equal(await repo.advance(take), true);
      const moved = { ...s, nextTickAt: take.next.tickAt, nextDueAt: take.next.dueAt };
      assert.deepEqual(await repo.getSchedule("g", "s"), moved);
      assert.deepEqual(await allDeliveries(repo), [take.delivery]);
      // The same tick again, with another next time and another delivery: refused, nothing written.
      const again = takeTick(s, {
        next: { tickAt: T0_MS + 99 * MINUTE_MS, dueAt: T0_MS + 99 * MINUTE_MS },
        delivery: delivery(s, s.nextTickAt ?? 0, { id: "another" }),
      });
      assert.equal(await repo.advance(again), false);
      assert.equal(await repo.advance({ ...again, remove: true }), false);
      assert.deepEqual(await repo.getSchedule("g", "s"), moved);
      assert.deepEqual(await allDeliveries(repo), [take.delivery]);
      // The next tick is the one expected now.
      const next = takeTick(moved, { delivery: undefined });
      assert.equal(await repo.advance(next), true);
      assert.equal((await repo.getSchedule("g", "s"))?.nextTickAt, next.next.tickAt);
      assert.deepEqual(await allDeliveries(repo), [take.delivery], "no delivery given, none written");
    }));

  test("no tick is taken of a schedule that is not there, or has no tick left", () =>
    withRepo(open, async ({ repo }) => {
      const gone = schedule("g", "gone");
      assert.equal(await repo.advance(takeTick(gone)), false);
      assert.equal(await repo.advance(takeTick(gone, { remove: true })), false);
      const done = schedule("g", "done", { nextTickAt: undefined, nextDueAt: undefined });
      await repo.createSchedule(done);
      assert.equal(await repo.advance(takeTick(done, { expectedTickAt: T0_MS })), false);
      assert.equal(await repo.advance(takeTick(done, { expectedTickAt: 0 })), false);
      assert.deepEqual(await repo.getSchedule("g", "done"), done);
      assert.deepEqual(await allDeliveries(repo), []);
    }));

  test("a tick that leaves none after it leaves the schedule with no tick and not due", () =>
    withRepo(open, async ({ repo }) => {
      const s = schedule("g", "once", { expression: "at(2026-12-01T00:01:00)" });
      await repo.createSchedule(s);
      assert.equal(await repo.advance(takeTick(s, { next: undefined })), true);
      assert.deepEqual(await repo.getSchedule("g", "once"), {
        ...s,
        nextTickAt: undefined,
        nextDueAt: undefined,
      });
      assert.deepEqual(await repo.due(T0_MS + 365 * 86_400_000, 10), []);
      assert.equal(await repo.nextDue(), undefined);
      assert.deepEqual(await allDeliveries(repo), [delivery(s, T0_MS + MINUTE_MS)]);
    }));

  test("a last tick taken with remove deletes the schedule and keeps its delivery", () =>
    withRepo(open, async ({ repo }) => {
      const s = fullSchedule("g", "once");
      await repo.createSchedule(s);
      await repo.createSchedule(schedule("g", "other"));
      assert.equal(await repo.advance(takeTick(s, { remove: true, expectedTickAt: T0_MS })), false);
      assert.deepEqual(await repo.getSchedule("g", "once"), s);
      const take = takeTick(s, { next: undefined, remove: true });
      assert.equal(await repo.advance(take), true);
      assert.equal(await repo.getSchedule("g", "once"), undefined);
      assert.deepEqual(await repo.getSchedule("g", "other"), schedule("g", "other"));
      assert.deepEqual(await allDeliveries(repo), [take.delivery]);
      assert.equal(await repo.advance(take), false);
      assert.deepEqual(await allDeliveries(repo), [take.delivery]);
    }));

  test("a delivery whose id is there is not written again; the schedule still moves on", () =>
    withRepo(open, async ({ repo }) => {
      const s = schedule("g", "s");
      await repo.createSchedule(s);
      const first = takeTick(s);
      assert.equal(await repo.advance(first), true);
      const moved = { ...s, nextTickAt: first.next.tickAt, nextDueAt: first.next.dueAt };
      // A tick taken again after a crash: its delivery (the same id) is already there.
      const retaken = takeTick(moved, { delivery: { ...first.delivery, attempts: 7, lastError: "other" } });
      assert.equal(await repo.advance(retaken), true);
      assert.equal((await repo.getSchedule("g", "s"))?.nextTickAt, retaken.next.tickAt);
      assert.deepEqual(await allDeliveries(repo), [first.delivery]);
    }));

  test("of takers racing for one tick, exactly one takes it, and one delivery is written", () =>
    withRepo(open, async ({ repo }) => {
      const s = fullSchedule("g", "s");
      await repo.createSchedule(s);
      const takers = Array.from({ length: 5 }, (_, i) =>
        takeTick(s, {
          next: { tickAt: T0_MS + (10 + i) * MINUTE_MS, dueAt: T0_MS + (10 + i) * MINUTE_MS },
          delivery: delivery(s, s.nextTickAt ?? 0, { id: `taker-${i}` }),
        }),
      );
      const results = await Promise.all(takers.map((t) => repo.advance(t)));
      assert.equal(results.filter((r) => r).length, 1, `one taker wins: ${results.join(", ")}`);
      const winner = takers[results.indexOf(true)];
      assert.ok(winner);
      assert.deepEqual(await allDeliveries(repo), [winner.delivery]);
      const after = await repo.getSchedule("g", "s");
      assert.equal(after?.nextTickAt, winner.next.tickAt);
      assert.equal(after?.nextDueAt, winner.next.dueAt);
    }));

  test("deliveries due at or before the time come earliest first, at most the limit; the next one says when", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.dueDeliveries(T0_MS + 365 * 86_400_000, 10), []);
      assert.equal(await repo.nextDelivery(), undefined);
      const a = schedule("g", "a", { nextTickAt: T0_MS + 30, nextDueAt: T0_MS + 30 });
      const b = fullSchedule("g", "b", { nextTickAt: T0_MS + 10, nextDueAt: T0_MS + 12 });
      const c = schedule("h", "c", { nextTickAt: T0_MS + 20, nextDueAt: T0_MS + 20 });
      for (const s of [a, b, c]) {
        await repo.createSchedule(s);
        assert.equal(await repo.advance(takeTick(s)), true);
      }
      const [da, db, dc] = [a, b, c].map((s) => delivery(s, s.nextTickAt ?? 0));
      assert.deepEqual(await repo.dueDeliveries(T0_MS + 30, 10), [db, dc, da]);
      assert.deepEqual(await repo.dueDeliveries(T0_MS + 30, 2), [db, dc]);
      assert.deepEqual(await repo.dueDeliveries(T0_MS + 20, 10), [db, dc]);
      assert.deepEqual(await repo.dueDeliveries(T0_MS + 9, 10), []);
      assert.equal(await repo.nextDelivery(), T0_MS + 10);
    }));

  test("a delivery is updated as its attempts go, and deleted once done; either is false once it is gone", () =>
    withRepo(open, async ({ repo }) => {
      const s = fullSchedule("g", "s");
      await repo.createSchedule(s);
      const take = takeTick(s);
      await repo.advance(take);
      const d = take.delivery;
      const retried = { ...d, attempts: 1, dueAt: d.dueAt + 2_000, lastError: "ResourceNotFound: 📦 gone" };
      assert.equal(await repo.updateDelivery(retried), true);
      assert.deepEqual(await allDeliveries(repo), [retried]);
      assert.equal(await repo.nextDelivery(), d.dueAt + 2_000);
      assert.deepEqual(await repo.dueDeliveries(d.dueAt + 1_999, 10), []);
      const cleared = { ...retried, attempts: 2, lastError: undefined };
      assert.equal(await repo.updateDelivery(cleared), true);
      assert.deepEqual(await allDeliveries(repo), [cleared]);
      assert.equal(await repo.updateDelivery({ ...d, id: "missing" }), false);
      assert.equal(await repo.deleteDelivery("missing"), false);
      assert.equal(await repo.deleteDelivery(d.id), true);
      assert.equal(await repo.deleteDelivery(d.id), false);
      assert.equal(await repo.updateDelivery(cleared), false);
      assert.deepEqual(await allDeliveries(repo), []);
      assert.equal(await repo.nextDelivery(), undefined);
    }));

  test("deleting a schedule leaves its pending deliveries", () =>
    withRepo(open, async ({ repo }) => {
      const s = schedule("g", "s");
      await repo.createSchedule(s);
      const take = takeTick(s);
      await repo.advance(take);
      assert.equal(await repo.deleteSchedule("g", "s"), true);
      assert.deepEqual(await allDeliveries(repo), [take.delivery]);
    }));
}
