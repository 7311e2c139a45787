/**
 * End to end: a published version's init captured in a snapshot (built through the worker;
 * the SnapStart configuration API comes later) and restored by its cold starts.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  PublishVersionCommand,
} from "@aws-sdk/client-lambda";
import type { FunctionVersion } from "../src/protocol/function.js";
import { createNodeFunction, startPlatform, type TestPlatform, text } from "./helpers/platform.js";

let t: TestPlatform;
before(async () => {
  t = await startPlatform({ poolSize: 0 });
});
after(async () => {
  await t.close();
});

const CODE = `import v8 from "node:v8";
const initValue = Math.random();
let restores = 0;
const until = Date.now() + 150;
while (Date.now() < until) {}
if (v8.startupSnapshot?.isBuildingSnapshot()) v8.startupSnapshot.addDeserializeCallback(() => { restores++; });
export const handler = async (e) => {
  await new Promise((r) => setTimeout(r, e.waitMs ?? 0));
  return { initValue, restores, type: process.env.AWS_LAMBDA_INITIALIZATION_TYPE };
};
`;

test("cold starts of a version with a snapshot restore its init instead of running it", async (ctx) => {
  await createNodeFunction(t.lambda, "snappy", CODE);
  await t.lambda.send(new PublishVersionCommand({ FunctionName: "snappy" }));
  const cfg = await t.lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: "snappy", Qualifier: "1" }),
  );
  const fn = {
    functionName: "snappy",
    version: "1",
    runtime: cfg.Runtime!,
    handler: cfg.Handler!,
    memoryMb: cfg.MemorySize!,
    timeoutS: cfg.Timeout!,
    environment: {},
    description: "",
    role: cfg.Role!,
    packageId: "",
    codeSha256: cfg.CodeSha256!,
    codeSize: cfg.CodeSize!,
    revisionId: cfg.RevisionId!,
    lastModified: 0,
    architecture: "x86_64",
  } as FunctionVersion;
  const built = await t.platform.worker.buildSnapshot({
    function: { ...fn, packageId: Buffer.from(cfg.CodeSha256!, "base64").toString("hex") },
    region: "us-east-1",
    initTimeoutMs: 10_000,
  });
  if (!t.platform.worker.limitsMemory) {
    ctx.diagnostic("without control groups there are no snapshots");
    assert.equal(built.ok, false);
    return;
  }
  assert.ok(built.ok && built.faster, JSON.stringify(built));
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
  // $LATEST has no snapshot: a plain init, with its own random value.
  const latest = await t.lambda.send(new InvokeCommand({ FunctionName: "snappy", LogType: "Tail" }));
  assert.match(Buffer.from(latest.LogResult ?? "", "base64").toString(), /Init Duration/);
  assert.notEqual((JSON.parse(text(latest.Payload)) as { initValue: number }).initValue, ra!.initValue);
});
