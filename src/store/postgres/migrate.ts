/**
 * Schema migrations, tracked per module: `nimbus_migrations` holds one row per (module, version)
 * applied. Each module keeps its own ordered list beside its repository, so adding a table to
 * one module never renumbers another's. Everything runs in one transaction under an advisory
 * lock: two platforms starting at once on one schema apply each step once, and a failed step
 * leaves the schema as it was (PostgreSQL's DDL is transactional).
 */
import type { Sql } from "./connect.js";

export interface ModuleMigrations {
  /** The module's key in `nimbus_migrations`. */
  readonly module: string;
  /** Its steps in order, each SQL (several statements allowed). A released step is never edited: add one. */
  readonly steps: readonly string[];
}

/** Brings every module's tables up to date, in the order given (a module may reference an earlier one's). */
export async function migrate(sql: Sql, modules: readonly ModuleMigrations[]): Promise<void> {
  await sql.begin(async (tx) => {
    const [where] = await tx<{ schema: string | null }[]>`SELECT current_schema() AS schema`;
    if (!where?.schema) {
      throw new Error(
        "cannot migrate the PostgreSQL schema: the search path names no schema that exists; create it (CREATE SCHEMA name) or leave the schema unset for public",
      );
    }
    // Held until commit; keyed by schema so that platforms on other schemas do not wait.
    await tx`SELECT pg_advisory_xact_lock(hashtext(${`nimbus_migrations:${where.schema}`}))`;
    await tx`CREATE TABLE IF NOT EXISTS nimbus_migrations (
      module text COLLATE "C" NOT NULL,
      version integer NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (module, version)
    )`;
    const rows = await tx<{ module: string; version: number }[]>`
      SELECT module, max(version) AS version FROM nimbus_migrations GROUP BY module`;
    const applied = new Map(rows.map((r) => [r.module, r.version]));
    for (const m of modules) {
      const from = applied.get(m.module) ?? 0;
      if (from > m.steps.length) {
        throw new Error(
          `the PostgreSQL schema "${where.schema}" has module "${m.module}" at version ${from}, this Nimbus knows only ${m.steps.length}: run a newer Nimbus`,
        );
      }
      for (let i = from; i < m.steps.length; i++) {
        await tx.unsafe(m.steps[i]!);
        await tx`INSERT INTO nimbus_migrations (module, version) VALUES (${m.module}, ${i + 1})`;
      }
    }
  });
}
