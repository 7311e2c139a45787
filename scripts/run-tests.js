#!/usr/bin/env node
// Runs every compiled test file with Node's test runner. Node 20 has no glob support in
// `node --test`, so the files are listed here. Arguments filter files by substring.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith(".test.js")) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = [...collect("dist/src", []), ...collect("dist/test", [])]
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("no test files found under dist/: run `npm run build` first");
  process.exit(1);
}
// Files that measure the machine's CPU run after the others, alone: three test files at once on
// two cores would decide how much CPU they get. So do the hostile functions and the gVisor
// files: fork bombs and gVisor's ptrace platform hold both cores for long stretches and starve
// what other files time (SnapStart's restore-or-init choice, a function's timeout, a budget's
// wait each failed once beside them in CI).
const SOLO = ["cpu-quota.test.js", "hostile.test.js", "gvisor.test.js"];
const solo = files.filter((f) => SOLO.some((s) => f.endsWith(s)));
const shared = files.filter((f) => !solo.includes(f));
const concurrency = process.env.NIMBUS_TEST_CONCURRENCY ?? "3";
function run(list, n, env = process.env) {
  if (list.length === 0) return 0;
  const result = spawnSync(
    process.execPath,
    ["--test", `--test-concurrency=${n}`, "--test-reporter=spec", ...list],
    { stdio: "inherit", env },
  );
  return result.status ?? 1;
}
// The suite runs in the default sandbox (the jail where it can run); the end-to-end files that
// exercise the sandbox itself, or what the Node runtime shows of it (paths, child processes),
// run once more in the process driver, for hosts without the jail.
const AGAIN_IN_PROCESS = [
  "test/invoke.test.js",
  "test/node-handlers.test.js",
  "test/runtimes.test.js",
  "test/streaming.test.js",
  "test/pool.test.js",
  "test/snapshot.test.js",
];
const again = files.filter((f) => AGAIN_IN_PROCESS.some((s) => f.endsWith(s)));
// The end-to-end files whose platform keeps state run once more on PostgreSQL (a database per
// file, a schema per platform): everything a user does through the APIs and the CLI, the async
// queue's kill -9 promise, cost, provisioned up-time, logs. The sandbox files do not touch the
// store and are not repeated. (The store contract suites under src/store/contract run on both
// stores in the first pass.)
const AGAIN_ON_POSTGRES = [
  "test/api-destinations.test.js",
  "test/api-destinations-crash.test.js",
  "test/api-destinations-oauth.test.js",
  "test/async.test.js",
  "test/async-crash.test.js",
  "test/auth.test.js",
  "test/auth-identity.test.js",
  "test/auth-oidc.test.js",
  "test/cli.test.js",
  "test/cli-auth.test.js",
  "test/cli-events.test.js",
  "test/cli-webhooks.test.js",
  "test/cli-manage.test.js",
  "test/control-plane.test.js",
  "test/cost.test.js",
  "test/function-urls.test.js",
  "test/event-source-mappings.test.js",
  "test/eventbridge.test.js",
  "test/execute-api.test.js",
  "test/http-apis.test.js",
  "test/invoke.test.js",
  "test/lambda-api.test.js",
  "test/metrics.test.js",
  "test/platform.test.js",
  "test/provisioned.test.js",
  "test/queue-destinations.test.js",
  "test/s3.test.js",
  "test/s3-access.test.js",
  "test/s3-access-delete.test.js",
  "test/s3-crash.test.js",
  "test/s3-cors.test.js",
  "test/s3-events.test.js",
  "test/s3-events-crash.test.js",
  "test/s3-lifecycle.test.js",
  "test/s3-minio.test.js",
  "test/s3-multipart.test.js",
  "test/s3-part-copy.test.js",
  "test/s3-quotas.test.js",
  "test/s3-wire.test.js",
  "test/sam-schedules.test.js",
  "test/scheduler.test.js",
  "test/sqs.test.js",
  "test/sqs-crash.test.js",
  "test/storage-tus.test.js",
  "test/traces.test.js",
];
const onPostgres = files.filter((f) => AGAIN_ON_POSTGRES.some((s) => f.endsWith(s)));
const status = run(shared, concurrency);
const processStatus = run(again, concurrency, { ...process.env, NIMBUS_TEST_SANDBOX: "process" });
const postgresStatus = run(onPostgres, concurrency, { ...process.env, NIMBUS_TEST_STORE: "postgres" });
process.exit(run(solo, 1) || status || processStatus || postgresStatus);
