/**
 * The mapping readers against a queue and a function that the test holds in its hands: how many
 * readers run as the backlog grows and drains, what is deleted after each kind of answer, and
 * the pause after a throttle (on the fake clock).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SqsEventMessage } from "../../../protocol/events/sqs.js";
import { FakeClock } from "../../../shared/clock.js";
import { NimbusError } from "../../../shared/errors.js";
import { silentLogger } from "../../../shared/logger.js";
import type { SyncInvokeOutput } from "../../invoke-service.js";
import type { EventSourceContext, SourceInvokeInput } from "../event-source.js";
import { MappingPoller, type PolledQueues } from "./poller.js";
import type { EventSourceMapping } from "./repo.js";

const ARN = "arn:aws:sqs:us-east-1:000000000000:q";
const FIFO_ARN = "arn:aws:sqs:us-east-1:000000000000:q.fifo";

function message(id: string, group?: string): SqsEventMessage {
  return {
    messageId: id,
    receiptHandle: `h-${id}`,
    body: id,
    md5OfBody: "",
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "0",
      SenderId: "000000000000",
      ApproximateFirstReceiveTimestamp: "0",
      ...(group ? { MessageGroupId: group } : {}),
    },
    messageAttributes: {},
  };
}

/**
 * A queue in memory: receive hands out what is left (no visibility: the test watches deletes);
 * an empty long poll waits for a send, or its time on the fake clock.
 */
