/**
 * The in-process fan-out: subscribers are a map in this process, and a message reaches them
 * synchronously, before `publish` returns its promise. One process, one platform: what the
 * embedded mode needs. A cluster puts its NATS implementation in its place.
 */
import { type FanOut, type FanOutListener, type FanOutMessage, invalidTopic, isTopic } from "./fanout.js";

const SENT = Promise.resolve();

export class LocalFanOut implements FanOut {
  readonly #topics = new Map<string, Set<FanOutListener>>();

  publish(topic: string, message: FanOutMessage): Promise<void> {
    if (!isTopic(topic)) return Promise.reject(invalidTopic(topic));
    const listeners = this.#topics.get(topic);
    if (!listeners) return SENT;
    let failure: unknown;
    for (const listener of [...listeners]) {
      try {
        listener(message, topic);
      } catch (err) {
        // One failing subscriber must not keep the message from the others.
        failure ??= err;
      }
    }
    return failure === undefined ? SENT : Promise.reject(failure);
  }

  hasSubscribers(topic: string): boolean {
    // A topic's set is removed with its last subscriber.
    return this.#topics.has(topic);
  }

  subscribe(topic: string, listener: FanOutListener): () => void {
    if (!isTopic(topic)) throw invalidTopic(topic);
    let listeners = this.#topics.get(topic);
    if (!listeners) {
      listeners = new Set();
      this.#topics.set(topic, listeners);
    }
    listeners.add(listener);
    const set = listeners;
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#topics.get(topic) === set) this.#topics.delete(topic);
    };
  }
}
