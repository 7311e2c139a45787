/**
 * Long polls: a ReceiveMessage that found nothing waits here until a message is sent to its
 * queue (on this node or, through the fan-out, on another), until the next delayed or
 * invisible message comes due, or until its wait time is over, whichever is first. A wake-up
 * only makes it look again: the store decides what it gets.
 *
 * A receiver arms its wake-up before it looks in the store, and waits on it after: a message
 * sent between the look and the wait still wakes it (subscribing only once the store came
 * back empty would lose that send's wake-up, and the receiver would sleep its whole wait).
 */
import type { Clock } from "../../shared/clock.js";
import type { FanOut } from "../../shared/fanout.js";

const topicOf = (queueName: string) => `queues.${queueName}`;

/** A wake-up armed before looking: `wait` resolves at once if a send came meanwhile. */
export interface ArmedWait {
  wait(ms: number): Promise<void>;
  /** Stops listening (always call it, waited or not). */
  disarm(): void;
}

export class QueueWaiters {
  readonly #fanout: FanOut;
  readonly #clock: Clock;

  constructor(fanout: FanOut, clock: Clock) {
    this.#fanout = fanout;
    this.#clock = clock;
  }

  /** Tells waiting receivers of `queueName` that messages arrived (after they are durable). */
  notify(queueName: string): void {
    const topic = topicOf(queueName);
    if (!this.#fanout.hasSubscribers(topic)) return;
    this.#fanout.publish(topic, null).catch(() => {
      // A lost wake-up costs a waiter its wait, never a message: it looks again when it ends.
    });
  }

  /** Starts listening for sends to `queueName` now; `signal` ends any wait. */
  arm(queueName: string, signal?: AbortSignal): ArmedWait {
    let woken = false;
    let wake: (() => void) | undefined;
    const unsubscribe = this.#fanout.subscribe(topicOf(queueName), () => {
      woken = true;
      wake?.();
    });
    return {
      wait: (ms) => {
        if (woken || ms <= 0 || signal?.aborted) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const done = () => {
            wake = undefined;
            timer.cancel();
            signal?.removeEventListener("abort", done);
            resolve();
          };
          wake = done;
          const timer = this.#clock.setTimeout(done, ms);
          signal?.addEventListener("abort", done, { once: true });
        });
      },
      disarm: () => {
        unsubscribe();
        wake?.();
      },
    };
  }
}