class Queue implements PolledQueues {
  waiting: SqsEventMessage[] = [];
  deleted: string[] = [];
  receives = 0;
  readonly #wakes = new Set<() => void>();
  readonly #clock: FakeClock;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }
  async describe() {
    return { fifo: false };
  }
  async receive(_arn: string, max: number, waitMs: number, signal: AbortSignal): Promise<SqsEventMessage[]> {
    this.receives++;
    if (this.waiting.length === 0 && waitMs > 0)
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#wakes.delete(done);
          timer.cancel();
          resolve();
        };
        const timer = this.#clock.setTimeout(done, waitMs);
        this.#wakes.add(done);
        signal.addEventListener("abort", done, { once: true });
      });
    return this.waiting.splice(0, max);
  }
  async delete(_arn: string, handles: readonly string[]) {
    this.deleted.push(...handles.map((h) => h.slice(2)));
  }
  send(...msgs: SqsEventMessage[]) {
    this.waiting.push(...msgs);
    for (const wake of [...this.#wakes]) wake();
  }
}

function mapping(patch: Partial<EventSourceMapping> = {}): EventSourceMapping {
  return {
    uuid: "m-1",
    eventSourceArn: ARN,
    functionName: "fn",
    qualifier: undefined,
    batchSize: 10,
    maximumBatchingWindowInSeconds: 0,
    functionResponseTypes: [],
    filters: [],
    maximumConcurrency: undefined,
    enabled: true,
    state: "Enabled",
    stateTransitionReason: "USER_INITIATED",
    lastProcessingResult: "No records processed",
    lastModified: 0,
    ...patch,
  };
}

/** A function whose invocations wait until the test answers them. */
function harness(m: EventSourceMapping) {
  const clock = new FakeClock();
  const queue = new Queue(clock);
  const calls: Array<{ input: SourceInvokeInput; answer: (o: Partial<SyncInvokeOutput> | Error) => void }> =
    [];
  const results: string[] = [];
  const ctx: EventSourceContext = {
    invoke: (input) =>
      new Promise((resolve, reject) => {
        calls.push({
          input,
          answer: (o) =>
            o instanceof Error
              ? reject(o)
              : resolve({
                  requestId: "r",
                  executedVersion: "$LATEST",
                  payload: Buffer.from(""),
                  functionError: undefined,
                  result: undefined,
                  ...o,
                }),
        });
      }),
    enqueue: () => assert.fail("not enqueued"),
    clock,
    logger: silentLogger,
  };
  const poller = new MappingPoller({
    repo: { listMappings: async () => [m] } as never,
    queues: queue,
    region: "us-east-1",
    processed: async (_uuid, r) => void results.push(r),
    settings: { defaultConcurrency: 4, pollWaitMs: 20_000, backoffMs: 1000 },
  });
  return { clock, queue, calls, results, ctx, poller };
}

const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
const bodies = (input: SourceInvokeInput) =>
  (JSON.parse(input.payload.toString()) as { Records: { body: string }[] }).Records.map((r) => r.body);

test("readers scale out with a backlog, up to the maximum concurrency, and back to one when it drains", async () => {
  const h = harness(mapping({ maximumConcurrency: 3 }));
  await h.poller.start(h.ctx);
  h.queue.send(...Array.from({ length: 60 }, (_, i) => message(`m${i}`)));
  await turns();
  assert.equal(h.poller.readerCount("m-1"), 3);
  assert.equal(h.calls.length, 3, "three batches in flight at once");
  // Answer everything until the queue is empty.
  while (h.calls.length > 0) {
    for (const c of h.calls.splice(0)) c.answer({});
    await turns();
  }
  assert.equal(h.queue.deleted.length, 60);
  // Their long polls end empty: all but one reader stop, and that one polls again.
  h.clock.advance(20_000);
  await turns();
  assert.equal(h.poller.readerCount("m-1"), 1, "one reader keeps waiting");
  h.clock.advance(20_000);
  await turns();
  assert.equal(h.poller.readerCount("m-1"), 1);
  await h.poller.stop();
  await turns();
  assert.equal(h.poller.readerCount("m-1"), 0);
});

test("a failed invocation deletes nothing; an invalid partial response deletes nothing either", async () => {
  const h = harness(mapping({ functionResponseTypes: ["ReportBatchItemFailures"] }));
  await h.poller.start(h.ctx);
  h.queue.send(message("a"), message("b"));
  await turns();
  h.calls.shift()!.answer({ functionError: "Unhandled", payload: Buffer.from('{"errorMessage":"no"}') });
  await turns();
  assert.deepEqual(h.queue.deleted, []);
  h.queue.send(message("c"));
  await turns();
  h.calls
    .shift()!
    .answer({ payload: Buffer.from('{"batchItemFailures":[{"itemIdentifier":"not-in-batch"}]}') });
  await turns();
  assert.deepEqual(h.queue.deleted, []);
  assert.deepEqual(h.results, [
    "PROBLEM: Function call failed",
    "PROBLEM: Function returned an invalid partial batch response",
  ]);
  await h.poller.stop();
});

test("partial batch responses: reported messages stay; on a FIFO queue, so do the later ones of their group", async () => {
  const h = harness(
    mapping({ eventSourceArn: FIFO_ARN, functionResponseTypes: ["ReportBatchItemFailures"] }),
  );
  await h.poller.start(h.ctx);
  h.queue.send(message("g1-1", "g1"), message("g1-2", "g1"), message("g1-3", "g1"), message("g2-1", "g2"));
  await turns();
  assert.deepEqual(bodies(h.calls[0]!.input), ["g1-1", "g1-2", "g1-3", "g2-1"]);
  h.calls.shift()!.answer({ payload: Buffer.from('{"batchItemFailures":[{"itemIdentifier":"g1-2"}]}') });
  await turns();
  assert.deepEqual(h.queue.deleted.sort(), ["g1-1", "g2-1"]);
  await h.poller.stop();
});

test("filters: what matches no pattern is deleted and never reaches the function", async () => {
  const h = harness(mapping({ filters: [JSON.stringify({ body: { n: [{ numeric: [">", 5] }] } })] }));
  await h.poller.start(h.ctx);
  h.queue.send(
    { ...message("small"), body: '{"n": 1}' },
    { ...message("big"), body: '{"n": 9}' },
    { ...message("text"), body: "not json" },
  );
  await turns();
  assert.deepEqual(bodies(h.calls[0]!.input), ['{"n": 9}']);
  assert.deepEqual(h.queue.deleted.sort(), ["small", "text"]);
  h.calls.shift()!.answer({});
  await turns();
  assert.deepEqual(h.queue.deleted.sort(), ["big", "small", "text"]);
  await h.poller.stop();
});

test("after a throttle a reader waits its backoff on the clock before it reads again", async () => {
  const h = harness(mapping());
  await h.poller.start(h.ctx);
  h.queue.send(message("a"));
  await turns();
  h.calls.shift()!.answer(new NimbusError("TooManyRequests", "Rate Exceeded."));
  await turns();
  const receives = h.queue.receives;
  h.queue.send(message("b"));
  await turns();
  assert.equal(h.queue.receives, receives, "no read during the backoff");
  h.clock.advance(1000);
  await turns();
  assert.ok(h.queue.receives > receives);
  assert.deepEqual(bodies(h.calls.shift()!.input), ["b"]);
  assert.deepEqual(h.results, ["PROBLEM: Rate Exceeded."]);
  await h.poller.stop();
});

test("a change restarts a mapping's readers; disabling or removing stops them", async () => {
  const h = harness(mapping());
  await h.poller.start(h.ctx);
  assert.equal(h.poller.readerCount("m-1"), 1);
  h.poller.changed(mapping({ enabled: false, state: "Disabled" }));
  await turns();
  assert.equal(h.poller.readerCount("m-1"), 0);
  h.poller.changed(mapping());
  assert.equal(h.poller.readerCount("m-1"), 1);
  h.poller.removed("m-1");
  await turns();
  assert.equal(h.poller.readerCount("m-1"), 0);
  await h.poller.stop();
});
