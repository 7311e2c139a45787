/**
 * End to end: a function that names the gvisor tier runs its instances under gVisor, with a
 * warm pool of its own once the tier is in use; its neighbours stay in the platform's default.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { NimbusClient } from "../src/cli/client.js";
import { INIT_PHASES_HEADER } from "../src/protocol/invoke.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";
import { until } from "./helpers/wait.js";

const REPORT = `import { readFileSync, writeFileSync } from "node:fs";
export const handler = async (e) => {
  writeFileSync("/tmp/probe", "x");
  return {
    kernel: readFileSync("/proc/version", "utf8"),
    uid: process.getuid(),
    cwd: process.cwd(),
    name: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    secret: process.env.SECRET ?? null,
    echo: e,
  };
};`;

describe("the gvisor tier", () => {
  let t: TestPlatform;
  let client: NimbusClient;
  const hostKernel = readFileSync("/proc/version", "utf8");

  before(async () => {
    t = await startPlatform({ poolSize: 1 });
    client = new NimbusClient({ endpoint: t.url, ...t.platform.credentials, region: "us-east-1" });
  });
  after(async () => {
    await t?.close();
  });

  async function invoke(name: string, payload: unknown = {}) {
    const res = await client.call("POST", `/2015-03-31/functions/${name}/invocations`, {
      body: JSON.stringify(payload),
    });
    const phases = res.headers.get(INIT_PHASES_HEADER);
    return {
      error: res.headers.get("x-amz-function-error"),
      body: JSON.parse(await res.text()) as Record<string, unknown>,
      pooled: phases?.includes("pooled=1") ?? false,
    };
  }

  const tier = (name: string, value: string) =>
    client.call("PUT", `/nimbus/v1/functions/${name}/sandbox`, { body: JSON.stringify({ tier: value }) });

  test("its instances run under gVisor's kernel, as their own uid, with Lambda's paths", async () => {
    await createNodeFunction(t.lambda, "guarded", REPORT, {
      MemorySize: 512,
      Environment: { Variables: { SECRET: "s3" } },
    });
    await createNodeFunction(t.lambda, "plain", REPORT);
    assert.equal((await tier("guarded", "gvisor")).status, 200);
    const g = await invoke("guarded", { n: 1 });
    assert.equal(g.error, null, JSON.stringify(g.body));
    assert.notEqual(g.body.kernel, hostKernel, "gVisor answers /proc/version itself");
    assert.equal(g.body.cwd, "/var/task");
    assert.equal(g.body.name, "guarded");
    assert.equal(g.body.memory, "512");
    assert.equal(g.body.secret, "s3");
    assert.deepEqual(g.body.echo, { n: 1 });
    if (process.getuid?.() === 0) assert.ok((g.body.uid as number) >= 200_000, `uid ${g.body.uid}`);
    // Its neighbour is in the platform's default sandbox: the host's kernel.
    const p = await invoke("plain");
    assert.equal(p.body.kernel, hostKernel);
  });

  test("once the tier is in use it keeps a warm pool: the next function's cold start comes from it", async () => {
    await until(() => t.platform.worker.pooledReady(128, "gvisor") === 1, 30_000);
    await createNodeFunction(t.lambda, "guarded-too", REPORT);
    await tier("guarded-too", "gvisor");
    const g = await invoke("guarded-too");
    assert.equal(g.error, null, JSON.stringify(g.body));
    assert.equal(g.pooled, true, "the cold start came from gVisor's pool");
    assert.notEqual(g.body.kernel, hostKernel);
    assert.equal(g.body.name, "guarded-too");
    // Its pool refills.
    await until(() => t.platform.worker.pooledReady(128, "gvisor") === 1, 30_000);
  });

  test("back to the default tier, its next instance leaves gVisor", async () => {
    assert.equal((await tier("guarded", "default")).status, 200);
    const g = await invoke("guarded");
    assert.equal(g.body.kernel, hostKernel);
  });

  test("a gVisor instance cannot be given a network", async () => {
    const res = await client.request("PUT", "/nimbus/v1/functions/guarded/sandbox", {
      body: JSON.stringify({ tier: "gvisor", internet: true }),
    });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: { message: string } };
    assert.match(
      error.message,
      /gvisor sandbox cannot be given a network here: gVisor sandboxes have no network/,
    );
  });
});
