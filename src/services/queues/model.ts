/**
 * Queues as stored: a queue with its SQS attributes, and its messages. The repository keeps
 * attributes as SQS names them (`VisibilityTimeout`, `RedrivePolicy`…) with string values, as
 * `GetQueueAttributes` returns them; `attributes.ts` reads and checks them.
 */

export interface QueueRecord {
  /** Unique per platform; a FIFO queue's ends in `.fifo`. */
  readonly name: string;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly modifiedAt: number;
  /** The settable attributes, as SQS spells them, with string values. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

/** A message attribute as SQS carries it: `String`, `Number`, `Binary`, optionally with `.custom-type`. */
export interface MessageAttributeValue {
  readonly dataType: string;
  readonly stringValue?: string | undefined;
  /** Base64. */
  readonly binaryValue?: string | undefined;
}

export type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

/** A message as sent, before the repository places it. */
export interface NewMessage {
  readonly id: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: MessageAttributes;
  readonly md5OfAttributes: string | undefined;
  /** The X-Ray trace header it was sent with (`AWSTraceHeader`), if any. */
  readonly traceHeader: string | undefined;
  /** Epoch ms the message becomes visible (now + its delay). */
  readonly visibleAt: number;
  /** FIFO only. */
  readonly groupId?: string | undefined;
  readonly deduplicationId?: string | undefined;
}

export interface StoredMessage extends Omit<NewMessage, "visibleAt"> {
  readonly queueName: string;
  readonly sentAt: number;
  readonly visibleAt: number;
  readonly receiveCount: number;
  readonly firstReceivedAt: number | undefined;
  /** FIFO only: 20 decimal digits, increasing per queue. */
  readonly sequenceNumber: string | undefined;
  /** Set on a message moved to a dead-letter queue: the ARN of the queue it came from. */
  readonly deadLetterSourceArn: string | undefined;
}

/** A message as one receive handed it out: its receipt handle names this receive only. */
export interface ReceivedMessage extends StoredMessage {
  readonly receiptHandle: string;
}

/** What `send` did with one message: placed it, or found it a duplicate of one sent within the window. */
export interface SendOutcome {
  readonly id: string;
  readonly sequenceNumber: string | undefined;
  readonly duplicate: boolean;
}

/** Messages of a queue by state, as `ApproximateNumberOfMessages…` reports them. */
export interface QueueCounts {
  /** Visible now. */
  readonly visible: number;
  /** Received and not yet deleted nor visible again. */
  readonly inFlight: number;
  /** Sent with a delay not yet over. */
  readonly delayed: number;
}
