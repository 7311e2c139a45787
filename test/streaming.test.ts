/**
 * End to end: response streaming. Functions written with `awslambda.streamifyResponse` (on
 * Nimbus's Node runtime, and on aws-lambda-ric as a custom runtime over the HTTP Runtime API)
 * invoked through @aws-sdk/client-lambda's InvokeWithResponseStream, reading the event stream
 * as it arrives: chunks as written, errors mid-stream, the limit, timeouts, logs and metering.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateFunctionCommand,
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  type InvokeWithResponseStreamCommandInput,
  PublishVersionCommand,
} from "@aws-sdk/client-lambda";
import { NimbusClient } from "../src/cli/client.js";
import { INIT_PHASES_HEADER } from "../src/protocol/invoke.js";
import { MAX_STREAMED_RESPONSE_BYTES } from "../src/protocol/limits.js";
import { splitHttpIntegrationPrelude } from "../src/protocol/response-stream.js";
import {
  createNodeFunction,
  createNodeRuntimeFunction,
  filesUnder,
  startPlatform,
  type TestPlatform,
  text,
  zipOf,
} from "./helpers/platform.js";

let t: TestPlatform;
before(async () => {
  t = await startPlatform({ initTimeoutMs: 5000 });
});
after(async () => {
  await t.close();
});

interface Received {
  readonly chunks: { readonly bytes: Buffer; readonly at: number }[];
  readonly body: Buffer;
  readonly complete: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string } | undefined;
  /** The decoded log tail (LogType Tail). */
  readonly tail: string;
  readonly executedVersion: string | undefined;
  readonly contentType: string | undefined;
}

/** Invokes with InvokeWithResponseStream and reads its events as they arrive, noting when each came. */
async function stream(
  name: string,
  payload: unknown = {},
  extra: Partial<InvokeWithResponseStreamCommandInput> = {},
  /** Called as each chunk arrives; the next is read only once it settles (a slow reader). */
  onChunk: (bytes: Buffer) => void | Promise<void> = () => {},
): Promise<Received> {
  const out = await t.lambda.send(
    new InvokeWithResponseStreamCommand({
      FunctionName: name,
      Payload: JSON.stringify(payload),
      LogType: "Tail",
      ...extra,
    }),
  );
  assert.equal(out.StatusCode, 200);
  const chunks: { bytes: Buffer; at: number }[] = [];
  let complete: Received["complete"];
  for await (const event of out.EventStream ?? []) {
    if (event.PayloadChunk?.Payload) {
      const bytes = Buffer.from(event.PayloadChunk.Payload);
      chunks.push({ bytes, at: Date.now() });
      await onChunk(bytes);
    }
    if (event.InvokeComplete) complete = event.InvokeComplete;
  }
  return {
    chunks,
    body: Buffer.concat(chunks.map((c) => c.bytes)),
    complete,
    tail: Buffer.from(complete?.LogResult ?? "", "base64").toString(),
    executedVersion: out.ExecutedVersion,
    contentType: out.ResponseStreamContentType,
  };
}

const SLEEP = "const sleep = (ms) => new Promise((r) => setTimeout(r, ms));";

