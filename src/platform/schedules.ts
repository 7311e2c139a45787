/**
 * Schedules wired into the platform: the Scheduler API over its repository, and its ticker,
 * an event source whose ticks become asynchronous invocations or queue messages and, once
 * delivered, `Schedule Fired` events of `nimbus.scheduler` on the default bus.
 */
import type { Registry } from "../control/registry/registry.js";
import { parseFunctionArn } from "../protocol/function.js";
import type { EventBus } from "../services/events/events.js";
import type { QueuesService } from "../services/queues/queues.js";
import type { SchedulesRepo } from "../services/scheduler/repo.js";
import { Scheduler } from "../services/scheduler/scheduler.js";
import { ScheduleTicker } from "../services/scheduler/ticker.js";
import type { Clock } from "../shared/clock.js";
import { NimbusError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";

export function wireSchedules(d: {
  repo: SchedulesRepo;
  clock: Clock;
  account: { region: string; accountId: string };
  queues: QueuesService;
  events: EventBus;
  logger: Logger;
  /** Whether a function or queue ARN names one that exists now (`targetExists`). */
  exists: (arn: string) => Promise<boolean>;
}): { scheduler: Scheduler; ticker: ScheduleTicker } {
  const ticker = new ScheduleTicker({
    repo: d.repo,
    account: d.account,
    sendToQueue: async (arn, body, attributes, fifo) => {
      await d.queues.sendByArn(arn, body, attributes, fifo);
    },
    fired: (delivery, arn) =>
      void d.events
        .publish(
          "nimbus.scheduler",
          "Schedule Fired",
          {
            scheduleArn: arn,
            groupName: delivery.groupName,
            scheduleName: delivery.scheduleName,
            scheduledTime: new Date(delivery.tickAt).toISOString(),
            target: delivery.target.arn,
            attempts: delivery.attempts + 1,
          },
          [arn],
        )
        .catch((err: unknown) => d.logger.error("a platform event could not be published", { err })),
  });
  const scheduler = new Scheduler({
    repo: d.repo,
    clock: d.clock,
    account: d.account,
    exists: d.exists,
    changed: () => ticker.changed(),
  });
  return { scheduler, ticker };
}

/**
 * Whether an ARN names a queue or a function (qualified or not) that exists now: what the bus's
 * targets and the schedules' targets are checked against when they are written.
 */
export async function targetExists(
  registry: Pick<Registry, "get">,
  queues: Pick<QueuesService, "describe">,
  arn: string,
): Promise<boolean> {
  if (arn.startsWith("arn:aws:sqs:")) return (await queues.describe(arn)) !== undefined;
  const ref = parseFunctionArn(arn);
  if (!ref) return false;
  return registry.get(ref.name, ref.qualifier).then(
    () => true,
    () => false,
  );
}

/** Whether a function ARN or name names a function (qualified or not) that exists now; other failures throw. */
export async function functionExists(registry: Pick<Registry, "get">, arnOrName: string): Promise<boolean> {
  const ref = parseFunctionArn(arnOrName) ?? { name: arnOrName, qualifier: undefined };
  try {
    await registry.get(ref.name, ref.qualifier);
    return true;
  } catch (err) {
    // A name the registry could never hold names no function either.
    if (err instanceof NimbusError && (err.code === "NotFound" || err.code === "InvalidParameter"))
      return false;
    throw err;
  }
}
