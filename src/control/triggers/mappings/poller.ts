/**
 * The readers of event source mappings: for each enabled mapping, long polls on its queue that
 * invoke the function with each batch, as Lambda's SQS pollers do. A batch that succeeds is
 * deleted; one that fails (an error, a timeout, a throttle) is left to come back after the
 * queue's visibility timeout, and the queue's redrive policy takes it to its dead-letter queue
 * after `maxReceiveCount`. With `ReportBatchItemFailures`, only the messages the function did
 * not report are deleted. Messages that match none of the mapping's filters are deleted
 * unprocessed. A mapping's readers scale with its backlog: a full batch starts one more, up to
 * its maximum concurrency; an empty poll ends one, down to the last, which keeps waiting.
 */
import { compilePattern, type EventMatcher } from "../../../protocol/events/pattern.js";
import { batchItemFailures, type SqsEventMessage, sqsRecord } from "../../../protocol/events/sqs.js";
import type { EventSource, EventSourceContext } from "../event-source.js";
import type { MappedQueues, MappingListener } from "./mappings.js";
import type { EventSourceMapping, EventSourceMappingsRepo } from "./repo.js";

/** What the readers need of the queues (the platform answers it from its queues service). */
export interface PolledQueues extends MappedQueues {
  /** Up to `max` (at most 10) messages, waiting up to `waitMs` for the first; [] if none came or `signal` aborted. */
  receive(arn: string, max: number, waitMs: number, signal: AbortSignal): Promise<SqsEventMessage[]>;
  delete(arn: string, receiptHandles: readonly string[]): Promise<void>;
}

export interface MappingPollerSettings {
  /** Readers of one mapping at most, when it sets no ScalingConfig.MaximumConcurrency. */
  readonly defaultConcurrency: number;
  /** How long one poll waits for a first message (SQS's longest long poll). */
  readonly pollWaitMs: number;
  /** After a failed invocation or poll, a reader waits this long before the next. */
  readonly backoffMs: number;
}

export const DEFAULT_MAPPING_SETTINGS: MappingPollerSettings = {
  defaultConcurrency: 10,
  pollWaitMs: 20_000,
  backoffMs: 1000,
};

export interface MappingPollerDeps {
  readonly repo: EventSourceMappingsRepo;
  readonly queues: PolledQueues;
  readonly region: string;
  /** Records the last batch's result on the mapping. */
  readonly processed: (uuid: string, result: string) => Promise<void>;
  readonly settings?: MappingPollerSettings;
}

export class MappingPoller implements EventSource, MappingListener {
  readonly name = "event-source-mappings";
  readonly #o: MappingPollerDeps;
  readonly #settings: MappingPollerSettings;
  readonly #readers = new Map<string, Readers>();
  #ctx: EventSourceContext | undefined;

  constructor(deps: MappingPollerDeps) {
    this.#o = deps;
    this.#settings = deps.settings ?? DEFAULT_MAPPING_SETTINGS;
  }

  async start(ctx: EventSourceContext): Promise<void> {
    this.#ctx = ctx;
    let after: string | undefined;
    for (;;) {
      const page = await this.#o.repo.listMappings({ after, limit: 100 });
      for (const m of page) this.changed(m);
      if (page.length < 100) break;
      after = page[page.length - 1]!.uuid;
    }
  }

