/**
 * End to end: `nimbus up --store postgres://…`. What only the PostgreSQL store has: a schema
 * held by one platform at a time, the errors a user sees when the database is not there, and
 * state that outlives the platform in the database. (The rest of the end-to-end suite runs on
 * PostgreSQL too: scripts/run-tests.js runs it again with NIMBUS_TEST_STORE=postgres.)
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { NimbusClient, resolveClientOptions } from "../src/cli/client.js";
import { TestPostgres } from "../src/store/contract/test-postgres.js";
import { exited, nimbus, startUp } from "./helpers/cli.js";

const server = new TestPostgres(process.env.NIMBUS_TEST_POSTGRES_URL);
const dirs: string[] = [];
after(async () => {
  await server.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nimbus-pg-"));
  chmodSync(dir, 0o711);
  dirs.push(dir);
  return dir;
}

async function schemaUrl(): Promise<string> {
  const fresh = await server.freshSchema();
  const url = new URL(fresh.options.url);
  url.searchParams.set("schema", fresh.options.schema!);
  return url.href;
}

test("a PostgreSQL that is not there: exit 3, a message that says what to do, the data directory left free", async () => {
  const dir = dataDir();
  const refused = await nimbus(
    dir,
    "up",
    "--port",
    "0",
    "--data",
    dir,
    "--store",
    "postgres://127.0.0.1:1/nimbus",
  );
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(
    refused.stderr,
    /cannot open the PostgreSQL store postgres:\/\/127\.0\.0\.1:1\/nimbus: .*ECONNREFUSED/,
  );
  assert.match(refused.stderr, /--store sqlite/);
  // Nothing of the failed start holds the directory.
  const up = startUp(dir);
  await up.out.waitFor(/Nimbus is running at/);
  up.child.kill("SIGTERM");
  assert.equal(await exited(up.child), 0);
});

test("a store that is neither sqlite nor a PostgreSQL URL is a usage error (exit 2)", async () => {
  const dir = dataDir();
  const refused = await nimbus(
    dir,
    "up",
    "--port",
    "0",
    "--data",
    dir,
    "--store",
    "mysql://127.0.0.1/nimbus",
  );
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /store must be sqlite, or a PostgreSQL URL/);
});

test("one platform per schema: a second is refused, naming the first's session; the password never shows", async () => {
  const store = await schemaUrl();
  const first = startUp(dataDir(), "--store", store);
  try {
    await first.out.waitFor(/Nimbus is running at/);
    const dir = dataDir();
    const withPassword = new URL(store);
    withPassword.password = "s3cret";
    const second = await nimbus(dir, "up", "--port", "0", "--data", dir, "--store", withPassword.href);
    assert.equal(second.code, 3, second.stderr);
    assert.match(second.stderr, /is in use by another Nimbus platform \(PostgreSQL session \d+/);
    assert.match(second.stderr, /\?schema=name/);
    assert.doesNotMatch(second.stderr, /s3cret/);
  } finally {
    first.child.kill("SIGTERM");
    assert.equal(await exited(first.child), 0);
  }
  // Released with the first platform's session.
  const dir = dataDir();
  const again = startUp(dir, "--store", store);
  await again.out.waitFor(/Nimbus is running at/);
  again.child.kill("SIGKILL");
  await exited(again.child);
  // A killed platform's session ends with its socket: the schema is free for the next start.
  const next = startUp(dir, "--store", store);
  await next.out.waitFor(/Nimbus is running at/);
  next.child.kill("SIGTERM");
  assert.equal(await exited(next.child), 0);
});

test("functions, versions and invocation records live in the database and outlive the platform", async () => {
  const store = await schemaUrl();
  const dir = dataDir();
  const fnDir = dataDir();
  writeFileSync(join(fnDir, "index.mjs"), "export const handler = async (e) => ({ doubled: e.n * 2 });");
  let up = startUp(dir, "--store", store);
  try {
    await up.out.waitFor(/Nimbus is running at/);
    assert.equal((await nimbus(dir, "deploy", fnDir, "--name", "doubler")).code, 0);
    assert.equal((await nimbus(dir, "versions", "publish", "doubler")).code, 0);
    const client = new NimbusClient(resolveClientOptions({ data: dir }, {}));
    const accepted = await client.request("POST", "/2015-03-31/functions/doubler/invocations", {
      body: JSON.stringify({ n: 21 }),
      headers: { "x-amz-invocation-type": "Event" },
    });
    assert.equal(accepted.status, 202);
    up.child.kill("SIGTERM");
    assert.equal(await exited(up.child), 0);

    up = startUp(dir, "--store", store);
    await up.out.waitFor(/Nimbus is running at/);
    const versions = await nimbus(dir, "versions", "ls", "doubler", "--json");
    assert.equal(versions.code, 0, versions.stderr);
    assert.deepEqual(
      (JSON.parse(versions.stdout) as { Versions: { Version: string }[] }).Versions.map((v) => v.Version),
      ["$LATEST", "1"],
    );
    const out = await nimbus(dir, "invoke", "doubler", "--payload", '{"n":4}');
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), { doubled: 8 });
    const again = new NimbusClient(resolveClientOptions({ data: dir }, {}));
    const records = await again.call("GET", "/nimbus/v1/invocations", { query: { function: "doubler" } });
    const body = (await records.json()) as { invocations: { requestId: string }[] };
    assert.ok(
      body.invocations.some((r) => r.requestId === accepted.headers.get("x-amzn-requestid")),
      "the async invocation's record was kept in the database",
    );
  } finally {
    if (up.child.exitCode === null) {
      up.child.kill("SIGTERM");
      await exited(up.child);
    }
  }
});
