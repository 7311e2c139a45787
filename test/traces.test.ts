/** End to end: every invocation's trace id reaches its function, and its spans are on its record. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { createNodeFunction, startPlatform, type TestPlatform, text } from "./helpers/platform.js";
import { until } from "./helpers/wait.js";

let t: TestPlatform;
let client: NimbusClient;
before(async () => {
  t = await startPlatform({ poolSize: 0 });
  client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
  await createNodeFunction(
    t.lambda,
    "traced",
    `export const handler = async () => process.env._X_AMZN_TRACE_ID;`,
  );
});
after(async () => {
  await t.close();
});

interface Span {
  name: string;
  parent: string | null;
  startMs: number;
  durationMs: number;
  attributes?: Record<string, unknown>;
}
interface InvocationRecord {
  type?: string;
  status: string;
  trace: { traceId: string; runs: Array<{ cold: boolean; durationMs: number; spans: Span[] }> } | null;
}

async function record(id: string): Promise<InvocationRecord> {
  return (await (await client.call("GET", `/nimbus/v1/invocations/${id}`)).json()) as InvocationRecord;
}

test("a synchronous invocation: the caller's trace header reaches the function; its spans nest and add up", async () => {
  const header = "Root=1-6740a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";
  // What the AWS SDK sends inside a Lambda function (from _X_AMZN_TRACE_ID).
  const res = await client.request("POST", "/2015-03-31/functions/traced/invocations", {
    body: "{}",
    headers: { "x-amzn-trace-id": header, "x-amz-log-type": "Tail" },
  });
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(await res.text()), header);
  const tail = Buffer.from(res.headers.get("x-amz-log-result") ?? "", "base64").toString();
  const reported = Number(/\tDuration: ([\d.]+) ms/.exec(tail)![1]);

  const r = await record(res.headers.get("x-amzn-requestid")!);
  assert.equal(r.type, "sync");
  assert.equal(r.status, "succeeded");
  assert.equal(r.trace?.traceId, header);
  const run = r.trace!.runs[0]!;
  assert.equal(run.cold, true);
  const names = run.spans.map((s) => s.name);
  assert.deepEqual(names, [
    "invocation",
    "gateway",
    "dispatch",
    "init",
    "init:placement",
    "init:code",
    "init:sandbox",
    "init:runtime",
    "init:function_init",
    "function",
  ]);
  const span = (n: string) => run.spans.find((s) => s.name === n)!;
  const root = span("invocation");
  for (const s of run.spans.slice(1)) {
    const parent = span(s.parent!);
    assert.ok(s.startMs >= parent.startMs - 0.01, `${s.name} starts within ${parent.name}`);
    assert.ok(
      s.startMs + s.durationMs <= parent.startMs + parent.durationMs + 0.01,
      `${s.name} ends within ${parent.name}`,
    );
  }
  assert.equal(
    span("function").durationMs.toFixed(2),
    reported.toFixed(2),
    "the function span is the REPORT line's Duration",
  );
  const phases = run.spans.filter((s) => s.parent === "init").reduce((t, s) => t + s.durationMs, 0);
  assert.ok(Math.abs(phases - span("init").durationMs) < 0.01);
  assert.equal(root.attributes?.["faas.coldstart"], true);
  assert.equal(root.attributes?.["faas.name"], "traced");

  // A warm one: no init; a new trace when the caller sends none.
  const warm = await t.lambda.send(new InvokeCommand({ FunctionName: "traced" }));
  const w = await record(warm.$metadata.requestId!);
  assert.match(w.trace!.traceId, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  assert.equal(JSON.parse(text(warm.Payload)), w.trace!.traceId);
  assert.deepEqual(
    w.trace!.runs[0]!.spans.map((s) => s.name),
    ["invocation", "gateway", "dispatch", "function"],
  );
});

test("an asynchronous invocation: its record shows the time it waited in the queue", async () => {
  const accepted = await t.lambda.send(
    new InvokeCommand({ FunctionName: "traced", InvocationType: "Event" }),
  );
  const id = accepted.$metadata.requestId!;
  let r: InvocationRecord | undefined;
  await until(async () => {
    r = await record(id);
    return r.status === "succeeded" && r.trace !== undefined;
  });
  assert.equal(r?.status, "succeeded");
  const spans = r!.trace!.runs[0]!.spans;
  assert.deepEqual(spans.map((s) => s.name).slice(0, 3), ["invocation", "queue", "dispatch"]);
  assert.equal(spans[0]!.attributes?.["faas.trigger"], "pubsub");
});

test("an unknown request id is a 404", async () => {
  const res = await client.request("GET", "/nimbus/v1/invocations/0194f3c2-0000-7000-8000-000000000000");
  assert.equal(res.status, 404);
});
