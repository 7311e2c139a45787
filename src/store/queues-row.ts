/**
 * Queues' rows as both stores keep them (same columns), the records they read as, and what both
 * decide alike: a send's duplicates and sequence numbers, and the receipt handle that names one
 * receive of a message. Attributes and tags are JSON text: an optional field set to undefined
 * reads back absent.
 */
import { randomBytes } from "node:crypto";
import type {
  MessageAttributes,
  NewMessage,
  QueueRecord,
  ReceivedMessage,
  SendOutcome,
  StoredMessage,
} from "../services/queues/model.js";

export interface QueueRow {
  name: string;
  created_at: number;
  modified_at: number;
  attributes: string;
  tags: string;
}

export interface MessageRow {
  /** Orders the messages of a queue; a message moved to another queue gets a new one, at its end. */
  seq: number;
  queue_name: string;
  id: string;
  body: string;
  md5_of_body: string;
  attributes: string;
  md5_of_attributes: string | null;
  trace_header: string | null;
  sent_at: number;
  visible_at: number;
  receive_count: number;
  first_received_at: number | null;
  /** The current receive's token, in its receipt handle; NULL until received, and after a move. */
  receipt_token: string | null;
  group_id: string | null;
  deduplication_id: string | null;
  sequence_number: string | null;
  dead_letter_source_arn: string | null;
}

/** A FIFO queue's name ends in `.fifo`: its messages get sequence numbers and are deduplicated. */
export function isFifoQueue(name: string): boolean {
  return name.endsWith(".fifo");
}

export function toQueue(r: QueueRow): QueueRecord {
  return {
    name: r.name,
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
    attributes: JSON.parse(r.attributes) as Record<string, string>,
    tags: JSON.parse(r.tags) as Record<string, string>,
  };
}

/** Every field present, unset ones as undefined: the same object from either store. */
export function toMessage(r: MessageRow): StoredMessage {
  return {
    id: r.id,
    body: r.body,
    md5OfBody: r.md5_of_body,
    attributes: JSON.parse(r.attributes) as MessageAttributes,
    md5OfAttributes: r.md5_of_attributes ?? undefined,
    traceHeader: r.trace_header ?? undefined,
    groupId: r.group_id ?? undefined,
    deduplicationId: r.deduplication_id ?? undefined,
    queueName: r.queue_name,
    sentAt: r.sent_at,
    visibleAt: r.visible_at,
    receiveCount: r.receive_count,
    firstReceivedAt: r.first_received_at ?? undefined,
    sequenceNumber: r.sequence_number ?? undefined,
    deadLetterSourceArn: r.dead_letter_source_arn ?? undefined,
  };
}

/** A message as the receive that set its token handed it out. */
export function toReceived(r: MessageRow): ReceivedMessage {
  if (r.receipt_token === null) throw new Error(`message ${r.id} was handed out without a receipt token`);
  return { ...toMessage(r), receiptHandle: receiptHandle(r.id, r.receipt_token) };
}

/** The token of one receive: 128 random bits, so a handle cannot be guessed from an earlier one. */
export function newReceiptToken(): string {
  return randomBytes(16).toString("base64url");
}

/** Opaque to clients: the message id and the token of the receive, base64url. */
export function receiptHandle(messageId: string, token: string): string {
  return receiptHandleOf(`${messageId}:${token}`);
}

function receiptHandleOf(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The message id and token a handle names; undefined if it is not a handle of this form. */
export function parseReceiptHandle(handle: string): { id: string; token: string } | undefined {
  if (!BASE64URL.test(handle)) return undefined;
  const text = Buffer.from(handle, "base64url").toString("utf8");
  // Only the one spelling a handle is given out in (a decoder ignores stray trailing bits).
  if (receiptHandleOf(text) !== handle) return undefined;
  const colon = text.lastIndexOf(":");
  const id = text.slice(0, colon);
  const token = text.slice(colon + 1);
  if (colon <= 0 || !BASE64URL.test(token)) return undefined;
  return { id, token };
}

/** The queue a dead-letter source ARN names: its last `:`-separated part. */
export function sourceQueueName(arn: string): string {
  return arn.slice(arn.lastIndexOf(":") + 1);
}

/** A FIFO sequence number: 20 decimal digits, so that text order is numeric order. */
export function sequenceNumber(n: number): string {
  return String(n).padStart(20, "0");
}

/** A message a send stores, with its place in the queue's sequence (FIFO only). */
export interface PlannedMessage {
  readonly message: NewMessage;
  readonly sequenceNumber: string | undefined;
}

/** A deduplication id's first message, kept for the deduplication window. */
export interface DedupEntry {
  readonly messageId: string;
  readonly sequenceNumber: string | undefined;
}

/**
 * What a send stores and answers, given the queue's last sequence number and the deduplication
 * ids sent within the window (`seen`, which the batch's own first messages join): on a FIFO
 * queue a message whose deduplication id was seen is not stored, and the others get the next
 * sequence numbers in the order given.
 */
export function planSend(
  fifo: boolean,
  messages: readonly NewMessage[],
  lastSequence: number,
  seen: Map<string, DedupEntry>,
): { outcomes: SendOutcome[]; stored: PlannedMessage[]; lastSequence: number } {
  const outcomes: SendOutcome[] = [];
  const stored: PlannedMessage[] = [];
  let last = lastSequence;
  for (const message of messages) {
    const dedupId = fifo ? message.deduplicationId : undefined;
    const first = dedupId === undefined ? undefined : seen.get(dedupId);
    if (first) {
      outcomes.push({ id: first.messageId, sequenceNumber: first.sequenceNumber, duplicate: true });
      continue;
    }
    const sequence = fifo ? sequenceNumber(++last) : undefined;
    if (dedupId !== undefined) seen.set(dedupId, { messageId: message.id, sequenceNumber: sequence });
    stored.push({ message, sequenceNumber: sequence });
    outcomes.push({ id: message.id, sequenceNumber: sequence, duplicate: false });
  }
  return { outcomes, stored, lastSequence: last };
}

/** The `attributes` column of a message: JSON. */
export function attributesColumn(attributes: MessageAttributes): string {
  return JSON.stringify(attributes);
}
