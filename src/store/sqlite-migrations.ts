/**
 * The SQLite database's schema, step by step: `PRAGMA user_version` counts the steps applied,
 * and `SqliteStore` applies the rest at open, each in a transaction. A released step is never
 * edited (a data directory made by it may exist): change a table by appending a step.
 */
import { BUDGET_MIGRATION, USAGE_MIGRATION, USAGE_TABLE_MIGRATION } from "./sqlite-usage.js";

export const SQLITE_MIGRATIONS: readonly string[] = [
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
   );
   CREATE TABLE logs (
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
  // Per function and qualifier: retries, event age and destinations of async invocations.
  `CREATE TABLE event_invoke_configs (
     function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
     qualifier TEXT NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (function_name, qualifier)
   );`,
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
  // One metered record per invocation, on its REPORT line's row, for costs and budgets (kept
  // after the function and its logs are gone). Moved to a table of its own by USAGE_TABLE_MIGRATION.
  USAGE_MIGRATION,
  `CREATE INDEX provisioned_spans_by_time ON provisioned_spans (stopped_at);`,
  BUDGET_MIGRATION,
  // Time an async event was held back by a spent budget (not counted in its age).
  `ALTER TABLE events ADD COLUMN held_ms INTEGER NOT NULL DEFAULT 0;`,
  // A function's sandbox settings (tier, network), JSON; NULL: the platform's defaults.
  `ALTER TABLE functions ADD COLUMN sandbox TEXT;`,
  // Usage records in a table of their own, out of the log's rows: pruning logs by age alone.
  USAGE_TABLE_MIGRATION,
];
