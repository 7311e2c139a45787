/**
 * End to end with an injected clock: the adaptive keep-alive learns a function called every
 * 30 minutes, stops its instance after each call and pre-warms one before the next, which
 * then runs warm. (Signatures are not checked here: the clock moves hours ahead of them.)
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { FakeClock } from "../src/shared/clock.js";
import { createNodeFunction, startPlatform, type TestPlatform, text } from "./helpers/platform.js";
import { until } from "./helpers/wait.js";

const MIN = 60_000;
const clock = new FakeClock(Date.now());
let t: TestPlatform;

before(async () => {
  t = await startPlatform(
    { keepAlivePolicy: "adaptive", keepAliveMs: 10 * MIN, auth: "off", poolSize: 0 },
    clock,
  );
  await createNodeFunction(
    t.lambda,
    "ticker",
    `export const handler = async () => process.env.AWS_LAMBDA_LOG_STREAM_NAME.split("]")[1];`,
  );
});
after(async () => {
  await t.close();
});

async function call(): Promise<{ pid: string; cold: boolean }> {
  const out = await t.lambda.send(new InvokeCommand({ FunctionName: "ticker", LogType: "Tail" }));
  const tail = Buffer.from(out.LogResult ?? "", "base64").toString();
  return { pid: JSON.parse(text(out.Payload)) as string, cold: /Init Duration/.test(tail) };
}

const counts = () => t.platform.dispatcher.instanceCounts("ticker");

test("a function called every 30 minutes is stopped after its calls and pre-warmed before the next", async () => {
  // Until enough idle times are known, the fixed 10 minutes apply: every call is cold.
  for (let i = 0; i < 10; i++) {
    assert.equal((await call()).cold, true, `call ${i + 1} is cold under the fixed keep-alive`);
    clock.advance(30 * MIN);
    await until(() => counts().total === 0);
  }
  // Ten idle times (the least it trusts) have taught it: this call's instance stops at once…
  const learnt = await call();
  assert.equal(learnt.cold, true);
  await until(() => counts().total === 0);
  // …and a new one is started shortly before the next call is due.
  clock.advance(20 * MIN);
  assert.equal(counts().total, 0, "not pre-warmed too early");
  clock.advance(8 * MIN);
  await until(() => counts().idle === 1, 10_000);
  clock.advance(2 * MIN);
  const next = await call();
  assert.equal(next.cold, false, "the pre-warmed instance serves the call");
  assert.notEqual(next.pid, learnt.pid);
});

test("a call that arrives while the pre-warm is still starting waits for it instead of starting another", async () => {
  // The policy has learnt the 30-minute period (previous test); this call's instance stops at once.
  clock.advance(30 * MIN);
  const before = await call();
  await until(() => counts().total === 0);
  // Past the pre-warm point, and called at once: the pre-warmed instance is still starting.
  clock.advance(28 * MIN);
  const during = await call();
  assert.equal(during.cold, false, "it waited for the pre-warmed instance");
  assert.notEqual(during.pid, before.pid);
  // …and, called, it is stopped again until the next pre-warm.
  await until(() => counts().total === 0);
});
