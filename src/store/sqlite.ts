/** The embedded metadata store: one SQLite file in the data directory (WAL mode). */
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import type { EventInvokeConfig } from "../control/async/event-configs-repo.js";
import type { LogQuery, LogRecord, StoredLog } from "../control/logs-repo.js";
import type { ProvisionedConfig, ProvisionedSpan } from "../control/provisioned-repo.js";
import type { AccountUsage } from "../control/registry/repo.js";
import type { FunctionUrlConfig } from "../control/urls/repo.js";
import type { Budget, UsageQuery, UsageRecord, UsageSums } from "../control/usage-repo.js";
import type { Alias, FunctionRecord, FunctionVersion } from "../protocol/function.js";
import { LATEST } from "../protocol/function.js";
import type { FunctionSandbox } from "../protocol/sandbox.js";
import type { ApiDeployment, HttpApi } from "../services/http-apis/model.js";
import { type FunctionRow, tagsColumn, toRecord, versionBody } from "./function-row.js";
import { transferables } from "./packed-rows.js";
import { SqliteHttpApisRepo } from "./sqlite-http-apis.js";
import type { WriterRequest } from "./sqlite-log-worker.js";
import { migrateSqlite } from "./sqlite-migrate.js";
import { SQLITE_MODULES } from "./sqlite-migrations.js";
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
import { ThreadRpc } from "./thread-rpc.js";
import type { MetadataStore } from "./types.js";
import { corsColumn, type FunctionUrlRow, toFunctionUrl } from "./url-row.js";

export class SqliteStore implements MetadataStore {
  readonly #db: Database.Database;
  readonly #logWriter: ThreadRpc<WriterRequest> | undefined;
  readonly #httpApis: SqliteHttpApisRepo;
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
    this.#httpApis = new SqliteHttpApisRepo(this.#db);
    if (path !== ":memory:") {
      const worker = new Worker(new URL("./sqlite-log-worker.js", import.meta.url), { workerData: { path } });
      this.#logWriter = new ThreadRpc(worker, "log writer");
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

  async getEventInvokeConfig(
    functionName: string,
    qualifier: string,
  ): Promise<EventInvokeConfig | undefined> {
    const row = this.#db
      .prepare("SELECT body FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?")
      .get(functionName, qualifier) as { body: string } | undefined;
    return row && (JSON.parse(row.body) as EventInvokeConfig);
  }

  async listEventInvokeConfigs(functionName: string): Promise<EventInvokeConfig[]> {
    const rows = this.#db
      .prepare("SELECT body FROM event_invoke_configs WHERE function_name = ? ORDER BY qualifier")
      .all(functionName) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as EventInvokeConfig);
  }

  async putEventInvokeConfig(config: EventInvokeConfig): Promise<void> {
    this.#db
      .prepare(
        "INSERT INTO event_invoke_configs (function_name, qualifier, body) VALUES (?, ?, ?) ON CONFLICT (function_name, qualifier) DO UPDATE SET body = excluded.body",
      )
      .run(config.functionName, config.qualifier, JSON.stringify(config));
  }

  async deleteEventInvokeConfig(functionName: string, qualifier: string): Promise<boolean> {
    return (
      this.#db
        .prepare("DELETE FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?")
        .run(functionName, qualifier).changes === 1
    );
  }

  async getFunctionUrl(functionName: string, qualifier: string): Promise<FunctionUrlConfig | undefined> {
    const row = this.#db
      .prepare("SELECT * FROM function_urls WHERE function_name = ? AND qualifier = ?")
      .get(functionName, qualifier) as FunctionUrlRow | undefined;
    return row && toFunctionUrl(row);
  }

  async getFunctionUrlById(urlId: string): Promise<FunctionUrlConfig | undefined> {
    const row = this.#db.prepare("SELECT * FROM function_urls WHERE url_id = ?").get(urlId) as
      | FunctionUrlRow
      | undefined;
    return row && toFunctionUrl(row);
  }

  async listFunctionUrls(functionName: string): Promise<FunctionUrlConfig[]> {
    const rows = this.#db
      .prepare("SELECT * FROM function_urls WHERE function_name = ? ORDER BY qualifier")
      .all(functionName) as FunctionUrlRow[];
    return rows.map(toFunctionUrl);
  }

  async listAllFunctionUrls(): Promise<FunctionUrlConfig[]> {
    const rows = this.#db
      .prepare("SELECT * FROM function_urls ORDER BY function_name, qualifier")
      .all() as FunctionUrlRow[];
    return rows.map(toFunctionUrl);
  }

  async createFunctionUrl(c: FunctionUrlConfig): Promise<boolean> {
    // Only a taken (function, qualifier) is ignored: a taken url_id throws (its UNIQUE), so a
    // caller never takes false to mean "this qualifier has a URL" when another function holds the id.
    const inserted = this.#db
      .prepare(
        `INSERT INTO function_urls
           (function_name, qualifier, url_id, auth_type, invoke_mode, cors, created_at, last_modified)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (function_name, qualifier) DO NOTHING`,
      )
      .run(
        c.functionName,
        c.qualifier,
        c.urlId,
        c.authType,
        c.invokeMode,
        corsColumn(c.cors),
        c.createdAt,
        c.lastModified,
      );
    return inserted.changes === 1;
  }

  async updateFunctionUrl(c: FunctionUrlConfig): Promise<boolean> {
    const updated = this.#db
      .prepare(
        `UPDATE function_urls SET auth_type = ?, invoke_mode = ?, cors = ?, last_modified = ?
         WHERE function_name = ? AND qualifier = ?`,
      )
      .run(c.authType, c.invokeMode, corsColumn(c.cors), c.lastModified, c.functionName, c.qualifier);
    return updated.changes === 1;
  }

  async deleteFunctionUrl(functionName: string, qualifier: string): Promise<boolean> {
    return (
      this.#db
        .prepare("DELETE FROM function_urls WHERE function_name = ? AND qualifier = ?")
        .run(functionName, qualifier).changes === 1
    );
  }

  getHttpApi(apiId: string): Promise<HttpApi | undefined> {
    return this.#httpApis.getHttpApi(apiId);
  }

  listHttpApis(): Promise<HttpApi[]> {
    return this.#httpApis.listHttpApis();
  }

  putHttpApi(api: HttpApi): Promise<void> {
    return this.#httpApis.putHttpApi(api);
  }

  deleteHttpApi(apiId: string): Promise<boolean> {
    return this.#httpApis.deleteHttpApi(apiId);
  }

  putDeployment(deployment: ApiDeployment): Promise<void> {
    return this.#httpApis.putDeployment(deployment);
  }

  getDeployment(apiId: string, deploymentId: string): Promise<ApiDeployment | undefined> {
    return this.#httpApis.getDeployment(apiId, deploymentId);
  }

  listDeployments(apiId: string): Promise<ApiDeployment[]> {
    return this.#httpApis.listDeployments(apiId);
  }

  deleteDeployment(apiId: string, deploymentId: string): Promise<boolean> {
    return this.#httpApis.deleteDeployment(apiId, deploymentId);
  }

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
