/** The registry's storage in PostgreSQL: functions, their versions and aliases (`FunctionsRepo`). */
import type { AccountUsage, FunctionsRepo } from "../../control/registry/repo.js";
import type { Alias, FunctionRecord, FunctionVersion } from "../../protocol/function.js";
import { LATEST } from "../../protocol/function.js";
import type { FunctionSandbox } from "../../protocol/sandbox.js";
import { type FunctionRow, tagsColumn, toRecord, versionBody } from "../function-row.js";
import type { Sql, Tx } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/**
 * Names collate as bytes ("C"), as in SQLite, so listing and paging order does not depend on
 * the database's locale. Bodies are JSON kept as text, not jsonb: jsonb refuses the escaped
 * NUL (\u0000) that a description or an environment value may hold, and nothing queries
 * inside a body.
 */
export const FUNCTIONS_MIGRATIONS: ModuleMigrations = {
  module: "functions",
  steps: [
    `CREATE TABLE functions (
       name text COLLATE "C" PRIMARY KEY,
       reserved_concurrency integer,
       created_at bigint NOT NULL,
       last_version integer NOT NULL DEFAULT 0,
       sandbox text
     );
     CREATE TABLE versions (
       function_name text COLLATE "C" NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
       version text COLLATE "C" NOT NULL,
       revision_id text NOT NULL,
       package_id text NOT NULL,
       body text NOT NULL,
       PRIMARY KEY (function_name, version)
     );
     CREATE TABLE aliases (
       function_name text COLLATE "C" NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
       name text COLLATE "C" NOT NULL,
       revision_id text NOT NULL,
       body text NOT NULL,
       PRIMARY KEY (function_name, name)
     );`,
    // A function's tags (TagResource, template stacks' ownership), JSON as text; NULL: none.
    `ALTER TABLE functions ADD COLUMN tags text;`,
  ],
};

async function insertVersion(tx: Tx, v: FunctionVersion): Promise<void> {
  await tx`INSERT INTO versions (function_name, version, revision_id, package_id, body)
    VALUES (${v.functionName}, ${v.version}, ${v.revisionId}, ${v.packageId}, ${versionBody(v)})`;
}

