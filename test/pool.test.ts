/** End to end: the warm pool of Node runtimes, started before any function is chosen for them. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { INIT_PHASES_HEADER } from "../src/protocol/invoke.js";
import { createNodeFunction, startPlatform, type TestPlatform, text } from "./helpers/platform.js";
import { alive, until } from "./helpers/wait.js";

let t: TestPlatform;
before(async () => {
  t = await startPlatform({ poolSize: 1 });
});
after(async () => {
  await t.close();
});

const REPORT_SELF = `export const handler = async () => {
  let tmpWritable = true;
  try { (await import("node:fs")).writeFileSync(process.env.TMPDIR + "/probe", "x"); } catch { tmpWritable = false; }
  return {
    instance: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    uid: process.getuid(),
    cwd: process.cwd(),
    taskRoot: process.env.LAMBDA_TASK_ROOT,
    name: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    greeting: process.env.GREETING,
    pooledFlag: process.env.NIMBUS_POOLED ?? null,
    title: process.title,
    tmpWritable,
  };
};
`;

function create(name: string, code: string, extra: Record<string, unknown> = {}) {
  return createNodeFunction(t.lambda, name, code, extra);
}

/** Invokes through a signed raw call, to read the phases header the SDK does not model. */
async function invoke(name: string, payload: unknown = {}) {
  const client = new NimbusClient({ endpoint: t.url, ...t.platform.credentials, region: "us-east-1" });
  const res = await client.call("POST", `/2015-03-31/functions/${name}/invocations`, {
    body: JSON.stringify(payload),
  });
  const body = JSON.parse(await res.text()) as Record<string, unknown>;
  const phases = res.headers.get(INIT_PHASES_HEADER);
  return {
    body,
    error: res.headers.get("x-amz-function-error"),
    phases: phases
      ? Object.fromEntries(phases.split("; ").map((p) => p.split("=") as [string, string]))
      : undefined,
  };
}

const worker = () => t.platform.worker;

