/**
 * Queues as targets of an event's ending: an on-success or on-failure destination, or a
 * function's dead-letter queue. They are named by ARN, as Lambda names them, and must be
 * standard queues that exist when configured: FIFO queues are refused, as Lambda refuses them.
 */
import { NimbusError } from "../../shared/errors.js";
import * as v from "../registry/validate.js";

/** What the ending's targets need of the platform's queues (the platform answers from its queues). */
export interface TargetQueues {
  describe(arn: string): Promise<{ readonly fifo: boolean } | undefined>;
}

/** Whether a stored target names a queue (else it names a function). */
export function isQueueArn(target: string): boolean {
  return target.startsWith("arn:aws:sqs:");
}

/**
 * Checks that `arn` names an existing standard queue; returns it as stored. `subject` names the
 * target in messages ("The destination … for onFailure", "The dead-letter target …").
 */
export async function checkTargetQueue(
  queues: TargetQueues | undefined,
  arn: string,
  field: string,
  subject: string,
  role: "destinations" | "dead-letter queues",
): Promise<string> {
  const queue = await queues?.describe(arn);
  if (!queue)
    throw new NimbusError("InvalidParameter", `${subject} does not exist.`, {}, [
      v.problem(field, arn, "exists", "name an existing queue"),
    ]);
  if (queue.fifo)
    throw new NimbusError(
      "InvalidParameter",
      `${subject} is a FIFO queue: FIFO queues cannot be ${role}, as in Lambda; use a standard queue.`,
      {},
      [v.problem(field, arn, "consistent", "name a standard (not FIFO) queue")],
    );
  return arn;
}
