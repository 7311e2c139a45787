/** End to end: GET /metrics in Prometheus's text format, against the invocations made. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  InvokeCommand,
  PutFunctionConcurrencyCommand,
  type TooManyRequestsException,
} from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { nimbus } from "./helpers/cli.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";
import { until } from "./helpers/wait.js";

let t: TestPlatform;
before(async () => {
  t = await startPlatform({ poolSize: 1, accountConcurrency: 20 });
});
after(async () => {
  await t.close();
});

/** Samples of the exposition: `name{labels}` → value, labels sorted by name (`le` included). */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    const m = /^([^{]+)(?:\{(.*)\})?$/.exec(line.slice(0, i));
    assert.ok(m, `not a sample: ${line}`);
    const labels = (m[2] ?? "").match(/\w+="(?:[^"\\]|\\.)*"/g) ?? [];
    const key = labels.length > 0 ? `${m[1]}{${labels.sort().join(",")}}` : m[1]!;
    out.set(key, Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(headers: Record<string, string>): Promise<Response> {
  return fetch(`${t.url}/metrics`, { headers });
}

function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}

async function metrics(): Promise<Map<string, number>> {
  const { accessKeyId, secretAccessKey } = t.platform.credentials;
  const res = await scrape(basic(accessKeyId, secretAccessKey));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

test("counts, durations, errors, throttles and cold-start phases match the invocations made", async () => {
  await createNodeFunction(
    t.lambda,
    "counted",
    `export const handler = async (e) => { if (e.fail) throw new TypeError("asked to"); return "ok"; };`,
  );
  const call = (payload: object) =>
    t.lambda.send(new InvokeCommand({ FunctionName: "counted", Payload: JSON.stringify(payload) }));
  await until(() => t.platform.worker.pooledReady() === 1, 10_000);
  for (let i = 0; i < 5; i++) await call({});
  for (let i = 0; i < 2; i++) assert.equal((await call({ fail: true })).FunctionError, "Unhandled");

  // A function allowed no concurrency: every call is throttled.
  await createNodeFunction(t.lambda, "shut", `export const handler = async () => "never";`);
  await t.lambda.send(
    new PutFunctionConcurrencyCommand({ FunctionName: "shut", ReservedConcurrentExecutions: 0 }),
  );
  const refused = await t.lambda.send(new InvokeCommand({ FunctionName: "shut" })).catch((e: unknown) => e);
  assert.equal((refused as TooManyRequestsException).name, "TooManyRequestsException");

  const m = await metrics();
  const fn = 'function="counted"';
  assert.equal(m.get(`nimbus_invocations_total{${fn},type="sync"}`), 7);
  assert.equal(m.get(`nimbus_invocation_errors_total{error_type="TypeError",${fn}}`), 2);
  assert.equal(m.get(`nimbus_invocation_duration_seconds_count{${fn}}`), 7);
  assert.ok((m.get(`nimbus_invocation_duration_seconds_sum{${fn}}`) ?? 0) > 0);
  assert.equal(m.get(`nimbus_invocation_duration_seconds_bucket{${fn},le="+Inf"}`), 7);
  assert.equal(
    m.get(
      `nimbus_throttles_total{function="shut",reason="ReservedFunctionConcurrentInvocationLimitExceeded"}`,
    ),
    1,
  );
  assert.equal(
    m.get(`nimbus_invocations_total{function="shut",type="sync"}`),
    undefined,
    "a throttle ran nothing",
  );

  // One cold start, from the warm pool, with each of its phases observed once.
  assert.equal(m.get(`nimbus_cold_starts_total{${fn},source="pool"}`), 1);
  assert.equal(m.get(`nimbus_init_duration_seconds_count{${fn}}`), 1);
  for (const phase of ["placement", "code", "sandbox", "runtime", "function_init"])
    assert.equal(m.get(`nimbus_cold_start_phase_seconds_count{${fn},phase="${phase}"}`), 1, phase);
  const phases = Object.fromEntries(
    ["placement", "code", "sandbox", "runtime", "function_init"].map((phase) => [
      phase,
      m.get(`nimbus_cold_start_phase_seconds_sum{${fn},phase="${phase}"}`) ?? 0,
    ]),
  );
  const phaseSum = Object.values(phases).reduce((a, b) => a + b, 0);
  const init = m.get(`nimbus_init_duration_seconds_sum{${fn}}`) ?? 0;
  // The worker's phases add up to the Init Duration; placement is the dispatcher's, before it.
  assert.ok(
    Math.abs(phaseSum - init) < 0.005,
    `phases ${JSON.stringify(phases)} (sum ${phaseSum} s) against init ${init} s`,
  );

  // Gauges, read at the scrape: the instance is idle, nothing runs, the pool is refilling.
  assert.equal(m.get(`nimbus_instances{${fn},state="idle"}`), 1);
  assert.equal(m.get(`nimbus_instances{${fn},state="busy"}`), 0);
  assert.equal(m.get(`nimbus_concurrent_executions{${fn}}`), undefined);
  assert.ok(m.has("nimbus_warm_pool_runtimes"));
  // The platform process's own metrics.
  assert.ok((m.get("process_cpu_seconds_total") ?? 0) > 0);
  assert.ok(m.has("nodejs_eventloop_lag_seconds"));
});

test("async events: counted as async once run; waiting ones give the queue depth and the oldest one's age", async () => {
  await createNodeFunction(t.lambda, "later", `export const handler = async () => "done";`);
  await t.lambda.send(new InvokeCommand({ FunctionName: "later", InvocationType: "Event", Payload: "{}" }));
  const ran = async () => (await metrics()).get(`nimbus_invocations_total{function="later",type="async"}`);
  await until(async () => (await ran()) === 1);
  assert.equal(await ran(), 1);

  // Events for a function allowed no concurrency wait in the queue.
  await createNodeFunction(t.lambda, "held", `export const handler = async () => "never";`);
  await t.lambda.send(
    new PutFunctionConcurrencyCommand({ FunctionName: "held", ReservedConcurrentExecutions: 0 }),
  );
  const sent = Date.now();
  for (let i = 0; i < 3; i++)
    await t.lambda.send(new InvokeCommand({ FunctionName: "held", InvocationType: "Event", Payload: "{}" }));
  // The poller claims each event once, finds the function throttled and puts it back: until
  // then it is running, not waiting.
  const depth = async () => (await metrics()).get(`nimbus_async_queue_depth{function="held"}`);
  await until(async () => (await depth()) === 3);
  const m = await metrics();
  const age = m.get(`nimbus_async_oldest_event_age_seconds{function="held"}`) ?? -1;
  const most = (Date.now() - sent) / 1000;
  assert.ok(age > 0 && age <= most, `oldest event age ${age} s, at most ${most} s`);
  assert.equal(m.get(`nimbus_async_queue_depth{function="later"}`), undefined, "its event ran");
});

test("/metrics takes the platform's key as HTTP Basic or a SigV4 signature, and nothing else", async () => {
  const { accessKeyId, secretAccessKey } = t.platform.credentials;
  const none = await scrape({});
  assert.equal(none.status, 403);
  assert.match(await none.text(), /Missing Authentication Token/);
  const wrong = await scrape(basic(accessKeyId, `${secretAccessKey}x`));
  assert.equal(wrong.status, 403);
  assert.match(await wrong.text(), /Basic with the platform's access key id as user name/);
  const signed = await new NimbusClient({
    endpoint: t.url,
    region: "us-east-1",
    accessKeyId,
    secretAccessKey,
  }).call("GET", "/metrics");
  assert.equal(signed.status, 200);
  assert.match(await signed.text(), /# TYPE nimbus_invocations_total counter/);
});

test("nimbus top shows each function's rate, errors, latency and instances", async () => {
  await createNodeFunction(t.lambda, "watched", `export const handler = async () => "ok";`);
  let calling = true;
  const load = (async () => {
    while (calling) await t.lambda.send(new InvokeCommand({ FunctionName: "watched" }));
  })();
  try {
    const out = await nimbus(t.dataDir, "top", "--once", "--interval", "0.5");
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout,
      /^FUNCTION\s+INV\/S\s+ERR\/S\s+THR\/S\s+P50\s+P99\s+COLD\s+BUSY\/INST\s+QUEUED$/m,
    );
    const row = out.stdout.split("\n").find((l) => l.startsWith("watched "));
    assert.ok(row, out.stdout);
    const [, rate, errors, , p50] = row.trim().split(/\s+/);
    assert.ok(Number(rate) > 1, `rate ${rate}`);
    assert.equal(errors, "0.0");
    assert.match(p50!, /^[\d.]+ms$/);
  } finally {
    calling = false;
    await load;
  }
});
