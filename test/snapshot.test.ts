/**
 * End to end through @aws-sdk/client-lambda: SnapStart for Node functions. Publishing a
 * version of a function with `SnapStart: {ApplyOn: PublishedVersions}` snapshots its init;
 * that version's cold starts restore it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  PublishVersionCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { createNodeFunction, startPlatform, type TestPlatform, text } from "./helpers/platform.js";

let t: TestPlatform;
before(async () => {
  t = await startPlatform({ poolSize: 0 });
});
after(async () => {
  await t.close();
});

// The inits spend 400 ms so that a restore beats them even on a loaded machine (a version
// whose restore is not faster runs a plain init, and its status says Off).
const SNAP = { SnapStart: { ApplyOn: "PublishedVersions" as const } };
const CODE = `import v8 from "node:v8";
const initValue = Math.random();
let restores = 0;
const until = Date.now() + 400;
while (Date.now() < until) {}
if (v8.startupSnapshot?.isBuildingSnapshot()) v8.startupSnapshot.addDeserializeCallback(() => { restores++; });
export const handler = async (e) => {
  await new Promise((r) => setTimeout(r, e.waitMs ?? 0));
  return { initValue, restores, type: process.env.AWS_LAMBDA_INITIALIZATION_TYPE };
};
`;

const configOf = (name: string, qualifier: string) =>
  t.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: qualifier }));

test("a published version's cold starts restore its snapshot: the init ran once, before", async () => {
  await createNodeFunction(t.lambda, "snappy", CODE, SNAP);
  const latest = await configOf("snappy", "$LATEST");
  assert.deepEqual(latest.SnapStart, { ApplyOn: "PublishedVersions", OptimizationStatus: "Off" });
  const published = await t.lambda.send(new PublishVersionCommand({ FunctionName: "snappy" }));
  assert.equal(published.Version, "1");
  const v1 = await configOf("snappy", "1");
  assert.equal(v1.SnapStart?.ApplyOn, "PublishedVersions");
  assert.equal(v1.SnapStart?.OptimizationStatus, "On", JSON.stringify(v1.SnapStart));

  // Two cold starts at once: both restore the same init.
  const call = () =>
    t.lambda.send(
      new InvokeCommand({
        FunctionName: "snappy",
        Qualifier: "1",
        Payload: '{"waitMs":200}',
        LogType: "Tail",
      }),
    );
  const [a, b] = await Promise.all([call(), call()]);
  const [ra, rb] = [a, b].map(
    (o) => JSON.parse(text(o.Payload)) as { initValue: number; restores: number; type: string },
  );
  assert.equal(ra!.initValue, rb!.initValue, "the init ran once, in the snapshot");
  assert.equal(ra!.restores, 1, "the function's after-restore hook ran once in each instance");
  assert.equal(ra!.type, "snap-start");
  for (const out of [a, b]) {
    const tail = Buffer.from(out.LogResult ?? "", "base64").toString();
    assert.match(tail, /\tRestore Duration: [\d.]+ ms\tBilled Restore Duration: \d+ ms/);
    assert.doesNotMatch(tail, /Init Duration/);
  }
  // $LATEST has no snapshot: a plain init, with a value of its own.
  const plain = await t.lambda.send(new InvokeCommand({ FunctionName: "snappy", LogType: "Tail" }));
  assert.match(Buffer.from(plain.LogResult ?? "", "base64").toString(), /Init Duration/);
  assert.notEqual((JSON.parse(text(plain.Payload)) as { initValue: number }).initValue, ra!.initValue);
});

test("a version that cannot be snapshotted says why, and runs with a plain init", async () => {
  await createNodeFunction(
    t.lambda,
    "awaiting",
    `await Promise.resolve();\nexport const handler = async () => "plain";`,
    SNAP,
  );
  await t.lambda.send(new PublishVersionCommand({ FunctionName: "awaiting" }));
  const v1 = await configOf("awaiting", "1");
  assert.equal(v1.SnapStart?.OptimizationStatus, "Off");
  // Nimbus adds the reason; the SDK's model drops fields it does not know: read it raw.
  const client = new NimbusClient({ endpoint: t.url, ...t.platform.credentials, region: "us-east-1" });
  const res = await client.call("GET", "/2015-03-31/functions/awaiting/configuration", {
    query: { Qualifier: "1" },
  });
  const raw = (await res.json()) as { SnapStart: { OptimizationStatusReason?: string } };
  assert.match(
    raw.SnapStart.OptimizationStatusReason ?? "",
    /cannot be bundled into one CommonJS file: .*[Tt]op-level await/,
  );
  const out = await t.lambda.send(
    new InvokeCommand({ FunctionName: "awaiting", Qualifier: "1", LogType: "Tail" }),
  );
  assert.equal(text(out.Payload), '"plain"');
  assert.match(Buffer.from(out.LogResult ?? "", "base64").toString(), /Init Duration/);
});

test("SnapStart takes PublishedVersions or None, and refuses anything else", async () => {
  await createNodeFunction(t.lambda, "toggled", `export const handler = async () => 1;`);
  assert.equal((await configOf("toggled", "$LATEST")).SnapStart?.ApplyOn, "None");
  const on = await t.lambda.send(
    new UpdateFunctionConfigurationCommand({ FunctionName: "toggled", ...SNAP }),
  );
  assert.equal(on.SnapStart?.ApplyOn, "PublishedVersions");
  await assert.rejects(
    t.lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: "toggled",
        SnapStart: { ApplyOn: "Always" as "None" },
      }),
    ),
    (err: Error) =>
      err.name === "InvalidParameterValueException" && /PublishedVersions, None/.test(err.message),
  );
  const off = await t.lambda.send(
    new UpdateFunctionConfigurationCommand({ FunctionName: "toggled", SnapStart: { ApplyOn: "None" } }),
  );
  assert.equal(off.SnapStart?.ApplyOn, "None");
});

test("without control groups a snapshot is built and restored under the version's V8 heap limit", async () => {
  const bare = await startPlatform({ poolSize: 0, cgroups: "off" });
  try {
    assert.equal(bare.platform.worker.limitsMemory, false);
    await createNodeFunction(
      bare.lambda,
      "heaped",
      `import v8 from "node:v8";
const until = Date.now() + 400;
while (Date.now() < until) {}
export const handler = async () => v8.getHeapStatistics().heap_size_limit / 1048576;`,
      { ...SNAP, MemorySize: 256 },
    );
    await bare.lambda.send(new PublishVersionCommand({ FunctionName: "heaped" }));
    const v1 = await bare.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: "heaped", Qualifier: "1" }),
    );
    assert.equal(v1.SnapStart?.OptimizationStatus, "On", JSON.stringify(v1.SnapStart));
    const out = await bare.lambda.send(
      new InvokeCommand({ FunctionName: "heaped", Qualifier: "1", LogType: "Tail" }),
    );
    assert.match(Buffer.from(out.LogResult ?? "", "base64").toString(), /\tRestore Duration: /);
    // V8's limit is the old space flag (85 % of 256 MB) plus its young generation.
    const limitMb = Number(text(out.Payload));
    assert.ok(limitMb >= 217 && limitMb < 400, `heap limit ${limitMb} MB (Node without the flag: ~4,000)`);
  } finally {
    await bare.close();
  }
});
