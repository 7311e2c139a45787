import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Post, startSandbox, tempFunction } from "../../../test/helpers/fake-runtime-api.js";

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = resolve(here, "../../../../test/fixtures/node-handlers");
const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t(\S+)\t(INFO|WARN|ERROR|DEBUG|TRACE)\t([^\n]*)$/;

function fixture(name: string): string {
  return join(FIXTURES, name);
}

function assertResponse(post: Post, expected: unknown): void {
  assert.match(post.path, /\/response$/, `expected a response, got ${post.path}: ${post.body}`);
  assert.equal(post.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(post.body), expected);
}

function assertError(post: Post, errorType: string, errorMessage: string | RegExp): string[] {
  assert.match(post.path, /\/error$/, `expected an error, got ${post.path}: ${post.body}`);
  assert.equal(post.headers["lambda-runtime-function-error-type"], errorType);
  const body = JSON.parse(post.body) as { errorType: string; errorMessage: string; trace: string[] };
  assert.equal(body.errorType, errorType);
  if (typeof errorMessage === "string") assert.equal(body.errorMessage, errorMessage);
  else assert.match(body.errorMessage, errorMessage);
  assert.ok(Array.isArray(body.trace));
  return body.trace;
}

test("an async CommonJS handler answers with its JSON result, and a second invoke reuses the warm module", async (t) => {
  const sandbox = await startSandbox(t, fixture("async-cjs"), "index.handler");
  const first = await sandbox.invoke({ order: 1 });
  assertResponse(first, { echo: { order: 1 }, invocations: 1, requestId: "req-1", isCommonJs: true });
  const second = await sandbox.invoke({ order: 2 });
  assertResponse(second, { echo: { order: 2 }, invocations: 2, requestId: "req-2", isCommonJs: true });
  await sandbox.waitFor("the runtime to ask for a third invoke", () => sandbox.nextRequests() === 3);
});

test("ES module handlers load from .mjs files and from .js files in a type-module package", async (t) => {
  const mjs = await startSandbox(t, fixture("esm-mjs"), "index.handler");
  assertResponse(await mjs.invoke({ a: 1 }), { echo: { a: 1 }, moduleUrl: true });
  const typeModule = await startSandbox(t, fixture("esm-type-module"), "index.handler");
  assertResponse(await typeModule.invoke({}), { greeting: "hello from a type-module package", isEsm: true });
});

test("an ES module .js outside a type-module package falls back to import() where Node can detect its syntax", async (t) => {
  const detects = (process.features as unknown as Record<string, unknown>).require_module === true;
  const dir = tempFunction(t, {
    "index.js":
      "let loads = 0;\nloads += await Promise.resolve(1);\nexport const handler = async () => ({ loads });\n",
  });
  const sandbox = await startSandbox(t, dir, "index.handler");
  if (detects) {
    assertResponse(await sandbox.invoke({}), { loads: 1 });
  } else {
    await sandbox.waitFor("an init error", () => sandbox.posts.length > 0);
    assert.equal(
      sandbox.posts[0]?.headers["lambda-runtime-function-error-type"],
      "Runtime.UserCodeSyntaxError",
    );
  }
});

test("a handler in a nested directory and a nested export path are both found", async (t) => {
  const handler = await startSandbox(t, fixture("nested"), "lib/app.handler");
  assertResponse(await handler.invoke({}), { from: "lib/app.handler" });
  const nestedExport = await startSandbox(t, fixture("nested"), "lib/app.api.v1.get");
  assertResponse(await nestedExport.invoke({}), { from: "lib/app.api.v1.get" });
});

test("an export that is an object with fetch, the default or a named class instance, answers an HTTP event as a web handler", async (t) => {
  const dir = tempFunction(t, {
    "index.mjs": `class App {
  constructor(greeting) { this.greeting = greeting; }
  fetch(request, env, ctx) {
    return new Response(this.greeting + " " + new URL(request.url).pathname + " in " + ctx.lambda.functionName);
  }
}
export const app = new App("hello");
export default { fetch: (request) => Response.json({ method: request.method }) };
`,
  });
  const event = {
    version: "2.0",
    rawPath: "/path",
    rawQueryString: "",
    headers: {},
    requestContext: { domainName: "x.localhost", http: { method: "DELETE" } },
    isBase64Encoded: false,
  };
  const named = await startSandbox(t, dir, "index.app");
  assertResponse(await named.invoke(event), {
    statusCode: 200,
    headers: { "content-type": "text/plain;charset=UTF-8" },
    cookies: [],
    body: "hello /path in orders",
    isBase64Encoded: false,
  });
  const byDefault = await startSandbox(t, dir, "index.default");
  assertResponse(await byDefault.invoke(event), {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    cookies: [],
    body: '{"method":"DELETE"}',
    isBase64Encoded: false,
  });
});

