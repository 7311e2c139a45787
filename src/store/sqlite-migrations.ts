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
import { API_DESTINATIONS_MIGRATION } from "./sqlite-api-destinations.js";
import { AUTH_CODE_REDEMPTION_MIGRATION, AUTH_TABLES_MIGRATION } from "./sqlite-auth-tables.js";
import { STORAGE_INLINE_BODY_MIGRATION, STORAGE_TABLES_MIGRATION } from "./sqlite-storage-tables.js";
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

/**
 * Queues (the SQS-compatible service) and their messages, which go with them. `seq` orders a
 * queue's messages (a moved message gets a new one, at the end of its new queue); a FIFO
 * queue's sequence numbers come from its `last_sequence`. `queue_dedup` keeps each FIFO
 * deduplication id's first message for the deduplication window, deleted messages' too.
 */
export const QUEUES_MIGRATIONS: SqliteModuleMigrations = {
  module: "queues",
  steps: [
    `CREATE TABLE queues (
       name TEXT PRIMARY KEY,
       created_at INTEGER NOT NULL,
       modified_at INTEGER NOT NULL,
       attributes TEXT NOT NULL,
       tags TEXT NOT NULL,
       last_sequence INTEGER NOT NULL DEFAULT 0
     );
     CREATE TABLE queue_messages (
       seq INTEGER PRIMARY KEY,
       queue_name TEXT NOT NULL REFERENCES queues(name) ON DELETE CASCADE,
       id TEXT NOT NULL UNIQUE,
       body TEXT NOT NULL,
       md5_of_body TEXT NOT NULL,
       attributes TEXT NOT NULL,
       md5_of_attributes TEXT,
       trace_header TEXT,
       sent_at INTEGER NOT NULL,
       visible_at INTEGER NOT NULL,
       receive_count INTEGER NOT NULL DEFAULT 0,
       first_received_at INTEGER,
       receipt_token TEXT,
       group_id TEXT,
       deduplication_id TEXT,
       sequence_number TEXT,
       dead_letter_source_arn TEXT
     );
     CREATE INDEX queue_messages_by_queue ON queue_messages (queue_name, seq);
     CREATE INDEX queue_messages_by_visibility ON queue_messages (queue_name, visible_at);
     CREATE INDEX queue_messages_by_age ON queue_messages (queue_name, sent_at);
     CREATE TABLE queue_dedup (
       queue_name TEXT NOT NULL REFERENCES queues(name) ON DELETE CASCADE,
       deduplication_id TEXT NOT NULL,
       message_id TEXT NOT NULL,
       sequence_number TEXT,
       sent_at INTEGER NOT NULL,
       PRIMARY KEY (queue_name, deduplication_id)
     );`,
  ],
};

/**
 * Event source mappings: a queue, by its ARN, read by pollers that invoke a function. Not tied to
 * the functions table: Lambda's DeleteFunction leaves a function's mappings in place.
 */
export const MAPPINGS_MIGRATIONS: SqliteModuleMigrations = {
  module: "event-source-mappings",
  steps: [
    `CREATE TABLE event_source_mappings (
       uuid TEXT PRIMARY KEY,
       event_source_arn TEXT NOT NULL,
       function_name TEXT NOT NULL,
       qualifier TEXT,
       batch_size INTEGER NOT NULL,
       maximum_batching_window_s INTEGER NOT NULL,
       function_response_types TEXT NOT NULL,
       filters TEXT NOT NULL,
       maximum_concurrency INTEGER,
       enabled INTEGER NOT NULL,
       state TEXT NOT NULL,
       state_transition_reason TEXT NOT NULL,
       last_processing_result TEXT NOT NULL,
       last_modified INTEGER NOT NULL
     );
     CREATE INDEX event_source_mappings_by_source ON event_source_mappings (event_source_arn, uuid);
     CREATE INDEX event_source_mappings_by_function ON event_source_mappings (function_name, uuid);`,
  ],
};

/**
 * The event bus: buses, their rules and each rule's targets (deleted with their rule and bus),
 * archives (kept when their bus is deleted) and their events, and replays. `seq` (AUTOINCREMENT:
 * never reused, even after the newest events are deleted) orders an archive's events by arrival.
 * Then connections, API destinations and their deliveries.
 */
