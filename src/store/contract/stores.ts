/**
 * The stores every contract suite runs against, each opened empty for every test: SQLite on a
 * temporary file, PostgreSQL on a fresh schema (`test-postgres.ts`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventConfigsRepo } from "../../control/async/event-configs-repo.js";
import type { LogsRepo } from "../../control/logs-repo.js";
import type { ProvisionedRepo } from "../../control/provisioned-repo.js";
import type { FunctionsRepo } from "../../control/registry/repo.js";
import type { BudgetsRepo, UsageRepo } from "../../control/usage-repo.js";
import { openPostgresRepos } from "../postgres/repos.js";
import { SqliteStore } from "../sqlite.js";
import type { Harness, OpenRepo } from "./harness.js";
import type { TestPostgres } from "./test-postgres.js";

/** The repositories of one open store. */
export interface OpenedStore {
  readonly functions: FunctionsRepo;
  readonly eventConfigs: EventConfigsRepo;
  readonly provisioned: ProvisionedRepo;
  readonly budgets: BudgetsRepo;
  readonly logs: LogsRepo;
  readonly usage: UsageRepo;
  close(): Promise<void>;
}

/** One suite's view of a store: its own repository, with the store's functions beside it. */
export function repoOf<R>(open: () => Promise<OpenedStore>, pick: (s: OpenedStore) => R): OpenRepo<R> {
  return async (): Promise<Harness<R>> => {
    const s = await open();
    return { repo: pick(s), functions: s.functions, close: () => s.close() };
  };
}

export async function openSqlite(): Promise<OpenedStore> {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-contract-"));
  const store = new SqliteStore(join(dir, "nimbus.db"));
  return {
    functions: store,
    eventConfigs: store,
    provisioned: store,
    budgets: store,
    logs: store,
    usage: store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
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
