/**
 * What FIFO queues and dead-letter queues rely on from every store: sequence numbers,
 * deduplication, each group's order and its one batch in flight, redrive inside a receive, and
 * moving messages back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { QueuesRepo, ReceiveOptions } from "../../services/queues/repo.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";
import {
  DEDUP_WINDOW_MS,
  ids,
  message,
  queue,
  queueWith,
  receiveAt,
  sqsArn,
  stored,
  withoutHandle,
} from "./queues.contract.js";

const SEQUENCE_NUMBER = /^\d{20}$/;

const fifoAt = (now: number, patch: Partial<ReceiveOptions> = {}) => receiveAt(now, { fifo: true, ...patch });

/** A redrive to `dlq` after `maxReceiveCount` receives, from `source`. */
function redriveTo(dlq: string, source: string, maxReceiveCount = 1): ReceiveOptions["redrive"] {
  return { maxReceiveCount, deadLetterQueue: dlq, sourceArn: sqsArn(source) };
}

/** Receives `source`'s one message at `at`, then again 1 s later: past a limit of 1, it moves to `dlq`. */
async function deadLetter(repo: QueuesRepo, source: string, dlq: string, at: number): Promise<void> {
  const redrive = redriveTo(dlq, source);
  const fifo = source.endsWith(".fifo");
  assert.equal((await repo.receive(source, receiveAt(at, { fifo, redrive, visibilityMs: 1_000 }))).length, 1);
  assert.deepEqual(await repo.receive(source, receiveAt(at + 1_000, { fifo, redrive })), []);
}