export const EVENTS_MIGRATIONS: SqliteModuleMigrations = {
  module: "event-bus",
  steps: [
    `CREATE TABLE bus_buses (
       name TEXT PRIMARY KEY,
       description TEXT,
       dead_letter_arn TEXT,
       tags TEXT NOT NULL,
       created_at INTEGER NOT NULL,
       modified_at INTEGER NOT NULL
     );
     CREATE TABLE bus_rules (
       bus_name TEXT NOT NULL REFERENCES bus_buses(name) ON DELETE CASCADE,
       name TEXT NOT NULL,
       event_pattern TEXT NOT NULL,
       state TEXT NOT NULL,
       description TEXT,
       tags TEXT NOT NULL,
       created_at INTEGER NOT NULL,
       modified_at INTEGER NOT NULL,
       PRIMARY KEY (bus_name, name)
     );
     CREATE TABLE bus_targets (
       bus_name TEXT NOT NULL,
       rule_name TEXT NOT NULL,
       id TEXT NOT NULL,
       arn TEXT NOT NULL,
       input TEXT,
       input_path TEXT,
       input_transformer TEXT,
       maximum_retry_attempts INTEGER,
       maximum_event_age_s INTEGER,
       dead_letter_arn TEXT,
       PRIMARY KEY (bus_name, rule_name, id),
       FOREIGN KEY (bus_name, rule_name) REFERENCES bus_rules(bus_name, name) ON DELETE CASCADE
     );
     CREATE TABLE bus_archives (
       name TEXT PRIMARY KEY,
       bus_name TEXT NOT NULL,
       event_pattern TEXT,
       description TEXT,
       retention_days INTEGER NOT NULL,
       state TEXT NOT NULL,
       created_at INTEGER NOT NULL
     );
     CREATE INDEX bus_archives_by_bus ON bus_archives (bus_name, name);
     CREATE TABLE bus_archive_events (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       archive_name TEXT NOT NULL REFERENCES bus_archives(name) ON DELETE CASCADE,
       time INTEGER NOT NULL,
       event TEXT NOT NULL,
       bytes INTEGER NOT NULL
     );
     CREATE INDEX bus_archive_events_by_time ON bus_archive_events (archive_name, time, seq);
     CREATE TABLE bus_replays (
       name TEXT PRIMARY KEY,
       archive_name TEXT NOT NULL,
       description TEXT,
       event_start_time INTEGER NOT NULL,
       event_end_time INTEGER NOT NULL,
       destination_bus TEXT NOT NULL,
       destination_rules TEXT NOT NULL,
       state TEXT NOT NULL,
       state_reason TEXT,
       started_at INTEGER NOT NULL,
       ended_at INTEGER,
       last_replayed_at INTEGER
     );
     CREATE INDEX bus_replays_by_archive ON bus_replays (archive_name, name);`,
    // Connections, API destinations, and the deliveries of events to them (`sqlite-api-destinations.ts`).
    API_DESTINATIONS_MIGRATION,
  ],
};

/**
 * Schedules: groups, their schedules (not tied to the groups' table: a group's deletion deletes
 * them in its transaction) with where each stands, and the deliveries of ticks taken, kept until
 * delivered or dead-lettered (a schedule's deletion leaves them). Each target is JSON text.
 */
export const SCHEDULES_MIGRATIONS: SqliteModuleMigrations = {
  module: "scheduler",
  steps: [
    `CREATE TABLE schedule_groups (
       name TEXT PRIMARY KEY,
       state TEXT NOT NULL,
       tags TEXT NOT NULL,
       created_at INTEGER NOT NULL,
       modified_at INTEGER NOT NULL
     );
     CREATE TABLE schedules (
       group_name TEXT NOT NULL,
       name TEXT NOT NULL,
       description TEXT,
       expression TEXT NOT NULL,
       timezone TEXT NOT NULL,
       start_date INTEGER,
       end_date INTEGER,
       state TEXT NOT NULL,
       flexible_window_minutes INTEGER,
       action_after_completion TEXT NOT NULL,
       kms_key_arn TEXT,
       target TEXT NOT NULL,
       created_at INTEGER NOT NULL,
       modified_at INTEGER NOT NULL,
       next_tick_at INTEGER,
       next_due_at INTEGER,
       PRIMARY KEY (group_name, name)
     );
     CREATE INDEX schedules_by_due ON schedules (state, next_due_at, group_name, name);
     CREATE TABLE schedule_deliveries (
       id TEXT PRIMARY KEY,
       group_name TEXT NOT NULL,
       schedule_name TEXT NOT NULL,
       tick_at INTEGER NOT NULL,
       target TEXT NOT NULL,
       attempts INTEGER NOT NULL,
       due_at INTEGER NOT NULL,
       last_error TEXT
     );
     CREATE INDEX schedule_deliveries_by_due ON schedule_deliveries (due_at, id);`,
  ],
};

/**
 * Auth: users, their sessions and refresh tokens, one-time tokens, TOTP factors, challenges and
 * recovery codes, signing keys, the development inbox, the audit log, OIDC clients and codes.
 * The tables are in `sqlite-auth-tables.ts`, beside their repository.
 */
export const AUTH_MIGRATIONS: SqliteModuleMigrations = {
  module: "auth",
  steps: [AUTH_TABLES_MIGRATION, AUTH_CODE_REDEMPTION_MIGRATION],
};

/**
 * Object storage's metadata: buckets and their usage, object versions, multipart uploads and
 * their parts, the outbox of object events. The tables are in `sqlite-storage-tables.ts`.
 */
export const STORAGE_MIGRATIONS: SqliteModuleMigrations = {
  module: "storage",
  steps: [STORAGE_TABLES_MIGRATION, STORAGE_INLINE_BODY_MIGRATION],
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
  QUEUES_MIGRATIONS,
  MAPPINGS_MIGRATIONS,
  EVENTS_MIGRATIONS,
  SCHEDULES_MIGRATIONS,
  AUTH_MIGRATIONS,
  STORAGE_MIGRATIONS,
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
