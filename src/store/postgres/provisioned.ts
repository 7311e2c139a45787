/** Provisioned concurrency in PostgreSQL: what is asked per version or alias, and the spans billed (`ProvisionedRepo`). */
import type { ProvisionedConfig, ProvisionedRepo, ProvisionedSpan } from "../../control/provisioned-repo.js";
import { type SpanRow, toSpan } from "../log-row.js";
import type { Sql } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/**
 * Migrated after `functions`: a function's configurations go with it when it is deleted, its
 * spans stay (they are billed).
 */
export const PROVISIONED_MIGRATIONS: ModuleMigrations = {
  module: "provisioned",
  steps: [
    `CREATE TABLE provisioned_configs (
       function_name text COLLATE "C" NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
       qualifier text COLLATE "C" NOT NULL,
       body text NOT NULL,
       PRIMARY KEY (function_name, qualifier)
     );
     CREATE TABLE provisioned_spans (
       function_name text COLLATE "C" NOT NULL,
       version text NOT NULL,
       instance_id text NOT NULL,
       memory_mb integer NOT NULL,
       started_at bigint NOT NULL,
       stopped_at bigint NOT NULL
     );
     CREATE INDEX provisioned_spans_by_function ON provisioned_spans (function_name, stopped_at);
     CREATE INDEX provisioned_spans_by_time ON provisioned_spans (stopped_at);`,
  ],
};

export class PostgresProvisionedRepo implements ProvisionedRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async listProvisionedConfigs(functionName?: string): Promise<ProvisionedConfig[]> {
    const rows = await this.#sql<{ body: string }[]>`SELECT body FROM provisioned_configs
      ${functionName === undefined ? this.#sql`` : this.#sql`WHERE function_name = ${functionName}`}
      ORDER BY function_name, qualifier`;
    return rows.map((r) => JSON.parse(r.body) as ProvisionedConfig);
  }

  async putProvisionedConfig(config: ProvisionedConfig): Promise<void> {
    await this.#sql`INSERT INTO provisioned_configs (function_name, qualifier, body)
      VALUES (${config.functionName}, ${config.qualifier}, ${JSON.stringify(config)})
      ON CONFLICT (function_name, qualifier) DO UPDATE SET body = excluded.body`;
  }

  async deleteProvisionedConfig(functionName: string, qualifier: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM provisioned_configs
      WHERE function_name = ${functionName} AND qualifier = ${qualifier}`;
    return deleted.count === 1;
  }

  async recordProvisionedSpan(span: ProvisionedSpan): Promise<void> {
    // The platform records a span when it ends; one without an end is taken to end now, as SQLite does.
    await this.#sql`INSERT INTO provisioned_spans
      (function_name, version, instance_id, memory_mb, started_at, stopped_at)
      VALUES (${span.functionName}, ${span.version}, ${span.instanceId}, ${span.memoryMb},
        ${span.startedAt}, ${span.stoppedAt ?? Date.now()})`;
  }

  async provisionedSpans(
    functionName: string | undefined,
    from: number,
    to: number,
  ): Promise<ProvisionedSpan[]> {
    const rows = await this.#sql<SpanRow[]>`SELECT * FROM provisioned_spans
      WHERE stopped_at > ${from} AND started_at < ${to}
      ${functionName === undefined ? this.#sql`` : this.#sql`AND function_name = ${functionName}`}
      ORDER BY started_at`;
    return rows.map(toSpan);
  }
}
