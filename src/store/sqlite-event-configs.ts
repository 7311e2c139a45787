/**
 * Event invoke configurations in SQLite (`EventConfigsRepo`, served through `SqliteStore`):
 * table `event_invoke_configs` of `sqlite-migrations.ts`'s EVENT_CONFIGS_MIGRATIONS, each
 * configuration a JSON body.
 */
import type Database from "better-sqlite3";
import type { EventConfigsRepo, EventInvokeConfig } from "../control/async/event-configs-repo.js";

export class SqliteEventConfigsRepo implements EventConfigsRepo {
  readonly #db: Database.Database;

  /** `db` has foreign keys on: deleting a function deletes its configurations. */
  constructor(db: Database.Database) {
    this.#db = db;
  }

  async getEventInvokeConfig(
    functionName: string,
    qualifier: string,
  ): Promise<EventInvokeConfig | undefined> {
    const row = this.#db
      .prepare("SELECT body FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?")
      .get(functionName, qualifier) as { body: string } | undefined;
    return row && (JSON.parse(row.body) as EventInvokeConfig);
  }

  async listEventInvokeConfigs(functionName: string): Promise<EventInvokeConfig[]> {
    const rows = this.#db
      .prepare("SELECT body FROM event_invoke_configs WHERE function_name = ? ORDER BY qualifier")
      .all(functionName) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as EventInvokeConfig);
  }

  async putEventInvokeConfig(config: EventInvokeConfig): Promise<void> {
    this.#db
      .prepare(
        "INSERT INTO event_invoke_configs (function_name, qualifier, body) VALUES (?, ?, ?) ON CONFLICT (function_name, qualifier) DO UPDATE SET body = excluded.body",
      )
      .run(config.functionName, config.qualifier, JSON.stringify(config));
  }

  async deleteEventInvokeConfig(functionName: string, qualifier: string): Promise<boolean> {
    return (
      this.#db
        .prepare("DELETE FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?")
        .run(functionName, qualifier).changes === 1
    );
  }
}
