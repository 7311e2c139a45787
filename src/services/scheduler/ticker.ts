/**
 * Fires schedules: an event source that sleeps on the platform's clock until the next tick is
 * due, takes it, and delivers it. Taking a tick (`SchedulesRepo.advance`) moves the schedule
 * on and writes the tick's delivery in one transaction, only if no one took it first: a tick
 * is taken once, across restarts and processes. The delivery then goes to its target: a
 * function as an asynchronous invocation whose idempotency key is the tick's (a crash between
 * the invocation and the delivery's removal queues nothing twice), or a queue (at least once).
 * A delivery that fails is tried again with growing waits until the target's retry policy
 * runs out, then goes to its dead-letter queue.
 *
 * A tick missed while the platform was down is taken when it comes back: the latest one that
 * passed is delivered if it is younger than the target's MaximumEventAgeInSeconds, the older
 * ones are skipped, and the schedule goes on from now.
 */
import { createHash } from "node:crypto";
import { latestTick, nextTick, parseExpression } from "../../protocol/events/schedule-expression.js";
import { parseFunctionArn } from "../../protocol/function.js";
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { retryDelayMs, WakeLoop } from "../../shared/wake-loop.js";
import type { DeliveryRecord, ScheduleRecord } from "./model.js";
import { type SchedulerAccount, scheduleArn } from "./names.js";
import type { SchedulesRepo } from "./repo.js";
import { dueOf } from "./scheduler.js";

/**
 * What the ticker starts with: the platform's event-source context (`control/triggers/
 * event-source.ts`), of which it needs the accept path, the clock and the logger. Declared
 * here, not imported: services do not import the control plane; the composition root passes
 * the ticker as one of the platform's event sources.
 */
export interface TickerContext {
  /** Queues an asynchronous invocation; resolves once it is durable. */
  enqueue(input: {
    readonly functionName: string;
    readonly qualifier: string | undefined;
    readonly payload: Buffer;
    readonly idempotencyKey?: string | undefined;
  }): Promise<string>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface TickerDeps {
  readonly repo: SchedulesRepo;
  readonly account: SchedulerAccount;
  /** Sends a message to a queue ARN (with a group id for a FIFO queue); durable when it resolves. */
  readonly sendToQueue: (
    arn: string,
    body: string,
    attributes?: Readonly<Record<string, string>>,
    fifo?: { readonly groupId: string; readonly deduplicationId: string },
  ) => Promise<void>;
  /** Told of each tick delivered: the platform publishes it on its bus. */
  readonly fired?: (d: DeliveryRecord, scheduleArn: string) => void;
}

/** The longest the ticker sleeps: what another process changed is seen within it. */
const MAX_SLEEP_MS = 60_000;
const BATCH = 100;

export class ScheduleTicker {
  readonly name = "schedules";
  readonly #o: TickerDeps;
  readonly #loop: WakeLoop;
  #ctx: TickerContext | undefined;

  constructor(deps: TickerDeps) {
    this.#o = deps;
    this.#loop = new WakeLoop({ what: "schedules", pass: () => this.#pass(), next: () => this.#nextWake() });
  }

  /** Starts firing: resolves once what is due now (ticks missed while down included) was taken. */
  async start(ctx: TickerContext): Promise<void> {
    this.#ctx = ctx;
    await this.#loop.start(ctx.clock, ctx.logger);
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** A schedule changed: look again at what is due next (now, if a run is not under way). */
  changed(): void {
    this.#loop.changed();
  }

  async #pass(): Promise<void> {
    const { clock } = this.#ctx!;
    for (;;) {
      const now = clock.now();
      const due = await this.#o.repo.due(now, BATCH);
      for (const s of due) await this.#take(s, now);
      const deliveries = await this.#o.repo.dueDeliveries(now, BATCH);
      await Promise.all(deliveries.map((d) => this.#deliver(d)));
      if ((due.length < BATCH && deliveries.length < BATCH) || this.#loop.stopped) return;
    }
  }

  /** When the next tick or delivery is due, at the latest MAX_SLEEP_MS from now. */
  async #nextWake(): Promise<number> {
    const [schedule, delivery] = await Promise.all([this.#o.repo.nextDue(), this.#o.repo.nextDelivery()]);
    const cap = this.#ctx!.clock.now() + MAX_SLEEP_MS;
    return Math.min(schedule ?? cap, delivery ?? cap, cap);
  }

  /** Takes the schedule's due tick (or the latest of those missed), moving it to the next. */
  async #take(s: ScheduleRecord, now: number): Promise<void> {
    const arn = scheduleArn(this.#o.account, s.groupName, s.name);
    const expected = s.nextTickAt!;
    const e = parseExpression(s.expression, s.timezone);
    const bounds = { start: s.startDate, end: s.endDate };
    const tick = latestTick(e, { after: expected - 1, at: now, anchor: expected, ...bounds }) ?? expected;
    const next = nextTick(e, { after: Math.max(tick, now), anchor: tick, ...bounds });
    const fresh = now - tick <= s.target.maximumEventAgeInSeconds * 1000;
    const taken = await this.#o.repo.advance({
      groupName: s.groupName,
      name: s.name,
      expectedTickAt: expected,
      next:
        next === undefined ? undefined : { tickAt: next, dueAt: dueOf(arn, next, s.flexibleWindowMinutes) },
      remove: next === undefined && s.actionAfterCompletion === "DELETE",
      delivery: fresh
        ? {
            id: `${arn}@${tick}`,
            groupName: s.groupName,
            scheduleName: s.name,
            tickAt: tick,
            target: s.target,
            attempts: 0,
            dueAt: now,
            lastError: undefined,
          }
        : undefined,
    });
    if (taken && !fresh)
      this.#ctx!.logger.warn(
        "schedules: a tick missed while the platform was down is past its retry window",
        {
          schedule: arn,
          tick: new Date(tick).toISOString(),
        },
      );
    if (taken && tick !== expected)
      this.#ctx!.logger.info("schedules: ticks missed while the platform was down were skipped", {
        schedule: arn,
        from: new Date(expected).toISOString(),
        delivered: fresh ? new Date(tick).toISOString() : "none",
      });
  }

