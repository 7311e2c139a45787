// The runtime's response streaming over the HTTP Runtime API (what it speaks where Nimbus offers
// no framed socket), against a fake API that records each POST's chunks and trailers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Post, startSandbox, tempFunction } from "../../../test/helpers/fake-runtime-api.js";

const SLEEP = "const sleep = (ms) => new Promise((r) => setTimeout(r, ms));";

function assertStreamed(post: Post, contentType: string): void {
  assert.match(post.path, /\/response$/, `expected a response, got ${post.path}: ${post.body}`);
  assert.equal(post.headers["lambda-runtime-function-response-mode"], "streaming");
  assert.equal(post.headers["transfer-encoding"], "chunked");
  assert.equal(post.headers["content-type"], contentType);
  assert.match(
    post.headers.trailer ?? "",
    /lambda-runtime-function-error-type, lambda-runtime-function-error-body/i,
  );
}

function trailerError(post: Post): { errorType: string; errorMessage: string; trace: string[] } {
  const body = post.trailers["lambda-runtime-function-error-body"];
  assert.ok(body, `no error trailer: ${JSON.stringify(post.trailers)}`);
  const error = JSON.parse(Buffer.from(body, "base64").toString()) as {
    errorType: string;
    errorMessage: string;
    trace: string[];
  };
  assert.equal(post.trailers["lambda-runtime-function-error-type"], error.errorType);
  return error;
}

test("a streaming handler's writes leave as it writes them, as one chunked POST in streaming mode", async (t) => {
  const dir = tempFunction(t, {
    "index.mjs": `${SLEEP}
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType("text/plain");
  responseStream.write("first;");
  await sleep(300);
  responseStream.write({ n: event.n });
  responseStream.end("last@" + Date.now() + ";" + context.awsRequestId);
});`,
  });
  const sandbox = await startSandbox(t, dir, "index.handler");
  const post = await sandbox.invoke({ n: 1 });
  assertStreamed(post, "text/plain");
  assert.deepEqual(post.trailers, {});
  assert.match(post.body, /^first;\{"n":1\}last@\d+;req-1$/);
  const lastWrittenAt = Number(/last@(\d+)/.exec(post.body)?.[1]);
  assert.equal(post.chunks[0]?.bytes.toString(), "first;");
  assert.ok(post.chunks[0]!.at < lastWrittenAt, "the first write arrived before the last was written");
  // The runtime goes on to the next invocation.
  assert.match((await sandbox.invoke({ n: 2 })).body, /^first;\{"n":2\}last@\d+;req-2$/);
});

test("a failure mid-stream is sent in the error trailers, after the bytes written before it", async (t) => {
  const dir = tempFunction(t, {
    "index.mjs": `
export const handler = awslambda.streamifyResponse(async (event, s) => {
  s.write("partial;");
  if (event.kind === "throw") throw new TypeError("broke");
  if (event.kind === "sync") return;
  if (event.kind === "late") { try { s.setContentType("text/html"); } catch (e) { s.end(e.name + ": " + e.message); return; } }
  s.destroy(new RangeError("destroyed"));
});
export const notAsync = awslambda.streamifyResponse((event, s) => { s.write("x"); });`,
  });
  const sandbox = await startSandbox(t, dir, "index.handler");
  const thrown = await sandbox.invoke({ kind: "throw" });
  assertStreamed(thrown, "application/octet-stream");
  assert.equal(thrown.body, "partial;");
  const error = trailerError(thrown);
  assert.equal(error.errorType, "TypeError");
  assert.equal(error.errorMessage, "broke");
  assert.match(error.trace[0] ?? "", /^TypeError: broke/);

  const late = await sandbox.invoke({ kind: "late" });
  assert.equal(late.body, "partial;Runtime.InvalidStreamingOperation: Cannot set content-type, too late.");

  const destroyed = await sandbox.invoke({ kind: "destroy" });
  assert.equal(destroyed.body, "partial;");
  assert.equal(trailerError(destroyed).errorType, "RangeError");

  const notAsync = await startSandbox(t, dir, "index.notAsync");
  assert.equal(
    trailerError(await notAsync.invoke({})).errorMessage,
    "Streaming does not support non-async handlers.",
  );
});

test("the invocation lasts until the stream ends; one never ended fails once nothing is left to run", async (t) => {
  const dir = tempFunction(t, {
    "index.mjs": `${SLEEP}
export const handler = awslambda.streamifyResponse(async (event, s) => {
  s.write("started;");
  if (event.endLater) setTimeout(() => s.end("ended later"), 200);
});`,
  });
  const sandbox = await startSandbox(t, dir, "index.handler");
  const later = await sandbox.invoke({ endLater: true });
  assert.equal(later.body, "started;ended later");
  assert.deepEqual(later.trailers, {});
  const never = await sandbox.invoke({});
  assert.equal(never.body, "started;");
  const error = trailerError(never);
  assert.equal(error.errorType, "Runtime.NodeJsExit");
  assert.match(error.errorMessage, /response stream was never ended/);
});

test("HttpResponseStream.from sets the integration content type and writes the prelude, 8 NUL bytes, then the body", async (t) => {
  const dir = tempFunction(t, {
    "index.mjs": `
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const s = awslambda.HttpResponseStream.from(responseStream, { statusCode: 404, headers: { a: "b" } });
  s.end(event.body);
});`,
  });
  const sandbox = await startSandbox(t, dir, "index.handler");
  const post = await sandbox.invoke({ body: "not here" });
  assertStreamed(post, "application/vnd.awslambda.http-integration-response");
  assert.equal(post.body, `{"statusCode":404,"headers":{"a":"b"}}${"\0".repeat(8)}not here`);
});

test("a handler marked for another streaming mode fails init with Runtime.MalformedStreamingHandler", async (t) => {
  const dir = tempFunction(t, {
    "index.mjs": `export const handler = async () => null;
handler[Symbol.for("aws.lambda.runtime.handler.streaming")] = "request";`,
  });
  const sandbox = await startSandbox(t, dir, "index.handler");
  assert.equal(await sandbox.exitCode(), 1);
  assert.equal(sandbox.posts[0]?.path, "/2018-06-01/runtime/init/error");
  assert.equal(
    sandbox.posts[0]?.headers["lambda-runtime-function-error-type"],
    "Runtime.MalformedStreamingHandler",
  );
});
