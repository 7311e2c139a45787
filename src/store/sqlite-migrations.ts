/**
 * The SQLite database's schema, module by module, as on PostgreSQL (`postgres/migrate.ts`):
 * each module owns its steps, and `nimbus_migrations` holds one row per (module, version)
 * applied, so adding a table to one module never renumbers another's. `sqlite-migrate.ts`
 * applies the missing steps at open, each in a transaction, modules in the order of
 * `SQLITE_MODULES` (a module may reference an earlier one's tables). A released step is never
 * edited (a data directory made by it may exist): change a table by appending a step.
 *
 * Databases made before the steps were tracked per module counted them in `PRAGMA
 * user_version`, in the order of `LEGACY_ORDER`; the first open maps that count to modules.
 */
import { BUDGET_MIGRATION, USAGE_MIGRATION, USAGE_TABLE_MIGRATION } from "./sqlite-usage.js";

export interface SqliteModuleMigrations {
  /** The module's key in `nimbus_migrations`. */
  readonly module: string;
  /** Its steps in order, each SQL (several statements allowed). */
  readonly steps: readonly string[];
}

/** Functions, their versions and aliases (the registry). */
export const FUNCTIONS_MIGRATIONS: SqliteModuleMigrations = {
  module: "functions",
  steps: [
    `CREATE TABLE functions (
       name TEXT PRIMARY KEY,
       reserved_concurrency INTEGER,
       created_at INTEGER NOT NULL,
       last_version INTEGER NOT NULL DEFAULT 0
     );
     CREATE TABLE versions (
       function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
       version TEXT NOT NULL,
       revision_id TEXT NOT NULL,
       package_id TEXT NOT NULL,
       body TEXT NOT NULL,
       PRIMARY KEY (function_name, version)
     );
     CREATE TABLE aliases (
       function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
       name TEXT NOT NULL,
       revision_id TEXT NOT NULL,
       body TEXT NOT NULL,
       PRIMARY KEY (function_name, name)
     );`,
    // A function's sandbox settings (tier, network), JSON; NULL: the platform's defaults.
    `ALTER TABLE functions ADD COLUMN sandbox TEXT;`,
    // A function's tags (TagResource, template stacks' ownership), JSON; NULL: none.
    `ALTER TABLE functions ADD COLUMN tags TEXT;`,
  ],
};

/** Function logs (`logs --follow`, log tails). */
export const LOGS_MIGRATIONS: SqliteModuleMigrations = {
  module: "logs",
  steps: [
    `CREATE TABLE logs (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       function_name TEXT NOT NULL,
       version TEXT NOT NULL,
       instance_id TEXT NOT NULL,
       request_id TEXT,
       ts INTEGER NOT NULL,
       message TEXT NOT NULL
     );
     CREATE INDEX logs_by_function ON logs (function_name, seq);
     CREATE INDEX logs_by_request ON logs (request_id) WHERE request_id IS NOT NULL;
     CREATE INDEX logs_by_time ON logs (ts);`,
  ],
};

/** The asynchronous event queue and its invocation records. */
export const QUEUE_MIGRATIONS: SqliteModuleMigrations = {
  module: "queue",
  steps: [
    // The asynchronous event queue (store/queue.ts): one row per accepted event, kept as its
    // invocation record once it has run.
    `CREATE TABLE events (
       id TEXT PRIMARY KEY,
       function_name TEXT NOT NULL,
       qualifier TEXT,
       payload BLOB NOT NULL,
       trace_id TEXT NOT NULL,
       accepted_at INTEGER NOT NULL,
       status TEXT NOT NULL,
       attempts INTEGER NOT NULL,
       not_before INTEGER NOT NULL,
       updated_at INTEGER NOT NULL,
       last_error TEXT,
       result BLOB
     );
     CREATE INDEX events_due ON events (not_before) WHERE status IN ('queued', 'retrying');
     CREATE INDEX events_by_function ON events (function_name, accepted_at);`,
    // Idempotency keys of async invokes (unique per function while the record is kept), and the
    // number of hops an event's chain of invocations has made (the loop guard).
    `ALTER TABLE events ADD COLUMN idempotency_key TEXT;
     ALTER TABLE events ADD COLUMN hops INTEGER NOT NULL DEFAULT 0;
     CREATE UNIQUE INDEX events_by_idempotency_key ON events (function_name, idempotency_key)
       WHERE idempotency_key IS NOT NULL;`,
    // Waiting events per function, oldest first: a claim walks the functions that have any and
    // reads the head of each, so a throttled function's backlog is never scanned.
    `DROP INDEX events_due;
     CREATE INDEX events_waiting ON events (function_name, not_before) WHERE status IN ('queued', 'retrying');`,
    // The phases of an event's last cold start (JSON), shown in its invocation record.
    `ALTER TABLE events ADD COLUMN init_phases TEXT;`,
    // Time an async event was held back by a spent budget (not counted in its age).
    `ALTER TABLE events ADD COLUMN held_ms INTEGER NOT NULL DEFAULT 0;`,
  ],
};

