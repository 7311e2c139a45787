/**
 * End to end: usage records, their cost (`GET /nimbus/v1/usage`, `nimbus cost`) and monthly
 * budgets (`nimbus budget`), on an injected clock so that the log's flushes and the async
 * queue's rechecks take no time.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { InvokeCommand, PutFunctionEventInvokeConfigCommand } from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { BUDGET_RECHECK_MS } from "../src/control/async/retry-policy.js";
import { FakeClock } from "../src/shared/clock.js";
import { nimbus } from "./helpers/cli.js";
import { createNodeFunction, startPlatform, type TestPlatform, text } from "./helpers/platform.js";
import { until } from "./helpers/wait.js";

// Starts at the real time: the SDK signs with it, and the platform checks signatures against it.
const clock = new FakeClock(Date.now());
let t: TestPlatform;
let client: NimbusClient;
before(async () => {
  t = await startPlatform({ poolSize: 0 }, clock);
  client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
});
after(async () => {
  await t.close();
});

interface Report {
  rows: Array<{
    function?: string;
    version?: string;
    day?: string;
    requests: number;
    errors: number;
    coldStarts: number;
    billedMs: number;
    gbSeconds: number;
    cost: { requests: number; duration: number; total: number };
  }>;
  total: { requests: number; billedMs: number; gbSeconds: number; cost: { total: number } };
}

async function usage(query: Record<string, string>): Promise<Report> {
  return (await (await client.call("GET", "/nimbus/v1/usage", { query })).json()) as Report;
}

function billed(logResult: string | undefined): number {
  const tail = Buffer.from(logResult ?? "", "base64").toString();
  const m = /\tBilled Duration: (\d+) ms\tMemory Size: 512 MB/.exec(tail);
  assert.ok(m, tail);
  return Number(m[1]);
}

test("each invocation is metered as its REPORT line bills it, and priced at Lambda's x86 prices", async () => {
  await createNodeFunction(
    t.lambda,
    "metered",
    `export const handler = async (e) => { if (e.fail) throw new Error("no"); return 1; };`,
    {
      MemorySize: 512,
    },
  );
  let billedMs = 0;
  for (const payload of ["{}", "{}", '{"fail":true}']) {
    const out = await t.lambda.send(
      new InvokeCommand({ FunctionName: "metered", Payload: payload, LogType: "Tail" }),
    );
    billedMs += billed(out.LogResult);
  }
  const r = await usage({ function: "metered" });
  assert.equal(r.rows.length, 1);
  const row = r.rows[0]!;
  assert.equal(row.function, "metered");
  assert.equal(row.requests, 3);
  assert.equal(row.errors, 1);
  assert.equal(row.coldStarts, 1);
  assert.equal(row.billedMs, billedMs, "the usage records bill what the REPORT lines said");
  assert.ok(Math.abs(row.gbSeconds - (billedMs / 1000) * 0.5) < 1e-12);
  assert.ok(Math.abs(row.cost.requests - 3 * 0.0000002) < 1e-15);
  assert.ok(Math.abs(row.cost.duration - row.gbSeconds * 0.0000166667) < 1e-15);

  // By version and by day, and the CLI's table of the same.
  assert.deepEqual(
    (await usage({ function: "metered", groupBy: "version" })).rows.map((x) => x.version),
    ["$LATEST"],
  );
  assert.deepEqual(
    (await usage({ function: "metered", groupBy: "day" })).rows.map((x) => x.day),
    [new Date(clock.now()).toISOString().slice(0, 10)],
  );
  const cli = await nimbus(t.dataDir, "cost", "--function", "metered");
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /^FUNCTION\s+REQUESTS\s+ERRORS\s+COLD\s+GB-S\s+PROV GB-S\s+COST \(USD\)$/m);
  assert.match(cli.stdout, /^metered\s+3\s+1\s+1\s+/m);
  assert.match(cli.stdout, /^TOTAL\s+3\s+1\s+1\s+/m);

  const bad = await client.request("GET", "/nimbus/v1/usage", { query: { groupBy: "week" } });
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, "InvalidParameter");
  assert.equal(body.error.message, 'groupBy must be one of function, version, day, got "week"');
});

test("past its budget a function is refused with 402 naming it; its async events wait, unaged, until it is raised", async () => {
  await createNodeFunction(t.lambda, "capped", `export const handler = async () => "ran";`);
  await t.lambda.send(
    new PutFunctionEventInvokeConfigCommand({ FunctionName: "capped", MaximumEventAgeInSeconds: 60 }),
  );
  await t.lambda.send(new InvokeCommand({ FunctionName: "capped" }));
  const set = await nimbus(t.dataDir, "budget", "set", "capped", "--monthly", "0.0000001");
  assert.equal(set.code, 0, set.stderr);
  assert.match(
    set.stdout,
    /capped: 0\.00 USD a month, 0\.0000 spent this month \(EXCEEDED: invocations are refused\)/,
  );

  const refused = await t.lambda.send(new InvokeCommand({ FunctionName: "capped" })).catch((e: unknown) => e);
  const err = refused as Error & { $metadata: { httpStatusCode: number } };
  assert.equal(err.name, "BudgetExceededException");
  assert.equal(err.$metadata.httpStatusCode, 402);
  assert.match(err.message, /function capped's monthly budget of USD 0\.0000 is spent/);

  // Accepted, then held: three rechecks later it is older than its maximum age of 60 s.
  const accepted = await t.lambda.send(
    new InvokeCommand({ FunctionName: "capped", InvocationType: "Event" }),
  );
  const id = accepted.$metadata.requestId!;
  const record = async () =>
    (await (await client.call("GET", `/nimbus/v1/invocations/${id}`)).json()) as {
      status: string;
      error: { errorType: string } | null;
      nextAttemptAt: string | null;
    };
  // Held at the fake clock's present: the poller has seen this advance (waiting only for
  // "retrying" could advance again before it had, and age the event past its maximum).
  const heldNow = async () => {
    const r = await record();
    return (
      r.status === "retrying" && r.nextAttemptAt === new Date(clock.now() + BUDGET_RECHECK_MS).toISOString()
    );
  };
  for (let i = 0; i < 3; i++) {
    await until(heldNow, 5000);
    assert.equal((await record()).error?.errorType, "BudgetExceededException");
    clock.advance(BUDGET_RECHECK_MS);
  }
  await nimbus(t.dataDir, "budget", "set", "capped", "--monthly", "10");
  clock.advance(BUDGET_RECHECK_MS);
  await until(async () => (await record()).status === "succeeded", 5000);
  const ok = await t.lambda.send(new InvokeCommand({ FunctionName: "capped" }));
  assert.equal(text(ok.Payload), '"ran"');

  // The platform's own budget, listed and removed.
  assert.equal((await nimbus(t.dataDir, "budget", "set", "--platform", "--monthly", "100")).code, 0);
  const ls = await nimbus(t.dataDir, "budget", "ls");
  assert.match(ls.stdout, /^capped: 10\.00 USD a month/m);
  assert.match(ls.stdout, /^platform: 100\.00 USD a month/m);
  assert.equal((await nimbus(t.dataDir, "budget", "rm", "--platform")).code, 0);
  const gone = await nimbus(t.dataDir, "budget", "rm", "--platform");
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /no budget for the platform/);
});

test("a budget must name an existing function and a number of dollars", async () => {
  const missing = await client.request("PUT", "/nimbus/v1/budgets/functions/nope", {
    body: JSON.stringify({ monthlyUsd: 1 }),
  });
  assert.equal(missing.status, 404);
  await createNodeFunction(t.lambda, "priced", `export const handler = async () => 1;`);
  for (const [body, message] of [
    ['{"monthlyUsd":"5"}', /monthlyUsd must be a number of US dollars/],
    ['{"monthlyUsd":-1}', /monthlyUsd must be a number of US dollars from 0/],
    ["not json", /Could not parse request body into json/],
  ] as const) {
    const res = await client.request("PUT", "/nimbus/v1/budgets/functions/priced", { body });
    assert.equal(res.status, 400, body);
    assert.match(await res.text(), message);
  }
});
