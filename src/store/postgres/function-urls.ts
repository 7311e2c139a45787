/** Function URLs in PostgreSQL (`FunctionUrlsRepo`). */
import type { FunctionUrlConfig, FunctionUrlsRepo } from "../../control/urls/repo.js";
import { corsColumn, type FunctionUrlRow, toFunctionUrl } from "../url-row.js";
import type { Sql } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/** Migrated after `functions`: a function's URLs go with it when it is deleted. */
export const FUNCTION_URLS_MIGRATIONS: ModuleMigrations = {
  module: "function-urls",
  steps: [
    `CREATE TABLE function_urls (
       function_name text COLLATE "C" NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
       qualifier text COLLATE "C" NOT NULL,
       url_id text COLLATE "C" NOT NULL UNIQUE,
       auth_type text NOT NULL,
       invoke_mode text NOT NULL,
       cors text,
       created_at bigint NOT NULL,
       last_modified bigint NOT NULL,
       PRIMARY KEY (function_name, qualifier)
     );`,
  ],
};

export class PostgresFunctionUrlsRepo implements FunctionUrlsRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async getFunctionUrl(functionName: string, qualifier: string): Promise<FunctionUrlConfig | undefined> {
    const [row] = await this.#sql<FunctionUrlRow[]>`SELECT * FROM function_urls
      WHERE function_name = ${functionName} AND qualifier = ${qualifier}`;
    return row && toFunctionUrl(row);
  }

  async getFunctionUrlById(urlId: string): Promise<FunctionUrlConfig | undefined> {
    const [row] = await this.#sql<FunctionUrlRow[]>`SELECT * FROM function_urls WHERE url_id = ${urlId}`;
    return row && toFunctionUrl(row);
  }

  async listFunctionUrls(functionName: string): Promise<FunctionUrlConfig[]> {
    const rows = await this.#sql<FunctionUrlRow[]>`SELECT * FROM function_urls
      WHERE function_name = ${functionName} ORDER BY qualifier`;
    return rows.map(toFunctionUrl);
  }

  async listAllFunctionUrls(): Promise<FunctionUrlConfig[]> {
    const rows = await this.#sql<FunctionUrlRow[]>`SELECT * FROM function_urls
      ORDER BY function_name, qualifier`;
    return rows.map(toFunctionUrl);
  }

  async createFunctionUrl(c: FunctionUrlConfig): Promise<boolean> {
    // One statement: a concurrent create of the same (function, qualifier) waits on the key,
    // then inserts nothing. Only that conflict is ignored: a taken url_id throws (its UNIQUE), so a
    // caller never takes false to mean "this qualifier has a URL" when another function holds the id.
    const inserted = await this.#sql`INSERT INTO function_urls
        (function_name, qualifier, url_id, auth_type, invoke_mode, cors, created_at, last_modified)
      VALUES (${c.functionName}, ${c.qualifier}, ${c.urlId}, ${c.authType}, ${c.invokeMode},
        ${corsColumn(c.cors)}, ${c.createdAt}, ${c.lastModified})
      ON CONFLICT (function_name, qualifier) DO NOTHING`;
    return inserted.count === 1;
  }

  async updateFunctionUrl(c: FunctionUrlConfig): Promise<boolean> {
    const updated = await this.#sql`UPDATE function_urls
      SET auth_type = ${c.authType}, invoke_mode = ${c.invokeMode}, cors = ${corsColumn(c.cors)},
        last_modified = ${c.lastModified}
      WHERE function_name = ${c.functionName} AND qualifier = ${c.qualifier}`;
    return updated.count === 1;
  }

  async deleteFunctionUrl(functionName: string, qualifier: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM function_urls
      WHERE function_name = ${functionName} AND qualifier = ${qualifier}`;
    return deleted.count === 1;
  }
}