describe("warm pool", () => {
  test("a cold start takes the waiting runtime, which becomes the function's instance, and a new one is started", async () => {
    await until(() => worker().pooledReady() === 1, 10_000);
    const [waiting] = worker().pooledPids();
    await create("pooled-self", REPORT_SELF, { Environment: { Variables: { GREETING: "hi" } } });
    const out = await invoke("pooled-self");
    assert.equal(out.phases?.pooled, "1", "the cold start came from the pool");
    assert.ok(worker().instancePids().includes(waiting!), "the runtime that waited in the pool answers");
    assert.equal(out.body.name, "pooled-self");
    assert.equal(out.body.memory, "128");
    assert.equal(out.body.greeting, "hi", "the function's own variables are set before its init");
    assert.equal(out.body.pooledFlag, null);
    assert.equal(out.body.cwd, out.body.taskRoot, "it works in the function's code directory");
    assert.equal(out.body.tmpWritable, true);
    if (worker().limitsMemory) {
      assert.ok((out.body.uid as number) >= 200_000, `it runs as a sandbox uid, got ${out.body.uid}`);
    }
    // The pool refills with a new runtime; the instance stays warm.
    await until(() => worker().pooledReady() === 1, 10_000);
    assert.notEqual(worker().pooledPids()[0], waiting);
    const warm = await invoke("pooled-self");
    assert.equal(warm.phases, undefined);
    assert.equal(warm.body.instance, out.body.instance);
  });

  test("two functions never share a pooled runtime: each cold start takes its own", async () => {
    await until(() => worker().pooledReady() === 1, 10_000);
    await create("pooled-a", REPORT_SELF);
    await create("pooled-b", REPORT_SELF);
    const a = await invoke("pooled-a");
    await until(() => worker().pooledReady() === 1, 10_000);
    const b = await invoke("pooled-b");
    assert.equal(a.phases?.pooled, "1");
    assert.equal(b.phases?.pooled, "1");
    assert.notEqual(a.body.instance, b.body.instance);
    if (worker().limitsMemory) assert.notEqual(a.body.uid, b.body.uid);
  });

  test("with no runtime ready, a cold start starts its own process", async () => {
    await until(() => worker().pooledReady() === 1, 10_000);
    await create("pooled-c1", REPORT_SELF);
    await create("pooled-c2", REPORT_SELF);
    const [first, second] = await Promise.all([invoke("pooled-c1"), invoke("pooled-c2")]);
    assert.deepEqual([first.phases?.pooled, second.phases?.pooled].sort(), ["0", "1"]);
  });

  test("the memory limit becomes the function's when a pooled runtime is handed over", async () => {
    if (!worker().limitsMemory) {
      // Without control groups the heap flag ties pooled runtimes to one memory size: a
      // function of another size starts its own process.
      await create("pooled-big", REPORT_SELF, { MemorySize: 512 });
      assert.equal((await invoke("pooled-big")).phases?.pooled, "0");
      return;
    }
    await until(() => worker().pooledReady() === 1, 10_000);
    await create(
      "pooled-hog",
      `export const handler = async (e) => { const a = []; for (let i = 0; i < e.mb; i++) a.push(Buffer.alloc(1 << 20, 1)); return a.length; };`,
      { MemorySize: 128, Timeout: 30 },
    );
    const small = await invoke("pooled-hog", { mb: 16 });
    assert.equal(small.phases?.pooled, "1");
    assert.equal(small.body, 16 as unknown);
    const big = await invoke("pooled-hog", { mb: 256 });
    assert.equal(big.error, "Unhandled");
    assert.equal(big.body.errorType, "Runtime.OutOfMemory");
    // A larger size is raised at hand-over too.
    await until(() => worker().pooledReady() === 1, 10_000);
    await create(
      "pooled-roomy",
      `export const handler = async () => { const a = []; for (let i = 0; i < 256; i++) a.push(Buffer.alloc(1 << 20, 1)); return a.length; };`,
      { MemorySize: 512, Timeout: 30 },
    );
    const roomy = await invoke("pooled-roomy");
    assert.equal(roomy.phases?.pooled, "1");
    assert.equal(roomy.body, 256 as unknown);
  });

  test("a function with NODE_OPTIONS starts its own process, where Node applies them", async () => {
    await until(() => worker().pooledReady() === 1, 10_000);
    await create("pooled-options", REPORT_SELF, {
      Environment: { Variables: { NODE_OPTIONS: "--title=nimbus-node-options" } },
    });
    const out = await invoke("pooled-options");
    assert.equal(out.phases?.pooled, "0");
    assert.equal(out.body.title, "nimbus-node-options");
    assert.equal(worker().pooledReady(), 1, "the pooled runtime is still waiting");
  });

  test("a pooled runtime that dies while it waits is replaced, and init errors stay the function's", async () => {
    await until(() => worker().pooledReady() === 1, 10_000);
    const [waiting] = worker().pooledPids();
    process.kill(waiting!, "SIGKILL");
    await until(() => !alive(waiting!));
    await until(() => worker().pooledReady() === 1 && worker().pooledPids()[0] !== waiting, 10_000);
    await create("pooled-broken", `export const other = 1;`);
    const out = await invoke("pooled-broken");
    assert.equal(out.phases?.pooled, "1");
    assert.equal(out.error, "Unhandled");
    assert.equal(out.body.errorType, "Runtime.HandlerNotFound");
    await until(() => worker().pooledReady() === 1, 10_000);
  });

  test("a pooled instance's output, from its init and its invocation, reaches the log tail", async () => {
    await until(() => worker().pooledReady() === 1, 10_000);
    await create(
      "pooled-talker",
      `console.log("init says hello");\nexport const handler = async () => { console.log("handler says hello"); return 1; };`,
    );
    const out = await t.lambda.send(new InvokeCommand({ FunctionName: "pooled-talker", LogType: "Tail" }));
    const tail = Buffer.from(out.LogResult ?? "", "base64").toString();
    assert.match(
      tail,
      /\tINFO\tinit says hello\n[\s\S]*START RequestId: [\s\S]*\tINFO\thandler says hello\nEND/,
    );
  });

  test("the SDK's Invoke works unchanged on a pooled instance", async () => {
    await until(() => worker().pooledReady() === 1, 10_000);
    await create("pooled-sdk", `export const handler = async (e) => ({ twice: e.n * 2 });`);
    const out = await t.lambda.send(new InvokeCommand({ FunctionName: "pooled-sdk", Payload: '{"n":21}' }));
    assert.deepEqual(JSON.parse(text(out.Payload)), { twice: 42 });
  });
});
