/**
 * The one shape of everything that starts functions on its own: the async queue's poller now;
 * schedules, queue pollers, storage events and database changes next. A source is built with
 * what it reads (its repository, its settings), started with a context that gives it the two
 * ways into the platform, and stopped. Sources never reach the dispatcher or the queue by
 * another road, so admission, budgets, records and the loop guard apply to all alike.
 */
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { AcceptInput } from "../async/accept.js";
import type { SyncInvokeOutput } from "../invoke-service.js";

/** A synchronous invocation a source makes (a queue poller's batch, say). */
export interface SourceInvokeInput {
  readonly functionName: string;
  readonly qualifier?: string | undefined;
  readonly payload: Buffer;
  /** The X-Amzn-Trace-Id the event arrived with, if any: the invocation joins its trace. */
  readonly traceHeader?: string | undefined;
}

export interface EventSourceContext {
  /** Runs the function now and resolves with its response (or its error body): the Invoke API's path. */
  invoke(input: SourceInvokeInput): Promise<SyncInvokeOutput>;
  /**
   * Queues an asynchronous invocation through the accept path; resolves with its request id
   * once it is durable (acknowledge the event only then). Retries, event age, destinations
   * and the loop guard then apply as to any asynchronous invocation.
   */
  enqueue(input: AcceptInput): Promise<string>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface EventSource {
  /** Short and unique among sources, for logs: `async-queue`, `schedules`. */
  readonly name: string;
  /** Starts producing invocations; resolves once the source runs (its recovery done). */
  start(ctx: EventSourceContext): Promise<void>;
  /** Starts nothing more; invocations already started finish through the dispatcher's drain. */
  stop(): Promise<void>;
}
