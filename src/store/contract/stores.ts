/**
 * The stores every contract suite runs against, each opened empty for every test: SQLite on a
 * temporary file, PostgreSQL on a fresh schema (`test-postgres.ts`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventConfigsRepo } from "../../control/async/event-configs-repo.js";
import type { EventQueue } from "../../control/async/queue.js";
import type { LogsRepo } from "../../control/logs-repo.js";
import type { ProvisionedRepo } from "../../control/provisioned-repo.js";
import type { FunctionsRepo } from "../../control/registry/repo.js";
import type { EventSourceMappingsRepo } from "../../control/triggers/mappings/repo.js";
import type { FunctionUrlsRepo } from "../../control/urls/repo.js";
import type { BudgetsRepo, UsageRepo } from "../../control/usage-repo.js";
import type { AuthRepo } from "../../services/auth/repo.js";
import type { ApiDestinationsRepo, EventsRepo } from "../../services/events/repo.js";
import type { HttpApisRepo } from "../../services/http-apis/repo.js";
import type { QueuesRepo } from "../../services/queues/repo.js";
import type { SchedulesRepo } from "../../services/scheduler/repo.js";
import type { StorageRepo } from "../../services/storage/repo.js";
import { connectPostgres, type Sql } from "../postgres/connect.js";
import { PostgresEventQueue } from "../postgres/queue.js";
import { openPostgresRepos } from "../postgres/repos.js";
import { SqliteStore } from "../sqlite.js";
import { SqliteEventQueue } from "../sqlite-queue.js";
import type { Harness, OpenRepo, QueueHarness } from "./harness.js";
import type { TestPostgres } from "./test-postgres.js";

/** The repositories of one open store. */
export interface OpenedStore {
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
  readonly budgets: BudgetsRepo;
  readonly queue: EventQueue;
  /** The same queue through a connection of its own, as a second platform on the store sees it. */
  anotherQueue(): Promise<EventQueue>;
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

/** The queue suite's view: the store's queue, and a second platform's on demand. */
export function queueOf(open: () => Promise<OpenedStore>): () => Promise<QueueHarness> {
  return async () => {
    const s = await open();
    return { repo: s.queue, functions: s.functions, another: () => s.anotherQueue(), close: () => s.close() };
  };
}

export async function openSqlite(): Promise<OpenedStore> {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-contract-"));
  const path = join(dir, "nimbus.db");
  // The store migrates the file, the queue's own tables included; its queue thread opens it after.
  const store = new SqliteStore(path);
  const queues: SqliteEventQueue[] = [];
  const openQueue = () => {
    const q = new SqliteEventQueue(path);
    queues.push(q);
    return q;
  };
  let queue: SqliteEventQueue | undefined;
  return {
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
    budgets: store,
    // A queue is a thread of its own: started only for the suites that use one.
    get queue() {
      queue ??= openQueue();
      return queue;
    },
    anotherQueue: async () => openQueue(),
    logs: store,
    usage: store,
    close: async () => {
      await Promise.all(queues.map((q) => q.close()));
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
    const pools: Sql[] = [];
    return {
      ...repos,
      anotherQueue: async () => {
        const sql = connectPostgres(options);
        pools.push(sql);
        return new PostgresEventQueue(sql);
      },
      close: async () => {
        await Promise.all(pools.map((p) => p.end()));
        await repos.close();
        await drop();
      },
    };
  } catch (err) {
    await drop();
    throw err;
  }
}
