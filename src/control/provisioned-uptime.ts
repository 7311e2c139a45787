/**
 * The up-time of provisioned instances, billed whether they are busy or not: those running now
 * (told by the dispatcher as they start and stop) and those that ended (stored). Budgets add
 * an ended span's cost as it ends; cost reports and budgets read both.
 */
import type { Logger } from "../shared/logger.js";
import type { ProvisionedRepo, ProvisionedSpan } from "./provisioned-repo.js";

/** What the dispatcher tells of its provisioned instances. */
export interface ProvisionedSpanSink {
  started(span: ProvisionedSpan): void;
  ended(span: ProvisionedSpan): void;
}

export class ProvisionedUptime implements ProvisionedSpanSink {
  readonly #repo: ProvisionedRepo;
  readonly #logger: Logger;
  /** Running spans by instance id. */
  readonly #running = new Map<string, ProvisionedSpan>();
  readonly #onEnded: Array<(span: ProvisionedSpan) => void> = [];

  constructor(deps: { repo: ProvisionedRepo; logger: Logger }) {
    this.#repo = deps.repo;
    this.#logger = deps.logger;
  }

  /** Called with each span as it ends (before it is stored). */
  onEnded(listener: (span: ProvisionedSpan) => void): void {
    this.#onEnded.push(listener);
  }

  started(span: ProvisionedSpan): void {
    this.#running.set(span.instanceId, span);
  }

  ended(span: ProvisionedSpan): void {
    this.#running.delete(span.instanceId);
    for (const listener of this.#onEnded) listener(span);
    void this.#repo
      .recordProvisionedSpan(span)
      .catch((err: unknown) =>
        this.#logger.error("could not record a provisioned instance's up-time", { err, span }),
      );
  }

  /** The up-time so far of a function's (or every function's) provisioned instances still running. */
  running(functionName?: string): ProvisionedSpan[] {
    const all = [...this.#running.values()];
    return functionName === undefined ? all : all.filter((s) => s.functionName === functionName);
  }

  /** Up-time overlapping [from, to): stored (ended) spans and running ones. */
  async overlapping(functionName: string | undefined, from: number, to: number): Promise<ProvisionedSpan[]> {
    return [
      ...(await this.#repo.provisionedSpans(functionName, from, to)),
      ...this.running(functionName).filter((s) => s.startedAt < to),
    ];
  }
}
