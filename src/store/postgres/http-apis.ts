/** HTTP APIs and their deployments in PostgreSQL (`HttpApisRepo`). */
import type { ApiDeployment, HttpApi } from "../../services/http-apis/model.js";
import type { HttpApisRepo } from "../../services/http-apis/repo.js";
import { type BodyRow, documentBody, toDeployment, toHttpApi } from "../http-api-row.js";
import type { Sql } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/** References no other module's tables; an API's deployments go with it. */
export const HTTP_APIS_MIGRATIONS: ModuleMigrations = {
  module: "http-apis",
  steps: [
    `CREATE TABLE http_apis (
       api_id text COLLATE "C" PRIMARY KEY,
       body text NOT NULL
     );
     CREATE TABLE http_api_deployments (
       api_id text COLLATE "C" NOT NULL REFERENCES http_apis (api_id) ON DELETE CASCADE,
       deployment_id text COLLATE "C" NOT NULL,
       body text NOT NULL,
       created_at bigint NOT NULL,
       PRIMARY KEY (api_id, deployment_id)
     );`,
  ],
};

export class PostgresHttpApisRepo implements HttpApisRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async getHttpApi(apiId: string): Promise<HttpApi | undefined> {
    const [row] = await this.#sql<BodyRow[]>`SELECT body FROM http_apis WHERE api_id = ${apiId}`;
    return row && toHttpApi(row);
  }

  async listHttpApis(): Promise<HttpApi[]> {
    const rows = await this.#sql<BodyRow[]>`SELECT body FROM http_apis ORDER BY api_id`;
    return rows.map(toHttpApi);
  }

  async putHttpApi(api: HttpApi): Promise<void> {
    // An update in place keeps the row, so its deployments stay (a delete would cascade).
    await this.#sql`INSERT INTO http_apis (api_id, body) VALUES (${api.apiId}, ${documentBody(api)})
      ON CONFLICT (api_id) DO UPDATE SET body = excluded.body`;
  }

  async deleteHttpApi(apiId: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM http_apis WHERE api_id = ${apiId}`;
    return deleted.count === 1;
  }

  async putDeployment(d: ApiDeployment): Promise<void> {
    await this.#sql`INSERT INTO http_api_deployments (api_id, deployment_id, body, created_at)
      VALUES (${d.apiId}, ${d.deploymentId}, ${documentBody(d)}, ${d.createdAt})
      ON CONFLICT (api_id, deployment_id) DO UPDATE SET body = excluded.body, created_at = excluded.created_at`;
  }

  async getDeployment(apiId: string, deploymentId: string): Promise<ApiDeployment | undefined> {
    const [row] = await this.#sql<BodyRow[]>`SELECT body FROM http_api_deployments
      WHERE api_id = ${apiId} AND deployment_id = ${deploymentId}`;
    return row && toDeployment(row);
  }

  async listDeployments(apiId: string): Promise<ApiDeployment[]> {
    const rows = await this.#sql<BodyRow[]>`SELECT body FROM http_api_deployments
      WHERE api_id = ${apiId} ORDER BY created_at, deployment_id`;
    return rows.map(toDeployment);
  }

  async deleteDeployment(apiId: string, deploymentId: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM http_api_deployments
      WHERE api_id = ${apiId} AND deployment_id = ${deploymentId}`;
    return deleted.count === 1;
  }
}
