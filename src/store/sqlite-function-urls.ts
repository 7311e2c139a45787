/**
 * Function URLs in SQLite (`FunctionUrlsRepo`, served through `SqliteStore`): table
 * `function_urls` of `sqlite-migrations.ts`'s FUNCTION_URLS_MIGRATIONS.
 */
import type Database from "better-sqlite3";
import type { FunctionUrlConfig, FunctionUrlsRepo } from "../control/urls/repo.js";
import { corsColumn, type FunctionUrlRow, toFunctionUrl } from "./url-row.js";

export class SqliteFunctionUrlsRepo implements FunctionUrlsRepo {
  readonly #db: Database.Database;

  /** `db` has foreign keys on: deleting a function deletes its URLs. */
  constructor(db: Database.Database) {
    this.#db = db;
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
}
