/**
 * The store the end-to-end tests run on: SQLite (the default), or PostgreSQL when
 * NIMBUS_TEST_STORE=postgres (scripts/run-tests.js runs the store-bound files once more so).
 * On PostgreSQL each test file gets a database of its own and each platform a schema in it.
 */
import { TestPostgres } from "../../src/store/contract/test-postgres.js";

export const TEST_STORE = process.env.NIMBUS_TEST_STORE === "postgres" ? "postgres" : "sqlite";

let server: TestPostgres | undefined;

/** A `store` setting for one platform (reused across its restarts), and how to drop what it held. */
export async function testStore(): Promise<{ store: string; drop(): Promise<void> }> {
  if (TEST_STORE === "sqlite") return { store: "sqlite", drop: async () => {} };
  if (!server) {
    const own = new TestPostgres(process.env.NIMBUS_TEST_POSTGRES_URL);
    server = own;
    // The file's database goes when the file's tests are done (a killed run's, at a later run).
    let closing = false;
    process.on("beforeExit", () => {
      if (closing) return;
      closing = true;
      void own.close().catch(() => {});
    });
  }
  const schema = await server.freshSchema();
  const url = new URL(schema.options.url);
  url.searchParams.set("schema", schema.options.schema!);
  return { store: url.href, drop: schema.drop };
}