  async stop(): Promise<void> {
    for (const r of this.#readers.values()) r.stop();
    this.#readers.clear();
    this.#ctx = undefined;
  }

  changed(m: EventSourceMapping): void {
    this.removed(m.uuid);
    if (!this.#ctx || !m.enabled) return;
    const r = new Readers(m, this.#o, this.#settings, this.#ctx);
    this.#readers.set(m.uuid, r);
    r.start();
  }

  removed(uuid: string): void {
    this.#readers.get(uuid)?.stop();
    this.#readers.delete(uuid);
  }

  /** Readers running per mapping (for tests and status). */
  readerCount(uuid: string): number {
    return this.#readers.get(uuid)?.count ?? 0;
  }
}

/** One mapping's readers. */
class Readers {
  readonly #m: EventSourceMapping;
  readonly #o: MappingPollerDeps;
  readonly #s: MappingPollerSettings;
  readonly #ctx: EventSourceContext;
  readonly #abort = new AbortController();
  readonly #filters: EventMatcher[];
  readonly #fifo: boolean;
  #count = 0;
  #lastResult: string;

  constructor(
    m: EventSourceMapping,
    o: MappingPollerDeps,
    s: MappingPollerSettings,
    ctx: EventSourceContext,
  ) {
    this.#m = m;
    this.#o = o;
    this.#s = s;
    this.#ctx = ctx;
    this.#filters = m.filters.map((f) => compilePattern(f));
    this.#fifo = m.eventSourceArn.endsWith(".fifo");
    this.#lastResult = m.lastProcessingResult;
  }

  get count(): number {
    return this.#count;
  }

  start(): void {
    this.#spawn();
  }

  stop(): void {
    this.#abort.abort();
  }

  #spawn(): void {
    this.#count++;
    const left = { done: false };
    void this.#read(left)
      .catch((err: unknown) =>
        this.#ctx.logger.error("an event source mapping's reader failed", { err, uuid: this.#m.uuid }),
      )
      .finally(() => {
        if (!left.done) this.#count--;
      });
  }

  /** Reads until stopped, or until it is one of several and finds the queue empty (then `left.done`, counted at once). */
  async #read(left: { done: boolean }): Promise<void> {
    const cap = this.#m.maximumConcurrency ?? this.#s.defaultConcurrency;
    while (!this.#abort.signal.aborted) {
      let batch: SqsEventMessage[];
      try {
        batch = await this.#gather();
      } catch (err) {
        this.#ctx.logger.warn("an event source mapping could not read its queue", {
          err,
          uuid: this.#m.uuid,
        });
        await this.#pause();
        continue;
      }
      if (batch.length === 0) {
        // Counted down now, not when the promise settles: readers that find the queue empty
        // together must not each see the others still there and all stop.
        if (this.#count > 1) {
          this.#count--;
          left.done = true;
          return;
        }
        continue;
      }
      if (batch.length >= Math.min(10, this.#m.batchSize) && this.#count < cap) this.#spawn();
      await this.#process(batch);
    }
  }

  /** A first message (waiting for it), then more until the batch is full or the window closes. */
  async #gather(): Promise<SqsEventMessage[]> {
    const { queues } = this.#o;
    const arn = this.#m.eventSourceArn;
    const signal = this.#abort.signal;
    const size = this.#m.batchSize;
    const batch = await queues.receive(arn, Math.min(10, size), this.#s.pollWaitMs, signal);
    if (batch.length === 0) return batch;
    const deadline = this.#ctx.clock.now() + this.#m.maximumBatchingWindowInSeconds * 1000;
    while (batch.length < size && !signal.aborted) {
      const more = await queues.receive(
        arn,
        Math.min(10, size - batch.length),
        Math.max(0, deadline - this.#ctx.clock.now()),
        signal,
      );
      if (more.length === 0) break;
      batch.push(...more);
    }
    return batch;
  }

  async #process(batch: SqsEventMessage[]): Promise<void> {
    const arn = this.#m.eventSourceArn;
    const kept = this.#filters.length === 0 ? batch : batch.filter((msg) => this.#matches(msg));
    if (kept.length < batch.length) {
      const keptSet = new Set(kept);
      await this.#o.queues.delete(
        arn,
        batch.filter((msg) => !keptSet.has(msg)).map((msg) => msg.receiptHandle),
      );
    }
    if (kept.length === 0) return;
    const payload = Buffer.from(
      JSON.stringify({ Records: kept.map((msg) => sqsRecord(msg, arn, this.#o.region)) }),
    );
    let out: Awaited<ReturnType<EventSourceContext["invoke"]>>;
    try {
      out = await this.#ctx.invoke({
        functionName: this.#m.functionName,
        qualifier: this.#m.qualifier,
        payload,
        traceHeader: kept[0]!.attributes.AWSTraceHeader,
      });
    } catch (err) {
      // Throttled, or the function is gone: the batch comes back after its visibility timeout.
      await this.#result(`PROBLEM: ${(err as Error).message}`);
      await this.#pause();
      return;
    }
    if (out.functionError !== undefined) {
      await this.#result("PROBLEM: Function call failed");
      return;
    }
    let failed = new Set<string>();
    if (this.#m.functionResponseTypes.includes("ReportBatchItemFailures")) {
      const ids = new Set(kept.map((msg) => msg.messageId));
      const reported = batchItemFailures(out.payload, ids);
      if (reported === undefined) {
        await this.#result("PROBLEM: Function returned an invalid partial batch response");
        return;
      }
      failed = new Set(reported);
    }
    const done = this.#fifo
      ? succeededInOrder(kept, failed)
      : kept.filter((msg) => !failed.has(msg.messageId));
    if (done.length > 0)
      await this.#o.queues.delete(
        arn,
        done.map((msg) => msg.receiptHandle),
      );
    await this.#result(failed.size === 0 ? "OK" : "PROBLEM: Function reported partial batch failures");
  }

  /** Lambda's filters see the record with its body parsed when the body is JSON. */
  #matches(msg: SqsEventMessage): boolean {
    let body: unknown = msg.body;
    try {
      body = JSON.parse(msg.body);
    } catch {
      // A body that is not JSON is filtered as the string it is.
    }
    const view = { ...sqsRecord(msg, this.#m.eventSourceArn, this.#o.region), body };
    return this.#filters.some((f) => f(view));
  }

  async #result(result: string): Promise<void> {
    if (result === this.#lastResult) return;
    this.#lastResult = result;
    await this.#o.processed(this.#m.uuid, result).catch(() => {});
  }

  #pause(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#abort.signal.aborted) return resolve();
      const signal = this.#abort.signal;
      const timer = this.#ctx.clock.setTimeout(done, this.#s.backoffMs);
      function done() {
        timer.cancel();
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** FIFO: a message after a failed one of its group stays too, so that the group keeps its order. */
function succeededInOrder(batch: readonly SqsEventMessage[], failed: ReadonlySet<string>): SqsEventMessage[] {
  const stopped = new Set<string>();
  const out: SqsEventMessage[] = [];
  for (const msg of batch) {
    const group = msg.attributes.MessageGroupId ?? "";
    if (failed.has(msg.messageId) || stopped.has(group)) stopped.add(group);
    else out.push(msg);
  }
  return out;
}
