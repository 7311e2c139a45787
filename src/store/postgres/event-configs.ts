/** Asynchronous invocation settings in PostgreSQL (`EventConfigsRepo`). */
import type { EventConfigsRepo, EventInvokeConfig } from "../../control/async/event-configs-repo.js";
import type { Sql } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/** Migrated after `functions`: a function's settings go with it when it is deleted. */
export const EVENT_CONFIGS_MIGRATIONS: ModuleMigrations = {
  module: "event-configs",
  steps: [
    `CREATE TABLE event_invoke_configs (
       function_name text COLLATE "C" NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
       qualifier text COLLATE "C" NOT NULL,
       body text NOT NULL,
       PRIMARY KEY (function_name, qualifier)
     );`,
  ],
};

export class PostgresEventConfigsRepo implements EventConfigsRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async getEventInvokeConfig(
    functionName: string,
    qualifier: string,
  ): Promise<EventInvokeConfig | undefined> {
    const [row] = await this.#sql<{ body: string }[]>`SELECT body FROM event_invoke_configs
      WHERE function_name = ${functionName} AND qualifier = ${qualifier}`;
    return row && (JSON.parse(row.body) as EventInvokeConfig);
  }

  async listEventInvokeConfigs(functionName: string): Promise<EventInvokeConfig[]> {
    const rows = await this.#sql<{ body: string }[]>`SELECT body FROM event_invoke_configs
      WHERE function_name = ${functionName} ORDER BY qualifier`;
    return rows.map((r) => JSON.parse(r.body) as EventInvokeConfig);
  }

  async putEventInvokeConfig(config: EventInvokeConfig): Promise<void> {
    await this.#sql`INSERT INTO event_invoke_configs (function_name, qualifier, body)
      VALUES (${config.functionName}, ${config.qualifier}, ${JSON.stringify(config)})
      ON CONFLICT (function_name, qualifier) DO UPDATE SET body = excluded.body`;
  }

  async deleteEventInvokeConfig(functionName: string, qualifier: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM event_invoke_configs
      WHERE function_name = ${functionName} AND qualifier = ${qualifier}`;
    return deleted.count === 1;
  }
}