  async #deliver(d: DeliveryRecord): Promise<void> {
    const { clock, logger } = this.#ctx!;
    const arn = scheduleArn(this.#o.account, d.groupName, d.scheduleName);
    const attempt = d.attempts + 1;
    const payload = payloadOf(d, arn, this.#o.account, attempt);
    try {
      await this.#send(d, payload);
    } catch (err) {
      const now = clock.now();
      const message = err instanceof Error ? err.message : String(err);
      const expired = now - d.tickAt >= d.target.maximumEventAgeInSeconds * 1000;
      if (attempt <= d.target.maximumRetryAttempts && !expired) {
        await this.#o.repo.updateDelivery({
          ...d,
          attempts: attempt,
          dueAt: now + retryDelayMs(attempt),
          lastError: message,
        });
        return;
      }
      logger.warn("schedules: a tick could not be delivered; its retries ran out", {
        schedule: arn,
        target: d.target.arn,
        error: message,
      });
      if (d.target.deadLetterArn)
        await this.#o
          .sendToQueue(d.target.deadLetterArn, payload, {
            ERROR_CODE: "TargetUnavailable",
            ERROR_MESSAGE: message.slice(0, 1000),
            EXECUTION_ID: executionId(d.id),
            RETRY_ATTEMPTS: String(d.attempts),
            SCHEDULE_ARN: arn,
            TARGET_ARN: d.target.arn,
          })
          .catch((dlqErr: unknown) =>
            logger.error("schedules: the dead-letter queue did not take the tick", {
              schedule: arn,
              err: dlqErr,
            }),
          );
      await this.#o.repo.deleteDelivery(d.id);
      return;
    }
    await this.#o.repo.deleteDelivery(d.id);
    this.#o.fired?.(d, arn);
  }

  async #send(d: DeliveryRecord, payload: string): Promise<void> {
    const t = d.target;
    if (t.arn.startsWith("arn:aws:sqs:")) {
      const fifo =
        t.messageGroupId !== undefined
          ? { groupId: t.messageGroupId, deduplicationId: executionId(d.id) }
          : undefined;
      await this.#o.sendToQueue(t.arn, payload, undefined, fifo);
      return;
    }
    const ref = parseFunctionArn(t.arn);
    if (!ref) throw new Error(`${t.arn} is not a function ARN`);
    await this.#ctx!.enqueue({
      functionName: ref.name,
      qualifier: ref.qualifier,
      payload: Buffer.from(payload),
      idempotencyKey: `schedule-${executionId(d.id)}`,
    });
  }
}

/** The tick's id, the same on every attempt: a hash of the schedule and the tick, as a UUID. */
export function executionId(deliveryId: string): string {
  const h = createHash("sha256").update(deliveryId).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * What the target receives: its Input with Scheduler's context attributes filled in, or,
 * without one, EventBridge's scheduled event.
 */
export function payloadOf(d: DeliveryRecord, arn: string, a: SchedulerAccount, attempt: number): string {
  const time = new Date(d.tickAt).toISOString().replace(/\.\d{3}Z$/, "Z");
  if (d.target.input !== undefined)
    return d.target.input
      .replaceAll("<aws.scheduler.schedule-arn>", arn)
      .replaceAll("<aws.scheduler.scheduled-time>", time)
      .replaceAll("<aws.scheduler.execution-id>", executionId(d.id))
      .replaceAll("<aws.scheduler.attempt-number>", String(attempt));
  return JSON.stringify({
    version: "0",
    id: executionId(d.id),
    "detail-type": "Scheduled Event",
    source: "aws.scheduler",
    account: a.accountId,
    time,
    region: a.region,
    resources: [arn],
    detail: {},
  });
}
