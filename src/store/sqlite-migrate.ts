/**
 * Brings a SQLite database's modules up to date (`sqlite-migrations.ts`): the steps each module
 * has that `nimbus_migrations` does not list, each in a transaction with its row. A database
 * made before per-module tracking (its steps counted in `PRAGMA user_version`) first has the
 * steps it applied recorded under their modules, once.
 */
import type Database from "better-sqlite3";
import { LEGACY_ORDER, type SqliteModuleMigrations } from "./sqlite-migrations.js";

/** `user_version` of a database whose steps are tracked per module. */
export const PER_MODULE_VERSION = 1000;

export function migrateSqlite(db: Database.Database, modules: readonly SqliteModuleMigrations[]): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS nimbus_migrations (
      module TEXT NOT NULL,
      version INTEGER NOT NULL,
      applied_at INTEGER NOT NULL,
      PRIMARY KEY (module, version)
    )`);
    const legacy = db.pragma("user_version", { simple: true }) as number;
    if (legacy === PER_MODULE_VERSION) return;
    if (legacy > LEGACY_ORDER.length) {
      throw new Error(
        `the database's schema is at step ${legacy}, newer than this Nimbus knows: run a newer Nimbus`,
      );
    }
    const record = db.prepare("INSERT INTO nimbus_migrations (module, version, applied_at) VALUES (?, ?, ?)");
    for (const step of LEGACY_ORDER.slice(0, legacy))
      for (const [module, version] of step) record.run(module, version, Date.now());
    db.pragma(`user_version = ${PER_MODULE_VERSION}`);
  })();
  const rows = db
    .prepare("SELECT module, max(version) AS version FROM nimbus_migrations GROUP BY module")
    .all() as {
    module: string;
    version: number;
  }[];
  const applied = new Map(rows.map((r) => [r.module, r.version]));
  const record = db.prepare("INSERT INTO nimbus_migrations (module, version, applied_at) VALUES (?, ?, ?)");
  for (const m of modules) {
    const from = applied.get(m.module) ?? 0;
    if (from > m.steps.length) {
      throw new Error(
        `the database has module "${m.module}" at version ${from}, this Nimbus knows only ${m.steps.length}: run a newer Nimbus`,
      );
    }
    for (let i = from; i < m.steps.length; i++) {
      db.transaction(() => {
        db.exec(m.steps[i]!);
        record.run(m.module, i + 1, Date.now());
      })();
    }
  }
}
