/**
 * The retry policy of asynchronous invocation, as one pure function of (event, outcome,
 * configuration, now): no clock, no queue, no I/O, so every rule of Lambda's contract is
 * tested with plain values (retry-policy.test.ts). It decides; the poller carries it out.
 *
 * - Before a claimed event runs: a chain past the loop guard's limit is stopped, a spent
 *   budget holds the event back (unaged), and an event older than MaximumEventAgeInSeconds
 *   fails with EventAgeExceeded; otherwise it runs.
 * - A function error (thrown, timeout, crash) is retried MaximumRetryAttempts times after the
 *   configured delays (Lambda: 1 and 2 minutes), unless the retry would come too late.
 * - A throttle or a platform error puts the event back with a backoff that grows with its age
 *   (Lambda: 1 s up to 5 minutes), without using up attempts, until it expires.
 * - A final outcome names the condition its destination hears of (`route`), or none.
 */
import type { InitPhases } from "../../protocol/invoke.js";
import type { EventInvokeConfig } from "./event-configs-repo.js";
import { isLoop, MAX_HOPS, wasStopped } from "./lineage.js";
import type { QueuedEvent, Settlement } from "./queue.js";

/** An event held back by a spent budget is looked at again after this long. */
export const BUDGET_RECHECK_MS = 60_000;

/** Why an invocation record reaches a destination (Lambda's `requestContext.condition`). */
export type Condition = "Success" | "RetriesExhausted" | "EventAgeExceeded" | "RecursiveInvocationDetected";

/** The function's event invoke configuration, and the platform's delays. */
export interface RetryConfig
  extends Pick<EventInvokeConfig, "maximumRetryAttempts" | "maximumEventAgeInSeconds"> {
  /** Delay before each retry after a function error: Lambda waits 1 minute, then 2. */
  readonly retryDelaysMs: readonly number[];
  /** Backoff after a throttle or platform error: grows from the first to the second with the event's age. */
  readonly backoffMs: readonly [min: number, max: number];
}

/** What the policy reads of an event. */
export type RetryEvent = Pick<
  QueuedEvent,
  "attempts" | "acceptedAt" | "heldMs" | "hops" | "traceId" | "lastError"
>;

export type Outcome =
  /** Claimed and about to run; `budgetRefusal` is the refusal's message when a budget is spent. */
  | { readonly kind: "due"; readonly budgetRefusal?: string | undefined }
  /** The dispatcher refused to run it because a budget is spent. */
  | { readonly kind: "budget"; readonly message: string }
  /** Throttled, or a platform failure: the function did not run. `error` is Lambda's error body. */
  | { readonly kind: "unavailable"; readonly error: string }
  /** The function ran and returned `result`. */
  | { readonly kind: "succeeded"; readonly result: Buffer; readonly initPhases?: InitPhases | undefined }
  /** The function ran and failed; `error` is the body its caller would have seen. */
  | { readonly kind: "failed"; readonly error: string; readonly initPhases?: InitPhases | undefined };

type Retrying = Extract<Settlement, { status: "retrying" }>;
type Final = Exclude<Settlement, { status: "retrying" }>;

/** The outcomes of an attempt to run: what the policy is asked after the dispatcher answered. */
export type RanOutcome = Exclude<Outcome, { kind: "due" }>;

/** What is written to the queue: the event waits again, or it has ended. */
export type Settled =
  /** Back in the queue until `settlement.notBefore`. */
  | { readonly kind: "retry"; readonly settlement: Retrying }
  /** Ended; the invocation record goes to the destination for `route`, if any. */
  | { readonly kind: "final"; readonly settlement: Final; readonly route: Condition | undefined };

/** Run it now, or settle it. */
export type Decision = { readonly kind: "run" } | Settled;

/** Decides what becomes of `event` after `outcome`, at `now` (epoch ms). Pure. */
export function decide(event: RetryEvent, outcome: RanOutcome, config: RetryConfig, now: number): Settled;
export function decide(event: RetryEvent, outcome: Outcome, config: RetryConfig, now: number): Decision;
export function decide(event: RetryEvent, outcome: Outcome, config: RetryConfig, now: number): Decision {
  // Time held back by a budget does not count towards the event's age.
  const ageLimit = event.acceptedAt + event.heldMs + config.maximumEventAgeInSeconds * 1000;
  switch (outcome.kind) {
    case "due": {
      if (isLoop(event.hops)) {
        const error = errorJson(
          "RecursiveInvocationException",
          `stopped after ${MAX_HOPS} hops: this event comes from a chain of invocations (through the async API or destinations) that kept calling functions; it was not run`,
        );
        // The on-failure destination hears of a loop once: whatever it starts is stopped silently.
        const route = wasStopped(event.traceId) ? undefined : "RecursiveInvocationDetected";
        return final({ status: "failed", attempts: event.attempts, error }, route);
      }
      if (outcome.budgetRefusal !== undefined) return hold(event, outcome.budgetRefusal, now);
      if (now > ageLimit) {
        const error =
          event.lastError ?? errorJson("EventAgeExceeded", "the event expired before it could run");
        return final({ status: "failed", attempts: event.attempts, error }, "EventAgeExceeded");
      }
      return { kind: "run" };
    }
    case "budget":
      return hold(event, outcome.message, now);
    case "unavailable": {
      const [min, max] = config.backoffMs;
      const delay = Math.min(max, Math.max(min, now - event.acceptedAt));
      // One last look just after the age limit, where it fails as expired.
      const notBefore = Math.min(now + delay, ageLimit + 1);
      return retry({ status: "retrying", attempts: event.attempts, notBefore, error: outcome.error });
    }
    case "succeeded": {
      const { result, initPhases } = outcome;
      return final({ status: "succeeded", attempts: event.attempts + 1, result, initPhases }, "Success");
    }
    case "failed": {
      const { error, initPhases } = outcome;
      const attempts = event.attempts + 1;
      const delay = config.retryDelaysMs[attempts - 1] ?? config.retryDelaysMs.at(-1) ?? 0;
      const attemptsLeft = attempts <= config.maximumRetryAttempts;
      if (attemptsLeft && now + delay <= ageLimit) {
        return retry({ status: "retrying", attempts, notBefore: now + delay, error, initPhases });
      }
      const condition = attemptsLeft ? "EventAgeExceeded" : "RetriesExhausted";
      return final({ status: "failed", attempts, error, initPhases }, condition);
    }
  }
}

/** Lambda's error body: what a caller, a record and a destination see. */
export function errorJson(errorType: string, errorMessage: string): string {
  return JSON.stringify({ errorType, errorMessage });
}

/** A spent budget: the event waits, and the time it waits does not age it. */
function hold(event: RetryEvent, refusal: string, now: number): Settled {
  const message = `${refusal} The event waits in the queue until the budget allows it.`;
  return retry({
    status: "retrying",
    attempts: event.attempts,
    notBefore: now + BUDGET_RECHECK_MS,
    error: errorJson("BudgetExceededException", message),
    heldMs: event.heldMs + BUDGET_RECHECK_MS,
  });
}

function retry(settlement: Retrying): Settled {
  return { kind: "retry", settlement };
}

function final(settlement: Final, route: Condition | undefined): Settled {
  return { kind: "final", settlement, route };
}
