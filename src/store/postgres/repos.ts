/** The repositories PostgreSQL serves, and the event queue, over one pool, migrated at open. */

import { PostgresApiDestinationsRepo } from "./api-destinations.js";
import { AUTH_MIGRATIONS, PostgresAuthRepo } from "./auth.js";
import { BUDGETS_MIGRATIONS, PostgresBudgetsRepo } from "./budgets.js";
import { connectPostgres, type PostgresOptions, quoteIdentifier } from "./connect.js";
import { EVENT_CONFIGS_MIGRATIONS, PostgresEventConfigsRepo } from "./event-configs.js";
import { EVENTS_MIGRATIONS, PostgresEventsRepo } from "./events.js";
import { FUNCTION_URLS_MIGRATIONS, PostgresFunctionUrlsRepo } from "./function-urls.js";
import { FUNCTIONS_MIGRATIONS, PostgresFunctionsRepo } from "./functions.js";
import { HTTP_APIS_MIGRATIONS, PostgresHttpApisRepo } from "./http-apis.js";
import { LOGS_MIGRATIONS, PostgresLogsRepo } from "./logs.js";
import { MAPPINGS_MIGRATIONS, PostgresMappingsRepo } from "./mappings.js";
import { type ModuleMigrations, migrate } from "./migrate.js";
import { lockSchema, type SchemaLockResult } from "./platform-lock.js";
import { PostgresProvisionedRepo, PROVISIONED_MIGRATIONS } from "./provisioned.js";
import { PostgresEventQueue, QUEUE_MIGRATIONS } from "./queue.js";
import { PostgresQueuesRepo, QUEUES_MIGRATIONS } from "./queues.js";
import { PostgresSchedulesRepo, SCHEDULES_MIGRATIONS } from "./schedules.js";
import { PostgresStorageRepo, STORAGE_MIGRATIONS } from "./storage.js";
import { PostgresUsageRepo, USAGE_MIGRATIONS } from "./usage.js";

/** Every module's migrations, those referenced before those that reference them. */
export const POSTGRES_MIGRATIONS: readonly ModuleMigrations[] = [
  FUNCTIONS_MIGRATIONS,
  EVENT_CONFIGS_MIGRATIONS,
  PROVISIONED_MIGRATIONS,
  BUDGETS_MIGRATIONS,
  QUEUE_MIGRATIONS,
  USAGE_MIGRATIONS,
  LOGS_MIGRATIONS,
  FUNCTION_URLS_MIGRATIONS,
  HTTP_APIS_MIGRATIONS,
  QUEUES_MIGRATIONS,
  MAPPINGS_MIGRATIONS,
  EVENTS_MIGRATIONS,
  SCHEDULES_MIGRATIONS,
  AUTH_MIGRATIONS,
  STORAGE_MIGRATIONS,
];

export interface PostgresRepos {
  readonly functions: PostgresFunctionsRepo;
  readonly eventConfigs: PostgresEventConfigsRepo;
  readonly functionUrls: PostgresFunctionUrlsRepo;
  readonly httpApis: PostgresHttpApisRepo;
  readonly queues: PostgresQueuesRepo;
  readonly mappings: PostgresMappingsRepo;
  readonly events: PostgresEventsRepo;
  /** Connections, API destinations and their deliveries (tables of the event bus's migrations). */
  readonly apiDestinations: PostgresApiDestinationsRepo;
  readonly schedules: PostgresSchedulesRepo;
  readonly auth: PostgresAuthRepo;
  readonly storage: PostgresStorageRepo;
  readonly provisioned: PostgresProvisionedRepo;
  readonly budgets: PostgresBudgetsRepo;
  /** The asynchronous event queue and the invocation records (closing it leaves the pool open). */
  readonly queue: PostgresEventQueue;
  /** Appends write usage records too (in the transaction of their REPORT lines). */
  readonly logs: PostgresLogsRepo;
  readonly usage: PostgresUsageRepo;
  /** Takes the schema for this platform (one platform per schema), or says who holds it. */
  lockSchema(): Promise<SchemaLockResult>;
  /** Waits for running queries, then closes the pool. */
  close(): Promise<void>;
}

/** Connects, migrates every module, and returns the repositories. */
export async function openPostgresRepos(
  options: PostgresOptions & { readonly createSchema?: boolean },
): Promise<PostgresRepos> {
  const sql = connectPostgres(options);
  try {
    if (options.createSchema && options.schema !== undefined)
      await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(options.schema)}`);
    await migrate(sql, POSTGRES_MIGRATIONS);
  } catch (err) {
    await sql.end();
    throw err;
  }
  return {
    functions: new PostgresFunctionsRepo(sql),
    eventConfigs: new PostgresEventConfigsRepo(sql),
    functionUrls: new PostgresFunctionUrlsRepo(sql),
    httpApis: new PostgresHttpApisRepo(sql),
    queues: new PostgresQueuesRepo(sql),
    mappings: new PostgresMappingsRepo(sql),
    events: new PostgresEventsRepo(sql),
    apiDestinations: new PostgresApiDestinationsRepo(sql),
    schedules: new PostgresSchedulesRepo(sql),
    auth: new PostgresAuthRepo(sql),
    storage: new PostgresStorageRepo(sql),
    provisioned: new PostgresProvisionedRepo(sql),
    budgets: new PostgresBudgetsRepo(sql),
    queue: new PostgresEventQueue(sql),
    logs: new PostgresLogsRepo(sql),
    usage: new PostgresUsageRepo(sql),
    lockSchema: () => lockSchema(sql),
    close: () => sql.end(),
  };
}
