/**
 * The repositories PostgreSQL serves so far, over one pool, migrated at open. Usage and logs
 * are not here yet: their write path is designed apart.
 */

import { BUDGETS_MIGRATIONS, PostgresBudgetsRepo } from "./budgets.js";
import { connectPostgres, type PostgresOptions } from "./connect.js";
import { EVENT_CONFIGS_MIGRATIONS, PostgresEventConfigsRepo } from "./event-configs.js";
import { FUNCTIONS_MIGRATIONS, PostgresFunctionsRepo } from "./functions.js";
import { type ModuleMigrations, migrate } from "./migrate.js";
import { PostgresProvisionedRepo, PROVISIONED_MIGRATIONS } from "./provisioned.js";

/** Every module's migrations, those referenced before those that reference them. */
export const POSTGRES_MIGRATIONS: readonly ModuleMigrations[] = [
  FUNCTIONS_MIGRATIONS,
  EVENT_CONFIGS_MIGRATIONS,
  PROVISIONED_MIGRATIONS,
  BUDGETS_MIGRATIONS,
];

export interface PostgresRepos {
  readonly functions: PostgresFunctionsRepo;
  readonly eventConfigs: PostgresEventConfigsRepo;
  readonly provisioned: PostgresProvisionedRepo;
  readonly budgets: PostgresBudgetsRepo;
  /** Waits for running queries, then closes the pool. */
  close(): Promise<void>;
}

/** Connects, migrates every module, and returns the repositories. */
export async function openPostgresRepos(options: PostgresOptions): Promise<PostgresRepos> {
  const sql = connectPostgres(options);
  try {
    await migrate(sql, POSTGRES_MIGRATIONS);
  } catch (err) {
    await sql.end();
    throw err;
  }
  return {
    functions: new PostgresFunctionsRepo(sql),
    eventConfigs: new PostgresEventConfigsRepo(sql),
    provisioned: new PostgresProvisionedRepo(sql),
    budgets: new PostgresBudgetsRepo(sql),
    close: () => sql.end(),
  };
}
