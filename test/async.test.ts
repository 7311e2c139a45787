/**
 * End to end: asynchronous invocation through @aws-sdk/client-lambda with Lambda's retry
 * contract, on an injected clock so that minutes of retry delays take no time.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { FakeClock } from "../src/shared/clock.js";
import { createNodeFunction, startPlatform, type TestPlatform, zipOf } from "./helpers/platform.js";
import { eventually } from "./helpers/wait.js";

// Starts at the real time: the SDK signs with it, and the platform checks signatures against the clock.
const clock = new FakeClock(Date.now());
let t: TestPlatform;
let client: NimbusClient;
const ARN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

before(async () => {
  t = await startPlatform({}, clock);
  client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
});
after(async () => {
  await t.close();
});

function deploy(name: string, code: string) {
  return createNodeFunction(t.lambda, name, code);
}

async function invokeAsync(name: string, payload: unknown): Promise<string> {
  const out = await t.lambda.send(
    new InvokeCommand({ FunctionName: name, InvocationType: "Event", Payload: JSON.stringify(payload) }),
  );
  assert.equal(out.StatusCode, 202);
  const id = out.$metadata.requestId;
  assert.ok(id);
  return id;
}

interface InvocationRecord {
  status: string;
  attempts: number;
  result: unknown;
  error: { errorType: string; errorMessage: string } | null;
  nextAttemptAt: string | null;
  initPhases: Record<string, unknown> | null;
}

async function record(id: string): Promise<InvocationRecord> {
  const res = await client.call("GET", `/nimbus/v1/invocations/${id}`);
  return (await res.json()) as InvocationRecord;
}

/**
 * Waits (in real time: invocations run for real) until the record satisfies `done`. The
 * platform's clock is frozen, so a cold start slowed by a loaded machine never times out: the
 * wait is long, and a failure shows what the function logged (how far its instance got).
 */
async function until(id: string, done: (r: InvocationRecord) => boolean): Promise<InvocationRecord> {
  try {
    return await eventually(() => record(id), done, {
      what: `the record of ${id}`,
      timeoutMs: 20_000,
      everyMs: 20,
    });
  } catch (err) {
    const fn = (
      (await (await client.call("GET", `/nimbus/v1/invocations/${id}`)).json()) as { function?: string }
    ).function;
    const logs = fn === undefined ? [] : await logsOf(fn);
    throw new Error(`${(err as Error).message}\nlogs of ${fn}: ${JSON.stringify(logs)}`);
  }
}

async function logsOf(name: string): Promise<string[]> {
  const res = await client.call("GET", "/nimbus/v1/logs", { query: { function: name } });
  return ((await res.json()) as { entries: { message: string }[] }).entries.map((e) => e.message);
}

/** The first line of `name`'s logs containing `marker`, waiting (in real time) until it is written. */
async function logLine(name: string, marker: string): Promise<string> {
  const has = (m: string) => m.includes(marker);
  const lines = await eventually(
    () => logsOf(name),
    (ls) => ls.some(has),
    {
      what: `a line with ${JSON.stringify(marker)} in the logs of ${name}`,
      timeoutMs: 6000,
      everyMs: 20,
    },
  );
  return lines.find(has)!;
}

