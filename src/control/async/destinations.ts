/**
 * Where the final outcome of an asynchronous invocation goes: the on-success or on-failure
 * destination of its event invoke configuration receives Lambda's invocation record; without
 * an on-failure destination, the function's legacy dead-letter target receives the original
 * event. A function receives either as one more asynchronous invocation, through the accept
 * path, one hop further down the event's chain (`lineage.ts`); a queue as a message, the dead
 * letter with the attributes Lambda's dead-letter queues carry (RequestID, ErrorCode,
 * ErrorMessage).
 */
import { type FunctionVersion, functionArn, LATEST, parseFunctionArn } from "../../protocol/function.js";
import { jsonOrText } from "../../shared/json-or-text.js";
import type { Logger } from "../../shared/logger.js";
import type { AcceptInput } from "./accept.js";
import type { EventInvokeConfig } from "./event-configs-repo.js";
import { destinationHeader } from "./lineage.js";
import type { QueuedEvent } from "./queue.js";
import { isQueueArn } from "./queue-targets.js";
import type { Condition } from "./retry-policy.js";

/** Sends a message to the queue an ARN names; durable once it resolves. */
export type SendToQueue = (
  queueArn: string,
  body: string,
  attributes: Readonly<Record<string, string>>,
) => Promise<unknown>;

/** Lambda's dead-letter message carries the first kilobyte of the error message. */
const ERROR_MESSAGE_BYTES = 1024;

/** The final outcome of one event, as its destination hears of it. */
export interface Ending {
  readonly event: QueuedEvent;
  readonly condition: Condition;
  /** Attempts that ran the function, this outcome's included. */
  readonly attempts: number;
  /** The function's result on success, its error body otherwise. */
  readonly response: Buffer | string | undefined;
  /** The version that ran (or would have run) the event, with its dead-letter target. */
  readonly executed: Pick<FunctionVersion, "version" | "deadLetterTarget">;
}

export class Destinations {
  readonly #enqueue: (input: AcceptInput) => Promise<string>;
  readonly #logger: Logger;
  readonly #region: string;
  readonly #accountId: string;
  readonly #sendToQueue: SendToQueue | undefined;

  constructor(deps: {
    /** The accept path (`accept.ts`): a delivery is durable once this resolves. */
    enqueue: (input: AcceptInput) => Promise<string>;
    /** The platform's queues, for destinations and dead-letter targets that are queues. */
    sendToQueue?: SendToQueue | undefined;
    logger: Logger;
    region: string;
    accountId: string;
  }) {
    this.#enqueue = deps.enqueue;
    this.#sendToQueue = deps.sendToQueue;
    this.#logger = deps.logger;
    this.#region = deps.region;
    this.#accountId = deps.accountId;
  }

  /**
   * Sends the ending to the destination its configuration names for it, if any. A delivery
   * that fails is logged, not thrown: the event itself has ended either way.
   */
  async route(
    config: Pick<EventInvokeConfig, "onSuccess" | "onFailure">,
    ending: Ending,
    now: number,
  ): Promise<void> {
    const { event, condition } = ending;
    const stopped = condition === "RecursiveInvocationDetected";
    const destination = condition === "Success" ? config.onSuccess : config.onFailure;
    if (destination) {
      const record = invocationRecord(ending, this.#region, this.#accountId, now);
      return this.#deliver(destination, event, Buffer.from(JSON.stringify(record)), {}, stopped, now);
    }
    // Lambda's legacy dead-letter target receives the original event itself.
    const deadLetters = ending.executed.deadLetterTarget;
    if (condition !== "Success" && deadLetters) {
      const attributes = deadLetterAttributes(ending);
      return this.#deliver(deadLetters, event, event.payload, attributes, stopped, now);
    }
  }

  async #deliver(
    destination: string,
    event: QueuedEvent,
    payload: Buffer,
    attributes: Readonly<Record<string, string>>,
    stopped: boolean,
    now: number,
  ): Promise<void> {
    try {
      if (isQueueArn(destination)) {
        if (!this.#sendToQueue) throw new Error("this platform serves no queues");
        await this.#sendToQueue(destination, payload.toString("utf8"), attributes);
        return;
      }
      // Destinations are stored as function ARNs; accepting takes a name and a qualifier.
      const ref = parseFunctionArn(destination);
      if (!ref) throw new Error(`not a function ARN: ${destination}`);
      await this.#enqueue({
        functionName: ref.name,
        qualifier: ref.qualifier,
        payload,
        traceHeader: destinationHeader(event, stopped, now),
      });
    } catch (err) {
      this.#logger.warn("could not deliver to the destination", { destination, id: event.id, err });
    }
  }
}

/** Lambda's invocation record, as an on-success or on-failure destination receives it. */
export function invocationRecord(ending: Ending, region: string, accountId: string, now: number) {
  const { event, condition, response } = ending;
  return {
    version: "1.0",
    timestamp: new Date(now).toISOString(),
    requestContext: {
      requestId: event.id,
      functionArn: functionArn(region, accountId, event.functionName, event.qualifier ?? LATEST),
      condition,
      approximateInvokeCount: ending.attempts,
    },
    requestPayload: jsonOrText(event.payload.toString("utf8")),
    responseContext: {
      statusCode: 200,
      executedVersion: ending.executed.version,
      ...(condition === "Success" ? {} : { functionError: "Unhandled" }),
    },
    responsePayload: jsonOrText(response === undefined ? "null" : response.toString("utf8")),
  };
}

/**
 * The message attributes of a dead letter sent to a queue, as Lambda's: the request id, the
 * status code of the invocation (200 when the function ran and failed; the platform's error
 * status when it never ran) and the first kilobyte of the error message.
 */
export function deadLetterAttributes(ending: Ending): Record<string, string> {
  const text = ending.response?.toString("utf8") ?? "";
  const parsed = jsonOrText(text);
  const error: { errorType?: unknown; errorMessage?: unknown } =
    typeof parsed === "object" && parsed !== null ? parsed : {};
  const message = typeof error.errorMessage === "string" ? error.errorMessage : text;
  const status = ending.attempts > 0 ? 200 : error.errorType === "TooManyRequestsException" ? 429 : 500;
  return {
    RequestID: ending.event.id,
    ErrorCode: String(status),
    // SQS takes no empty attribute value.
    ErrorMessage: firstBytes(message || "Unhandled", ERROR_MESSAGE_BYTES),
  };
}

/** The longest prefix of `text` of at most `max` UTF-8 bytes, not cutting a character. */
function firstBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = Buffer.from(text).subarray(0, max).toString("utf8");
  // A character cut in two decodes as U+FFFD: drop it.
  if (out.endsWith("\uFFFD")) out = out.slice(0, -1);
  return out;
}
