/**
 * End to end through @aws-sdk/client-lambda: provisioned concurrency on published versions
 * and aliases. An injected clock drives the keep-alive, which must never reap them.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateAliasCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  ListProvisionedConcurrencyConfigsCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { FakeClock } from "../src/shared/clock.js";
import { createNodeFunction, startPlatform, type TestPlatform, text, zipOf } from "./helpers/platform.js";
import { alive, eventually, until } from "./helpers/wait.js";

const KEEP_ALIVE_MS = 60_000;
// Starts at the real time: the SDK signs with it, and the platform checks signatures against the clock.
const clock = new FakeClock(Date.now());
let t: TestPlatform;

const HANDLER = (tag: string) =>
  `export const handler = async (e) => { await new Promise((r) => setTimeout(r, e.waitMs ?? 0)); return { tag: "${tag}", pid: process.env.AWS_LAMBDA_LOG_STREAM_NAME.split("]")[1], type: process.env.AWS_LAMBDA_INITIALIZATION_TYPE }; };`;

before(async () => {
  t = await startPlatform({ keepAliveMs: KEEP_ALIVE_MS }, clock);
  await createNodeFunction(t.lambda, "steady", HANDLER("v1"));
  await t.lambda.send(new PublishVersionCommand({ FunctionName: "steady" }));
  await t.lambda.send(new CreateAliasCommand({ FunctionName: "steady", Name: "live", FunctionVersion: "1" }));
});
after(async () => {
  await t.close();
});

async function invoke(qualifier: string, waitMs = 0) {
  const out = await t.lambda.send(
    new InvokeCommand({
      FunctionName: "steady",
      Qualifier: qualifier,
      Payload: JSON.stringify({ waitMs }),
      LogType: "Tail",
    }),
  );
  const tail = Buffer.from(out.LogResult ?? "", "base64").toString();
  const body = JSON.parse(text(out.Payload)) as { tag: string; pid: string; type: string };
  return { ...body, cold: /Init Duration/.test(tail) };
}

async function config(qualifier: string) {
  return t.lambda.send(
    new GetProvisionedConcurrencyConfigCommand({ FunctionName: "steady", Qualifier: qualifier }),
  );
}

function untilReady(qualifier: string) {
  return eventually(
    () => config(qualifier),
    (c) => {
      assert.notEqual(c.Status, "FAILED", c.StatusReason);
      return c.Status === "READY";
    },
    { what: `provisioned concurrency of ${qualifier} READY`, timeoutMs: 5000 },
  );
}

describe("provisioned concurrency", () => {
  test("instances initialised ahead serve the first calls warm, first, and spill over to on-demand ones", async () => {
    const put = await t.lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: "steady",
        Qualifier: "live",
        ProvisionedConcurrentExecutions: 2,
      }),
    );
    assert.equal(put.$metadata.httpStatusCode, 202);
    assert.equal(put.RequestedProvisionedConcurrentExecutions, 2);
    assert.ok(put.Status === "IN_PROGRESS" || put.Status === "READY");
    const ready = await untilReady("live");
    assert.equal(ready.AllocatedProvisionedConcurrentExecutions, 2);
    assert.equal(ready.AvailableProvisionedConcurrentExecutions, 2);
    assert.match(ready.LastModified ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);

    const first = await invoke("live");
    assert.equal(first.cold, false, "no cold start: the instance was initialised ahead");
    assert.equal(first.type, "provisioned-concurrency");
    // Three at once: two provisioned instances, one started on demand.
    const three = await Promise.all([invoke("live", 200), invoke("live", 200), invoke("live", 200)]);
    assert.deepEqual(three.map((r) => r.type).sort(), [
      "on-demand",
      "provisioned-concurrency",
      "provisioned-concurrency",
    ]);
    assert.deepEqual(
      three.map((r) => r.cold),
      three.map((r) => r.type === "on-demand"),
    );
  });

  test("the keep-alive stops idle on-demand instances, never provisioned ones; a dead one is replaced", async () => {
    assert.equal(t.platform.dispatcher.instanceCounts("steady").total, 3);
    clock.advance(KEEP_ALIVE_MS * 2);
    await until(() => t.platform.dispatcher.instanceCounts("steady").total === 2);
    const warm = await invoke("live");
    assert.equal(warm.cold, false);
    assert.equal(warm.type, "provisioned-concurrency");
    const hostPid = t.platform.worker.instancePid(warm.pid);
    assert.ok(hostPid);
    process.kill(hostPid, "SIGKILL");
    await until(() => !alive(hostPid));
    // The platform learns of the death when the sandbox's exit reaches it (in the jail, once
    // bubblewrap has exited too); then a replacement starts.
    await until(() => t.platform.worker.instancePid(warm.pid) === undefined);
    await until(() => t.platform.dispatcher.instanceCounts("steady").total === 2);
    await untilReady("live");
    const after = await invoke("live");
    assert.equal(after.cold, false);
    assert.notEqual(after.pid, warm.pid);
  });

  test("moving the alias moves its provisioned instances to the new version", async () => {
    await t.lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: "steady",
        ZipFile: await zipOf({ "index.mjs": HANDLER("v2") }),
      }),
    );
    await t.lambda.send(new PublishVersionCommand({ FunctionName: "steady" }));
    await t.lambda.send(
      new UpdateAliasCommand({ FunctionName: "steady", Name: "live", FunctionVersion: "2" }),
    );
    await untilReady("live");
    const moved = await invoke("live");
    assert.equal(moved.tag, "v2");
    assert.equal(moved.cold, false);
    assert.equal(moved.type, "provisioned-concurrency");
    // Version 1 keeps nothing provisioned: its instances went with the alias.
    const v1 = await invoke("1");
    assert.equal(v1.cold, true);
  });

  test("list and delete; deleting stops the provisioned instances", async () => {
    const list = await t.lambda.send(
      new ListProvisionedConcurrencyConfigsCommand({ FunctionName: "steady" }),
    );
    assert.deepEqual(
      list.ProvisionedConcurrencyConfigs?.map((c) => [
        c.FunctionArn,
        c.RequestedProvisionedConcurrentExecutions,
        c.Status,
      ]),
      [["arn:aws:lambda:us-east-1:000000000000:function:steady:live", 2, "READY"]],
    );
    const del = await t.lambda.send(
      new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: "steady", Qualifier: "live" }),
    );
    assert.equal(del.$metadata.httpStatusCode, 204);
    await assert.rejects(
      config("live"),
      (err: Error) => err.name === "ProvisionedConcurrencyConfigNotFoundException",
    );
    clock.advance(KEEP_ALIVE_MS * 2);
    await until(() => t.platform.dispatcher.instanceCounts("steady").total === 0);

    // Their up-time was recorded for billing: two instances were kept through the keep-alive
    // test's 2 minutes, and every span has ended now.
    const client = new NimbusClient({ endpoint: t.url, ...t.platform.credentials, region: "us-east-1" });
    const res = await client.call("GET", "/nimbus/v1/provisioned-uptime", { query: { function: "steady" } });
    const uptime = (await res.json()) as {
      instanceSeconds: number;
      gbSeconds: number;
      spans: { version: string; memoryMb: number; stoppedAt: string | null; seconds: number }[];
    };
    assert.ok(
      uptime.spans.length >= 4,
      `spans of the two first, the replaced one and the moved ones, got ${uptime.spans.length}`,
    );
    assert.ok(uptime.spans.every((s) => s.stoppedAt !== null && s.memoryMb === 128));
    assert.deepEqual([...new Set(uptime.spans.map((s) => s.version))].sort(), ["1", "2"]);
    assert.ok(uptime.instanceSeconds >= (2 * 2 * KEEP_ALIVE_MS) / 1000, `got ${uptime.instanceSeconds} s`);
    assert.equal(uptime.gbSeconds, (uptime.instanceSeconds * 128) / 1024);
  });

  test("an init that fails sets the status to FAILED with the reason, and nothing is retried", async () => {
    await createNodeFunction(t.lambda, "broken", `throw new TypeError("no config");`);
    await t.lambda.send(new PublishVersionCommand({ FunctionName: "broken" }));
    await t.lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: "broken",
        Qualifier: "1",
        ProvisionedConcurrentExecutions: 1,
      }),
    );
    let status: string | undefined;
    let reason: string | undefined;
    for (let i = 0; i < 500 && status !== "FAILED"; i++) {
      const c = await t.lambda.send(
        new GetProvisionedConcurrencyConfigCommand({ FunctionName: "broken", Qualifier: "1" }),
      );
      status = c.Status;
      reason = c.StatusReason;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(status, "FAILED");
    assert.match(reason ?? "", /FUNCTION_ERROR_INIT_FAILED: TypeError/);
    assert.equal(t.platform.dispatcher.instanceCounts("broken").total, 0);
  });

  test("bad requests get Lambda's errors and provision nothing", async () => {
    const put = (qualifier: string | undefined, n: number) =>
      t.lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: "steady",
          Qualifier: qualifier as string,
          ProvisionedConcurrentExecutions: n,
        }),
      );
    await assert.rejects(
      put("$LATEST", 1),
      (err: Error) =>
        err.name === "InvalidParameterValueException" && /unpublished function versions/.test(err.message),
    );
    await assert.rejects(put("nope", 1), (err: Error) => err.name === "ResourceNotFoundException");
    await assert.rejects(put("1", 0), (err: Error) => err.name === "InvalidParameterValueException");
    await t.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: "steady", ReservedConcurrentExecutions: 3 }),
    );
    await assert.rejects(
      put("1", 4),
      (err: Error) =>
        err.name === "InvalidParameterValueException" && /reservedConcurrentExecution/.test(err.message),
    );
    await assert.rejects(
      config("1"),
      (err: Error) => err.name === "ProvisionedConcurrencyConfigNotFoundException",
    );
    assert.equal(t.platform.dispatcher.instanceCounts("steady").total, 0);
  });
});
