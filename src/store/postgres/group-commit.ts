/**
 * Group commit: writes that arrive while a transaction is committing wait for it, then go
 * together in the next one. Each caller's promise settles once its own write has committed, so
 * nothing is acknowledged before it is durable; a write that arrives when none is in flight
 * starts at once (no added latency when the platform is quiet). Under load, one commit (one
 * WAL flush, one round trip of pipelined statements) serves many writers.
 *
 * A batch that fails is retried one write at a time, so that one bad write fails alone.
 */
export class GroupCommit<I, O> {
  readonly #commit: (items: readonly I[]) => Promise<O[]>;
  readonly #max: number;
  readonly #pending: Array<{ item: I; resolve: (o: O) => void; reject: (err: unknown) => void }> = [];
  #flushing = false;

  /** `commit`: writes every item in one transaction and returns their results in order. */
  constructor(commit: (items: readonly I[]) => Promise<O[]>, max = 256) {
    this.#commit = commit;
    this.#max = max;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, this.#max);
        try {
          const results = await this.#commit(batch.map((b) => b.item));
          for (const [i, b] of batch.entries()) b.resolve(results[i]!);
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
          // Alone, each write succeeds or fails on its own.
          await Promise.all(
            batch.map((b) =>
              this.#commit([b.item]).then(
                ([o]) => b.resolve(o!),
                (e: unknown) => b.reject(e),
              ),
            ),
          );
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}
