/** The embedded metadata store: one SQLite file in the data directory (WAL mode). */
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import type { EventConfigsRepo } from "../control/async/event-configs-repo.js";
import type { LogQuery, LogRecord, StoredLog } from "../control/logs-repo.js";
import type { ProvisionedConfig, ProvisionedSpan } from "../control/provisioned-repo.js";
import type { AccountUsage } from "../control/registry/repo.js";
import type { EventSourceMappingsRepo } from "../control/triggers/mappings/repo.js";
import type { FunctionUrlsRepo } from "../control/urls/repo.js";
import type { Budget, UsageQuery, UsageRecord, UsageSums } from "../control/usage-repo.js";
import type { Alias, FunctionRecord, FunctionVersion } from "../protocol/function.js";
import { LATEST } from "../protocol/function.js";
import type { FunctionSandbox } from "../protocol/sandbox.js";
import type { AuthRepo } from "../services/auth/repo.js";
import type { ApiDestinationsRepo, EventsRepo } from "../services/events/repo.js";
import type { HttpApisRepo } from "../services/http-apis/repo.js";
import type { QueuesRepo } from "../services/queues/repo.js";
import type { SchedulesRepo } from "../services/scheduler/repo.js";
import type { StorageRepo } from "../services/storage/repo.js";
import { ThreadRpc } from "../shared/thread-rpc.js";
import { type FunctionRow, tagsColumn, toRecord, versionBody } from "./function-row.js";
import { transferables } from "./packed-rows.js";
import { SqliteApiDestinationsRepo } from "./sqlite-api-destinations.js";
import { SqliteAuthRepo } from "./sqlite-auth.js";
import { SqliteEventConfigsRepo } from "./sqlite-event-configs.js";
import { SqliteEventsRepo } from "./sqlite-events.js";
import { SqliteFunctionUrlsRepo } from "./sqlite-function-urls.js";
import { SqliteHttpApisRepo } from "./sqlite-http-apis.js";
import type { WriterRequest } from "./sqlite-log-worker.js";
import { SqliteMappingsRepo } from "./sqlite-mappings.js";
import { migrateSqlite } from "./sqlite-migrate.js";
import { SQLITE_MODULES } from "./sqlite-migrations.js";
import { SqliteQueuesRepo } from "./sqlite-queues.js";
import { SqliteSchedulesRepo } from "./sqlite-schedules.js";
import { SqliteStorageRepo } from "./sqlite-storage.js";
import {
  deleteBudget,
  listBudgets,
  provisionedSpans,
  putBudget,
  queryUsage,
  recordProvisionedSpan,
  usageOf,
} from "./sqlite-usage.js";
import { batchWriter, type PackedBatch, packBatch, queryLogs } from "./sqlite-writes.js";
import type { MetadataStore } from "./types.js";

/** WAL pages (4 KiB) past which the main connection checkpoints itself: a safety valve only. */
const MAIN_THREAD_CHECKPOINT_PAGES = 10_000;

export class SqliteStore implements MetadataStore {
  readonly #db: Database.Database;
  readonly #logWriter: ThreadRpc<WriterRequest> | undefined;
  readonly #eventConfigs: SqliteEventConfigsRepo;
  readonly #functionUrls: SqliteFunctionUrlsRepo;
  readonly #httpApis: SqliteHttpApisRepo;
  readonly #queues: SqliteQueuesRepo;
  readonly #mappings: SqliteMappingsRepo;
  readonly #events: SqliteEventsRepo;
  readonly #destinations: SqliteApiDestinationsRepo;
  /** Schedules, on this store's connection: a repository of its own, not methods of the store. */
  readonly schedules: SchedulesRepo;
  /** Auth, on this store's connection, the same way. */
  readonly auth: AuthRepo;
  /** Object storage's metadata, on this store's connection, the same way. */
  readonly storage: StorageRepo;
  /** Without a writing thread (an in-memory database): the insert, prepared once. */
  #insertBatch: ((batch: PackedBatch) => void) | undefined;

