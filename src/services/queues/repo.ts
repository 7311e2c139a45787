/**
 * Queues and their messages as stored (SQLite and PostgreSQL, `store/`; one contract suite,
 * `store/contract/queues.contract.ts`). What must be atomic is here: a receive claims
 * messages so that two receivers never get the same one, a FIFO group hands out one batch at a
 * time and in order, and a message past its receive limit moves to its dead-letter queue in
 * the same step. Everything a client sets is checked before it reaches the repository.
 */
import type {
  NewMessage,
  QueueCounts,
  QueueRecord,
  ReceivedMessage,
  SendOutcome,
  StoredMessage,
} from "./model.js";

export interface ReceiveOptions {
  readonly max: number;
  readonly now: number;
  /** How long the received messages stay invisible. */
  readonly visibilityMs: number;
  /** The queue is FIFO: a group with a message in flight hands out nothing more until it is deleted or visible again. */
  readonly fifo: boolean;
  /**
   * The queue's redrive policy: a message received `maxReceiveCount` times already is moved to
   * `deadLetterQueue` (keeping its id, body, attributes and sent time; `deadLetterSourceArn` set
   * to `sourceArn`) instead of being handed out.
   */
  readonly redrive?: {
    readonly maxReceiveCount: number;
    readonly deadLetterQueue: string;
    readonly sourceArn: string;
  };
  /** Messages sent before this epoch ms are past the queue's retention: deleted, never handed out. */
  readonly expiredBefore: number;
}

export type ChangeVisibilityResult = "changed" | "unknown-receipt" | "not-in-flight";

export interface QueuesRepo {
  /** Inserts the queue; false (nothing changed) if one of that name exists. */
  createQueue(queue: QueueRecord): Promise<boolean>;
  getQueue(name: string): Promise<QueueRecord | undefined>;
  /** Queues whose names start with `prefix`, in byte order of their names, after `after`, at most `limit`. */
  listQueues(o: { prefix?: string; after?: string; limit: number }): Promise<QueueRecord[]>;
  /** Replaces its attributes and tags (and modifiedAt); false if there is no such queue. */
  updateQueue(queue: QueueRecord): Promise<boolean>;
  /** Deletes the queue and every message of it; false if there was none. */
  deleteQueue(name: string): Promise<boolean>;

  /**
   * Stores the messages of one send (one, or a batch of up to 10) in one transaction, durable
   * when the promise resolves. For a FIFO queue, a message whose deduplication id matches one
   * sent to the queue within `dedupWindowMs` before `now` is not stored again: its outcome is
   * the first one's id and sequence number, with `duplicate` set. FIFO messages get sequence
   * numbers increasing per queue, in the order given.
   */
  send(
    queueName: string,
    messages: readonly NewMessage[],
    now: number,
    dedupWindowMs: number,
  ): Promise<SendOutcome[]>;
  /**
   * Claims up to `max` messages visible at `now` (oldest first, FIFO: in each group's order),
   * makes them invisible until `now + visibilityMs`, counts the receive, and returns them with
   * a new receipt handle each. A receipt handle of an earlier receive of the same message no
   * longer deletes it.
   */
  receive(queueName: string, o: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Deletes the message the receipt handle names; false if it names none (deleted already, or never issued). */
  deleteMessage(queueName: string, receiptHandle: string): Promise<boolean>;
  /** `deleteMessage` of each handle, in one transaction: which deleted one, in order. */
  deleteMessages(queueName: string, receiptHandles: readonly string[]): Promise<boolean[]>;
  /** Sets when a received message becomes visible again; it must be in flight at `now`. */
  changeVisibility(
    queueName: string,
    receiptHandle: string,
    visibleAt: number,
    now: number,
  ): Promise<ChangeVisibilityResult>;
  /** Deletes every message of the queue; returns how many. */
  purge(queueName: string): Promise<number>;
  counts(queueName: string, now: number): Promise<QueueCounts>;
  /** The earliest time after `now` a message of the queue becomes visible, if any (long polls sleep until then). */
  nextVisibleAt(queueName: string, now: number): Promise<number | undefined>;
  /**
   * Moves up to `limit` of the oldest messages of `from` (a dead-letter queue) to `to`, or, when
   * `to` is undefined, each back to the queue named in its `deadLetterSourceArn` (messages with
   * none stay); moved messages are visible at once with their receive count reset. Returns the
   * messages moved.
   */
  moveMessages(from: string, to: string | undefined, limit: number, now: number): Promise<StoredMessage[]>;
  /** Deletes messages of `queueName` sent before `before` (past its retention); returns how many. */
  expire(queueName: string, before: number): Promise<number>;
}
