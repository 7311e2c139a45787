/**
 * Live fan-out: messages published on a topic reach whoever is subscribed to it right now, on
 * this node or (in a cluster) on any other. Nothing is stored and nothing is replayed: a
 * subscriber that was not there misses the message, and one that needs history reads its
 * store first (a log follow queries, then listens). In-process now (`fanout-local.ts`); a
 * cluster implements the same interface over NATS subjects, which shapes the contract:
 *
 * - a topic is dot-separated tokens of letters, digits, `_` and `-` (`logs.resize`), a valid
 *   NATS subject without wildcards;
 * - a message is a plain JSON value: it may cross the network, so a subscriber must not count
 *   on the very object published, on `undefined` fields or on Buffers;
 * - publish is asynchronous and at most once; its promise rejects when it could not be sent;
 * - `hasSubscribers` lets a publisher skip building a message nobody would hear (a log line on
 *   the warm path): it may answer true when unsure, never false while someone listens. Over
 *   NATS, an implementation learns where listeners are (followers announce their topics on a
 *   subject of their own) or answers true.
 */

/** A plain JSON value: what survives JSON.stringify and JSON.parse unchanged. */
export type FanOutMessage =
  | string
  | number
  | boolean
  | null
  | FanOutMessage[]
  | { [key: string]: FanOutMessage };

export type FanOutListener = (message: FanOutMessage, topic: string) => void;

export interface FanOut {
  /** Hands `message` to every subscriber of `topic`. */
  publish(topic: string, message: FanOutMessage): Promise<void>;
  /** Calls `listener` with each message published on `topic` from now on, until the returned function is called. */
  subscribe(topic: string, listener: FanOutListener): () => void;
  /** False only when a message published on `topic` now would certainly reach no one. */
  hasSubscribers(topic: string): boolean;
}

const TOPIC = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Whether every implementation can carry `t` as a topic. */
export function isTopic(t: string): boolean {
  return TOPIC.test(t);
}

/** The error for a topic no implementation can carry. */
export function invalidTopic(t: string): Error {
  return new Error(
    `fan-out topic ${JSON.stringify(t)} is invalid: it must be dot-separated tokens of letters, digits, "_" and "-"`,
  );
}
