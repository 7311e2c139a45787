/** Per-module migrations on a real PostgreSQL schema: applied once, in one transaction, under a lock. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { TestPostgres } from "../contract/test-postgres.js";
import { connectPostgres, type PostgresOptions, type Sql } from "./connect.js";
import { type ModuleMigrations, migrate } from "./migrate.js";
import { POSTGRES_MIGRATIONS } from "./repos.js";

const server = new TestPostgres(process.env.NIMBUS_TEST_POSTGRES_URL);
after(() => server.close());

/** Runs `body` with pools on a fresh schema, then closes them and drops it. */
async function onFreshSchema(pools: number, body: (sql: Sql[], options: PostgresOptions) => Promise<void>) {
  const { options, drop } = await server.freshSchema();
  const sql = Array.from({ length: pools }, () => connectPostgres(options));
  try {
    await body(sql, options);
  } finally {
    await Promise.all(sql.map((s) => s.end()));
    await drop();
  }
}

async function applied(sql: Sql): Promise<string[]> {
  const rows = await sql<{ module: string; version: number }[]>`
    SELECT module, version FROM nimbus_migrations ORDER BY module, version`;
  return rows.map((r) => `${r.module}:${r.version}`);
}

async function tableExists(sql: Sql, name: string): Promise<boolean> {
  const [row] = await sql<{ found: string | null }[]>`SELECT to_regclass(${name})::text AS found`;
  return row?.found != null;
}

const ALL_STEPS = POSTGRES_MIGRATIONS.flatMap((m) => m.steps.map((_, i) => `${m.module}:${i + 1}`)).sort();

test("two platforms starting at once on one schema apply each step once, and both start", () =>
  onFreshSchema(2, async ([a, b]) => {
    await Promise.all([migrate(a!, POSTGRES_MIGRATIONS), migrate(b!, POSTGRES_MIGRATIONS)]);
    assert.deepEqual(await applied(a!), ALL_STEPS);
    await migrate(a!, POSTGRES_MIGRATIONS);
    assert.deepEqual(await applied(a!), ALL_STEPS, "a migrated schema is left as it is");
  }));

test("a step added to a module later is applied alone, leaving other modules as they are", () =>
  onFreshSchema(1, async ([sql]) => {
    const one: ModuleMigrations = { module: "one", steps: ["CREATE TABLE t1 (x integer)"] };
    const two: ModuleMigrations = { module: "two", steps: ["CREATE TABLE t2 (x integer)"] };
    await migrate(sql!, [one, two]);
    const grown = { ...one, steps: [...one.steps, "ALTER TABLE t1 ADD COLUMN y integer"] };
    await migrate(sql!, [grown, two]);
    assert.deepEqual(await applied(sql!), ["one:1", "one:2", "two:1"]);
    await sql!`INSERT INTO t1 (x, y) VALUES (1, 2)`;
  }));

test("a failing step leaves the schema as it was, earlier steps of the run included", () =>
  onFreshSchema(1, async ([sql]) => {
    const broken: ModuleMigrations = {
      module: "broken",
      steps: ["CREATE TABLE fine (x integer)", "CREATE TABLE bad (x no_such_type)"],
    };
    await assert.rejects(migrate(sql!, [broken]), /no_such_type/);
    assert.equal(await tableExists(sql!, "fine"), false);
    assert.equal(await tableExists(sql!, "nimbus_migrations"), false);
  }));

test("a schema migrated by a newer Nimbus is refused, saying so", () =>
  onFreshSchema(1, async ([sql]) => {
    await migrate(sql!, [
      { module: "m", steps: ["CREATE TABLE a (x integer)", "CREATE TABLE b (x integer)"] },
    ]);
    await assert.rejects(
      migrate(sql!, [{ module: "m", steps: ["CREATE TABLE a (x integer)"] }]),
      /module "m" at version 2, this Nimbus knows only 1/,
    );
  }));

test("a schema that does not exist is refused, saying how to create it", () =>
  onFreshSchema(0, async (_, options) => {
    const sql = connectPostgres({ ...options, schema: `${options.schema}_missing` });
    try {
      await assert.rejects(migrate(sql, POSTGRES_MIGRATIONS), /CREATE SCHEMA/);
    } finally {
      await sql.end();
    }
  }));
