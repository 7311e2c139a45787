import assert from "node:assert/strict";
import { test } from "node:test";
import Database from "better-sqlite3";
import { migrateSqlite, PER_MODULE_VERSION } from "./sqlite-migrate.js";
import { LEGACY_ORDER, SQLITE_MODULES } from "./sqlite-migrations.js";

/** Every table's columns and indexes, as SQLite reports them (not the text that made them). */
function shape(db: Database.Database): unknown {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string }[];
  return tables.map(({ name }) => ({
    name,
    columns: db.pragma(`table_info(${name})`),
    indexes: (db.pragma(`index_list(${name})`) as { name: string; unique: number; partial: number }[])
      .map((i) => ({ ...i, columns: db.pragma(`index_info(${i.name})`) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  }));
}

function applied(db: Database.Database): string[] {
  return (
    db.prepare("SELECT module, version FROM nimbus_migrations ORDER BY module, version").all() as {
      module: string;
      version: number;
    }[]
  ).map((r) => `${r.module}@${r.version}`);
}

const EVERY_STEP = SQLITE_MODULES.flatMap((m) => m.steps.map((_, i) => `${m.module}@${i + 1}`)).sort();

function stepOf(module: string, version: number): string {
  return SQLITE_MODULES.find((m) => m.module === module)!.steps[version - 1]!;
}

test("a new database gets every module's steps, each recorded under its module", () => {
  const db = new Database(":memory:");
  migrateSqlite(db, SQLITE_MODULES);
  assert.deepEqual(applied(db), EVERY_STEP);
  assert.equal(db.pragma("user_version", { simple: true }), PER_MODULE_VERSION);
  // Opening again applies nothing.
  migrateSqlite(db, SQLITE_MODULES);
  assert.deepEqual(applied(db), EVERY_STEP);
});

test("a database made by any earlier Nimbus (steps counted in user_version) ends with the same tables as a new one", () => {
  const fresh = new Database(":memory:");
  migrateSqlite(fresh, SQLITE_MODULES);
  for (let made = 0; made <= LEGACY_ORDER.length; made++) {
    const db = new Database(":memory:");
    for (const step of LEGACY_ORDER.slice(0, made)) for (const [m, v] of step) db.exec(stepOf(m, v));
    db.pragma(`user_version = ${made}`);
    migrateSqlite(db, SQLITE_MODULES);
    assert.deepEqual(shape(db), shape(fresh), `a database at legacy step ${made}`);
    assert.deepEqual(applied(db), EVERY_STEP, `a database at legacy step ${made}`);
  }
});

test("a module newer than this Nimbus knows stops the open and says to run a newer Nimbus", () => {
  const db = new Database(":memory:");
  migrateSqlite(db, SQLITE_MODULES);
  db.prepare("INSERT INTO nimbus_migrations (module, version, applied_at) VALUES ('logs', 99, 0)").run();
  assert.throws(() => migrateSqlite(db, SQLITE_MODULES), /module "logs" at version 99.*run a newer Nimbus/);
});

test("a step that fails leaves its module where it was, and the steps before it applied", () => {
  const db = new Database(":memory:");
  const broken = [
    { module: "a", steps: ["CREATE TABLE a (x INTEGER);", "ALTER TABLE missing ADD COLUMN y TEXT;"] },
  ];
  assert.throws(() => migrateSqlite(db, broken), /no such table: missing/);
  assert.deepEqual(applied(db), ["a@1"]);
});
