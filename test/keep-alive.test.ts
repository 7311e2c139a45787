/**
 * End to end with an injected clock: idle instances stay warm for the keep-alive and are
 * stopped after it, so an idle function costs nothing; the next call starts a fresh instance.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CreateFunctionCommand, InvokeCommand } from "@aws-sdk/client-lambda";
import { FakeClock } from "../src/shared/clock.js";
import { startPlatform, type TestPlatform, text, zipOf } from "./helpers/platform.js";
import { alive, until } from "./helpers/wait.js";

const KEEP_ALIVE_MS = 60_000;
// Starts at the real time: the SDK signs with it, and the platform checks signatures against the clock.
const clock = new FakeClock(Date.now());
let t: TestPlatform;

before(async () => {
  t = await startPlatform({ keepAliveMs: KEEP_ALIVE_MS }, clock);
  await t.lambda.send(
    new CreateFunctionCommand({
      FunctionName: "idler",
      Runtime: "nodejs20.x",
      Handler: "index.handler",
      Role: "arn:aws:iam::000000000000:role/test",
      Code: {
        ZipFile: await zipOf({
          "index.mjs": `export const handler = async () => process.env.AWS_LAMBDA_LOG_STREAM_NAME.split("]")[1];`,
        }),
      },
    }),
  );
});
after(async () => {
  await t.close();
});

async function call(): Promise<{ pid: string; cold: boolean }> {
  const out = await t.lambda.send(new InvokeCommand({ FunctionName: "idler", LogType: "Tail" }));
  const tail = Buffer.from(out.LogResult ?? "", "base64").toString();
  // "pid": the instance's id, as its log stream names it.
  return { pid: JSON.parse(text(out.Payload)) as string, cold: /Init Duration/.test(tail) };
}

test("an instance idle for less than the keep-alive is reused; past it, it is stopped and the next call is cold", async () => {
  const first = await call();
  assert.equal(first.cold, true);
  const firstPid = t.platform.worker.instancePid(first.pid);
  assert.ok(firstPid);

  clock.advance(KEEP_ALIVE_MS - 1000);
  const warm = await call();
  assert.equal(warm.cold, false);
  assert.equal(warm.pid, first.pid);
  assert.deepEqual(t.platform.dispatcher.instanceCounts("idler"), { idle: 1, total: 1 });

  // The idle time counts from the last use, not from the start.
  clock.advance(KEEP_ALIVE_MS - 1000);
  assert.deepEqual(t.platform.dispatcher.instanceCounts("idler"), { idle: 1, total: 1 });

  clock.advance(KEEP_ALIVE_MS);
  await until(() => t.platform.dispatcher.instanceCounts("idler").total === 0);
  await until(() => !alive(firstPid));

  const again = await call();
  assert.equal(again.cold, true);
  assert.notEqual(again.pid, first.pid);
});
