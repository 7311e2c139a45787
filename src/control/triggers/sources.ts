/**
 * The one list of event sources the platform runs, and their lifecycle: started in the list's
 * order, stopped in reverse. Adding a trigger is a field in `SourceDeps` and a line in
 * `eventSources` (see control/README.md, "Adding a trigger").
 */
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { AcceptInput } from "../async/accept.js";
import type { InvokeService } from "../invoke-service.js";
import type { EventSource, EventSourceContext } from "./event-source.js";

/** What the sources are built from (the composition root has it). */
export interface SourceDeps {
  /** The async queue's poller (`async/poller.ts`): first, so that what later sources enqueue runs. */
  readonly asyncQueue: EventSource;
  /** Event source mappings' readers (`mappings/poller.ts`): batches of a queue's messages. */
  readonly queueMappings?: EventSource;
  /** Schedules' ticker (`services/scheduler/ticker.ts`): each tick an asynchronous invocation or a message. */
  readonly schedules?: EventSource;
}

/** Every event source, in start order. */
export function eventSources(deps: SourceDeps): EventSource[] {
  return [
    deps.asyncQueue,
    ...(deps.queueMappings ? [deps.queueMappings] : []),
    ...(deps.schedules ? [deps.schedules] : []),
  ];
}

/** The context every source starts with: the Invoke API's path and the accept path. */
export function sourceContext(deps: {
  invoke: Pick<InvokeService, "invoke">;
  enqueue: (input: AcceptInput) => Promise<string>;
  clock: Clock;
  logger: Logger;
}): EventSourceContext {
  return {
    invoke: (input) =>
      deps.invoke.invoke({
        functionName: input.functionName,
        qualifier: input.qualifier,
        payload: input.payload,
        clientContextBase64: undefined,
        dryRun: false,
        traceId: input.traceHeader,
      }),
    enqueue: deps.enqueue,
    clock: deps.clock,
    logger: deps.logger,
  };
}

/**
 * Starts each source in order. If one fails to start, the failure is logged with the source's
 * name, those already started are stopped (in reverse), and the failure is thrown.
 */
export async function startSources(sources: readonly EventSource[], ctx: EventSourceContext): Promise<void> {
  const started: EventSource[] = [];
  for (const source of sources) {
    try {
      await source.start(ctx);
    } catch (err) {
      ctx.logger.error("an event source could not start", { source: source.name, err });
      await stopSources(started, ctx.logger);
      throw err;
    }
    started.push(source);
  }
}

/** Stops every source, last started first; a source that fails to stop is logged and the others still stop. */
export async function stopSources(sources: readonly EventSource[], logger: Logger): Promise<void> {
  for (const source of [...sources].reverse()) {
    try {
      await source.stop();
    } catch (err) {
      logger.error("an event source failed to stop", { source: source.name, err });
    }
  }
}