describe("Nimbus's Node runtime", () => {
  test("a streaming handler's chunks reach the caller as it writes them, then InvokeComplete with the log tail", async () => {
    await createNodeFunction(
      t.lambda,
      "chunks",
      `${SLEEP}
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType("text/plain");
  responseStream.write("first@" + Date.now() + ";");
  await sleep(500);
  responseStream.write("second;");
  await sleep(500);
  console.log("ending for", event.who);
  responseStream.end("third@" + Date.now());
});`,
    );
    let busyWhileStreaming: number | undefined;
    const got = await stream("chunks", { who: "Ada" }, {}, () => {
      busyWhileStreaming ??= t.platform.dispatcher.concurrentExecutions().get("chunks");
    });
    assert.deepEqual(
      got.chunks.map((c) => c.bytes.toString().replace(/@\d+/, "@")),
      ["first@;", "second;", "third@"],
    );
    // The caller had the first chunk while the function was still running: before it wrote its last.
    const lastWrittenAt = Number(/third@(\d+)/.exec(got.body.toString())?.[1]);
    assert.ok(
      got.chunks[0]!.at < lastWrittenAt,
      `first chunk at ${got.chunks[0]!.at}, last written at ${lastWrittenAt}`,
    );
    assert.equal(busyWhileStreaming, 1, "the invocation counts against concurrency while it streams");
    assert.equal(t.platform.dispatcher.concurrentExecutions().get("chunks"), undefined);
    assert.equal(got.executedVersion, "$LATEST");
    assert.equal(got.contentType, "application/vnd.amazon.eventstream");
    assert.equal(got.complete?.ErrorCode, undefined);
    const id = /START RequestId: (\S+) Version: \$LATEST/.exec(got.tail)?.[1];
    assert.ok(id, got.tail);
    assert.match(got.tail, new RegExp(`\\t${id}\\tINFO\\tending for Ada`));
    assert.match(got.tail, new RegExp(`END RequestId: ${id}\\n`));
    const duration = Number(
      new RegExp(`REPORT RequestId: ${id}\\tDuration: ([\\d.]+) ms`).exec(got.tail)?.[1],
    );
    assert.ok(duration >= 1000, `the REPORT line's duration covers the whole stream: ${duration} ms`);
  });

  test("a caller that stops reading holds the function's writes back until it reads again", async () => {
    await createNodeFunction(
      t.lambda,
      "backpressure",
      `import { once } from "node:events";
export const handler = awslambda.streamifyResponse(async (event, s) => {
  const mb = Buffer.alloc(1024 * 1024, 98);
  for (let i = 0; i < 19; i++) if (!s.write(mb)) await once(s, "drain");
  s.end("done@" + Date.now());
});`,
      // Room for 19 MB read after a 1.5 s pause on a loaded machine (the default 3 s was not, in CI).
      { Timeout: 30 },
    );
    let resumedAt = 0;
    const got = await stream("backpressure", {}, {}, async () => {
      if (resumedAt !== 0) return;
      await new Promise((r) => setTimeout(r, 1500));
      resumedAt = Date.now();
    });
    assert.equal(got.complete?.ErrorCode, undefined);
    assert.equal(got.body.length, 19 * 1024 * 1024 + "done@".length + 13);
    const doneAt = Number(/done@(\d+)$/.exec(got.body.subarray(-20).toString())?.[1]);
    // Kernel and platform buffers hold a few MB: the function cannot write all 19 MB while nobody reads.
    assert.ok(
      doneAt >= resumedAt,
      `the function finished at ${doneAt}, the caller read again at ${resumedAt}`,
    );
  });

  test("a streamed invocation is metered as its REPORT line bills it", async () => {
    await createNodeFunction(
      t.lambda,
      "metered-stream",
      `${SLEEP}
export const handler = awslambda.streamifyResponse(async (event, s) => { s.write("a"); await sleep(100); s.end("b"); });`,
    );
    const got = await stream("metered-stream");
    const billed = Number(/\tBilled Duration: (\d+) ms/.exec(got.tail)?.[1]);
    assert.ok(billed >= 100, got.tail);
    const client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
    const res = await client.call("GET", "/nimbus/v1/usage", { query: { function: "metered-stream" } });
    const usage = (await res.json()) as { rows: { requests: number; errors: number; billedMs: number }[] };
    assert.equal(usage.rows.length, 1);
    assert.equal(usage.rows[0]!.requests, 1);
    assert.equal(usage.rows[0]!.errors, 0);
    assert.equal(usage.rows[0]!.billedMs, billed);
  });

  test("a handler that throws mid-stream: the caller gets the bytes written before, then InvokeComplete with the error", async () => {
    await createNodeFunction(
      t.lambda,
      "throws",
      `${SLEEP}
export const handler = awslambda.streamifyResponse(async (event, s) => {
  s.write("partial;");
  await sleep(50);
  if (event.fail) throw new TypeError("broke mid-stream");
  s.end("whole");
});`,
    );
    const failed = await stream("throws", { fail: true });
    assert.equal(failed.body.toString(), "partial;");
    assert.equal(failed.complete?.ErrorCode, "TypeError");
    assert.equal(failed.complete?.ErrorDetails, "broke mid-stream");
    assert.match(
      failed.tail,
      /ERROR\tInvoke Error \t\{"errorType":"TypeError","errorMessage":"broke mid-stream"/,
    );
    // The same instance serves the next invocation.
    const ok = await stream("throws", {});
    assert.equal(ok.body.toString(), "partial;whole");
    assert.equal(ok.complete?.ErrorCode, undefined);
    assert.doesNotMatch(ok.tail, /Init Duration/);
  });

  test("a handler that does not stream answers its whole payload as the stream, and its error in InvokeComplete", async () => {
    await createNodeFunction(
      t.lambda,
      "buffered",
      `export const handler = async (event) => { if (event.fail) throw new RangeError("no"); return { hello: event.who }; };`,
    );
    const ok = await stream("buffered", { who: "Grace" });
    assert.deepEqual(JSON.parse(ok.body.toString()), { hello: "Grace" });
    assert.equal(ok.complete?.ErrorCode, undefined);
    assert.match(ok.tail, /REPORT RequestId: /);
    const failed = await stream("buffered", { fail: true });
    assert.equal(failed.chunks.length, 0);
    assert.equal(failed.complete?.ErrorCode, "RangeError");
    assert.equal(failed.complete?.ErrorDetails, "no");
  });

  test("a streaming handler invoked with Invoke answers buffered, as on Lambda", async () => {
    await createNodeFunction(
      t.lambda,
      "via-invoke",
      `export const handler = awslambda.streamifyResponse(async (event, s) => {
  s.write("one,");
  if (event.fail) throw new Error("late failure");
  s.end("two");
});`,
    );
    const ok = await t.lambda.send(new InvokeCommand({ FunctionName: "via-invoke", Payload: "{}" }));
    assert.equal(ok.FunctionError, undefined);
    assert.equal(text(ok.Payload), "one,two");
    const failed = await t.lambda.send(
      new InvokeCommand({ FunctionName: "via-invoke", Payload: '{"fail":true}' }),
    );
    assert.equal(failed.FunctionError, "Unhandled");
    const error = JSON.parse(text(failed.Payload)) as { errorType: string; errorMessage: string };
    assert.equal(error.errorType, "Error");
    assert.equal(error.errorMessage, "late failure");
  });

  test("HttpResponseStream.from writes the prelude, 8 NUL bytes, then the body", async () => {
    await createNodeFunction(
      t.lambda,
      "prelude",
      `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const s = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { "x-made-by": "nimbus" },
    cookies: ["a=1"],
  });
  if (event.empty) return s.end();
  s.write("hello ");
  s.end(Buffer.from("world"));
});`,
    );
    const prelude = { statusCode: 201, headers: { "x-made-by": "nimbus" }, cookies: ["a=1"] };
    const expected = Buffer.concat([
      Buffer.from(JSON.stringify(prelude)),
      Buffer.alloc(8),
      Buffer.from("hello world"),
    ]);
    const got = await stream("prelude");
    assert.deepEqual(got.body, expected);
    // What a function URL does with it: the prelude, and the body after the delimiter.
    const split = await splitHttpIntegrationPrelude(chunksOf(got.chunks.map((c) => c.bytes)));
    assert.deepEqual(split.prelude, prelude);
    assert.equal(Buffer.concat(await all(split.body)).toString(), "hello world");
    // A response with no body still carries its prelude.
    const empty = await stream("prelude", { empty: true });
    assert.deepEqual(empty.body, Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8)]));
  });

  test("a stream past the limit ends with Function.ResponseSizeTooLarge; the function's instance is replaced", async () => {
    await createNodeFunction(
      t.lambda,
      "too-long",
      `import { once } from "node:events";
export const handler = awslambda.streamifyResponse(async (event, s) => {
  if (event.small) return s.end("small");
  const mb = Buffer.alloc(1024 * 1024, 97);
  for (let i = 0; i < 25; i++) if (!s.write(mb)) await once(s, "drain");
  s.end();
});`,
      { MemorySize: 256 },
    );
    const got = await stream("too-long");
    assert.ok(got.body.length <= MAX_STREAMED_RESPONSE_BYTES, `${got.body.length} bytes reached the caller`);
    assert.ok(got.body.length > MAX_STREAMED_RESPONSE_BYTES - 2 * 1024 * 1024, `${got.body.length} bytes`);
    assert.equal(got.complete?.ErrorCode, "Function.ResponseSizeTooLarge");
    assert.match(
      got.complete?.ErrorDetails ?? "",
      new RegExp(`maximum allowed payload size \\(${MAX_STREAMED_RESPONSE_BYTES} bytes\\)`),
    );
    const next = await stream("too-long", { small: true });
    assert.equal(next.body.toString(), "small");
    assert.match(next.tail, /Init Duration/, "a new instance served it");
  });

  test("a timeout mid-stream ends the stream with Sandbox.Timedout", async () => {
    await createNodeFunction(
      t.lambda,
      "slow",
      `${SLEEP}
export const handler = awslambda.streamifyResponse(async (event, s) => { s.write("before;"); await sleep(10_000); s.end("never"); });`,
      { Timeout: 1 },
    );
    const started = Date.now();
    const got = await stream("slow");
    assert.ok(Date.now() - started < 8000, "the stream ended at the timeout, not at the function's end");
    assert.equal(got.body.toString(), "before;");
    assert.equal(got.complete?.ErrorCode, "Sandbox.Timedout");
    assert.match(got.complete?.ErrorDetails ?? "", /Task timed out after 1\.00 seconds/);
    assert.match(got.tail, /REPORT RequestId: .*\tStatus: timeout/);
  });
});