describe("asynchronous invocation", () => {
  test("an Event invocation is accepted with 202 and runs; its record shows the result", async () => {
    await deploy("async-ok", `export const handler = async (e) => ({ doubled: e.n * 2 });`);
    const id = await invokeAsync("async-ok", { n: 21 });
    const done = await until(id, (r) => r.status === "succeeded");
    assert.equal(done.attempts, 1);
    assert.deepEqual(done.result, { doubled: 42 });
    // Its one attempt started the instance: the record says where that time went.
    const phases = done.initPhases!;
    assert.deepEqual(Object.keys(phases).sort(), [
      "codeCached",
      "codeMs",
      "functionInitMs",
      "placementMs",
      "pooled",
      "runtimeMs",
      "sandboxMs",
    ]);
    assert.equal(typeof phases.runtimeMs, "number");
    const again = await until(await invokeAsync("async-ok", { n: 1 }), (r) => r.status === "succeeded");
    assert.equal(again.initPhases, null, "a warm attempt has no cold start to show");
  });

  test("a failing function runs 1 + MaximumRetryAttempts times, 1 and 2 minutes apart, then goes to the on-failure destination", async () => {
    await deploy(
      "async-fails",
      `export const handler = async (e) => { throw new RangeError("no " + e.what); };`,
    );
    await deploy(
      "async-dlq",
      `export const handler = async (record) => { console.log("FAILURE-RECORD " + JSON.stringify(record)); return "noted"; };`,
    );
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: "async-fails",
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: ARN("async-dlq") } },
      }),
    );
    const id = await invokeAsync("async-fails", { what: "luck" });
    const first = await until(id, (r) => r.status === "retrying" && r.attempts === 1);
    assert.equal(first.error?.errorType, "RangeError");
    assert.equal(Date.parse(first.nextAttemptAt!) - clock.now(), 60_000);

    clock.advance(59_000);
    // The poll that tick started has looked at the queue: the event is still waiting.
    await clock.settle();
    const waiting = await record(id);
    assert.equal(waiting.status, "retrying", "no retry before the minute is up");
    assert.equal(waiting.attempts, 1);
    clock.advance(1_000);
    const second = await until(id, (r) => r.status === "retrying" && r.attempts === 2);
    assert.equal(Date.parse(second.nextAttemptAt!) - clock.now(), 120_000);

    clock.advance(120_000);
    const failed = await until(id, (r) => r.status === "failed");
    assert.equal(failed.attempts, 3);

    const line = await logLine("async-dlq", "FAILURE-RECORD");
    const received = JSON.parse(line.slice(line.indexOf("FAILURE-RECORD ") + 15)) as {
      requestContext: {
        requestId: string;
        condition: string;
        approximateInvokeCount: number;
        functionArn: string;
      };
      requestPayload: unknown;
      responseContext: { functionError: string };
      responsePayload: { errorType: string; errorMessage: string };
    };
    assert.equal(received.requestContext.requestId, id);
    assert.equal(received.requestContext.condition, "RetriesExhausted");
    assert.equal(received.requestContext.approximateInvokeCount, 3);
    assert.equal(received.requestContext.functionArn, `${ARN("async-fails")}:$LATEST`);
    assert.deepEqual(received.requestPayload, { what: "luck" });
    assert.equal(received.responseContext.functionError, "Unhandled");
    assert.equal(received.responsePayload.errorType, "RangeError");
    assert.equal(received.responsePayload.errorMessage, "no luck");
  });

  test("with MaximumRetryAttempts 0 a failure is final at once; success goes to the on-success destination", async () => {
    await deploy(
      "async-once",
      `export const handler = async (e) => { if (e.fail) throw new Error("x"); return "fine"; };`,
    );
    await deploy(
      "async-ok-sink",
      `export const handler = async (record) => { console.log("SUCCESS-RECORD " + record.requestContext.condition + " " + JSON.stringify(record.responsePayload)); };`,
    );
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: "async-once",
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnSuccess: { Destination: ARN("async-ok-sink") } },
      }),
    );
    const failing = await invokeAsync("async-once", { fail: true });
    assert.equal((await until(failing, (r) => r.status === "failed")).attempts, 1);
    await invokeAsync("async-once", {});
    assert.match(await logLine("async-ok-sink", "SUCCESS-RECORD"), /SUCCESS-RECORD Success "fine"/);
  });

  test("a throttled event waits with backoff, without using up attempts, and runs once capacity returns", async () => {
    await deploy("async-throttled", `export const handler = async () => "ran";`);
    await t.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: "async-throttled", ReservedConcurrentExecutions: 0 }),
    );
    const id = await invokeAsync("async-throttled", {});
    const throttled = await until(id, (r) => r.status === "retrying");
    assert.equal(throttled.attempts, 0);
    assert.equal(throttled.error?.errorType, "TooManyRequestsException");
    assert.match(throttled.error?.errorMessage ?? "", /reserved concurrency of 0/);
    await t.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: "async-throttled", ReservedConcurrentExecutions: 5 }),
    );
    clock.advance(2_000);
    const done = await until(id, (r) => r.status === "succeeded");
    assert.equal(done.attempts, 1);
  });

  test("an event that stays throttled past MaximumEventAgeInSeconds fails with EventAgeExceeded", async () => {
    await deploy("async-aging", `export const handler = async () => "never";`);
    await t.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: "async-aging", ReservedConcurrentExecutions: 0 }),
    );
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: "async-aging", MaximumEventAgeInSeconds: 60 }),
    );
    const id = await invokeAsync("async-aging", {});
    await until(id, (r) => r.status === "retrying");
    for (let i = 0; i < 8; i++) {
      clock.advance(10_000);
      await clock.settle();
    }
    const failed = await until(id, (r) => r.status === "failed");
    assert.equal(failed.attempts, 0);
  });

  test("events of a function deleted while they wait fail with a clear record, and the poller goes on", async () => {
    await deploy("doomed", `export const handler = async () => "ran";`);
    await t.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: "doomed", ReservedConcurrentExecutions: 0 }),
    );
    const id = await invokeAsync("doomed", {});
    await until(id, (r) => r.status === "retrying");
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: "doomed" }));
    clock.advance(2_000);
    const failed = await until(id, (r) => r.status === "failed");
    assert.equal(failed.error?.errorType, "ResourceNotFoundException");
    assert.match(failed.error?.errorMessage ?? "", /Function not found: .*doomed/);

    await deploy("survivor", `export const handler = async () => "still polling";`);
    const next = await invokeAsync("survivor", {});
    assert.equal((await until(next, (r) => r.status === "succeeded")).result, "still polling");
  });

  test("without an on-failure destination, a function's DeadLetterConfig target receives the failed event itself", async () => {
    await deploy(
      "dead-letters",
      `export const handler = async (e) => { console.log("DEAD-LETTER " + JSON.stringify(e)); };`,
    );
    await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: "with-dlq",
        Runtime: "nodejs20.x",
        Handler: "index.handler",
        Role: "arn:aws:iam::000000000000:role/test",
        DeadLetterConfig: { TargetArn: ARN("dead-letters") },
        Code: {
          ZipFile: await zipOf({
            "index.mjs": `export const handler = async () => { throw new Error("nope"); };`,
          }),
        },
      }),
    );
    const fn = await t.lambda.send(new GetFunctionCommand({ FunctionName: "with-dlq" }));
    assert.equal(fn.Configuration?.DeadLetterConfig?.TargetArn, ARN("dead-letters"));
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: "with-dlq", MaximumRetryAttempts: 0 }),
    );
    const id = await invokeAsync("with-dlq", { order: 7 });
    await until(id, (r) => r.status === "failed");
    assert.match(await logLine("dead-letters", "DEAD-LETTER"), /DEAD-LETTER \{"order":7\}/);

    await assert.rejects(
      t.lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: "with-dlq",
          DeadLetterConfig: { TargetArn: "arn:aws:sns:us-east-1:000000000000:topic" },
        }),
      ),
      (err: Error) =>
        err.name === "InvalidParameterValueException" &&
        /delivers dead letters to a function or a standard queue/.test(err.message),
    );
  });

  test("bad async input is refused and nothing is queued", async () => {
    await deploy("async-strict", `export const handler = async () => 1;`);
    const big = JSON.stringify({ pad: "x".repeat(1024 * 1024) });
    await assert.rejects(
      t.lambda.send(
        new InvokeCommand({ FunctionName: "async-strict", InvocationType: "Event", Payload: big }),
      ),
      (err: Error) => err.name === "RequestTooLargeException" && /1048576 bytes/.test(err.message),
    );
    await assert.rejects(
      t.lambda.send(
        new InvokeCommand({
          FunctionName: "async-strict",
          InvocationType: "Event",
          Payload: Buffer.from("{nope"),
        }),
      ),
      (err: Error) => err.name === "InvalidRequestContentException",
    );
    await assert.rejects(
      t.lambda.send(
        new InvokeCommand({ FunctionName: "async-missing", InvocationType: "Event", Payload: "{}" }),
      ),
      (err: Error) => err.name === "ResourceNotFoundException",
    );
  });
});