  /** `path` ":memory:" keeps everything on this thread; a file gets a log-writing thread too. */
  constructor(path: string) {
    this.#db = new Database(path);
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = NORMAL");
    this.#db.pragma("foreign_keys = ON");
    this.#db.pragma("busy_timeout = 5000");
    migrateSqlite(this.#db, SQLITE_MODULES);
    this.#eventConfigs = new SqliteEventConfigsRepo(this.#db);
    this.#functionUrls = new SqliteFunctionUrlsRepo(this.#db);
    this.#httpApis = new SqliteHttpApisRepo(this.#db);
    this.#queues = new SqliteQueuesRepo(this.#db);
    this.#mappings = new SqliteMappingsRepo(this.#db);
    this.#events = new SqliteEventsRepo(this.#db);
    this.#destinations = new SqliteApiDestinationsRepo(this.#db);
    this.schedules = new SqliteSchedulesRepo(this.#db);
    this.auth = new SqliteAuthRepo(this.#db);
    this.storage = new SqliteStorageRepo(this.#db);
    if (path !== ":memory:") {
      const worker = new Worker(new URL("./sqlite-log-worker.js", import.meta.url), { workerData: { path } });
      this.#logWriter = new ThreadRpc(worker, "log writer");
      // The log writer's thread checkpoints the WAL every 100 ms; this connection does only if
      // that thread falls far behind (40 MB of WAL), instead of every 4 MB on the event loop.
      this.#db.pragma(`wal_autocheckpoint = ${MAIN_THREAD_CHECKPOINT_PAGES}`);
    }
  }

  async getFunction(name: string): Promise<FunctionRecord | undefined> {
    const row = this.#db.prepare("SELECT * FROM functions WHERE name = ?").get(name) as
      | FunctionRow
      | undefined;
    return row && toRecord(row);
  }

  async listFunctions(afterName: string | undefined, limit: number): Promise<FunctionRecord[]> {
    const rows = this.#db
      .prepare("SELECT * FROM functions WHERE name > ? ORDER BY name LIMIT ?")
      .all(afterName ?? "", limit) as FunctionRow[];
    return rows.map(toRecord);
  }

  async createFunction(
    latest: FunctionVersion,
    createdAt: number,
    tags?: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    return this.#db.transaction(() => {
      const inserted = this.#db
        .prepare("INSERT OR IGNORE INTO functions (name, created_at, tags) VALUES (?, ?, ?)")
        .run(latest.functionName, createdAt, tagsColumn(tags));
      if (inserted.changes === 0) return false;
      this.#insertVersion(latest);
      return true;
    })();
  }

  #insertVersion(v: FunctionVersion): void {
    this.#db
      .prepare(
        "INSERT INTO versions (function_name, version, revision_id, package_id, body) VALUES (?, ?, ?, ?, ?)",
      )
      .run(v.functionName, v.version, v.revisionId, v.packageId, versionBody(v));
  }

  async replaceLatest(next: FunctionVersion, expectedRevision: string): Promise<boolean> {
    const result = this.#db
      .prepare(
        `UPDATE versions SET revision_id = ?, package_id = ?, body = ?
         WHERE function_name = ? AND version = ? AND revision_id = ?`,
      )
      .run(next.revisionId, next.packageId, versionBody(next), next.functionName, LATEST, expectedRevision);
    return result.changes === 1;
  }

  async publishVersion(
    functionName: string,
    make: (number: number) => FunctionVersion,
  ): Promise<FunctionVersion> {
    return this.#db.transaction(() => {
      const row = this.#db
        .prepare("UPDATE functions SET last_version = last_version + 1 WHERE name = ? RETURNING last_version")
        .get(functionName) as { last_version: number } | undefined;
      if (!row) throw new Error(`function ${functionName} vanished while publishing`);
      const version = make(row.last_version);
      this.#insertVersion(version);
      return version;
    })();
  }

  async getVersion(functionName: string, version: string): Promise<FunctionVersion | undefined> {
    const row = this.#db
      .prepare("SELECT body FROM versions WHERE function_name = ? AND version = ?")
      .get(functionName, version) as { body: string } | undefined;
    return row && (JSON.parse(row.body) as FunctionVersion);
  }

  async listVersions(functionName: string): Promise<FunctionVersion[]> {
    const rows = this.#db
      .prepare(
        `SELECT body FROM versions WHERE function_name = ?
         ORDER BY CASE version WHEN '$LATEST' THEN 0 ELSE CAST(version AS INTEGER) END`,
      )
      .all(functionName) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as FunctionVersion);
  }

  async deleteVersion(functionName: string, version: string): Promise<void> {
    this.#db
      .prepare("DELETE FROM versions WHERE function_name = ? AND version = ?")
      .run(functionName, version);
  }

  async deleteFunction(name: string): Promise<boolean> {
    return this.#db.prepare("DELETE FROM functions WHERE name = ?").run(name).changes === 1;
  }

  async setReservedConcurrency(name: string, value: number | undefined): Promise<void> {
    this.#db.prepare("UPDATE functions SET reserved_concurrency = ? WHERE name = ?").run(value ?? null, name);
  }

  async setSandbox(name: string, value: FunctionSandbox | undefined): Promise<void> {
    this.#db
      .prepare("UPDATE functions SET sandbox = ? WHERE name = ?")
      .run(value === undefined ? null : JSON.stringify(value), name);
  }

  async updateTags(
    name: string,
    change: (current: Readonly<Record<string, string>>) => Record<string, string>,
  ): Promise<Record<string, string> | undefined> {
    // One synchronous transaction: no other write to the row comes between the read and the write.
    return this.#db.transaction(() => {
      const row = this.#db.prepare("SELECT tags FROM functions WHERE name = ?").get(name) as
        | { tags: string | null }
        | undefined;
      if (!row) return undefined;
      const next = change(row.tags ? (JSON.parse(row.tags) as Record<string, string>) : {});
      this.#db.prepare("UPDATE functions SET tags = ? WHERE name = ?").run(tagsColumn(next), name);
      return next;
    })();
  }

  // The event invoke configurations' methods, delegated a line each (this file stays under 500 lines).
  readonly getEventInvokeConfig: EventConfigsRepo["getEventInvokeConfig"] = (fn, qualifier) =>
    this.#eventConfigs.getEventInvokeConfig(fn, qualifier);
  readonly listEventInvokeConfigs: EventConfigsRepo["listEventInvokeConfigs"] = (fn) =>
    this.#eventConfigs.listEventInvokeConfigs(fn);
  readonly putEventInvokeConfig: EventConfigsRepo["putEventInvokeConfig"] = (config) =>
    this.#eventConfigs.putEventInvokeConfig(config);
  readonly deleteEventInvokeConfig: EventConfigsRepo["deleteEventInvokeConfig"] = (fn, qualifier) =>
    this.#eventConfigs.deleteEventInvokeConfig(fn, qualifier);

  // The function URLs' methods, delegated the same way.
  readonly getFunctionUrl: FunctionUrlsRepo["getFunctionUrl"] = (fn, qualifier) =>
    this.#functionUrls.getFunctionUrl(fn, qualifier);
  readonly getFunctionUrlById: FunctionUrlsRepo["getFunctionUrlById"] = (urlId) =>
    this.#functionUrls.getFunctionUrlById(urlId);
  readonly listFunctionUrls: FunctionUrlsRepo["listFunctionUrls"] = (fn) =>
    this.#functionUrls.listFunctionUrls(fn);
  readonly listAllFunctionUrls: FunctionUrlsRepo["listAllFunctionUrls"] = () =>
    this.#functionUrls.listAllFunctionUrls();
  readonly createFunctionUrl: FunctionUrlsRepo["createFunctionUrl"] = (c) =>
    this.#functionUrls.createFunctionUrl(c);
  readonly updateFunctionUrl: FunctionUrlsRepo["updateFunctionUrl"] = (c) =>
    this.#functionUrls.updateFunctionUrl(c);
  readonly deleteFunctionUrl: FunctionUrlsRepo["deleteFunctionUrl"] = (fn, qualifier) =>
    this.#functionUrls.deleteFunctionUrl(fn, qualifier);

  // The HTTP APIs' methods, delegated the same way, a line each (this file stays under 500 lines).
  readonly getHttpApi: HttpApisRepo["getHttpApi"] = (apiId) => this.#httpApis.getHttpApi(apiId);
  readonly listHttpApis: HttpApisRepo["listHttpApis"] = () => this.#httpApis.listHttpApis();
  readonly putHttpApi: HttpApisRepo["putHttpApi"] = (api) => this.#httpApis.putHttpApi(api);
  readonly deleteHttpApi: HttpApisRepo["deleteHttpApi"] = (apiId) => this.#httpApis.deleteHttpApi(apiId);
  readonly putDeployment: HttpApisRepo["putDeployment"] = (d) => this.#httpApis.putDeployment(d);
  readonly getDeployment: HttpApisRepo["getDeployment"] = (apiId, id) =>
    this.#httpApis.getDeployment(apiId, id);
  readonly listDeployments: HttpApisRepo["listDeployments"] = (apiId) =>
    this.#httpApis.listDeployments(apiId);
  readonly deleteDeployment: HttpApisRepo["deleteDeployment"] = (apiId, id) =>
    this.#httpApis.deleteDeployment(apiId, id);

  // The queues' methods, delegated the same way.
  readonly createQueue: QueuesRepo["createQueue"] = (q) => this.#queues.createQueue(q);
  readonly getQueue: QueuesRepo["getQueue"] = (name) => this.#queues.getQueue(name);
  readonly listQueues: QueuesRepo["listQueues"] = (o) => this.#queues.listQueues(o);
  readonly updateQueue: QueuesRepo["updateQueue"] = (q) => this.#queues.updateQueue(q);
  readonly deleteQueue: QueuesRepo["deleteQueue"] = (name) => this.#queues.deleteQueue(name);
  readonly send: QueuesRepo["send"] = (queue, messages, now, windowMs) =>
    this.#queues.send(queue, messages, now, windowMs);
  readonly receive: QueuesRepo["receive"] = (queue, o) => this.#queues.receive(queue, o);
  readonly deleteMessage: QueuesRepo["deleteMessage"] = (queue, handle) =>
    this.#queues.deleteMessage(queue, handle);
  readonly deleteMessages: QueuesRepo["deleteMessages"] = (queue, handles) =>
    this.#queues.deleteMessages(queue, handles);
  readonly changeVisibility: QueuesRepo["changeVisibility"] = (queue, handle, visibleAt, now) =>
    this.#queues.changeVisibility(queue, handle, visibleAt, now);
  readonly purge: QueuesRepo["purge"] = (queue) => this.#queues.purge(queue);
  readonly counts: QueuesRepo["counts"] = (queue, now) => this.#queues.counts(queue, now);
  readonly nextVisibleAt: QueuesRepo["nextVisibleAt"] = (queue, now) =>
    this.#queues.nextVisibleAt(queue, now);
  readonly moveMessages: QueuesRepo["moveMessages"] = (from, to, limit, now) =>
    this.#queues.moveMessages(from, to, limit, now);
  readonly expire: QueuesRepo["expire"] = (queue, before) => this.#queues.expire(queue, before);

  // The event source mappings' methods, delegated the same way.
  readonly getMapping: EventSourceMappingsRepo["getMapping"] = (uuid) => this.#mappings.getMapping(uuid);
  readonly listMappings: EventSourceMappingsRepo["listMappings"] = (o) => this.#mappings.listMappings(o);
  readonly createMapping: EventSourceMappingsRepo["createMapping"] = (m) => this.#mappings.createMapping(m);
  readonly updateMapping: EventSourceMappingsRepo["updateMapping"] = (m) => this.#mappings.updateMapping(m);
  readonly deleteMapping: EventSourceMappingsRepo["deleteMapping"] = (uuid) =>
    this.#mappings.deleteMapping(uuid);

  // The event bus's methods, delegated the same way.
  readonly createBus: EventsRepo["createBus"] = (bus) => this.#events.createBus(bus);
  readonly getBus: EventsRepo["getBus"] = (name) => this.#events.getBus(name);
  readonly listBuses: EventsRepo["listBuses"] = (o) => this.#events.listBuses(o);
  readonly updateBus: EventsRepo["updateBus"] = (bus) => this.#events.updateBus(bus);
  readonly deleteBus: EventsRepo["deleteBus"] = (name) => this.#events.deleteBus(name);
  readonly putRule: EventsRepo["putRule"] = (rule) => this.#events.putRule(rule);
  readonly getRule: EventsRepo["getRule"] = (bus, name) => this.#events.getRule(bus, name);
  readonly listRules: EventsRepo["listRules"] = (o) => this.#events.listRules(o);
  readonly allRules: EventsRepo["allRules"] = () => this.#events.allRules();
  readonly deleteRule: EventsRepo["deleteRule"] = (bus, name) => this.#events.deleteRule(bus, name);
  readonly putTargets: EventsRepo["putTargets"] = (targets) => this.#events.putTargets(targets);
  readonly removeTargets: EventsRepo["removeTargets"] = (bus, rule, ids) =>
    this.#events.removeTargets(bus, rule, ids);
  readonly listTargets: EventsRepo["listTargets"] = (bus, rule) => this.#events.listTargets(bus, rule);
  readonly createArchive: EventsRepo["createArchive"] = (a) => this.#events.createArchive(a);
  readonly getArchive: EventsRepo["getArchive"] = (name) => this.#events.getArchive(name);
  readonly listArchives: EventsRepo["listArchives"] = (o) => this.#events.listArchives(o);
  readonly updateArchive: EventsRepo["updateArchive"] = (a) => this.#events.updateArchive(a);
  readonly deleteArchive: EventsRepo["deleteArchive"] = (name) => this.#events.deleteArchive(name);
  readonly archiveEvents: EventsRepo["archiveEvents"] = (archive, events) =>
    this.#events.archiveEvents(archive, events);
  readonly readArchive: EventsRepo["readArchive"] = (archive, o) => this.#events.readArchive(archive, o);
  readonly archiveStats: EventsRepo["archiveStats"] = (archive) => this.#events.archiveStats(archive);
  readonly expireArchive: EventsRepo["expireArchive"] = (archive, before) =>
    this.#events.expireArchive(archive, before);
  readonly createReplay: EventsRepo["createReplay"] = (r) => this.#events.createReplay(r);
  readonly getReplay: EventsRepo["getReplay"] = (name) => this.#events.getReplay(name);
  readonly listReplays: EventsRepo["listReplays"] = (o) => this.#events.listReplays(o);
  readonly updateReplay: EventsRepo["updateReplay"] = (r) => this.#events.updateReplay(r);

  // Connections, API destinations and their deliveries, delegated the same way.
  readonly createConnection: ApiDestinationsRepo["createConnection"] = (c) =>
    this.#destinations.createConnection(c);
  readonly getConnection: ApiDestinationsRepo["getConnection"] = (n) => this.#destinations.getConnection(n);
  readonly listConnections: ApiDestinationsRepo["listConnections"] = (o) =>
    this.#destinations.listConnections(o);
  readonly updateConnection: ApiDestinationsRepo["updateConnection"] = (c) =>
    this.#destinations.updateConnection(c);
  readonly deleteConnection: ApiDestinationsRepo["deleteConnection"] = (n) =>
    this.#destinations.deleteConnection(n);
  readonly createApiDestination: ApiDestinationsRepo["createApiDestination"] = (d) =>
    this.#destinations.createApiDestination(d);
  readonly getApiDestination: ApiDestinationsRepo["getApiDestination"] = (n) =>
    this.#destinations.getApiDestination(n);
  readonly listApiDestinations: ApiDestinationsRepo["listApiDestinations"] = (o) =>
    this.#destinations.listApiDestinations(o);
  readonly updateApiDestination: ApiDestinationsRepo["updateApiDestination"] = (d) =>
    this.#destinations.updateApiDestination(d);
  readonly deleteApiDestination: ApiDestinationsRepo["deleteApiDestination"] = (n) =>
    this.#destinations.deleteApiDestination(n);
  readonly enqueueHttpDeliveries: ApiDestinationsRepo["enqueueHttpDeliveries"] = (ds) =>
    this.#destinations.enqueueHttpDeliveries(ds);
  readonly claimHttpDeliveries: ApiDestinationsRepo["claimHttpDeliveries"] = (now, leaseUntil, limit) =>
    this.#destinations.claimHttpDeliveries(now, leaseUntil, limit);
  readonly retryHttpDelivery: ApiDestinationsRepo["retryHttpDelivery"] = (
    id,
    lease,
    attempts,
    nextAt,
    error,
  ) => this.#destinations.retryHttpDelivery(id, lease, attempts, nextAt, error);
  readonly deleteHttpDelivery: ApiDestinationsRepo["deleteHttpDelivery"] = (id, lease) =>
    this.#destinations.deleteHttpDelivery(id, lease);
  readonly nextHttpDeliveryAt: ApiDestinationsRepo["nextHttpDeliveryAt"] = () =>
    this.#destinations.nextHttpDeliveryAt();
  readonly countHttpDeliveries: ApiDestinationsRepo["countHttpDeliveries"] = (destination) =>
    this.#destinations.countHttpDeliveries(destination);

  async listProvisionedConfigs(functionName?: string): Promise<ProvisionedConfig[]> {
    const rows = this.#db
      .prepare(
        "SELECT body FROM provisioned_configs WHERE ? IS NULL OR function_name = ? ORDER BY function_name, qualifier",
      )
      .all(functionName ?? null, functionName ?? null) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as ProvisionedConfig);
  }

  async putProvisionedConfig(config: ProvisionedConfig): Promise<void> {
    this.#db
      .prepare(
        "INSERT INTO provisioned_configs (function_name, qualifier, body) VALUES (?, ?, ?) ON CONFLICT (function_name, qualifier) DO UPDATE SET body = excluded.body",
      )
      .run(config.functionName, config.qualifier, JSON.stringify(config));
  }

  async deleteProvisionedConfig(functionName: string, qualifier: string): Promise<boolean> {
    return (
      this.#db
        .prepare("DELETE FROM provisioned_configs WHERE function_name = ? AND qualifier = ?")
        .run(functionName, qualifier).changes === 1
    );
  }

  async recordProvisionedSpan(span: ProvisionedSpan): Promise<void> {
    recordProvisionedSpan(this.#db, span);
  }

  async provisionedSpans(
    functionName: string | undefined,
    from: number,
    to: number,
  ): Promise<ProvisionedSpan[]> {
    return provisionedSpans(this.#db, functionName, from, to);
  }

  async getAlias(functionName: string, name: string): Promise<Alias | undefined> {
    const row = this.#db
      .prepare("SELECT body FROM aliases WHERE function_name = ? AND name = ?")
      .get(functionName, name) as { body: string } | undefined;
    return row && (JSON.parse(row.body) as Alias);
  }

  async listAliases(functionName: string): Promise<Alias[]> {
    const rows = this.#db
      .prepare("SELECT body FROM aliases WHERE function_name = ? ORDER BY name")
      .all(functionName) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as Alias);
  }

  async putAlias(alias: Alias, expectedRevision: string | null): Promise<boolean> {
    const body = JSON.stringify(alias);
    if (expectedRevision === null) {
      const r = this.#db
        .prepare("INSERT OR IGNORE INTO aliases (function_name, name, revision_id, body) VALUES (?, ?, ?, ?)")
        .run(alias.functionName, alias.name, alias.revisionId, body);
      return r.changes === 1;
    }
    const r = this.#db
      .prepare(
        "UPDATE aliases SET revision_id = ?, body = ? WHERE function_name = ? AND name = ? AND revision_id = ?",
      )
      .run(alias.revisionId, body, alias.functionName, alias.name, expectedRevision);
    return r.changes === 1;
  }

  async deleteAlias(functionName: string, name: string): Promise<void> {
    this.#db.prepare("DELETE FROM aliases WHERE function_name = ? AND name = ?").run(functionName, name);
  }

  async referencedPackages(): Promise<Set<string>> {
    const rows = this.#db.prepare("SELECT DISTINCT package_id FROM versions").all() as {
      package_id: string;
    }[];
    return new Set(rows.map((r) => r.package_id));
  }

  async accountUsage(): Promise<AccountUsage> {
    const row = this.#db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM functions) AS functions,
                (SELECT COALESCE(SUM(json_extract(body, '$.codeSize')), 0) FROM versions) AS bytes`,
      )
      .get() as { functions: number; bytes: number };
    return { functionCount: row.functions, totalCodeSize: row.bytes };
  }

  /**
   * Hands the entries, packed, to the writing thread (resolves once committed), or inserts them
   * here: log rows and the usage rows of REPORT lines, in one message and one transaction.
   */
  async appendLogs(entries: readonly LogRecord[]): Promise<void> {
    const batch = packBatch(entries);
    const writer = this.#logWriter;
    if (!writer) {
      this.#insertBatch ??= batchWriter(this.#db);
      this.#insertBatch(batch);
      return;
    }
    return writer.call(batch, [...transferables(batch.logs), ...transferables(batch.usage)]) as Promise<void>;
  }

  async queryUsage(q: UsageQuery): Promise<UsageSums[]> {
    return queryUsage(this.#db, q);
  }

  async usageOf(requestId: string): Promise<UsageRecord[]> {
    return usageOf(this.#db, requestId);
  }

  async listBudgets(): Promise<Budget[]> {
    return listBudgets(this.#db);
  }

  async putBudget(b: Budget): Promise<void> {
    putBudget(this.#db, b);
  }

  async deleteBudget(scope: string): Promise<boolean> {
    return deleteBudget(this.#db, scope);
  }

  async queryLogs(q: LogQuery): Promise<StoredLog[]> {
    return queryLogs(this.#db, q);
  }

  async pruneLogs(olderThan: number): Promise<number> {
    // Usage records are rows of their own table: costs and budgets outlive the logs.
    return this.#db.prepare("DELETE FROM logs WHERE ts < ?").run(olderThan).changes;
  }

  async close(): Promise<void> {
    await this.#logWriter?.close({ op: "close" });
    this.#db.close();
  }
}
