/**
 * The stores every contract suite runs against, each opened empty for every test: SQLite on a
 * temporary file, PostgreSQL on a fresh schema (`test-postgres.ts`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventConfigsRepo } from "../../control/async/event-configs-repo.js";
import type { ProvisionedRepo } from "../../control/provisioned-repo.js";
import type { FunctionsRepo } from "../../control/registry/repo.js";
import type { BudgetsRepo } from "../../control/usage-repo.js";
import { openPostgresRepos } from "../postgres/repos.js";
import { SqliteStore } from "../sqlite.js";
import { SqliteEventQueue } from "../sqlite-queue.js";
import type { Harness, OpenRepo, QueueHarness } from "./harness.js";
import type { TestPostgres } from "./test-postgres.js";

/** The repositories of one open store. */
export interface OpenedStore {
  readonly functions: FunctionsRepo;
  readonly eventConfigs: EventConfigsRepo;
  readonly provisioned: ProvisionedRepo;
  readonly budgets: BudgetsRepo;
  close(): Promise<void>;
}

/** One suite's view of a store: its own repository, with the store's functions beside it. */
export function repoOf<R>(open: () => Promise<OpenedStore>, pick: (s: OpenedStore) => R): OpenRepo<R> {
  return async (): Promise<Harness<R>> => {
    const s = await open();
    return { repo: pick(s), functions: s.functions, close: () => s.close() };
  };
}

export async function openSqlite(): Promise<OpenedStore & { readonly dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-contract-"));
  const store = new SqliteStore(join(dir, "nimbus.db"));
  return {
    dir,
    functions: store,
    eventConfigs: store,
    provisioned: store,
    budgets: store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The event queue on a temporary SQLite file; `another` opens one more on the same file. */
export async function openSqliteQueue(): Promise<QueueHarness> {
  const store = await openSqlite();
  const path = join(store.dir, "nimbus.db");
  const queues = [new SqliteEventQueue(path)];
  return {
    repo: queues[0]!,
    functions: store.functions,
    another: async () => {
      const q = new SqliteEventQueue(path);
      queues.push(q);
      return q;
    },
    close: async () => {
      await Promise.all(queues.map((q) => q.close()));
      await store.close();
    },
  };
}

/** The repositories on a fresh schema of the run's PostgreSQL database, dropped at close. */
export async function openPostgres(server: TestPostgres): Promise<OpenedStore> {
  const { options, drop } = await server.freshSchema();
  try {
    const repos = await openPostgresRepos(options);
    return {
      ...repos,
      close: async () => {
        await repos.close();
        await drop();
      },
    };
  } catch (err) {
    await drop();
    throw err;
  }
}