/** Async invocation settings per function and qualifier. */
export const EVENT_CONFIGS_MIGRATIONS: SqliteModuleMigrations = {
  module: "event-configs",
  steps: [
    // Per function and qualifier: retries, event age and destinations of async invocations.
    `CREATE TABLE event_invoke_configs (
       function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
       qualifier TEXT NOT NULL,
       body TEXT NOT NULL,
       PRIMARY KEY (function_name, qualifier)
     );`,
  ],
};

/** Function URLs: one per function and qualifier, found by their id. */
export const FUNCTION_URLS_MIGRATIONS: SqliteModuleMigrations = {
  module: "function-urls",
  steps: [
    `CREATE TABLE function_urls (
       function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
       qualifier TEXT NOT NULL,
       url_id TEXT NOT NULL UNIQUE,
       auth_type TEXT NOT NULL,
       invoke_mode TEXT NOT NULL,
       cors TEXT,
       created_at INTEGER NOT NULL,
       last_modified INTEGER NOT NULL,
       PRIMARY KEY (function_name, qualifier)
     );`,
  ],
};

/** HTTP APIs: one JSON document per API, and its deployments, which go with it. */
export const HTTP_APIS_MIGRATIONS: SqliteModuleMigrations = {
  module: "http-apis",
  steps: [
    `CREATE TABLE http_apis (
       api_id TEXT PRIMARY KEY,
       body TEXT NOT NULL
     );
     CREATE TABLE http_api_deployments (
       api_id TEXT NOT NULL REFERENCES http_apis(api_id) ON DELETE CASCADE,
       deployment_id TEXT NOT NULL,
       body TEXT NOT NULL,
       created_at INTEGER NOT NULL,
       PRIMARY KEY (api_id, deployment_id)
     );`,
  ],
};

/** Provisioned concurrency settings, and provisioned instances' up-time. */
export const PROVISIONED_MIGRATIONS: SqliteModuleMigrations = {
  module: "provisioned",
  steps: [
    // Provisioned concurrency per published version or alias.
    `CREATE TABLE provisioned_configs (
       function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
       qualifier TEXT NOT NULL,
       body TEXT NOT NULL,
       PRIMARY KEY (function_name, qualifier)
     );`,
    // The up-time of each provisioned instance, for billing (kept after the function is gone).
    `CREATE TABLE provisioned_spans (
       function_name TEXT NOT NULL,
       version TEXT NOT NULL,
       instance_id TEXT NOT NULL,
       memory_mb INTEGER NOT NULL,
       started_at INTEGER NOT NULL,
       stopped_at INTEGER NOT NULL
     );
     CREATE INDEX provisioned_spans_by_function ON provisioned_spans (function_name, stopped_at);`,
    `CREATE INDEX provisioned_spans_by_time ON provisioned_spans (stopped_at);`,
  ],
};

/** Usage records (metering): on log rows at first, then a table of their own. */
export const USAGE_MIGRATIONS: SqliteModuleMigrations = {
  module: "usage",
  steps: [
    // One metered record per invocation, on its REPORT line's row, for costs and budgets (kept
    // after the function and its logs are gone). Moved to a table of its own by USAGE_TABLE_MIGRATION.
    USAGE_MIGRATION,
    // Usage records in a table of their own, out of the log's rows: pruning logs by age alone.
    USAGE_TABLE_MIGRATION,
  ],
};

/** Monthly budgets. */
export const BUDGETS_MIGRATIONS: SqliteModuleMigrations = {
  module: "budgets",
  steps: [BUDGET_MIGRATION],
};

/** Every module, those referenced before those that reference them. */
export const SQLITE_MODULES: readonly SqliteModuleMigrations[] = [
  FUNCTIONS_MIGRATIONS,
  LOGS_MIGRATIONS,
  QUEUE_MIGRATIONS,
  EVENT_CONFIGS_MIGRATIONS,
  PROVISIONED_MIGRATIONS,
  USAGE_MIGRATIONS,
  BUDGETS_MIGRATIONS,
  FUNCTION_URLS_MIGRATIONS,
  HTTP_APIS_MIGRATIONS,
];

/**
 * The steps a database made before per-module tracking applied, in the order it applied them:
 * `user_version` N means the first N entries (the first covers two modules' first steps).
 */
export const LEGACY_ORDER: ReadonlyArray<ReadonlyArray<readonly [module: string, version: number]>> = [
  [
    ["functions", 1],
    ["logs", 1],
  ],
  [["queue", 1]],
  [["event-configs", 1]],
  [["queue", 2]],
  [["queue", 3]],
  [["queue", 4]],
  [["provisioned", 1]],
  [["provisioned", 2]],
  [["usage", 1]],
  [["provisioned", 3]],
  [["budgets", 1]],
  [["queue", 5]],
  [["functions", 2]],
  [["usage", 2]],
];