test("a plain synchronous handler answers with its return value, and undefined becomes null", async (t) => {
  const sync = await startSandbox(t, fixture("callback"), "index.sync");
  assertResponse(await sync.invoke({ n: 1 }), { sync: true, echo: { n: 1 } });
  const empty = await startSandbox(t, fixture("callback"), "index.syncUndefined");
  assertResponse(await empty.invoke({}), null);
});

test("a callback handler answers when it calls back: after the event loop drains, or at once when callbackWaitsForEmptyEventLoop is false", async (t) => {
  const waits = await startSandbox(t, fixture("callback"), "index.waits");
  assertResponse(await waits.invoke({}), { ready: true });
  const noWait = await startSandbox(t, fixture("callback"), "index.noWait");
  assertResponse(await noWait.invoke({}), { ready: false });
  const later = await startSandbox(t, fixture("callback"), "index.later");
  assertResponse(await later.invoke({}), "called back later");
});

test("callback(error) fails the invoke, the first completion wins, and a handler that never calls back answers null", async (t) => {
  const error = await startSandbox(t, fixture("callback"), "index.error");
  assertError(await error.invoke({}), "TypeError", "bad input");
  const succeed = await startSandbox(t, fixture("callback"), "index.succeed");
  assertResponse(await succeed.invoke({}), { via: "context.succeed" });
  const never = await startSandbox(t, fixture("callback"), "index.neverCalls");
  assertResponse(await never.invoke({}), null);
});

test("context carries the function's settings, the invoke's headers and the remaining time", async (t) => {
  const sandbox = await startSandbox(t, fixture("context"), "index.handler");
  const traced = await sandbox.invoke(
    {},
    {
      "lambda-runtime-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
      "lambda-runtime-client-context": '{"custom":{"tenant":"acme"}}',
      "lambda-runtime-cognito-identity": '{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}',
    },
  );
  const context = JSON.parse(traced.body) as Record<string, unknown>;
  const remaining = context.remainingTimeInMillis as number;
  assert.ok(remaining > 0 && remaining <= 3_000, `remaining time ${remaining} ms`);
  delete context.remainingTimeInMillis;
  assert.deepEqual(context, {
    functionName: "orders",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:local:000000000000:function:orders",
    memoryLimitInMB: "256",
    awsRequestId: "req-1",
    logGroupName: "/aws/lambda/orders",
    logStreamName: "2024/01/01/[$LATEST]0123456789abcdef",
    identity: { cognitoIdentityId: "id-1", cognitoIdentityPoolId: "pool-1" },
    clientContext: { custom: { tenant: "acme" } },
    callbackWaitsForEmptyEventLoop: true,
    hasLegacyMethods: true,
    traceId: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
  });
  const untraced = JSON.parse((await sandbox.invoke({})).body) as Record<string, unknown>;
  assert.equal(untraced.traceId, null, "_X_AMZN_TRACE_ID is removed when the invoke has no trace id");
  assert.equal("identity" in untraced || "clientContext" in untraced, false);
});

