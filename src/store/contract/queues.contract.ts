/**
 * What the queue service relies on from every store: queues, and messages sent, received,
 * deleted and counted (`queues-fifo.contract.ts` has FIFO order, deduplication, dead-letter
 * queues and moves). Times are epoch ms past 2^32, so a store that narrowed them would show.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { NewMessage, QueueRecord, ReceivedMessage, StoredMessage } from "../../services/queues/model.js";
import type { QueuesRepo, ReceiveOptions } from "../../services/queues/repo.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";

/** SQS's default retention, 4 days. */
const RETENTION_MS = 4 * 24 * 3_600_000;
export const DEDUP_WINDOW_MS = 300_000;

export function sqsArn(queueName: string): string {
  return `arn:aws:sqs:us-east-1:000000000000:${queueName}`;
}

/** A queue made at T0 with a few attributes and a tag; `patch` overrides. */
export function queue(name: string, patch: Partial<QueueRecord> = {}): QueueRecord {
  return {
    name,
    createdAt: T0_MS,
    modifiedAt: T0_MS,
    attributes: { VisibilityTimeout: "30", MessageRetentionPeriod: "345600" },
    tags: { team: "orders" },
    ...patch,
  };
}

/** A message visible at T0, without attributes; `patch` overrides. */
export function message(id: string, patch: Partial<NewMessage> = {}): NewMessage {
  return {
    id,
    body: `body of ${id}`,
    md5OfBody: `md5-${id}`,
    attributes: {},
    md5OfAttributes: undefined,
    traceHeader: undefined,
    visibleAt: T0_MS,
    ...patch,
  };
}

/** `m` as stored in `queueName` by a send at T0, never received; `patch` overrides. */
export function stored(m: NewMessage, queueName: string, patch: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id: m.id,
    body: m.body,
    md5OfBody: m.md5OfBody,
    attributes: m.attributes,
    md5OfAttributes: m.md5OfAttributes,
    traceHeader: m.traceHeader,
    groupId: m.groupId,
    deduplicationId: m.deduplicationId,
    queueName,
    sentAt: T0_MS,
    visibleAt: m.visibleAt,
    receiveCount: 0,
    firstReceivedAt: undefined,
    sequenceNumber: undefined,
    deadLetterSourceArn: undefined,
    ...patch,
  };
}

/** A receive at `now` of up to 10 messages, invisible for 30 s, retention 4 days; `patch` overrides. */
export function receiveAt(now: number, patch: Partial<ReceiveOptions> = {}): ReceiveOptions {
  return { max: 10, now, visibilityMs: 30_000, fifo: false, expiredBefore: now - RETENTION_MS, ...patch };
}

export const ids = (messages: readonly StoredMessage[]): string[] => messages.map((m) => m.id);

export function withoutHandle(m: ReceivedMessage): StoredMessage {
  const { receiptHandle: _handle, ...rest } = m;
  return rest;
}

/** Creates `name` and sends `messages` to it at T0 (no deduplication window matters here). */
export async function queueWith(
  repo: QueuesRepo,
  name: string,
  messages: readonly NewMessage[],
): Promise<void> {
  await repo.createQueue(queue(name));
  if (messages.length > 0) await repo.send(name, messages, T0_MS, DEDUP_WINDOW_MS);
}