describe("idempotency and the loop guard", () => {
  const send = (name: string, headers: Record<string, string>, body = "{}") =>
    client.request("POST", `/2015-03-31/functions/${name}/invocations`, {
      body,
      headers: { "x-amz-invocation-type": "Event", ...headers },
    });

  test("an async invoke repeating an idempotency key gets the first request id and queues nothing", async () => {
    await deploy("idem", `export const handler = async (e) => e.n;`);
    const first = await send("idem", { "x-nimbus-idempotency-key": "order-42" }, '{"n":1}');
    const again = await send("idem", { "x-nimbus-idempotency-key": "order-42" }, '{"n":2}');
    assert.equal(first.status, 202);
    assert.equal(again.status, 202);
    const id = first.headers.get("x-amzn-requestid")!;
    assert.equal(again.headers.get("x-amzn-requestid"), id);
    assert.equal((await until(id, (r) => r.status === "succeeded")).result, 1);
    const res = await client.call("GET", "/nimbus/v1/invocations", { query: { function: "idem" } });
    assert.equal(((await res.json()) as { invocations: unknown[] }).invocations.length, 1);

    const bad = await send("idem", { "x-nimbus-idempotency-key": "x".repeat(129) });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /1 to 128 visible ASCII characters/);
  });

  test("a function that keeps triggering itself through a destination is stopped after 16 hops", async () => {
    await deploy("looper", `export const handler = async () => "again";`);
    await deploy(
      "loop-sink",
      `export const handler = async (r) => { console.log("LOOP " + r.requestContext.condition + " " + r.responsePayload.errorType); };`,
    );
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: "looper",
        DestinationConfig: {
          OnSuccess: { Destination: ARN("looper") },
          OnFailure: { Destination: ARN("loop-sink") },
        },
      }),
    );
    await invokeAsync("looper", {});
    type Stopped = { status: string; attempts: number; error: { errorType: string } | null };
    const failedLoopers = async () => {
      const res = await client.call("GET", "/nimbus/v1/invocations", {
        query: { function: "looper", status: "failed" },
      });
      return ((await res.json()) as { invocations: Stopped[] }).invocations;
    };
    const stopped = await eventually(failedLoopers, (l) => l.length > 0, {
      what: "the looper's stopped invocation",
      timeoutMs: 6000,
      everyMs: 20,
    });
    assert.equal(stopped.length, 1);
    assert.equal(stopped[0]!.error?.errorType, "RecursiveInvocationException");
    assert.equal(stopped[0]!.attempts, 0, "the 17th hop does not run");
    const ran = await client.call("GET", "/nimbus/v1/invocations", {
      query: { function: "looper", status: "succeeded", limit: "100" },
    });
    assert.equal(((await ran.json()) as { invocations: unknown[] }).invocations.length, 17);

    assert.match(
      await logLine("loop-sink", "LOOP "),
      /LOOP RecursiveInvocationDetected RecursiveInvocationException/,
    );
  });

  test("an invoke carrying a trace header 16 hops deep is stopped without running", async () => {
    await deploy("deep", `export const handler = async () => "ran";`);
    const res = await send("deep", {
      "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678;Lineage=nimbus:16",
    });
    assert.equal(res.status, 202);
    const r = await until(res.headers.get("x-amzn-requestid")!, (x) => x.status === "failed");
    assert.equal(r.attempts, 0);
    assert.match(JSON.stringify(r.error), /stopped after 16 hops/);
  });
});

