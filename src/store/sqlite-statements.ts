/**
 * A SQLite repository's statements, prepared once on first use: preparing again on every call
 * was half of what a SendMessage's queue lookup cost. The SQL is fixed text, so the map stays
 * small. Also the one way these repositories open a write transaction.
 */
import type Database from "better-sqlite3";

interface Queued {
  readonly body: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export class Statements {
  readonly #db: Database.Database;
  readonly #cache = new Map<string, Database.Statement>();
  #queued: Queued[] = [];

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** The statement of `sql`, prepared on first use. */
  get(sql: string): Database.Statement {
    let statement = this.#cache.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#cache.set(sql, statement);
    }
    return statement;
  }

  /** `body` in a transaction begun IMMEDIATE (the write lock first, so another connection's commit cannot fail it midway). */
  write<T>(body: () => T): T {
    return this.#db.transaction(body).immediate();
  }

  /**
   * `body` in a transaction shared by every write queued in this turn of the event loop, each in
   * a savepoint of its own: one that throws is rolled back alone and rejects alone. A commit's
   * cost (locks, the WAL's writes) is paid once per turn instead of once per write, which is
   * what many small writes at once (32 clients putting small objects) are limited by. Resolves
   * once the shared transaction committed; if the commit itself fails, every write rejects.
   */
  writeInTurn<T>(body: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#queued.length === 0) setImmediate(() => this.#commitTurn());
      this.#queued.push({ body, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  #commitTurn(): void {
    const queued = this.#queued;
    this.#queued = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = [];
    try {
      this.write(() => {
        for (const q of queued) {
          try {
            outcomes.push({ ok: true, value: this.#db.transaction(q.body)() });
          } catch (err) {
            outcomes.push({ ok: false, err });
          }
        }
      });
    } catch (err) {
      for (const q of queued) q.reject(err);
      return;
    }
    queued.forEach((q, i) => {
      const o = outcomes[i]!;
      if (o.ok) q.resolve(o.value);
      else q.reject(o.err);
    });
  }
}
