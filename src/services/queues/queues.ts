/**
 * Queues with SQS's contract: the service behind the gateway's SQS surface, and what event
 * source mappings and destinations use. Inputs and outputs have the JSON protocol's shapes
 * (`QueueUrl`, `Attributes`, `Entries`…); the surface turns the Query protocol into them.
 * Messages live in the store (`repo.ts`): a send is durable before it answers, a receive
 * claims what it returns, and long polls wait here (`waiters.ts`).
 */
import type { SqsEventMessage } from "../../protocol/events/sqs.js";
import type { Clock } from "../../shared/clock.js";
import type { FanOut } from "../../shared/fanout.js";
import {
  COMPUTED,
  checkAttributes,
  differingAttribute,
  isAttributeName,
  type QueueSettings,
  settingsOf,
  withDefaults,
} from "./attributes.js";
import { type Batch, batchOf } from "./batch.js";
import { DeadLetters } from "./dead-letters.js";
import { invalidParameter, noSuchQueue, SqsError } from "./errors.js";
import { md5OfMessageAttributes } from "./md5.js";
import { checkMessage, DEDUP_WINDOW_MS, messageSize, type SendEntry } from "./messages.js";
import type { NewMessage, QueueRecord, ReceivedMessage } from "./model.js";
import { checkQueueName, nameFromArn, nameFromUrl, type QueueAccount, queueArn, queueUrl } from "./names.js";
import { decodeToken, intParam, receiptParam } from "./params.js";
import { eventMessage, renderMessage } from "./render.js";
import type { QueuesRepo } from "./repo.js";
import { SendBatches } from "./send-batches.js";
import { checkTags, untag } from "./tags.js";
import { QueueWaiters } from "./waiters.js";

export type Input = Readonly<Record<string, unknown>>;
export type Output = Record<string, unknown>;

/** Where the caller reached the platform: queue URLs are given on that host. */
export interface CallContext {
  readonly endpoint: string;
  /** Aborts a long poll when the client goes away. */
  readonly signal?: AbortSignal | undefined;
}

export interface QueuesDeps {
  readonly repo: QueuesRepo;
  readonly clock: Clock;
  readonly fanout: FanOut;
  readonly account: QueueAccount;
}

/** SQS bounds a batch's messages together, as one message. */
const MAX_BATCH_BYTES = 1_048_576;
const MAX_LIST = 1000;

export class QueuesService {
  readonly #o: QueuesDeps;
  readonly #waiters: QueueWaiters;
  readonly #deadLetters: DeadLetters;
  readonly #batches: SendBatches;

