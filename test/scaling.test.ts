/** End to end: the burst limit on new instances of one function. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { InvokeCommand, type TooManyRequestsException } from "@aws-sdk/client-lambda";
import { createNodeFunction, startPlatform, type TestPlatform, text } from "./helpers/platform.js";

let t: TestPlatform;
before(async () => {
  t = await startPlatform({ instanceBurst: 2, instancesPerSecond: 1, poolSize: 0 });
});
after(async () => {
  await t.close();
});

test("a spike starts the burst of instances and gets 429 FunctionInvocationRateLimitExceeded for the rest; warm instances are not limited", async () => {
  await createNodeFunction(
    t.lambda,
    "spiky",
    `export const handler = async (e) => { await new Promise((r) => setTimeout(r, e.waitMs ?? 0)); return process.env.AWS_LAMBDA_LOG_STREAM_NAME.split("]")[1]; };`,
  );
  const call = (waitMs: number) =>
    t.lambda.send(new InvokeCommand({ FunctionName: "spiky", Payload: JSON.stringify({ waitMs }) }));
  const spike = await Promise.allSettled([call(400), call(400), call(400)]);
  const ok = spike.filter((r) => r.status === "fulfilled");
  const refused = spike.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  assert.equal(ok.length, 2, "the burst of two started");
  assert.equal(refused.length, 1);
  const err = refused[0]!.reason as TooManyRequestsException;
  assert.equal(err.name, "TooManyRequestsException");
  assert.equal(err.Reason, "FunctionInvocationRateLimitExceeded");
  assert.match(err.message, /starting new instances faster than it may: 2 at once, then 1 per second/);
  assert.equal(err.$metadata.httpStatusCode, 429);
  // The two instances are warm now: calls that find one idle are never limited.
  const pids = new Set<string>();
  for (let i = 0; i < 5; i++) pids.add(text((await call(0)).Payload));
  assert.ok(pids.size >= 1 && pids.size <= 2);
});