describe("a runtime that goes away mid-stream", () => {
  test("a handler calling process.exit() mid-stream: the stream ends at once with Runtime.ExitError, the instance is replaced", async () => {
    await createNodeFunction(
      t.lambda,
      "exits",
      `export const handler = awslambda.streamifyResponse(async (event, s) => {
  s.write("before exit;");
  await new Promise((r) => setTimeout(r, 100));
  if (event.exit) process.exit(3);
  s.end("whole");
});`,
      { Timeout: 30 },
    );
    const started = Date.now();
    const got = await stream("exits", { exit: true });
    assert.ok(Date.now() - started < 5000, "the stream ended at the exit, not at the 30 s timeout");
    assert.equal(got.body.toString(), "before exit;");
    assert.equal(got.complete?.ErrorCode, "Runtime.ExitError");
    assert.match(got.complete?.ErrorDetails ?? "", /Runtime exited with error: exit status 3/);
    assert.match(got.tail, /REPORT RequestId: .*\tStatus: error\tError Type: Runtime\.ExitError/);
    const next = await stream("exits");
    assert.equal(next.body.toString(), "before exit;whole");
    assert.match(next.tail, /Init Duration/, "a new instance served it");
  });

  test("a custom runtime whose chunked body stops without its last chunk: Runtime.TruncatedResponse at once, recorded failed, the instance replaced", async () => {
    // Speaks the HTTP Runtime API by hand: a streamed response, then the connection dropped
    // (the process lives on, as a runtime with a broken client would).
    const runtime = `import { request } from "node:http";
const api = process.env.AWS_LAMBDA_RUNTIME_API;
const [host, port] = api.split(":");
for (;;) {
  const next = await fetch("http://" + api + "/2018-06-01/runtime/invocation/next");
  const id = next.headers.get("lambda-runtime-aws-request-id");
  const event = await next.json();
  await new Promise((resolve) => {
    const req = request({
      host, port, method: "POST",
      path: "/2018-06-01/runtime/invocation/" + id + "/response",
      headers: { "Lambda-Runtime-Function-Response-Mode": "streaming", "Content-Type": "text/plain" },
    }, (res) => { res.resume(); res.on("end", resolve); });
    req.on("error", resolve);
    req.write("partial;");
    setTimeout(() => {
      if (event.whole) req.end("whole");
      else { console.log("dropping the connection"); req.destroy(); resolve(); }
    }, 200);
  });
}
`;
    await createNodeRuntimeFunction(t.lambda, "drops", runtime, { Timeout: 30 });
    const whole = await stream("drops", { whole: true });
    assert.equal(whole.complete?.ErrorCode, undefined, whole.tail);
    assert.equal(whole.body.toString(), "partial;whole");

    const started = Date.now();
    const got = await stream("drops");
    assert.ok(Date.now() - started < 5000, "the stream ended at the cut, not at the 30 s timeout");
    assert.equal(got.body.toString(), "partial;");
    assert.equal(got.complete?.ErrorCode, "Runtime.TruncatedResponse");
    assert.match(
      got.complete?.ErrorDetails ?? "",
      /closed its connection before the end of its streamed response/,
    );
    assert.match(got.tail, /dropping the connection/);
    assert.match(got.tail, /REPORT RequestId: .*\tStatus: error\tError Type: Runtime\.TruncatedResponse/);

    const client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
    const res = await client.call("GET", "/nimbus/v1/usage", { query: { function: "drops" } });
    const usage = (await res.json()) as { rows: { requests: number; errors: number }[] };
    assert.equal(usage.rows[0]?.requests, 2);
    assert.equal(usage.rows[0]?.errors, 1, "the cut invocation is recorded failed");

    // The platform serves on; a new instance takes the next invocation.
    const after = await stream("drops", { whole: true });
    assert.equal(after.body.toString(), "partial;whole");
    assert.match(after.tail, /Init Duration/, "a new instance served it");
  });
});

