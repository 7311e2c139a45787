/**
 * Where the platform keeps its state, chosen by configuration: every module's repository and
 * the async event queue. The composition root hands each module its own repository and knows
 * nothing of the store behind it. Embedded (the default): one SQLite file in the data
 * directory. PostgreSQL plugs in here with the same shape (`store/postgres/`), once every
 * repository has its implementation there.
 */
import { join } from "node:path";
import type { EventConfigsRepo } from "../control/async/event-configs-repo.js";
import type { EventQueue } from "../control/async/queue.js";
import type { LogsRepo } from "../control/logs-repo.js";
import type { ProvisionedRepo } from "../control/provisioned-repo.js";
import type { FunctionsRepo } from "../control/registry/repo.js";
import type { BudgetsRepo, UsageRepo } from "../control/usage-repo.js";
import { SqliteStore } from "../store/sqlite.js";
import { SqliteEventQueue } from "../store/sqlite-queue.js";

export interface Repositories {
  readonly functions: FunctionsRepo;
  readonly eventConfigs: EventConfigsRepo;
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
export function openEmbeddedBackends(dataDir: string): Backends {
  const file = join(dataDir, "nimbus.db");
  const store = new SqliteStore(file);
  // A second connection, on its own thread, after the first has migrated the file.
  const queue = new SqliteEventQueue(file);
  return {
    description: `SQLite (${file})`,
    repos: {
      functions: store,
      eventConfigs: store,
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
