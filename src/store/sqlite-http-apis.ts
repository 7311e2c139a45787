/**
 * HTTP APIs in SQLite (`HttpApisRepo`, served through `SqliteStore`): tables `http_apis` and
 * `http_api_deployments` of `sqlite-migrations.ts`'s HTTP_APIS_MIGRATIONS.
 */
import type Database from "better-sqlite3";
import type { ApiDeployment, HttpApi } from "../services/http-apis/model.js";
import type { HttpApisRepo } from "../services/http-apis/repo.js";
import { type BodyRow, documentBody, toDeployment, toHttpApi } from "./http-api-row.js";

export class SqliteHttpApisRepo implements HttpApisRepo {
  readonly #db: Database.Database;

  /** `db` has foreign keys on: deleting an API deletes its deployments. */
  constructor(db: Database.Database) {
    this.#db = db;
  }

  async getHttpApi(apiId: string): Promise<HttpApi | undefined> {
    const row = this.#db.prepare("SELECT body FROM http_apis WHERE api_id = ?").get(apiId) as
      | BodyRow
      | undefined;
    return row && toHttpApi(row);
  }

  async listHttpApis(): Promise<HttpApi[]> {
    const rows = this.#db.prepare("SELECT body FROM http_apis ORDER BY api_id").all() as BodyRow[];
    return rows.map(toHttpApi);
  }

  async putHttpApi(api: HttpApi): Promise<void> {
    // An upsert, not INSERT OR REPLACE: REPLACE deletes the old row first, and the cascade
    // would take the API's deployments with it.
    this.#db
      .prepare(
        `INSERT INTO http_apis (api_id, body) VALUES (?, ?)
         ON CONFLICT (api_id) DO UPDATE SET body = excluded.body`,
      )
      .run(api.apiId, documentBody(api));
  }

  async deleteHttpApi(apiId: string): Promise<boolean> {
    return this.#db.prepare("DELETE FROM http_apis WHERE api_id = ?").run(apiId).changes === 1;
  }

  async putDeployment(d: ApiDeployment): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO http_api_deployments (api_id, deployment_id, body, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (api_id, deployment_id) DO UPDATE SET body = excluded.body, created_at = excluded.created_at`,
      )
      .run(d.apiId, d.deploymentId, documentBody(d), d.createdAt);
  }

  async getDeployment(apiId: string, deploymentId: string): Promise<ApiDeployment | undefined> {
    const row = this.#db
      .prepare("SELECT body FROM http_api_deployments WHERE api_id = ? AND deployment_id = ?")
      .get(apiId, deploymentId) as BodyRow | undefined;
    return row && toDeployment(row);
  }

  async listDeployments(apiId: string): Promise<ApiDeployment[]> {
    const rows = this.#db
      .prepare("SELECT body FROM http_api_deployments WHERE api_id = ? ORDER BY created_at, deployment_id")
      .all(apiId) as BodyRow[];
    return rows.map(toDeployment);
  }

  async deleteDeployment(apiId: string, deploymentId: string): Promise<boolean> {
    return (
      this.#db
        .prepare("DELETE FROM http_api_deployments WHERE api_id = ? AND deployment_id = ?")
        .run(apiId, deploymentId).changes === 1
    );
  }
}