export function queuesFifoContract(open: OpenRepo<QueuesRepo>): void {
  test("FIFO messages get 20-digit sequence numbers rising per queue in the order sent; standard ones get none", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createQueue(queue("a.fifo"));
      await repo.createQueue(queue("b.fifo"));
      await repo.createQueue(queue("plain"));
      const first = await repo.send(
        "a.fifo",
        [message("a1", { groupId: "g" }), message("a2", { groupId: "h" })],
        T0_MS,
        DEDUP_WINDOW_MS,
      );
      const second = await repo.send("a.fifo", [message("a3", { groupId: "g" })], T0_MS, DEDUP_WINDOW_MS);
      const other = await repo.send("b.fifo", [message("b1", { groupId: "g" })], T0_MS, DEDUP_WINDOW_MS);
      const numbers = [...first, ...second].map((o) => o.sequenceNumber ?? "");
      for (const n of [...numbers, other[0]?.sequenceNumber ?? ""]) assert.match(n, SEQUENCE_NUMBER);
      assert.deepEqual([...numbers].sort(), numbers);
      assert.equal(new Set(numbers).size, 3);
      const got = await repo.receive("a.fifo", fifoAt(T0_MS));
      assert.deepEqual(
        got.map((m) => [m.id, m.sequenceNumber]),
        [
          ["a1", numbers[0]],
          ["a2", numbers[1]],
          ["a3", numbers[2]],
        ],
      );
      const plain = await repo.send("plain", [message("p1")], T0_MS, DEDUP_WINDOW_MS);
      assert.deepEqual(plain, [{ id: "p1", sequenceNumber: undefined, duplicate: false }]);
      assert.equal((await repo.receive("plain", receiveAt(T0_MS)))[0]?.sequenceNumber, undefined);
    }));

  test("a deduplication id sent again within the window stores nothing and answers with the first message's id and number", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createQueue(queue("orders.fifo"));
      await repo.createQueue(queue("other.fifo"));
      const m = (id: string, dedup: string, groupId = "g1") =>
        message(id, { groupId, deduplicationId: dedup });
      const batch = await repo.send(
        "orders.fifo",
        [m("a", "x"), m("b", "x"), m("c", "y", "g2")],
        T0_MS,
        DEDUP_WINDOW_MS,
      );
      const [a, b, c] = batch;
      assert.ok(a && b && c);
      assert.deepEqual([a.id, a.duplicate, c.id, c.duplicate], ["a", false, "c", false]);
      assert.deepEqual(
        b,
        { id: "a", sequenceNumber: a.sequenceNumber, duplicate: true },
        "a duplicate in the same batch",
      );
      assert.deepEqual(await repo.send("orders.fifo", [m("d", "x")], T0_MS + 1_000, DEDUP_WINDOW_MS), [
        { id: "a", sequenceNumber: a.sequenceNumber, duplicate: true },
      ]);
      const [first] = await repo.receive("orders.fifo", fifoAt(T0_MS + 1_000, { max: 1 }));
      assert.equal(first?.id, "a");
      assert.equal(await repo.deleteMessage("orders.fifo", first?.receiptHandle ?? ""), true);
      const afterDelete = await repo.send("orders.fifo", [m("e", "x")], T0_MS + 2_000, DEDUP_WINDOW_MS);
      assert.deepEqual(
        afterDelete,
        [{ id: "a", sequenceNumber: a.sequenceNumber, duplicate: true }],
        "deleted, still a duplicate",
      );
      const elsewhere = await repo.send("other.fifo", [m("f", "x")], T0_MS + 2_000, DEDUP_WINDOW_MS);
      assert.deepEqual([elsewhere[0]?.id, elsewhere[0]?.duplicate], ["f", false], "ids are per queue");
      const [late] = await repo.send("orders.fifo", [m("g", "x")], T0_MS + DEDUP_WINDOW_MS, DEDUP_WINDOW_MS);
      assert.deepEqual([late?.id, late?.duplicate], ["g", false], "past the window, the id is new again");
      assert.ok((late?.sequenceNumber ?? "") > (c.sequenceNumber ?? ""));
      const [again] = await repo.send(
        "orders.fifo",
        [m("h", "x")],
        T0_MS + DEDUP_WINDOW_MS + 1,
        DEDUP_WINDOW_MS,
      );
      assert.deepEqual(again, { id: "g", sequenceNumber: late?.sequenceNumber, duplicate: true });
      assert.deepEqual(ids(await repo.receive("orders.fifo", fifoAt(T0_MS + DEDUP_WINDOW_MS + 1))), [
        "c",
        "g",
      ]);
    }));

  test("a FIFO group hands out its messages in order, several at once, and nothing more while one is in flight", () =>
    withRepo(open, async ({ repo }) => {
      const sent = [
        ["a1", "A"],
        ["b1", "B"],
        ["a2", "A"],
        ["a3", "A"],
        ["b2", "B"],
      ].map(([id, groupId]) => message(id ?? "", { groupId }));
      await queueWith(repo, "jobs.fifo", sent);
      const first = await repo.receive("jobs.fifo", fifoAt(T0_MS, { max: 3 }));
      assert.deepEqual(ids(first), ["a1", "b1", "a2"]);
      assert.deepEqual(
        await repo.receive("jobs.fifo", fifoAt(T0_MS + 1)),
        [],
        "both groups have a message in flight",
      );
      const handle = (id: string) => first.find((m) => m.id === id)?.receiptHandle ?? "";
      assert.equal(await repo.deleteMessage("jobs.fifo", handle("a1")), true);
      assert.deepEqual(await repo.receive("jobs.fifo", fifoAt(T0_MS + 2)), [], "a2 is still in flight");
      assert.equal(await repo.deleteMessage("jobs.fifo", handle("a2")), true);
      assert.deepEqual(ids(await repo.receive("jobs.fifo", fifoAt(T0_MS + 3))), ["a3"]);
      assert.equal(await repo.deleteMessage("jobs.fifo", handle("b1")), true);
      assert.deepEqual(ids(await repo.receive("jobs.fifo", fifoAt(T0_MS + 4))), ["b2"]);
    }));

  test("a FIFO group whose next message is delayed hands out nothing after it, while other groups go on", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "jobs.fifo", [
        message("a1", { groupId: "A", visibleAt: T0_MS + 5_000 }),
        message("a2", { groupId: "A" }),
        message("b1", { groupId: "B" }),
      ]);
      assert.deepEqual(await repo.counts("jobs.fifo", T0_MS), { visible: 2, inFlight: 0, delayed: 1 });
      assert.deepEqual(ids(await repo.receive("jobs.fifo", fifoAt(T0_MS))), ["b1"]);
      assert.deepEqual(ids(await repo.receive("jobs.fifo", fifoAt(T0_MS + 5_000))), ["a1", "a2"]);
    }));

  test("a FIFO group comes back from its first message when it is visible again, and not before all of it is", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "jobs.fifo", [message("a1", { groupId: "A" }), message("a2", { groupId: "A" })]);
      assert.deepEqual(ids(await repo.receive("jobs.fifo", fifoAt(T0_MS, { visibilityMs: 1_000 }))), [
        "a1",
        "a2",
      ]);
      assert.deepEqual(await repo.receive("jobs.fifo", fifoAt(T0_MS + 999)), []);
      const again = await repo.receive("jobs.fifo", fifoAt(T0_MS + 1_000, { visibilityMs: 1_000 }));
      assert.deepEqual(
        again.map((m) => [m.id, m.receiveCount]),
        [
          ["a1", 2],
          ["a2", 2],
        ],
      );
      const a1 = again[0]?.receiptHandle ?? "";
      assert.equal(await repo.changeVisibility("jobs.fifo", a1, T0_MS + 1_500, T0_MS + 1_500), "changed");
      assert.deepEqual(
        await repo.receive("jobs.fifo", fifoAt(T0_MS + 1_500)),
        [],
        "a2 of the group is in flight",
      );
      assert.deepEqual(ids(await repo.receive("jobs.fifo", fifoAt(T0_MS + 2_000))), ["a1", "a2"]);
    }));

  test("receives at once on a FIFO queue never hand out one group twice, and each group from its head", () =>
    withRepo(open, async ({ repo }) => {
      const groups = Array.from({ length: 60 }, (_, i) => `g${String(i).padStart(2, "0")}`);
      await queueWith(
        repo,
        "jobs.fifo",
        groups.flatMap((g) => [1, 2].map((n) => message(`${g}-${n}`, { groupId: g }))),
      );
      const batches: string[][] = [];
      // Several receivers, each taking a few at a time until nothing is left.
      const poll = async () => {
        for (;;) {
          const got = await repo.receive("jobs.fifo", fifoAt(T0_MS, { max: 3 }));
          if (got.length === 0) return;
          batches.push(ids(got));
        }
      };
      await Promise.all([1, 2, 3, 4, 5, 6].map(poll));
      // Nothing is deleted: a group handed out stays in flight, so no later receive may touch it.
      const groupOf = (id: string) => id.split("-")[0];
      for (const g of groups) {
        const holding = batches.filter((b) => b.some((id) => groupOf(id) === g));
        assert.equal(holding.length, 1, `group ${g} handed out by ${JSON.stringify(holding)}`);
        const mine = holding[0]?.filter((id) => groupOf(id) === g) ?? [];
        assert.deepEqual(mine, [`${g}-1`, `${g}-2`].slice(0, mine.length), `group ${g} from its head`);
      }
    }));

  test("a message received maxReceiveCount times moves to its dead-letter queue on the next receive, which hands out the next ones instead", () =>
    withRepo(open, async ({ repo }) => {
      const poison = message("m1", {
        attributes: { kind: { dataType: "String", stringValue: "poison ☠" } },
        md5OfAttributes: "md5-attributes",
        traceHeader: "Root=1-6935f000-0123456789abcdef01234567",
      });
      await queueWith(repo, "orders", [poison, message("m2"), message("m3")]);
      await repo.createQueue(queue("orders-dlq"));
      const redrive = redriveTo("orders-dlq", "orders", 2);
      const o = { max: 1, visibilityMs: 1_000, redrive };
      assert.deepEqual(ids(await repo.receive("orders", receiveAt(T0_MS, o))), ["m1"]);
      assert.deepEqual(ids(await repo.receive("orders", receiveAt(T0_MS + 1_000, o))), ["m1"]);
      const next = await repo.receive("orders", receiveAt(T0_MS + 2_000, { max: 2, redrive }));
      assert.deepEqual(ids(next), ["m2", "m3"]);
      assert.deepEqual(await repo.counts("orders", T0_MS + 2_000), { visible: 0, inFlight: 2, delayed: 0 });
      assert.deepEqual(await repo.counts("orders-dlq", T0_MS + 2_000), {
        visible: 1,
        inFlight: 0,
        delayed: 0,
      });
      const [dead] = await repo.receive("orders-dlq", receiveAt(T0_MS + 3_000));
      assert.ok(dead);
      assert.deepEqual(
        withoutHandle(dead),
        stored(poison, "orders-dlq", {
          visibleAt: T0_MS + 33_000,
          receiveCount: 1,
          firstReceivedAt: T0_MS + 3_000,
          deadLetterSourceArn: sqsArn("orders"),
        }),
      );
    }));

  test("a FIFO message moved to a FIFO dead-letter queue keeps its group and gets a sequence number of that queue", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "jobs-dlq.fifo", [message("d1", { groupId: "G" })]);
      const job = message("j1", { groupId: "A", deduplicationId: "dedup-j1" });
      await queueWith(repo, "jobs.fifo", [job, message("j2", { groupId: "A" })]);
      const redrive = redriveTo("jobs-dlq.fifo", "jobs.fifo");
      const first = await repo.receive("jobs.fifo", fifoAt(T0_MS, { max: 1, visibilityMs: 1_000, redrive }));
      assert.deepEqual(ids(first), ["j1"]);
      const next = await repo.receive("jobs.fifo", fifoAt(T0_MS + 1_000, { redrive }));
      assert.deepEqual(ids(next), ["j2"], "with j1 moved, its group goes on with j2 in the same receive");
      const got = await repo.receive("jobs-dlq.fifo", fifoAt(T0_MS + 2_000));
      assert.deepEqual(ids(got), ["d1", "j1"]);
      const [d1, j1] = got;
      assert.ok(d1 && j1);
      assert.match(j1.sequenceNumber ?? "", SEQUENCE_NUMBER);
      assert.ok((j1.sequenceNumber ?? "") > (d1.sequenceNumber ?? ""), "after the dead-letter queue's own");
      assert.deepEqual(
        withoutHandle(j1),
        stored(job, "jobs-dlq.fifo", {
          visibleAt: T0_MS + 32_000,
          receiveCount: 1,
          firstReceivedAt: T0_MS + 2_000,
          sequenceNumber: j1.sequenceNumber,
          deadLetterSourceArn: sqsArn("jobs.fifo"),
        }),
      );
    }));

  test("with its dead-letter queue deleted, a message past its receive limit is handed out as before", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "orders", [message("m1")]);
      const redrive = redriveTo("gone-dlq", "orders");
      for (const [i, at] of [T0_MS, T0_MS + 1_000, T0_MS + 2_000].entries()) {
        const [got] = await repo.receive("orders", receiveAt(at, { visibilityMs: 1_000, redrive }));
        assert.deepEqual([got?.id, got?.receiveCount], ["m1", i + 1]);
      }
    }));

  test("moving messages back sends each to the queue it came from, visible at once and never received; those with nowhere to go stay", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "dlq", [message("d1")]);
      for (const [source, id] of [
        ["orders", "o1"],
        ["gone", "g1"],
        ["payments", "p1"],
      ] as const) {
        await queueWith(repo, source, [message(id)]);
        await deadLetter(repo, source, "dlq", T0_MS);
      }
      assert.equal(await repo.deleteQueue("gone"), true);
      const now = T0_MS + 10_000;
      const back = (id: string, queueName: string) => stored(message(id), queueName, { visibleAt: now });
      assert.deepEqual(await repo.moveMessages("dlq", undefined, 1, now), [back("o1", "orders")]);
      assert.deepEqual(await repo.moveMessages("dlq", undefined, 10, now), [back("p1", "payments")]);
      assert.deepEqual(await repo.moveMessages("dlq", undefined, 10, now), []);
      assert.deepEqual(await repo.counts("dlq", now), { visible: 2, inFlight: 0, delayed: 0 });
      const [o1] = await repo.receive("orders", receiveAt(now));
      assert.deepEqual(
        [o1?.id, o1?.receiveCount, o1?.firstReceivedAt, o1?.deadLetterSourceArn],
        ["o1", 1, now, undefined],
      );
      assert.deepEqual(ids(await repo.receive("dlq", receiveAt(now))), ["d1", "g1"]);
    }));

  test("moving messages to a named queue takes the oldest first, up to the limit, in their order", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "dlq", [message("a"), message("b")]);
      await repo.send("dlq", [message("c")], T0_MS + 1, DEDUP_WINDOW_MS);
      await queueWith(repo, "retry", [message("r0")]);
      await repo.createQueue(queue("retry.fifo"));
      await repo.receive("dlq", receiveAt(T0_MS, { max: 1 }));
      const now = T0_MS + 5_000;
      assert.deepEqual(await repo.moveMessages("dlq", "ghost", 10, now), [], "to no queue, nothing moves");
      assert.deepEqual(await repo.moveMessages("dlq", "retry", 2, now), [
        stored(message("a"), "retry", { visibleAt: now }),
        stored(message("b"), "retry", { visibleAt: now }),
      ]);
      const [c] = await repo.moveMessages("dlq", "retry.fifo", 10, now);
      assert.deepEqual([c?.id, c?.queueName, c?.sentAt], ["c", "retry.fifo", T0_MS + 1]);
      assert.match(c?.sequenceNumber ?? "", SEQUENCE_NUMBER, "a FIFO queue numbers what it is given");
      assert.deepEqual(await repo.counts("dlq", now), { visible: 0, inFlight: 0, delayed: 0 });
      assert.deepEqual(ids(await repo.receive("retry", receiveAt(now))), ["r0", "a", "b"]);
    }));
}
