/**
 * Message move tasks (`StartMessageMoveTask`): redrive a dead-letter queue's messages back to
 * the queues they came from, or to one destination, at up to a rate per second, in batches the
 * store moves atomically. A task lives in the process that started it: the messages it moved
 * stay moved across a restart, and one cut short by a restart is started again by the user
 * (`ListMessageMoveTasks` then shows none running).
 */
import { randomUUID } from "node:crypto";
import type { Clock, TimerHandle } from "../../shared/clock.js";
import { invalidParameter, SqsError } from "./errors.js";
import type { QueuesRepo } from "./repo.js";

const DEFAULT_RATE = 500;
const MAX_RATE = 500;
/** Tasks kept per source queue for ListMessageMoveTasks (finished ones included). */
const KEPT_PER_SOURCE = 10;

type Status = "RUNNING" | "COMPLETED" | "CANCELLING" | "CANCELLED" | "FAILED";

interface Task {
  readonly handle: string;
  readonly sourceArn: string;
  readonly source: string;
  readonly destinationArn: string | undefined;
  readonly destination: string | undefined;
  readonly rate: number | undefined;
  readonly startedAt: number;
  readonly toMove: number;
  moved: number;
  status: Status;
  failure?: string;
  timer?: TimerHandle;
}

export interface MoveTaskDeps {
  readonly repo: QueuesRepo;
  readonly clock: Clock;
  /** Wakes long polls of a queue that received moved messages. */
  readonly moved: (queueName: string) => void;
}

export class MoveTasks {
  readonly #o: MoveTaskDeps;
  readonly #bySource = new Map<string, Task[]>();
  readonly #byHandle = new Map<string, Task>();

  constructor(deps: MoveTaskDeps) {
    this.#o = deps;
  }

  async start(o: {
    sourceArn: string;
    source: string;
    destinationArn?: string | undefined;
    destination?: string | undefined;
    rate?: unknown;
  }): Promise<string> {
    let rate: number | undefined;
    if (o.rate !== undefined && o.rate !== null) {
      rate = Number(o.rate);
      if (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE)
        throw invalidParameter(`MaxNumberOfMessagesPerSecond must be an integer from 1 to ${MAX_RATE}.`);
    }
    const tasks = this.#bySource.get(o.source) ?? [];
    if (tasks.some((t) => t.status === "RUNNING" || t.status === "CANCELLING"))
      throw new SqsError(
        "UnsupportedOperation",
        `A message move task is already running on ${o.sourceArn}: cancel it or wait until it completes.`,
      );
    const now = this.#o.clock.now();
    const counts = await this.#o.repo.counts(o.source, now);
    const task: Task = {
      handle: Buffer.from(JSON.stringify({ id: randomUUID(), source: o.sourceArn })).toString("base64url"),
      sourceArn: o.sourceArn,
      source: o.source,
      destinationArn: o.destinationArn,
      destination: o.destination,
      rate,
      startedAt: now,
      toMove: counts.visible + counts.inFlight + counts.delayed,
      moved: 0,
      status: "RUNNING",
    };
    tasks.unshift(task);
    this.#bySource.set(o.source, tasks.slice(0, KEPT_PER_SOURCE));
    this.#byHandle.set(task.handle, task);
    void this.#tick(task);
    return task.handle;
  }

  /** The source's tasks, most recent first. */
  list(source: string, max: number): Record<string, unknown>[] {
    return (this.#bySource.get(source) ?? []).slice(0, max).map((t) => ({
      ...(t.status === "RUNNING" ? { TaskHandle: t.handle } : {}),
      Status: t.status,
      SourceArn: t.sourceArn,
      ...(t.destinationArn ? { DestinationArn: t.destinationArn } : {}),
      ...(t.rate ? { MaxNumberOfMessagesPerSecond: t.rate } : {}),
      ApproximateNumberOfMessagesMoved: t.moved,
      ApproximateNumberOfMessagesToMove: t.toMove,
      ...(t.failure ? { FailureReason: t.failure } : {}),
      StartedTimestamp: t.startedAt,
    }));
  }

  cancel(handle: unknown): number {
    const task = typeof handle === "string" ? this.#byHandle.get(handle) : undefined;
    if (!task)
      throw new SqsError(
        "ResourceNotFoundException",
        "The resource that you specified for the TaskHandle parameter does not exist.",
      );
    if (task.status !== "RUNNING")
      throw new SqsError(
        "UnsupportedOperation",
        `The task is ${task.status.toLowerCase()}: only a running task can be cancelled.`,
      );
    task.timer?.cancel();
    task.status = "CANCELLED";
    return task.moved;
  }

  /** Moves one second's worth, then schedules the next second while there is more. */
  async #tick(task: Task): Promise<void> {
    if (task.status !== "RUNNING") return;
    const batch = task.rate ?? DEFAULT_RATE;
    try {
      const moved = await this.#o.repo.moveMessages(
        task.source,
        task.destination,
        batch,
        this.#o.clock.now(),
      );
      task.moved += moved.length;
      for (const q of new Set(moved.map((m) => m.queueName))) this.#o.moved(q);
      if (task.status !== "RUNNING") return;
      if (moved.length < batch) {
        task.status = "COMPLETED";
        return;
      }
      task.timer = this.#o.clock.setTimeout(() => this.#tick(task), 1000);
    } catch (err) {
      task.status = "FAILED";
      task.failure = (err as Error).message;
    }
  }
}