  constructor(deps: QueuesDeps) {
    this.#o = deps;
    this.#waiters = new QueueWaiters(deps.fanout, deps.clock);
    this.#batches = new SendBatches(deps.repo, deps.clock, (q) => this.#waiters.notify(q));
    this.#deadLetters = new DeadLetters({
      repo: deps.repo,
      clock: deps.clock,
      account: deps.account,
      moved: (q) => this.#waiters.notify(q),
    });
  }

  get account(): QueueAccount {
    return this.#o.account;
  }

  async createQueue(input: Input, ctx: CallContext): Promise<Output> {
    const raw = input.QueueName;
    const attrsIn = (input.Attributes ?? {}) as Record<string, unknown>;
    const fifo =
      String(attrsIn.FifoQueue ?? "") === "true" || (typeof raw === "string" && raw.endsWith(".fifo"));
    const name = checkQueueName(raw, fifo);
    const attributes = checkAttributes(input.Attributes, { fifo, creating: true });
    if (fifo) attributes.FifoQueue = "true";
    await this.#deadLetters.check(attributes, fifo);
    const tags = checkTags(input.tags ?? input.Tags);
    const now = this.#o.clock.now();
    const record: QueueRecord = { name, createdAt: now, modifiedAt: now, attributes, tags };
    if (!(await this.#o.repo.createQueue(record))) {
      const existing = await this.#o.repo.getQueue(name);
      const differs = existing && differingAttribute(existing.attributes, attributes);
      if (differs)
        throw new SqsError(
          "QueueNameExists",
          `A queue already exists with the same name and a different value for attribute ${differs}.`,
        );
    }
    return { QueueUrl: queueUrl(ctx.endpoint, this.#o.account, name) };
  }

  async getQueueUrl(input: Input, ctx: CallContext): Promise<Output> {
    if (typeof input.QueueName !== "string" || input.QueueName === "")
      throw new SqsError("MissingParameter", "The request must contain the parameter QueueName.");
    const q = await this.#o.repo.getQueue(input.QueueName);
    if (!q) throw noSuchQueue();
    return { QueueUrl: queueUrl(ctx.endpoint, this.#o.account, q.name) };
  }

  async listQueues(input: Input, ctx: CallContext): Promise<Output> {
    const prefix = input.QueueNamePrefix === undefined ? undefined : String(input.QueueNamePrefix);
    const paged = input.MaxResults !== undefined;
    const limit = paged ? Number(input.MaxResults) : MAX_LIST;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST)
      throw invalidParameter(
        `Value for parameter MaxResults is invalid. Reason: must be between 1 and ${MAX_LIST}.`,
      );
    if (input.NextToken !== undefined && !paged)
      throw invalidParameter("NextToken is only valid with MaxResults.");
    const after = input.NextToken === undefined ? undefined : decodeToken(input.NextToken);
    const page = await this.#o.repo.listQueues({ prefix, after, limit: limit + 1 });
    const out: Output = {
      QueueUrls: page.slice(0, limit).map((q) => queueUrl(ctx.endpoint, this.#o.account, q.name)),
    };
    if (paged && page.length > limit)
      out.NextToken = Buffer.from(page[limit - 1]!.name).toString("base64url");
    return out;
  }

  async deleteQueue(input: Input): Promise<Output> {
    const name = this.#name(input);
    if (!(await this.#o.repo.deleteQueue(name))) throw noSuchQueue();
    return {};
  }

  async getQueueAttributes(input: Input): Promise<Output> {
    const q = await this.#queue(input);
    const asked = (input.AttributeNames ?? []) as unknown[];
    if (!Array.isArray(asked)) throw invalidParameter("AttributeNames must be a list of attribute names.");
    const now = this.#o.clock.now();
    const settings = settingsOf(q.attributes);
    await this.#o.repo.expire(q.name, now - settings.retentionSeconds * 1000);
    const counts = await this.#o.repo.counts(q.name, now);
    const all: Record<string, string> = {
      ...withDefaults(q.attributes),
      QueueArn: queueArn(this.#o.account, q.name),
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.modifiedAt / 1000)),
    };
    if (asked.length === 0) return {};
    if (asked.includes("All")) return { Attributes: all };
    const out: Record<string, string> = {};
    for (const name of asked) {
      if (typeof name !== "string")
        throw new SqsError("InvalidAttributeName", "Attribute names must be strings.");
      if (all[name] !== undefined) out[name] = all[name];
      else if (!(COMPUTED as readonly string[]).includes(name) && !isAttributeName(name))
        throw new SqsError("InvalidAttributeName", `Unknown Attribute ${name}.`);
    }
    return { Attributes: out };
  }

  async setQueueAttributes(input: Input): Promise<Output> {
    const q = await this.#queue(input);
    const fifo = q.attributes.FifoQueue === "true";
    const changes = checkAttributes(input.Attributes, { fifo, creating: false });
    await this.#deadLetters.check(changes, fifo);
    const attributes = { ...q.attributes, ...changes };
    for (const [k, v] of Object.entries(changes)) if (v === "") delete attributes[k];
    await this.#o.repo.updateQueue({ ...q, attributes, modifiedAt: this.#o.clock.now() });
    return {};
  }

  async sendMessage(input: Input): Promise<Output> {
    return this.#send(await this.#queue(input), input as SendEntry);
  }

  /** One message checked and stored; the waiting receivers woken. */
  async #send(q: QueueRecord, entry: SendEntry): Promise<Output> {
    const now = this.#o.clock.now();
    const s = settingsOf(q.attributes);
    const message = checkMessage(entry, s, now);
    // A standard queue's sends of this turn share one transaction (`send-batches.ts`).
    const outcome = s.fifo
      ? (await this.#o.repo.send(q.name, [message], now, DEDUP_WINDOW_MS))[0]
      : await this.#batches.send(q.name, message);
    if (s.fifo) this.#waiters.notify(q.name);
    return {
      ...sentFields(message),
      MessageId: outcome!.id,
      ...(outcome!.sequenceNumber ? { SequenceNumber: outcome!.sequenceNumber } : {}),
    };
  }

  async sendMessageBatch(input: Input): Promise<Output> {
    const q = await this.#queue(input);
    const s = settingsOf(q.attributes);
    const now = this.#o.clock.now();
    const batch: Batch<SendEntry> = batchOf<SendEntry>(input.Entries);
    const ok: Array<{ id: string; message: NewMessage }> = [];
    const failed: Output[] = [];
    let bytes = 0;
    for (const e of batch.entries) {
      try {
        const message = checkMessage(e.entry, s, now);
        bytes += messageSize(message.body, message.attributes);
        ok.push({ id: e.id, message });
      } catch (err) {
        if (!(err instanceof SqsError)) throw err;
        failed.push({ Id: e.id, SenderFault: true, Code: err.code, Message: err.message });
      }
    }
    if (bytes > MAX_BATCH_BYTES)
      throw new SqsError(
        "BatchRequestTooLong",
        `Batch requests cannot be longer than ${MAX_BATCH_BYTES} bytes; this one's messages total ${bytes}.`,
      );
    const outcomes =
      ok.length === 0
        ? []
        : await this.#o.repo.send(
            q.name,
            ok.map((o) => o.message),
            now,
            DEDUP_WINDOW_MS,
          );
    if (ok.length > 0) this.#waiters.notify(q.name);
    const successful = ok.map(({ id, message }, i) => ({
      Id: id,
      ...sentFields(message),
      MessageId: outcomes[i]!.id,
      ...(outcomes[i]!.sequenceNumber ? { SequenceNumber: outcomes[i]!.sequenceNumber } : {}),
    }));
    return { Successful: successful, Failed: failed };
  }

  async receiveMessage(input: Input, ctx: CallContext): Promise<Output> {
    const q = await this.#queue(input);
    const s = settingsOf(q.attributes);
    const max = intParam(input.MaxNumberOfMessages, 1, 1, 10, "MaxNumberOfMessages");
    const visibility = intParam(input.VisibilityTimeout, s.visibilitySeconds, 0, 43_200, "VisibilityTimeout");
    const wait = intParam(input.WaitTimeSeconds, s.waitSeconds, 0, 20, "WaitTimeSeconds");
    const got = await this.#receive(q, s, max, visibility * 1000, wait * 1000, ctx.signal);
    // No messages: no Messages member at all, as SQS answers.
    return got.length === 0 ? {} : { Messages: got.map((m) => renderMessage(m, input, this.#o.account)) };
  }

  /** Claims up to `max` messages, long-polling up to `waitMs` for the first. */
  async #receive(
    q: QueueRecord,
    s: QueueSettings,
    max: number,
    visibilityMs: number,
    waitMs: number,
    signal: AbortSignal | undefined,
  ): Promise<ReceivedMessage[]> {
    const redrive = await this.#deadLetters.redriveOf(q, s);
    const { clock, repo } = this.#o;
    const deadline = clock.now() + waitMs;
    for (;;) {
      const now = clock.now();
      // Armed before looking, so that a send between the look and the wait is not missed.
      const armed = now < deadline ? this.#waiters.arm(q.name, signal) : undefined;
      try {
        const got = await repo.receive(q.name, {
          max,
          now,
          visibilityMs,
          fifo: s.fifo,
          redrive,
          expiredBefore: now - s.retentionSeconds * 1000,
        });
        if (got.length > 0 || !armed || signal?.aborted) return got;
        const next = await repo.nextVisibleAt(q.name, now);
        await armed.wait(Math.min(deadline, next ?? deadline) - now);
      } finally {
        armed?.disarm();
      }
    }
  }

  // ── For event source mappings: queues by ARN, messages in the Lambda event's shape ──

  /** The queue an ARN of this account and region names, if it exists. */
  async describe(arn: string): Promise<{ fifo: boolean } | undefined> {
    const q = await this.#byArn(arn);
    return q && { fifo: q.attributes.FifoQueue === "true" };
  }

  /** A poller's receive: the queue's own visibility timeout, every system attribute. */
  async pollMessages(
    arn: string,
    max: number,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<SqsEventMessage[]> {
    const q = await this.#byArn(arn);
    if (!q) throw noSuchQueue();
    const s = settingsOf(q.attributes);
    const got = await this.#receive(q, s, max, s.visibilitySeconds * 1000, waitMs, signal);
    return got.map((m) => eventMessage(m, this.#o.account));
  }

  /** Sends a message to the queue an ARN names (a bus's target, a destination); durable when it resolves. */
  async sendByArn(
    arn: string,
    body: string,
    attributes: Readonly<Record<string, string>> = {},
    /** For a FIFO queue: the message's group and, unless the queue deduplicates by content, its deduplication id. */
    fifo?: { readonly groupId: string; readonly deduplicationId?: string | undefined },
  ): Promise<string> {
    const q = await this.#byArn(arn);
    if (!q) throw noSuchQueue();
    const MessageAttributes = Object.fromEntries(
      Object.entries(attributes).map(([k, v]) => [k, { DataType: "String", StringValue: v }]),
    );
    const out = await this.#send(q, {
      MessageBody: body,
      MessageAttributes,
      ...(fifo ? { MessageGroupId: fifo.groupId } : {}),
      ...(fifo?.deduplicationId !== undefined ? { MessageDeduplicationId: fifo.deduplicationId } : {}),
    });
    return out.MessageId as string;
  }

  async deleteReceived(arn: string, receiptHandles: readonly string[]): Promise<void> {
    const name = nameFromArn(arn, this.#o.account, "the queue ARN");
    if (receiptHandles.length > 0) await this.#o.repo.deleteMessages(name, receiptHandles);
  }

  async #byArn(arn: string): Promise<QueueRecord | undefined> {
    try {
      return await this.#o.repo.getQueue(nameFromArn(arn, this.#o.account, "the queue ARN"));
    } catch (err) {
      if (err instanceof SqsError) return undefined;
      throw err;
    }
  }

  async deleteMessage(input: Input): Promise<Output> {
    const name = await this.#existing(input);
    await this.#delete(name, input.ReceiptHandle);
    return {};
  }

  async deleteMessageBatch(input: Input): Promise<Output> {
    const name = await this.#existing(input);
    const batch = batchOf<{ ReceiptHandle?: unknown }>(input.Entries);
    // Entries without a handle fail on their own; the others are deleted in one transaction.
    const handles: string[] = [];
    const checked = await this.#eachEntry(
      batch,
      async (e) => void handles.push(receiptParam(e.ReceiptHandle)),
    );
    if (handles.length > 0) await this.#o.repo.deleteMessages(name, handles);
    return checked;
  }

  async changeMessageVisibility(input: Input): Promise<Output> {
    const name = await this.#existing(input);
    await this.#changeVisibility(name, input.ReceiptHandle, input.VisibilityTimeout);
    return {};
  }

  async changeMessageVisibilityBatch(input: Input): Promise<Output> {
    const name = await this.#existing(input);
    const batch = batchOf<{ ReceiptHandle?: unknown; VisibilityTimeout?: unknown }>(input.Entries);
    return this.#eachEntry(batch, (e) => this.#changeVisibility(name, e.ReceiptHandle, e.VisibilityTimeout));
  }

  async purgeQueue(input: Input): Promise<Output> {
    const name = await this.#existing(input);
    await this.#o.repo.purge(name);
    return {};
  }

  async tagQueue(input: Input): Promise<Output> {
    const q = await this.#queue(input);
    const tags = checkTags({ ...q.tags, ...checkTags(input.Tags) });
    await this.#o.repo.updateQueue({ ...q, tags });
    return {};
  }

  async untagQueue(input: Input): Promise<Output> {
    const q = await this.#queue(input);
    await this.#o.repo.updateQueue({ ...q, tags: untag(q.tags, input.TagKeys) });
    return {};
  }

  async listQueueTags(input: Input): Promise<Output> {
    const q = await this.#queue(input);
    return Object.keys(q.tags).length === 0 ? {} : { Tags: { ...q.tags } };
  }

  async listDeadLetterSourceQueues(input: Input, ctx: CallContext): Promise<Output> {
    const q = await this.#queue(input);
    const sources = await this.#deadLetters.sourcesOf(queueArn(this.#o.account, q.name));
    return { queueUrls: sources.map((name) => queueUrl(ctx.endpoint, this.#o.account, name)) };
  }

  startMessageMoveTask(input: Input): Promise<Output> {
    return this.#deadLetters.startMoveTask(input);
  }

  listMessageMoveTasks(input: Input): Promise<Output> {
    return this.#deadLetters.listMoveTasks(input);
  }

  async cancelMessageMoveTask(input: Input): Promise<Output> {
    return this.#deadLetters.cancelMoveTask(input);
  }

  #name(input: Input): string {
    return nameFromUrl(input.QueueUrl, this.#o.account);
  }

  async #queue(input: Input): Promise<QueueRecord> {
    const q = await this.#o.repo.getQueue(this.#name(input));
    if (!q) throw noSuchQueue();
    return q;
  }

  async #existing(input: Input): Promise<string> {
    return (await this.#queue(input)).name;
  }

  async #delete(name: string, handle: unknown): Promise<void> {
    const receipt = receiptParam(handle);
    // A handle of an earlier receive deletes nothing and is not an error, as in SQS.
    await this.#o.repo.deleteMessage(name, receipt);
  }

  async #changeVisibility(name: string, handle: unknown, timeout: unknown): Promise<void> {
    const receipt = receiptParam(handle);
    if (timeout === undefined || timeout === null)
      throw new SqsError("MissingParameter", "The request must contain the parameter VisibilityTimeout.");
    const seconds = intParam(timeout, 0, 0, 43_200, "VisibilityTimeout");
    const now = this.#o.clock.now();
    const r = await this.#o.repo.changeVisibility(name, receipt, now + seconds * 1000, now);
    if (r === "unknown-receipt")
      throw new SqsError(
        "ReceiptHandleIsInvalid",
        `The receipt handle "${receipt}" is not valid for this queue's messages in flight.`,
      );
    if (r === "not-in-flight")
      throw new SqsError(
        "MessageNotInflight",
        "The message referred to isn't in flight (it is visible already).",
      );
    if (seconds === 0) this.#waiters.notify(name);
  }

  async #eachEntry<E>(batch: Batch<E>, run: (e: E) => Promise<void>): Promise<Output> {
    const successful: Output[] = [];
    const failed: Output[] = [];
    for (const e of batch.entries) {
      try {
        await run(e.entry);
        successful.push({ Id: e.id });
      } catch (err) {
        if (!(err instanceof SqsError)) throw err;
        failed.push({ Id: e.id, SenderFault: true, Code: err.code, Message: err.message });
      }
    }
    return { Successful: successful, Failed: failed };
  }
}

function sentFields(m: NewMessage): Output {
  const out: Output = { MD5OfMessageBody: m.md5OfBody };
  if (m.md5OfAttributes) out.MD5OfMessageAttributes = m.md5OfAttributes;
  if (m.traceHeader)
    out.MD5OfMessageSystemAttributes = md5OfMessageAttributes({
      AWSTraceHeader: { DataType: "String", StringValue: m.traceHeader },
    });
  return out;
}