export function queuesContract(open: OpenRepo<QueuesRepo>): void {
  test("a queue reads back as created, and creating its name again changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      const orders = queue("orders", { attributes: { DelaySeconds: "5", Policy: '{"Statement":[]}' } });
      assert.equal(await repo.createQueue(orders), true);
      assert.deepEqual(await repo.getQueue("orders"), orders);
      assert.equal(await repo.createQueue(queue("orders", { tags: {}, createdAt: T0_MS + 1 })), false);
      assert.deepEqual(await repo.getQueue("orders"), orders);
      assert.equal(await repo.getQueue("missing"), undefined);
    }));

  test("updating a queue replaces its attributes, tags and modified time, and keeps its created time", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createQueue(queue("orders"));
      const changed = queue("orders", {
        createdAt: T0_MS + 99,
        modifiedAt: T0_MS + 60_000,
        attributes: { VisibilityTimeout: "60" },
        tags: { "cost-center": "ünits 📦" },
      });
      assert.equal(await repo.updateQueue(changed), true);
      assert.deepEqual(await repo.getQueue("orders"), { ...changed, createdAt: T0_MS });
      assert.equal(await repo.updateQueue(queue("missing")), false);
      assert.equal(await repo.getQueue("missing"), undefined);
    }));

  test("queues are listed in byte order of their names, after the given name, at most the limit", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listQueues({ limit: 10 }), []);
      for (const name of ["b", "a1", "B", "a-1", "_x", "a10", "a2"]) await repo.createQueue(queue(name));
      const names = async (o: { prefix?: string; after?: string; limit: number }) =>
        (await repo.listQueues(o)).map((q) => q.name);
      assert.deepEqual(await names({ limit: 10 }), ["B", "_x", "a-1", "a1", "a10", "a2", "b"]);
      assert.deepEqual(await names({ limit: 3 }), ["B", "_x", "a-1"]);
      assert.deepEqual(await names({ after: "a-1", limit: 3 }), ["a1", "a10", "a2"]);
      assert.deepEqual(await names({ after: "a2", limit: 3 }), ["b"]);
      assert.deepEqual(await names({ prefix: "a1", limit: 10 }), ["a1", "a10"]);
      assert.deepEqual(await names({ prefix: "a", after: "a1", limit: 10 }), ["a10", "a2"]);
      assert.deepEqual((await repo.listQueues({ prefix: "_", limit: 10 }))[0], queue("_x"));
    }));

  test("a name prefix matches literally: case counts, and _ and % are not wildcards", () =>
    withRepo(open, async ({ repo }) => {
      for (const name of ["a_1", "ab1", "A_1", "50%off", "50-off", "x\\y", "xzy"])
        await repo.createQueue(queue(name));
      const names = async (prefix: string) =>
        (await repo.listQueues({ prefix, limit: 10 })).map((q) => q.name);
      assert.deepEqual(await names("a_"), ["a_1"]);
      assert.deepEqual(await names("A"), ["A_1"]);
      assert.deepEqual(await names("50%"), ["50%off"]);
      assert.deepEqual(await names("x\\"), ["x\\y"]);
      assert.deepEqual(await names("%"), []);
      assert.deepEqual(await names(""), ["50%off", "50-off", "A_1", "a_1", "ab1", "x\\y", "xzy"]);
    }));

  test("deleting a queue says whether there was one, and takes its messages and deduplication ids with it", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "orders.fifo", [message("m1", { groupId: "g", deduplicationId: "d" })]);
      await queueWith(repo, "other", [message("m2")]);
      assert.equal(await repo.deleteQueue("orders.fifo"), true);
      assert.equal(await repo.deleteQueue("orders.fifo"), false);
      assert.equal(await repo.getQueue("orders.fifo"), undefined);
      await repo.createQueue(queue("orders.fifo"));
      assert.deepEqual(await repo.counts("orders.fifo", T0_MS), { visible: 0, inFlight: 0, delayed: 0 });
      assert.deepEqual(await repo.receive("orders.fifo", receiveAt(T0_MS, { fifo: true })), []);
      const again = await repo.send(
        "orders.fifo",
        [message("m3", { groupId: "g", deduplicationId: "d" })],
        T0_MS,
        DEDUP_WINDOW_MS,
      );
      assert.equal(again[0]?.duplicate, false, "the deleted queue's deduplication ids are gone with it");
      assert.deepEqual(ids(await repo.receive("other", receiveAt(T0_MS))), ["m2"]);
    }));

  test("a send to a queue that does not exist is refused and stores nothing", () =>
    withRepo(open, async ({ repo }) => {
      await assert.rejects(repo.send("ghost", [message("m1")], T0_MS, DEDUP_WINDOW_MS));
      await assert.rejects(
        repo.send("ghost.fifo", [message("m2", { groupId: "g" })], T0_MS, DEDUP_WINDOW_MS),
      );
      await repo.createQueue(queue("ghost"));
      assert.deepEqual(await repo.receive("ghost", receiveAt(T0_MS)), []);
    }));

  test("a received message reads back field for field, with its receive counted and its times past 2^32", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createQueue(queue("orders"));
      const m = message("5f0c6a8e-8d47-4f6e-9a55-1c2b3d4e5f60", {
        attributes: {
          color: { dataType: "String", stringValue: "blue" },
          count: { dataType: "Number.int", stringValue: "42" },
          raw: { dataType: "Binary", binaryValue: "AAEC/w==" },
        },
        md5OfAttributes: "md5-attributes",
        traceHeader: "Root=1-6935f000-0123456789abcdef01234567;Sampled=1",
      });
      const outcomes = await repo.send("orders", [m], T0_MS, DEDUP_WINDOW_MS);
      assert.deepEqual(outcomes, [{ id: m.id, sequenceNumber: undefined, duplicate: false }]);
      const [got, ...more] = await repo.receive("orders", receiveAt(T0_MS + 5, { visibilityMs: 45_000 }));
      assert.ok(got);
      assert.deepEqual(more, []);
      assert.deepEqual(
        withoutHandle(got),
        stored(m, "orders", { visibleAt: T0_MS + 45_005, receiveCount: 1, firstReceivedAt: T0_MS + 5 }),
      );
      assert.equal(typeof got.receiptHandle, "string");
      assert.ok(!got.receiptHandle.includes(m.id), "a receipt handle is opaque");
    }));

  test("bodies in any script, with emoji, and of 1 MiB read back exactly", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createQueue(queue("orders"));
      const mib = `${"😀é€a".repeat(104_857)}xxxxxx`;
      assert.equal(Buffer.byteLength(mib), 1_048_576);
      const bodies = ["Grüße, 世界! שלום 👋🏽 👨‍👩‍👧 🇳🇴", "🧪", mib, " ", '<a x="&amp;">\t\r\n</a>'];
      const sent = bodies.map((body, i) =>
        message(`m${i}`, {
          body,
          attributes: { note: { dataType: "String", stringValue: `ünïcode ${i} 🚀` } },
        }),
      );
      await repo.send("orders", sent, T0_MS, DEDUP_WINDOW_MS);
      const got = await repo.receive("orders", receiveAt(T0_MS));
      assert.deepEqual(ids(got), ["m0", "m1", "m2", "m3", "m4"]);
      for (const [i, m] of got.entries()) {
        assert.equal(m.body, bodies[i], `body ${i} reads back as sent`);
        assert.deepEqual(m.attributes, sent[i]?.attributes);
      }
    }));

  test("messages are handed out oldest first, at most max at a time", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(
        repo,
        "orders",
        ["m1", "m2", "m3", "m4", "m5"].map((id) => message(id)),
      );
      await repo.send("orders", [message("m6"), message("m7")], T0_MS + 1, DEDUP_WINDOW_MS);
      assert.deepEqual(ids(await repo.receive("orders", receiveAt(T0_MS + 1, { max: 3 }))), [
        "m1",
        "m2",
        "m3",
      ]);
      assert.deepEqual(ids(await repo.receive("orders", receiveAt(T0_MS + 1, { max: 1 }))), ["m4"]);
      assert.deepEqual(ids(await repo.receive("orders", receiveAt(T0_MS + 1))), ["m5", "m6", "m7"]);
      assert.deepEqual(await repo.receive("orders", receiveAt(T0_MS + 1)), []);
    }));

  test("a received message is not handed out again until its visibility timeout ends, then comes back with its count raised", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "orders", [message("m1")]);
      const [first] = await repo.receive("orders", receiveAt(T0_MS, { visibilityMs: 30_000 }));
      assert.deepEqual(await repo.receive("orders", receiveAt(T0_MS + 29_999)), []);
      const [second] = await repo.receive("orders", receiveAt(T0_MS + 30_000, { visibilityMs: 1_000 }));
      assert.deepEqual(
        [second?.id, second?.receiveCount, second?.firstReceivedAt, second?.visibleAt],
        ["m1", 2, T0_MS, T0_MS + 31_000],
      );
      assert.notEqual(second?.receiptHandle, first?.receiptHandle, "each receive has a handle of its own");
    }));

  test("a message sent with a delay is not handed out before its time", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "orders", [message("late", { visibleAt: T0_MS + 10_000 }), message("now")]);
      assert.deepEqual(ids(await repo.receive("orders", receiveAt(T0_MS + 9_999))), ["now"]);
      const [late] = await repo.receive("orders", receiveAt(T0_MS + 10_000));
      assert.deepEqual([late?.id, late?.receiveCount, late?.firstReceivedAt], ["late", 1, T0_MS + 10_000]);
    }));

  test("receives at once never hand out the same message, and between them hand out all", () =>
    withRepo(open, async ({ repo }) => {
      const all = Array.from({ length: 120 }, (_, i) => `m${String(i).padStart(3, "0")}`);
      await queueWith(
        repo,
        "orders",
        all.map((id) => message(id)),
      );
      const taken: string[] = [];
      // Several receivers, each taking a few at a time until nothing is left.
      const poll = async () => {
        for (;;) {
          const got = await repo.receive("orders", receiveAt(T0_MS, { max: 4 }));
          if (got.length === 0) return;
          taken.push(...ids(got));
        }
      };
      await Promise.all([1, 2, 3, 4, 5, 6].map(poll));
      assert.deepEqual(
        taken.filter((id, i) => taken.indexOf(id) !== i),
        [],
        "messages handed out twice",
      );
      assert.deepEqual([...taken].sort(), all);
    }));

  test("a message is deleted with its latest receipt handle; an earlier receive's handle deletes nothing", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "orders", [message("m1"), message("m2")]);
      const [old] = await repo.receive("orders", receiveAt(T0_MS, { max: 1, visibilityMs: 1_000 }));
      const [latest] = await repo.receive("orders", receiveAt(T0_MS + 1_000, { max: 1 }));
      assert.ok(old && latest);
      assert.equal(latest.id, "m1");
      assert.equal(await repo.deleteMessage("orders", old.receiptHandle), false);
      assert.deepEqual(await repo.counts("orders", T0_MS + 1_000), { visible: 1, inFlight: 1, delayed: 0 });
      assert.equal(await repo.deleteMessage("orders", latest.receiptHandle), true);
      assert.equal(await repo.deleteMessage("orders", latest.receiptHandle), false);
      assert.deepEqual(await repo.counts("orders", T0_MS + 1_000), { visible: 1, inFlight: 0, delayed: 0 });
      assert.deepEqual(ids(await repo.receive("orders", receiveAt(T0_MS + 1_000))), ["m2"]);
    }));

  test("a batch of handles is deleted together: each says whether it deleted one, stale and malformed ones nothing", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "orders", [message("m1"), message("m2"), message("m3")]);
      const [stale] = await repo.receive("orders", receiveAt(T0_MS, { max: 1, visibilityMs: 1_000 }));
      const got = await repo.receive("orders", receiveAt(T0_MS + 1_000, { max: 3 }));
      assert.ok(stale);
      assert.deepEqual(ids(got).sort(), ["m1", "m2", "m3"]);
      const [a, b] = got.filter((m) => m.id !== "m3").map((m) => m.receiptHandle);
      const answered = await repo.deleteMessages("orders", [a!, stale.receiptHandle, "not a handle", b!, a!]);
      assert.deepEqual(answered, [true, false, false, true, false]);
      assert.deepEqual(await repo.counts("orders", T0_MS + 1_000), { visible: 0, inFlight: 1, delayed: 0 });
      assert.deepEqual(
        await repo.deleteMessages("other-queue", [got.find((m) => m.id === "m3")!.receiptHandle]),
        [false],
      );
      assert.deepEqual(await repo.deleteMessages("orders", []), []);
    }));

  test("a malformed, forged or other queue's receipt handle deletes nothing", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "orders", [message("m1")]);
      await repo.createQueue(queue("other"));
      const [got] = await repo.receive("orders", receiveAt(T0_MS));
      assert.ok(got);
      const forged = Buffer.from("m1:AAAAAAAAAAAAAAAAAAAAAA").toString("base64url");
      for (const handle of [
        "",
        "not a handle",
        "bTE6",
        forged,
        `${got.receiptHandle}x`,
        got.receiptHandle.slice(1),
      ])
        assert.equal(await repo.deleteMessage("orders", handle), false, `handle ${JSON.stringify(handle)}`);
      assert.equal(await repo.deleteMessage("other", got.receiptHandle), false);
      assert.deepEqual(await repo.counts("orders", T0_MS), { visible: 0, inFlight: 1, delayed: 0 });
      assert.equal(await repo.deleteMessage("orders", got.receiptHandle), true);
    }));

  test("changing a received message's visibility moves when it comes back; only its latest handle, while in flight", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "orders", [message("m1")]);
      const [first] = await repo.receive("orders", receiveAt(T0_MS, { visibilityMs: 30_000 }));
      assert.ok(first);
      assert.equal(
        await repo.changeVisibility("orders", first.receiptHandle, T0_MS + 60_000, T0_MS + 10),
        "changed",
      );
      assert.equal(await repo.nextVisibleAt("orders", T0_MS + 10), T0_MS + 60_000);
      assert.deepEqual(await repo.receive("orders", receiveAt(T0_MS + 30_000)), []);
      // Visibility 0: visible at once.
      assert.equal(
        await repo.changeVisibility("orders", first.receiptHandle, T0_MS + 20, T0_MS + 20),
        "changed",
      );
      const [second] = await repo.receive("orders", receiveAt(T0_MS + 20));
      assert.ok(second);
      assert.equal(second.receiveCount, 2);
      assert.equal(
        await repo.changeVisibility("orders", first.receiptHandle, T0_MS + 99, T0_MS + 21),
        "unknown-receipt",
      );
      assert.equal(
        await repo.changeVisibility("orders", "garbage", T0_MS + 99, T0_MS + 21),
        "unknown-receipt",
      );
      assert.equal(
        await repo.changeVisibility("other", second.receiptHandle, T0_MS + 99, T0_MS + 21),
        "unknown-receipt",
      );
      const back = T0_MS + 20 + 30_000;
      assert.equal(
        await repo.changeVisibility("orders", second.receiptHandle, back + 5, back),
        "not-in-flight",
      );
      assert.deepEqual(await repo.counts("orders", back), { visible: 1, inFlight: 0, delayed: 0 });
      assert.equal(
        await repo.deleteMessage("orders", second.receiptHandle),
        true,
        "a visible message's handle still deletes it",
      );
      assert.equal(
        await repo.changeVisibility("orders", second.receiptHandle, back + 5, back),
        "unknown-receipt",
      );
    }));

  test("counts tell visible, in-flight and delayed messages apart, and the next visible time is the earliest to come", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createQueue(queue("orders"));
      assert.deepEqual(await repo.counts("orders", T0_MS), { visible: 0, inFlight: 0, delayed: 0 });
      assert.equal(await repo.nextVisibleAt("orders", T0_MS), undefined);
      await repo.send(
        "orders",
        [message("v1"), message("v2"), message("d1", { visibleAt: T0_MS + 5_000 })],
        T0_MS,
        DEDUP_WINDOW_MS,
      );
      await repo.receive("orders", receiveAt(T0_MS, { max: 1, visibilityMs: 10_000 }));
      assert.deepEqual(await repo.counts("orders", T0_MS), { visible: 1, inFlight: 1, delayed: 1 });
      assert.equal(await repo.nextVisibleAt("orders", T0_MS), T0_MS + 5_000);
      assert.deepEqual(await repo.counts("orders", T0_MS + 5_000), { visible: 2, inFlight: 1, delayed: 0 });
      assert.equal(await repo.nextVisibleAt("orders", T0_MS + 5_000), T0_MS + 10_000);
      assert.deepEqual(await repo.counts("orders", T0_MS + 10_000), { visible: 3, inFlight: 0, delayed: 0 });
      assert.equal(await repo.nextVisibleAt("orders", T0_MS + 10_000), undefined);
      assert.deepEqual(await repo.counts("missing", T0_MS), { visible: 0, inFlight: 0, delayed: 0 });
    }));

  test("purging deletes every message of the queue and says how many; other queues keep theirs", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "orders", [
        message("m1"),
        message("m2"),
        message("m3", { visibleAt: T0_MS + 9 }),
      ]);
      await queueWith(repo, "other", [message("o1")]);
      await repo.receive("orders", receiveAt(T0_MS, { max: 1 }));
      assert.equal(await repo.purge("orders"), 3);
      assert.equal(await repo.purge("orders"), 0);
      assert.deepEqual(await repo.counts("orders", T0_MS), { visible: 0, inFlight: 0, delayed: 0 });
      assert.deepEqual(ids(await repo.receive("other", receiveAt(T0_MS))), ["o1"]);
    }));

  test("messages past retention are deleted by expire, and never handed out by a receive", () =>
    withRepo(open, async ({ repo }) => {
      await queueWith(repo, "orders", [message("old1"), message("old2")]);
      await repo.send("orders", [message("new1")], T0_MS + 1_000, DEDUP_WINDOW_MS);
      await queueWith(repo, "other", [message("o1")]);
      const got = await repo.receive("orders", receiveAt(T0_MS + 1_000, { expiredBefore: T0_MS + 1 }));
      assert.deepEqual(ids(got), ["new1"]);
      assert.deepEqual(await repo.counts("orders", T0_MS + 1_000), { visible: 0, inFlight: 1, delayed: 0 });
      await repo.send("orders", [message("new2")], T0_MS + 2_000, DEDUP_WINDOW_MS);
      assert.equal(await repo.expire("orders", T0_MS + 1_001), 1, "a message in flight expires too");
      assert.equal(await repo.expire("orders", T0_MS + 1_001), 0);
      assert.deepEqual(ids(await repo.receive("orders", receiveAt(T0_MS + 2_000))), ["new2"]);
      assert.deepEqual(
        ids(await repo.receive("other", receiveAt(T0_MS + 2_000))),
        ["o1"],
        "other queues keep theirs",
      );
    }));
}
