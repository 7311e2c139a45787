/**
 * Asynchronous invocation, as the gateway and the composition root see it: accept an event
 * (durable before the caller's 202), redrive a failed one, and the poller that runs them, an
 * event source started with the others. The work is done by the parts this wires together:
 *
 *   accept.ts        validation, idempotency, durable enqueue
 *   poller.ts        claiming, running, the fair share and pause of a function, wake-ups
 *   retry-policy.ts  what becomes of an event after each outcome (pure)
 *   destinations.ts  on-success / on-failure records and dead letters
 *   lineage.ts       the loop guard's hop count in the trace header
 */
import type { Clock } from "../../shared/clock.js";
import type { ErrorCode } from "../../shared/errors.js";
import type { Budgets } from "../budgets.js";
import type { Dispatcher } from "../dispatcher.js";
import type { Registry } from "../registry/registry.js";
import { type AcceptInput, Acceptor } from "./accept.js";
import type { EventConfigs } from "./event-configs.js";
import { AsyncPoller, type AsyncSettings, type PollerDeps } from "./poller.js";
import type { InvocationRecords, WorkQueue } from "./queue.js";

export { type AsyncSettings, DEFAULT_ASYNC_SETTINGS } from "./poller.js";

export interface AsyncInvokerDeps {
  /** The work queue, and the records it prunes as they age. */
  readonly queue: WorkQueue & Pick<InvocationRecords, "prune">;
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly configs: EventConfigs;
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
  readonly settings: AsyncSettings;
  /** Spent budgets hold events back (they wait, unaged, instead of running or expiring). */
  readonly budgets?: Pick<Budgets, "refusal">;
  /** The `errorType` a record gives a platform error (see PollerDeps). */
  readonly errorType: (code: ErrorCode) => string;
  /** Told of each event's final outcome (see PollerDeps). */
  readonly ended?: PollerDeps["ended"];
  /** Delivers to destinations and dead-letter targets that are queues (see PollerDeps). */
  readonly sendToQueue?: PollerDeps["sendToQueue"];
}

export class AsyncInvoker {
  /** The poller, an event source: the composition root starts it with the others. */
  readonly poller: AsyncPoller;
  readonly #acceptor: Acceptor;
  readonly #queue: WorkQueue;
  readonly #clock: Clock;

  constructor(deps: AsyncInvokerDeps) {
    this.#queue = deps.queue;
    this.#clock = deps.clock;
    this.poller = new AsyncPoller(deps);
    this.#acceptor = new Acceptor({
      registry: deps.registry,
      queue: deps.queue,
      clock: deps.clock,
      accepted: (functionName) => this.poller.wake(functionName),
    });
  }

  /** Checks and durably queues an event; resolves with its request id once it is durable. */
  accept(input: AcceptInput): Promise<string> {
    return this.#acceptor.accept(input);
  }

  /** Runs a failed event again, with a fresh retry budget and age. */
  async redrive(id: string): Promise<boolean> {
    const done = await this.#queue.redrive(id, this.#clock.now());
    if (done) this.poller.wake();
    return done;
  }
}
