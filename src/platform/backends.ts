/**
 * Where the platform keeps its state, chosen by configuration (`store`): every module's
 * repository and the async event queue. The composition root hands each module its own
 * repository and knows nothing of the store behind it. Embedded (the default): one SQLite file
 * in the data directory. PostgreSQL: one schema of a database, migrated at start, held by one
 * platform at a time. Either way the data directory keeps what is not state: function
 * packages, the platform's key, its lock and the worker's files.
 */
import { join } from "node:path";
import type { EventConfigsRepo } from "../control/async/event-configs-repo.js";
import type { EventQueue } from "../control/async/queue.js";
import type { LogsRepo } from "../control/logs-repo.js";
import type { ProvisionedRepo } from "../control/provisioned-repo.js";
import type { FunctionsRepo } from "../control/registry/repo.js";
import type { EventSourceMappingsRepo } from "../control/triggers/mappings/repo.js";
import type { FunctionUrlsRepo } from "../control/urls/repo.js";
import type { BudgetsRepo, UsageRepo } from "../control/usage-repo.js";
import type { AuthRepo } from "../services/auth/repo.js";
import type { ApiDestinationsRepo, EventsRepo } from "../services/events/repo.js";
import type { HttpApisRepo } from "../services/http-apis/repo.js";
import type { QueuesRepo } from "../services/queues/repo.js";
import type { SchedulesRepo } from "../services/scheduler/repo.js";
import type { StorageRepo } from "../services/storage/repo.js";
import { connectFailure, shownUrl } from "../store/postgres/connect.js";
import { openPostgresRepos } from "../store/postgres/repos.js";
import { SqliteStore } from "../store/sqlite.js";
import { SqliteEventQueue } from "../store/sqlite-queue.js";
import { PlatformStartError } from "./data-dir-lock.js";

export interface Repositories {
  readonly functions: FunctionsRepo;
  readonly eventConfigs: EventConfigsRepo;
  readonly functionUrls: FunctionUrlsRepo;
  readonly httpApis: HttpApisRepo;
  readonly queues: QueuesRepo;
  readonly mappings: EventSourceMappingsRepo;
  readonly events: EventsRepo;
  readonly apiDestinations: ApiDestinationsRepo;
  readonly schedules: SchedulesRepo;
  readonly auth: AuthRepo;
  readonly storage: StorageRepo;
  readonly provisioned: ProvisionedRepo;
  readonly logs: LogsRepo;
  readonly usage: UsageRepo;
  readonly budgets: BudgetsRepo;
}

export interface Backends {
  /** What the platform's log line says it runs on. */
  readonly description: string;
  readonly repos: Repositories;
  /** The async work queue and the invocation records. */
  readonly queue: EventQueue;
  /** Closes the queue, then the store (after every module that writes to them has stopped). */
  close(): Promise<void>;
}

/** The embedded store: `nimbus.db` in the data directory, its writes on threads of their own. */
function openEmbeddedBackends(dataDir: string): Backends {
  const file = join(dataDir, "nimbus.db");
  const store = new SqliteStore(file);
  // A second connection, on its own thread, after the first has migrated the file.
  const queue = new SqliteEventQueue(file);
  return {
    description: `SQLite (${file})`,
    repos: {
      functions: store,
      eventConfigs: store,
      functionUrls: store,
      httpApis: store,
      queues: store,
      mappings: store,
      events: store,
      apiDestinations: store,
      schedules: store.schedules,
      auth: store.auth,
      storage: store.storage,
      provisioned: store,
      logs: store,
      usage: store,
      budgets: store,
    },
    queue,
    async close() {
      await queue.close();
      await store.close();
    },
  };
}

/** The store the configuration names: "sqlite", or a PostgreSQL URL. */
export function openBackends(store: string, dataDir: string): Promise<Backends> {
  if (store === "sqlite") return Promise.resolve(openEmbeddedBackends(dataDir));
  return openPostgresBackends(store);
}

/**
 * A PostgreSQL database: `postgres://user:password@host:port/database?schema=name`. The schema
 * (default: the role's search path, normally `public`) is created when missing and migrated;
 * the platform then holds it (one platform per schema) until it closes.
 */
async function openPostgresBackends(url: string): Promise<Backends> {
  const { connection, schema, shown } = parseStoreUrl(url);
  const repos = await openPostgresRepos({ url: connection, schema, createSchema: true }).catch(
    (err: unknown) => {
      throw new PlatformStartError(
        "store-unavailable",
        `cannot open the PostgreSQL store ${shown}: ${connectFailure(err)}; start PostgreSQL, check the URL, or run on the embedded store (--store sqlite)`,
      );
    },
  );
  const held = await repos.lockSchema().catch(async (err: unknown) => {
    await repos.close();
    throw err;
  });
  if (!held.ok) {
    await repos.close();
    const h = held.holder;
    const who = h
      ? ` (PostgreSQL session ${h.pid}${h.clientAddr ? ` from ${h.clientAddr}` : ""}${h.backendStart ? `, since ${h.backendStart.toISOString()}` : ""})`
      : "";
    throw new PlatformStartError(
      "store-in-use",
      `the PostgreSQL store ${shown} is in use by another Nimbus platform${who}; stop it, or give this one another database or schema (?schema=name)`,
    );
  }
  return {
    description: `PostgreSQL (${shown})`,
    repos,
    queue: repos.queue,
    async close() {
      await repos.queue.close();
      await held.lock.release();
      await repos.close();
    },
  };
}

/** The URL without Nimbus's own `schema` parameter, the schema, and the URL to show (no password). */
function parseStoreUrl(raw: string): {
  connection: string;
  schema: string | undefined;
  shown: string;
} {
  const url = new URL(raw);
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  const shown = `${shownUrl(url.href)}${schema === undefined ? "" : ` schema ${schema}`}`;
  return { connection: url.toString(), schema: schema === "" ? undefined : schema, shown };
}