test("a thrown or rejected Error is reported with its name, message and stack lines", async (t) => {
  const rejected = await startSandbox(t, fixture("throws"), "index.error");
  const trace = assertError(await rejected.invoke({}), "ValidationError", "amount must be positive");
  assert.equal(trace[0], "ValidationError: amount must be positive");
  assert.match(trace[1] ?? "", /^\s+at .*throws\/index\.js/);
  assert.match(rejected.stdout(), /\treq-1\tERROR\tInvoke Error \t\{"errorType":"ValidationError"/);
  const thrown = await startSandbox(t, fixture("throws"), "index.syncError");
  assertError(await thrown.invoke({}), "RangeError", "out of range");
});

test("a thrown value that is not an Error is reported by its typeof and String value, with no trace", async (t) => {
  const cases = [
    ["index.string", "string", "plain string"],
    ["index.number", "number", "42"],
    ["index.object", "object", "[object Object]"],
    ["index.undefinedRejection", "undefined", "undefined"],
  ] as const;
  await Promise.all(
    cases.map(async ([handler, errorType, errorMessage]) => {
      const sandbox = await startSandbox(t, fixture("throws"), handler);
      assert.deepEqual(assertError(await sandbox.invoke({}), errorType, errorMessage), []);
    }),
  );
});

test("results that cannot be serialised, unparsable events and never-settling handlers fail only their own invoke", async (t) => {
  const circular = await startSandbox(t, fixture("throws"), "index.circular");
  assertError(await circular.invoke({}), "Runtime.JSONStringifyError", "Unable to stringify response body");

  const unmarshal = await startSandbox(t, fixture("async-cjs"), "index.handler");
  const trace = assertError(
    await unmarshal.invoke("{not json"),
    "Runtime.UnmarshalError",
    /^cannot parse the event as JSON: /,
  );
  assert.ok(trace.length > 0);
  assertResponse(await unmarshal.invoke({ ok: true }), {
    echo: { ok: true },
    invocations: 1,
    requestId: "req-2",
    isCommonJs: true,
  });

  const stuck = await startSandbox(t, fixture("callback"), "index.neverSettles");
  const post = await stuck.invoke({});
  assert.equal(post.headers["lambda-runtime-function-error-type"], "Runtime.NodeJsExit");
  assert.match((await stuck.invoke({})).path, /\/req-2\/error$/, "the sandbox keeps serving");
});

test("an unhandled rejection or uncaught exception during an invoke fails that invoke and exits 1", async (t) => {
  const rejection = await startSandbox(t, fixture("throws"), "index.unhandled");
  assertError(await rejection.invoke({}), "Runtime.UnhandledPromiseRejection", "Error: nobody awaited me");
  assert.equal(await rejection.exitCode(), 1);
  assert.match(rejection.stdout(), /\treq-1\tERROR\tUnhandled Promise Rejection \t/);

  const uncaught = await startSandbox(t, fixture("throws"), "index.uncaught");
  assertError(await uncaught.invoke({}), "ValidationError", "thrown from a timer");
  assert.equal(await uncaught.exitCode(), 1);
  assert.equal(uncaught.posts.length, 1, "no response follows the error");
});

test("init failures are posted to /init/error with Lambda's error types, and the process exits 1", async (t) => {
  const syntaxError = tempFunction(t, {
    "index.js": "exports.handler = async () => {\n  return { broken: true ;\n};\n",
  });
  const cases: Array<[dir: string, handler: string, errorType: string, message: RegExp]> = [
    [
      fixture("async-cjs"),
      "missing.handler",
      "Runtime.ImportModuleError",
      /^Error: Cannot find module 'missing'\n/,
    ],
    [
      syntaxError,
      "index.handler",
      "Runtime.UserCodeSyntaxError",
      /^SyntaxError: Unexpected token ';' \(index\.js:2:25\)$/,
    ],
    [
      fixture("no-export"),
      "index.handler",
      "Runtime.HandlerNotFound",
      /^index\.handler is undefined or not exported$/,
    ],
    [fixture("no-export"), "index.config", "Runtime.HandlerNotFound", /^index\.config is not a function$/],
    [fixture("async-cjs"), "index", "Runtime.MalformedHandlerName", /^Bad handler 'index'/],
    [fixture("init-throws"), "index.handler", "ConfigError", /^DATABASE_URL is not set$/],
    [
      fixture("init-rejects"),
      "index.handler",
      "Runtime.UnhandledPromiseRejection",
      /^Error: could not warm the cache$/,
    ],
  ];
  await Promise.all(
    cases.map(async ([dir, handler, errorType, message]) => {
      const sandbox = await startSandbox(t, dir, handler);
      assert.equal(await sandbox.exitCode(), 1, `${handler} in ${dir} exits 1`);
      assert.equal(sandbox.nextRequests(), 0, "no invocation is requested after a failed init");
      const [post, ...others] = sandbox.posts;
      assert.equal(others.length, 0);
      assert.equal(post?.path, "/2018-06-01/runtime/init/error");
      assert.equal(post.headers["lambda-runtime-function-error-type"], errorType);
      const body = JSON.parse(post.body) as { errorType: string; errorMessage: string; trace: string[] };
      assert.equal(body.errorType, errorType);
      assert.match(body.errorMessage, message);
      assert.ok(body.trace.length > 0, `${errorType} carries a trace`);
    }),
  );
});

test("console output is one stdout line per call in Lambda's text format, tagged with the request id", async (t) => {
  const sandbox = await startSandbox(t, fixture("logs"), "index.handler");
  assertResponse(await sandbox.invoke({}), "logged");
  const lines = sandbox
    .stdout()
    .split("\n")
    .filter((line) => line !== "");
  const records = lines.map((line) => {
    const match = LOG_LINE.exec(line);
    assert.ok(match, `not a Lambda log line: ${JSON.stringify(line)}`);
    return { requestId: match[1], level: match[2], message: match[3] ?? "" };
  });
  assert.deepEqual(records[0], { requestId: "undefined", level: "INFO", message: "module loaded" });
  const invokeRecords = records.slice(1);
  assert.ok(invokeRecords.every((record) => record.requestId === "req-1"));
  assert.deepEqual(
    invokeRecords.map((record) => `${record.level} ${record.message.split("\r")[0]}`),
    [
      "INFO hello ada, you are 36",
      "INFO an info line",
      "WARN a warning",
      "ERROR an error Error: shown with its stack",
      "DEBUG a debug line",
      "TRACE a trace line",
      "INFO first line",
      "INFO { nested: { answer: 42 } }",
    ],
  );
  assert.match(invokeRecords[3]?.message ?? "", /^an error Error: shown with its stack\r\s+at /);
  assert.equal(invokeRecords[6]?.message, "first line\rsecond line");
});