describe("a cold start's phases", () => {
  test("a streamed answer after a cold start carries X-Nimbus-Init-Phases; a warm one does not", async () => {
    await createNodeFunction(
      t.lambda,
      "phases",
      `export const handler = awslambda.streamifyResponse(async (event, s) => { s.write("a"); await new Promise((r) => setTimeout(r, 50)); s.end("b"); });`,
    );
    const client = new NimbusClient({ endpoint: t.url, region: "us-east-1", ...t.platform.credentials });
    const call = () =>
      client.call("POST", "/2021-11-15/functions/phases/response-streaming-invocations", { body: "{}" });
    const cold = await call();
    assert.match(
      cold.headers.get(INIT_PHASES_HEADER) ?? "",
      /^placement=[\d.]+; code=[\d.]+; code-cached=[01]; sandbox=[\d.]+; pooled=[01]; runtime=[\d.]+; function-init=[\d.]+/,
    );
    await cold.arrayBuffer();
    const warm = await call();
    assert.equal(warm.headers.get(INIT_PHASES_HEADER), null);
    await warm.arrayBuffer();
  });
});

describe("SnapStart", () => {
  test("a streaming function's published version restores from its snapshot and streams", async () => {
    // The init spends 1 s, so that a restore beats it even on a loaded machine (a version whose
    // restore is not faster runs a plain init; 400 ms lost to a restore once in CI).
    await createNodeFunction(
      t.lambda,
      "snap-stream",
      `const until = Date.now() + 1000;
while (Date.now() < until) {}
export const handler = awslambda.streamifyResponse(async (event, s) => { s.write("restored,"); s.end("streamed"); });`,
      { SnapStart: { ApplyOn: "PublishedVersions" } },
    );
    const published = await t.lambda.send(new PublishVersionCommand({ FunctionName: "snap-stream" }));
    assert.equal(published.SnapStart?.OptimizationStatus, "On", JSON.stringify(published.SnapStart));
    const got = await stream("snap-stream", {}, { Qualifier: published.Version! });
    assert.equal(got.body.toString(), "restored,streamed");
    assert.match(got.tail, /\tRestore Duration: [\d.]+ ms/);
  });
});

