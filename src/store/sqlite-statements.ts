/**
 * A SQLite repository's statements, prepared once on first use: preparing again on every call
 * was half of what a SendMessage's queue lookup cost. The SQL is fixed text, so the map stays
 * small. Also the one way these repositories open a write transaction.
 */
import type Database from "better-sqlite3";

export class Statements {
  readonly #db: Database.Database;
  readonly #cache = new Map<string, Database.Statement>();

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
}
