/**
 * The event bus wired into the platform: its function targets are asynchronous invocations
 * (Lambda's retries and destinations apply), its queue targets messages, and its deliveries to
 * API destinations are counted in the platform's metrics (`nimbus_api_destination_…`).
 */
import { Counter, Histogram, type Registry } from "prom-client";
import type { AcceptInput } from "../control/async/accept.js";
import { parseFunctionArn } from "../protocol/function.js";
import { EventBus } from "../services/events/events.js";
import type { ApiDestinationsRepo, EventsRepo } from "../services/events/repo.js";
import type { QueuesService } from "../services/queues/queues.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";

/** Seconds: a loopback endpoint answers in a millisecond, a slow one in up to the 5 s limit. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function wireEventBus(d: {
  repo: EventsRepo;
  destinationsRepo: ApiDestinationsRepo;
  clock: Clock;
  account: { region: string; accountId: string };
  logger: Logger;
  accept: (input: AcceptInput) => Promise<string>;
  queues: QueuesService;
  /** Whether a function or queue ARN names one that exists now (`targetExists`). */
  exists: (arn: string) => Promise<boolean>;
  metrics: Registry;
}): EventBus {
  const requests = new Counter({
    name: "nimbus_api_destination_requests_total",
    help: "Requests to API destinations by outcome: delivered (2xx), retried (a failure to be tried again), dead-lettered (given up).",
    labelNames: ["destination", "outcome"],
    registers: [d.metrics],
  });
  const duration = new Histogram({
    name: "nimbus_api_destination_request_duration_seconds",
    help: "How long API destinations took to answer the requests they took.",
    labelNames: ["destination"],
    buckets: REQUEST_BUCKETS,
    registers: [d.metrics],
  });
  return new EventBus({
    repo: d.repo,
    destinationsRepo: d.destinationsRepo,
    clock: d.clock,
    account: d.account,
    logger: d.logger,
    targets: {
      invokeAsync: async (arn, payload, traceHeader) => {
        const ref = parseFunctionArn(arn);
        if (!ref) throw new Error(`${arn} is not a function ARN`);
        await d.accept({
          functionName: ref.name,
          qualifier: ref.qualifier,
          payload: Buffer.from(payload),
          traceHeader,
        });
      },
      sendToQueue: async (arn, body, attributes) => {
        await d.queues.sendByArn(arn, body, attributes);
      },
      exists: d.exists,
    },
    observeDeliveries: (destination, outcome, seconds) => {
      requests.inc({ destination, outcome });
      if (seconds !== undefined) duration.observe({ destination }, seconds);
    },
  });
}