export class PostgresFunctionsRepo implements FunctionsRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async getFunction(name: string): Promise<FunctionRecord | undefined> {
    const [row] = await this.#sql<FunctionRow[]>`SELECT * FROM functions WHERE name = ${name}`;
    return row && toRecord(row);
  }

  async listFunctions(afterName: string | undefined, limit: number): Promise<FunctionRecord[]> {
    const rows = await this.#sql<FunctionRow[]>`
      SELECT * FROM functions WHERE name > ${afterName ?? ""} ORDER BY name LIMIT ${limit}`;
    return rows.map(toRecord);
  }

  async createFunction(
    latest: FunctionVersion,
    createdAt: number,
    tags?: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    return this.#sql.begin(async (tx) => {
      // A concurrent create of the same name waits on the key, then inserts nothing.
      const inserted = await tx`INSERT INTO functions (name, created_at, tags)
        VALUES (${latest.functionName}, ${createdAt}, ${tagsColumn(tags)})
        ON CONFLICT (name) DO NOTHING RETURNING name`;
      if (inserted.length === 0) return false;
      await insertVersion(tx, latest);
      return true;
    });
  }

  async replaceLatest(next: FunctionVersion, expectedRevision: string): Promise<boolean> {
    // One statement: a concurrent replacement waits for the row, then re-checks the revision.
    const result = await this.#sql`UPDATE versions
      SET revision_id = ${next.revisionId}, package_id = ${next.packageId}, body = ${versionBody(next)}
      WHERE function_name = ${next.functionName} AND version = ${LATEST} AND revision_id = ${expectedRevision}`;
    return result.count === 1;
  }

  async publishVersion(
    functionName: string,
    make: (number: number) => FunctionVersion,
  ): Promise<FunctionVersion> {
    return this.#sql.begin(async (tx) => {
      // The function's row stays locked until commit: concurrent publishes take numbers in turn.
      const [row] = await tx<{ last_version: number }[]>`UPDATE functions
        SET last_version = last_version + 1 WHERE name = ${functionName} RETURNING last_version`;
      if (!row) throw new Error(`function ${functionName} vanished while publishing`);
      const version = make(row.last_version);
      await insertVersion(tx, version);
      return version;
    });
  }

  async getVersion(functionName: string, version: string): Promise<FunctionVersion | undefined> {
    const [row] = await this.#sql<{ body: string }[]>`
      SELECT body FROM versions WHERE function_name = ${functionName} AND version = ${version}`;
    return row && (JSON.parse(row.body) as FunctionVersion);
  }

  async listVersions(functionName: string): Promise<FunctionVersion[]> {
    const rows = await this.#sql<{ body: string }[]>`SELECT body FROM versions
      WHERE function_name = ${functionName}
      ORDER BY CASE WHEN version = ${LATEST} THEN 0 ELSE version::bigint END`;
    return rows.map((r) => JSON.parse(r.body) as FunctionVersion);
  }

  async deleteVersion(functionName: string, version: string): Promise<void> {
    await this.#sql`DELETE FROM versions WHERE function_name = ${functionName} AND version = ${version}`;
  }

  async deleteFunction(name: string): Promise<boolean> {
    return (await this.#sql`DELETE FROM functions WHERE name = ${name}`).count === 1;
  }

  async setReservedConcurrency(name: string, value: number | undefined): Promise<void> {
    await this.#sql`UPDATE functions SET reserved_concurrency = ${value ?? null} WHERE name = ${name}`;
  }

  async setSandbox(name: string, value: FunctionSandbox | undefined): Promise<void> {
    const text = value === undefined ? null : JSON.stringify(value);
    await this.#sql`UPDATE functions SET sandbox = ${text} WHERE name = ${name}`;
  }

  async updateTags(
    name: string,
    change: (current: Readonly<Record<string, string>>) => Record<string, string>,
  ): Promise<Record<string, string> | undefined> {
    return this.#sql.begin(async (tx) => {
      // The row stays locked until commit: a concurrent change reads what this one wrote.
      const [row] = await tx<{ tags: string | null }[]>`
        SELECT tags FROM functions WHERE name = ${name} FOR UPDATE`;
      if (!row) return undefined;
      const next = change(row.tags ? (JSON.parse(row.tags) as Record<string, string>) : {});
      await tx`UPDATE functions SET tags = ${tagsColumn(next)} WHERE name = ${name}`;
      return next;
    });
  }

  async getAlias(functionName: string, name: string): Promise<Alias | undefined> {
    const [row] = await this.#sql<{ body: string }[]>`
      SELECT body FROM aliases WHERE function_name = ${functionName} AND name = ${name}`;
    return row && (JSON.parse(row.body) as Alias);
  }

  async listAliases(functionName: string): Promise<Alias[]> {
    const rows = await this.#sql<{ body: string }[]>`
      SELECT body FROM aliases WHERE function_name = ${functionName} ORDER BY name`;
    return rows.map((r) => JSON.parse(r.body) as Alias);
  }

  async putAlias(alias: Alias, expectedRevision: string | null): Promise<boolean> {
    const body = JSON.stringify(alias);
    if (expectedRevision === null) {
      const inserted = await this.#sql`INSERT INTO aliases (function_name, name, revision_id, body)
        VALUES (${alias.functionName}, ${alias.name}, ${alias.revisionId}, ${body})
        ON CONFLICT (function_name, name) DO NOTHING`;
      return inserted.count === 1;
    }
    const updated = await this.#sql`UPDATE aliases SET revision_id = ${alias.revisionId}, body = ${body}
      WHERE function_name = ${alias.functionName} AND name = ${alias.name} AND revision_id = ${expectedRevision}`;
    return updated.count === 1;
  }

  async deleteAlias(functionName: string, name: string): Promise<void> {
    await this.#sql`DELETE FROM aliases WHERE function_name = ${functionName} AND name = ${name}`;
  }

  async referencedPackages(): Promise<Set<string>> {
    const rows = await this.#sql<{ package_id: string }[]>`SELECT DISTINCT package_id FROM versions`;
    return new Set(rows.map((r) => r.package_id));
  }

  async accountUsage(): Promise<AccountUsage> {
    // Bodies are JSON kept as text (jsonb refuses the NUL a description may hold): cast to read.
    const [row] = await this.#sql<{ functions: number; bytes: number }[]>`
      SELECT (SELECT COUNT(*) FROM functions)::bigint AS functions,
             (SELECT COALESCE(SUM((body::json ->> 'codeSize')::bigint), 0) FROM versions)::bigint AS bytes`;
    return { functionCount: row?.functions ?? 0, totalCodeSize: row?.bytes ?? 0 };
  }
}