describe("records of synchronous invocations", () => {
  test("when the platform is set to, a synchronous invocation leaves a record too", async () => {
    const recording = await startPlatform({ recordSyncInvocations: true });
    try {
      await createNodeFunction(recording.lambda, "recorded", `export const handler = async (e) => e.n + 1;`);
      const out = await recording.lambda.send(
        new InvokeCommand({ FunctionName: "recorded", Payload: '{"n":1}' }),
      );
      const id = out.$metadata.requestId!;
      const c = new NimbusClient({
        endpoint: recording.url,
        region: "us-east-1",
        ...recording.platform.credentials,
      });
      type Body = { status?: string; attempts?: number; result?: unknown };
      const body = await eventually(
        async () => {
          const res = await c.request("GET", `/nimbus/v1/invocations/${id}`);
          return res.status === 200 ? ((await res.json()) as Body) : {};
        },
        // Until the record is kept (written after the answer, best effort), the API answers from
        // the invocation's usage record, which has no result.
        (b: Body) => b.result !== undefined,
        { what: `the record of ${id}` },
      );
      assert.deepEqual([body.status, body.attempts, body.result], ["succeeded", 1, 2]);
    } finally {
      await recording.close();
    }
  });
});

describe("event invoke config", () => {
  test("put, update, get and delete round trip with Lambda's shapes; bad values and unknown destinations are refused", async () => {
    await deploy("configured", `export const handler = async () => 1;`);
    await deploy("sink", `export const handler = async () => 1;`);
    const put = await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: "configured", MaximumRetryAttempts: 1 }),
    );
    assert.equal(put.MaximumRetryAttempts, 1);
    assert.equal(put.MaximumEventAgeInSeconds, 21_600);
    assert.equal(put.FunctionArn, `${ARN("configured")}:$LATEST`);
    assert.ok(put.LastModified instanceof Date);

    const updated = await t.lambda.send(
      new UpdateFunctionEventInvokeConfigCommand({
        FunctionName: "configured",
        DestinationConfig: { OnFailure: { Destination: ARN("sink") } },
      }),
    );
    assert.equal(updated.MaximumRetryAttempts, 1, "update keeps what it does not name");
    assert.equal(updated.DestinationConfig?.OnFailure?.Destination, ARN("sink"));

    const got = await t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "configured" }));
    assert.equal(got.DestinationConfig?.OnFailure?.Destination, ARN("sink"));

    await assert.rejects(
      t.lambda.send(
        new PutFunctionEventInvokeConfigCommand({ FunctionName: "configured", MaximumRetryAttempts: 3 }),
      ),
      (err: Error) => err.name === "InvalidParameterValueException" && /from 0 to 2/.test(err.message),
    );
    await assert.rejects(
      t.lambda.send(
        new PutFunctionEventInvokeConfigCommand({ FunctionName: "configured", MaximumEventAgeInSeconds: 59 }),
      ),
      (err: Error) => err.name === "InvalidParameterValueException" && /from 60 to 21600/.test(err.message),
    );
    await assert.rejects(
      t.lambda.send(
        new PutFunctionEventInvokeConfigCommand({
          FunctionName: "configured",
          DestinationConfig: { OnFailure: { Destination: ARN("no-such-function") } },
        }),
      ),
      (err: Error) => err.name === "InvalidParameterValueException" && /does not exist/.test(err.message),
    );
    assert.equal(
      (await t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "configured" })))
        .MaximumRetryAttempts,
      1,
      "a refused change changes nothing",
    );

    await t.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: "configured" }));
    await assert.rejects(
      t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "configured" })),
      (err: Error) => err.name === "ResourceNotFoundException",
    );
  });
});