describe("InvokeWithResponseStream's parameters", () => {
  test("Qualifier runs the version asked for, DryRun runs nothing, Event is refused", async () => {
    await createNodeFunction(
      t.lambda,
      "versions",
      `export const handler = awslambda.streamifyResponse(async (e, s) => s.end(process.env.AWS_LAMBDA_FUNCTION_VERSION));`,
    );
    await t.lambda.send(new PublishVersionCommand({ FunctionName: "versions" }));
    const v1 = await stream("versions", {}, { Qualifier: "1" });
    assert.equal(v1.executedVersion, "1");
    assert.equal(v1.body.toString(), "1");

    const dry = await t.lambda.send(
      new InvokeWithResponseStreamCommand({ FunctionName: "versions", InvocationType: "DryRun" }),
    );
    assert.equal(dry.StatusCode, 204);
    assert.equal(dry.ExecutedVersion, "$LATEST");

    await assert.rejects(
      t.lambda.send(
        new InvokeWithResponseStreamCommand({
          FunctionName: "versions",
          InvocationType: "Event" as "DryRun",
        }),
      ),
      { name: "InvalidParameterValueException" },
    );
    await assert.rejects(t.lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: "missing" })), {
      name: "ResourceNotFoundException",
    });
  });
});

describe("aws-lambda-ric as a custom runtime", () => {
  const require = createRequire(import.meta.url);
  const ricDir = dirname(require.resolve("aws-lambda-ric/package.json"));
  const ricFunction = async (name: string, code: string) => {
    const out = await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: "provided.al2023",
        Handler: "app.handler",
        Role: "arn:aws:iam::000000000000:role/test",
        Code: {
          ZipFile: await zipOf({
            ...filesUnder(ricDir, "node_modules/aws-lambda-ric"),
            bootstrap: {
              content: `#!/bin/sh\nexec node "$LAMBDA_TASK_ROOT/node_modules/aws-lambda-ric/index.mjs"\n`,
              mode: 0o755,
            },
            "app.mjs": code,
          }),
        },
      }),
    );
    assert.equal(out.State, "Active");
  };

  test("streams over the HTTP Runtime API: chunks as written, an error in the trailers, the HTTP prelude", async () => {
    await ricFunction(
      "ric-stream",
      `${SLEEP}
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  if (event.prelude) {
    const s = awslambda.HttpResponseStream.from(responseStream, { statusCode: 418, headers: { "x-tea": "yes" } });
    s.write("teapot");
    s.end();
    return;
  }
  responseStream.setContentType("text/plain");
  responseStream.write("ric-first@" + Date.now() + ";");
  await sleep(500);
  if (event.fail) throw new SyntaxError("ric broke");
  responseStream.end("ric-last@" + Date.now());
});`,
    );
    const ok = await stream("ric-stream");
    assert.equal(ok.complete?.ErrorCode, undefined, ok.tail);
    assert.match(ok.body.toString(), /^ric-first@\d+;ric-last@\d+$/);
    const lastWrittenAt = Number(/ric-last@(\d+)/.exec(ok.body.toString())?.[1]);
    assert.ok(ok.chunks[0]!.at < lastWrittenAt, "the first chunk arrived before the function wrote its last");
    assert.match(ok.tail, /REPORT RequestId: /);

    const failed = await stream("ric-stream", { fail: true });
    assert.match(failed.body.toString(), /^ric-first@\d+;$/);
    assert.equal(failed.complete?.ErrorCode, "SyntaxError");
    assert.equal(failed.complete?.ErrorDetails, "ric broke");

    const prelude = await stream("ric-stream", { prelude: true });
    assert.deepEqual(
      prelude.body,
      Buffer.concat([
        Buffer.from(JSON.stringify({ statusCode: 418, headers: { "x-tea": "yes" } })),
        Buffer.alloc(8),
        Buffer.from("teapot"),
      ]),
    );
  });
});

