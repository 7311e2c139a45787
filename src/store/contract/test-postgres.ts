/**
 * The PostgreSQL server of the tests. A test run gets a database of its own, and each opening
 * a schema in it, so that parallel runs (other files, other engineers' runs) never meet. The
 * database sorts text by a linguistic collation (ICU en-US, as most installations default to),
 * where byte order differs ("a" before "B"): the stores must list in byte order, as SQLite
 * does, whatever the database's collation, and a test database in byte order could not show it.
 * For the same reason its sessions' time zone is not UTC: days and months of usage are UTC's.
 */
import { randomBytes } from "node:crypto";
import {
  connectFailure,
  connectPostgres,
  type PostgresOptions,
  quoteIdentifier,
  type Sql,
  shownUrl,
} from "../postgres/connect.js";

const DEFAULT_TEST_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";
const PROBE_TIMEOUT_S = 5;
/** A run's database left this long (its run was killed before it could drop it) is dropped by the next run. */
const STALE_DATABASE_S = 3_600;
const RUN_DATABASE = /^nimbus_test_(\d+)_[0-9a-f]+$/;
/** Enough for the concurrency tests to hold several transactions open at once. */
const TEST_POOL_CONNECTIONS = 4;
const IDLE_TIMEOUT_S = 1;

interface RunDatabase {
  /** The database the URL names, to create and drop the run's own. */
  readonly server: Sql;
  /** The run's own database, to create and drop schemas in. */
  readonly own: Sql;
  readonly url: string;
  readonly name: string;
}

export class TestPostgres {
  readonly #url: string;
  #database: Promise<RunDatabase> | undefined;

  /** `url`: NIMBUS_TEST_POSTGRES_URL where set, else the local server CI starts. */
  constructor(url: string | undefined) {
    this.#url = url ?? DEFAULT_TEST_POSTGRES_URL;
  }

  /** A new, empty schema and the options that open it; fails, saying how to start PostgreSQL, if it is down. */
  async freshSchema(): Promise<{ options: PostgresOptions; drop(): Promise<void> }> {
    const db = await this.#reach();
    const schema = `nimbus_${randomBytes(6).toString("hex")}`;
    await db.own.unsafe(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
    return {
      options: { url: db.url, schema, maxConnections: TEST_POOL_CONNECTIONS },
      drop: async () => {
        await db.own.unsafe(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      },
    };
  }

  /** Drops the run's database. */
  async close(): Promise<void> {
    const db = await this.#database?.catch(() => undefined);
    if (!db) return;
    await db.own.end();
    await db.server.unsafe(`DROP DATABASE IF EXISTS ${quoteIdentifier(db.name)} WITH (FORCE)`);
    await db.server.end();
  }

  /** The first call reaches the server; a failure is kept, so that every test fails at once with it. */
  #reach(): Promise<RunDatabase> {
    this.#database ??= (async () => {
      // Idle connections close on their own, so that a test process whose tests are done can
      // exit (and drop its database on the way out: test/helpers/store.ts).
      const server = connectPostgres({
        url: this.#url,
        maxConnections: 1,
        connectTimeoutS: PROBE_TIMEOUT_S,
        idleTimeoutS: IDLE_TIMEOUT_S,
      });
      try {
        await server`SELECT 1`;
      } catch (err) {
        await server.end({ timeout: 0 });
        throw new Error(
          `PostgreSQL is not reachable at ${shownUrl(this.#url)} (${connectFailure(err)}); the PostgreSQL half of these tests needs it. ` +
            "Start it with `pg_ctlcluster --skip-systemctl-redirect 15 main start` (CI's script starts it), " +
            "or point NIMBUS_TEST_POSTGRES_URL at a server where the user may create databases.",
        );
      }
      await dropStale(server);
      const name = `nimbus_test_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString("hex")}`;
      await server.unsafe(
        `CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`,
      );
      // UTC−3:30: a day or month taken in the session's zone would start at another hour.
      await server.unsafe(`ALTER DATABASE ${quoteIdentifier(name)} SET timezone TO 'America/St_Johns'`);
      const url = new URL(this.#url);
      url.pathname = `/${name}`;
      const own = connectPostgres({ url: url.href, maxConnections: 1, idleTimeoutS: IDLE_TIMEOUT_S });
      return { server, own, url: url.href, name };
    })();
    return this.#database;
  }
}

/** Drops the databases of runs that were killed; one still connected to refuses, and is left. */
async function dropStale(server: Sql): Promise<void> {
  const rows: { datname: string }[] = await server`
    SELECT datname FROM pg_database WHERE datname LIKE 'nimbus_test_%'`;
  const nowS = Date.now() / 1000;
  for (const { datname } of rows) {
    const createdS = Number(RUN_DATABASE.exec(datname)?.[1] ?? Number.NaN);
    if (!(nowS - createdS > STALE_DATABASE_S)) continue;
    await server.unsafe(`DROP DATABASE IF EXISTS ${quoteIdentifier(datname)}`).catch(() => {});
  }
}
