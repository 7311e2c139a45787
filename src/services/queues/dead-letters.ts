/**
 * Dead-letter queues: the redrive policy a queue names (it must exist and be of the source's
 * type), what a receive hands the store to move messages past their receive limit, which
 * queues name a dead-letter queue, and message move tasks that redrive it (`move-tasks.ts`).
 */
import type { Clock } from "../../shared/clock.js";
import { type QueueSettings, readRedrive } from "./attributes.js";
import { invalidParameter, noSuchQueue, SqsError } from "./errors.js";
import type { QueueRecord } from "./model.js";
import { MoveTasks } from "./move-tasks.js";
import { nameFromArn, type QueueAccount, queueArn } from "./names.js";
import { intParam } from "./params.js";
import type { QueuesRepo } from "./repo.js";

type Input = Readonly<Record<string, unknown>>;
type Output = Record<string, unknown>;

const PAGE = 1000;

export class DeadLetters {
  readonly #o: { repo: QueuesRepo; account: QueueAccount };
  readonly #moves: MoveTasks;

  constructor(deps: {
    repo: QueuesRepo;
    clock: Clock;
    account: QueueAccount;
    moved: (queueName: string) => void;
  }) {
    this.#o = deps;
    this.#moves = new MoveTasks(deps);
  }

  /** A dead-letter queue must exist and be of the same type as its source. */
  async check(attributes: Readonly<Record<string, string>>, fifo: boolean): Promise<void> {
    if (!attributes.RedrivePolicy) return;
    const { deadLetterTargetArn } = readRedrive(attributes.RedrivePolicy);
    const dlq = await this.#o.repo.getQueue(
      nameFromArn(deadLetterTargetArn, this.#o.account, "deadLetterTargetArn"),
    );
    if (!dlq)
      throw new SqsError(
        "InvalidParameterValue",
        `Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist: ${deadLetterTargetArn}.`,
      );
    if ((dlq.attributes.FifoQueue === "true") !== fifo)
      throw invalidParameter(
        "Value for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be the same type of queue as the source (FIFO or standard).",
      );
  }

  /** What a receive of `q` tells the store about moving messages past their limit. */
  async redriveOf(q: QueueRecord, s: QueueSettings) {
    if (!s.redrive) return undefined;
    const deadLetterQueue = s.redrive.deadLetterTargetArn.split(":").pop()!;
    // A dead-letter queue deleted since: messages stay where they are, as in SQS.
    if (!(await this.#o.repo.getQueue(deadLetterQueue))) return undefined;
    return {
      maxReceiveCount: s.redrive.maxReceiveCount,
      deadLetterQueue,
      sourceArn: queueArn(this.#o.account, q.name),
    };
  }

  /** The queues whose RedrivePolicy names `arn` as their dead-letter queue. */
  async sourcesOf(arn: string): Promise<string[]> {
    const sources: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.#o.repo.listQueues({ after, limit: PAGE });
      for (const other of page)
        if (
          other.attributes.RedrivePolicy &&
          readRedrive(other.attributes.RedrivePolicy).deadLetterTargetArn === arn
        )
          sources.push(other.name);
      if (page.length < PAGE) return sources;
      after = page[page.length - 1]!.name;
    }
  }

  async startMoveTask(input: Input): Promise<Output> {
    const sourceArn = String(input.SourceArn ?? "");
    const source = nameFromArn(input.SourceArn, this.#o.account, "SourceArn");
    if (!(await this.#o.repo.getQueue(source))) throw noSuchQueue();
    if ((await this.sourcesOf(queueArn(this.#o.account, source))).length === 0)
      throw invalidParameter(
        `Source queue must be configured as a dead-letter queue: no queue's RedrivePolicy names ${sourceArn}.`,
      );
    let destination: string | undefined;
    if (input.DestinationArn !== undefined && input.DestinationArn !== null) {
      destination = nameFromArn(input.DestinationArn, this.#o.account, "DestinationArn");
      if (!(await this.#o.repo.getQueue(destination))) throw noSuchQueue();
    }
    const handle = await this.#moves.start({
      sourceArn,
      source,
      destinationArn: destination && String(input.DestinationArn),
      destination,
      rate: input.MaxNumberOfMessagesPerSecond,
    });
    return { TaskHandle: handle };
  }

  async listMoveTasks(input: Input): Promise<Output> {
    const source = nameFromArn(input.SourceArn, this.#o.account, "SourceArn");
    if (!(await this.#o.repo.getQueue(source))) throw noSuchQueue();
    const max = intParam(input.MaxResults, 1, 1, 10, "MaxResults");
    return { Results: this.#moves.list(source, max) };
  }

  cancelMoveTask(input: Input): Output {
    return { ApproximateNumberOfMessagesMoved: this.#moves.cancel(input.TaskHandle) };
  }
}