describe("the Runtime API's response mode", () => {
  test("a mode other than streaming is refused with 400 InvalidFunctionResponseMode; the invoker sees Runtime.InvalidResponseModeHeader", async () => {
    const bootstrap = `#!/bin/sh
set -eu
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  id=$(curl -sS -D - -o /dev/null "$api/invocation/next" | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *\\([^[:space:]]*\\).*/\\1/p')
  # The answer to the previous invocation's response, told during this one (its log is still open).
  cat "$TMPDIR/answer" 2>/dev/null || true
  answer=$(curl -sS -w ' %{http_code}' -X POST -H "Lambda-Runtime-Function-Response-Mode: buffered" -d '"x"' "$api/invocation/$id/response")
  echo "answered: $answer" > "$TMPDIR/answer"
done
`;
    await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: "bad-mode",
        Runtime: "provided.al2023",
        Handler: "x",
        Role: "arn:aws:iam::000000000000:role/test",
        Code: { ZipFile: await zipOf({ bootstrap: { content: bootstrap, mode: 0o755 } }) },
      }),
    );
    const first = await t.lambda.send(new InvokeCommand({ FunctionName: "bad-mode", Payload: "{}" }));
    assert.equal(first.FunctionError, "Unhandled");
    const error = JSON.parse(text(first.Payload)) as { errorType: string };
    assert.equal(error.errorType, "Runtime.InvalidResponseModeHeader");
    const second = await t.lambda.send(
      new InvokeCommand({ FunctionName: "bad-mode", Payload: "{}", LogType: "Tail" }),
    );
    const tail = Buffer.from(second.LogResult ?? "", "base64").toString();
    assert.match(tail, /answered: \{"errorType":"InvalidFunctionResponseMode".* 400/);
  });
});

function chunksOf(chunks: Buffer[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

async function all(body: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of body as unknown as AsyncIterable<Uint8Array>) out.push(c);
  return out;
}
