/**
 * End to end: web-standard handlers (an export with `fetch(request, env, ctx)`, the shape of a
 * Workers module or a Hono app) deployed through the Lambda API and invoked with
 * @aws-sdk/client-lambda with a function URL's event (payload 2.0), on Nimbus's Node runtime.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { CreateFunctionCommand, InvokeCommand } from "@aws-sdk/client-lambda";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import {
  filesUnder,
  startPlatform,
  type TestPlatform,
  text,
  type ZipFiles,
  zipOf,
} from "./helpers/platform.js";

/** How long a handler's waitUntil work takes, to tell that the answer waited for it. */
const WAIT_UNTIL_MS = 200;

let t: TestPlatform;
before(async () => {
  t = await startPlatform();
});
after(async () => {
  await t.close();
});

async function deploy(
  name: string,
  files: ZipFiles,
  handler: string,
  variables: Record<string, string> = {},
): Promise<void> {
  const out = await t.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: "nodejs20.x",
      Handler: handler,
      Role: "arn:aws:iam::000000000000:role/test",
      Code: { ZipFile: await zipOf(files) },
      Environment: { Variables: variables },
    }),
  );
  assert.equal(out.State, "Active");
}

interface Invoked {
  readonly functionError: string | undefined;
  readonly payload: unknown;
  readonly tail: string;
  /** The invocation's Duration from its REPORT line, in ms. */
  readonly durationMs: number;
}

async function invoke(name: string, event: unknown): Promise<Invoked> {
  const out = await t.lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event), LogType: "Tail" }),
  );
  const tail = Buffer.from(out.LogResult ?? "", "base64").toString("utf8");
  const duration = /\tDuration: ([\d.]+) ms/.exec(tail);
  assert.ok(duration, `no REPORT Duration in the log tail:\n${tail}`);
  return {
    functionError: out.FunctionError,
    payload: JSON.parse(text(out.Payload)),
    tail,
    durationMs: Number(duration[1]),
  };
}

/** The function's answer to an HTTP event, which must not be a function error. */
function answer(out: Invoked): APIGatewayProxyStructuredResultV2 {
  assert.equal(out.functionError, undefined, `${JSON.stringify(out.payload)}\n${out.tail}`);
  return out.payload as APIGatewayProxyStructuredResultV2;
}

/** A function URL's event, as Lambda documents it. */
function urlEvent(
  method: string,
  rawPath: string,
  rawQueryString = "",
  more: Partial<APIGatewayProxyEventV2> = {},
): APIGatewayProxyEventV2 {
  const urlId = "abcdefghijklmnopqrstuvwxyz012345";
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    headers: { host: `${urlId}.lambda-url.us-east-1.on.aws`, "user-agent": "curl/8" },
    requestContext: {
      accountId: "123456789012",
      apiId: urlId,
      domainName: `${urlId}.lambda-url.us-east-1.on.aws`,
      domainPrefix: urlId,
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "203.0.113.1", userAgent: "curl/8" },
      requestId: "6f7b2a62-1b3c-4c61-9a1e-0c2b8e0e3f11",
      routeKey: "$default",
      stage: "$default",
      time: "24/Nov/2026:15:51:06 +0000",
      timeEpoch: 1795535466000,
    },
    isBase64Encoded: false,
    ...more,
  } satisfies APIGatewayProxyEventV2;
}

const ECHO = `export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, ${WAIT_UNTIL_MS})).then(() => console.log("waitUntil work done")));
    const headers = new Headers({ "x-function": ctx.lambda.functionName });
    headers.append("set-cookie", "seen=1; Path=/");
    headers.append("set-cookie", "theme=dark");
    return Response.json({
      method: request.method,
      url: request.url,
      path: url.pathname,
      query: url.searchParams.getAll("tag"),
      header: request.headers.get("x-order"),
      cookie: request.headers.get("cookie"),
      body: await request.text(),
      someVar: env.SOME_VAR,
    }, { status: 201, headers });
  },
};
`;

test("a fetch handler gets the request (method, path, query, headers, cookies, body) and env, and its Response is the answer", async () => {
  await deploy("web-echo", { "index.mjs": ECHO }, "index.default", {
    SOME_VAR: "from the function's environment",
  });
  const event = urlEvent("POST", "/orders/42", "tag=a&tag=b", {
    headers: { ...urlEvent("POST", "/").headers, "x-order": "rush", "content-type": "text/plain" },
    cookies: ["session=abc", "lang=en"],
    body: Buffer.from("one cup of tea").toString("base64"),
    isBase64Encoded: true,
  });
  const out = await invoke("web-echo", event);
  const result = answer(out);
  assert.equal(result.statusCode, 201);
  assert.equal(result.isBase64Encoded, false);
  assert.deepEqual(result.cookies, ["seen=1; Path=/", "theme=dark"]);
  assert.deepEqual(result.headers, { "content-type": "application/json", "x-function": "web-echo" });
  assert.deepEqual(JSON.parse(result.body ?? ""), {
    method: "POST",
    url: "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/orders/42?tag=a&tag=b",
    path: "/orders/42",
    query: ["a", "b"],
    header: "rush",
    cookie: "session=abc; lang=en",
    body: "one cup of tea",
    someVar: "from the function's environment",
  });
  // The answer waited for the work handed to ctx.waitUntil, and its log line is the invocation's.
  assert.ok(out.durationMs >= WAIT_UNTIL_MS, `answered after ${out.durationMs} ms, before waitUntil's work`);
  assert.match(out.tail, /\tINFO\twaitUntil work done\n/);
});

test("a binary Response arrives base64-encoded, byte for byte", async () => {
  await deploy(
    "web-binary",
    {
      "index.mjs": `export default {
        fetch: () => new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe]), {
          headers: { "content-type": "image/png" },
        }),
      };`,
    },
    "index.default",
  );
  const result = answer(await invoke("web-binary", urlEvent("GET", "/logo.png")));
  assert.equal(result.isBase64Encoded, true);
  assert.deepEqual([...Buffer.from(result.body ?? "", "base64")], [0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe]);
  assert.equal(result.headers?.["content-type"], "image/png");
});

/** Hono's ES module build and its package.json, as an app's package carries it. */
function honoPackage(): ZipFiles {
  // Hono exports no ./package.json; its CommonJS entry is dist/cjs/index.js.
  const root = resolve(dirname(createRequire(import.meta.url).resolve("hono")), "../..");
  const files: ZipFiles = { "node_modules/hono/package.json": readFileSync(join(root, "package.json")) };
  // The CommonJS build and the type declarations are not what an ES module app loads.
  for (const entry of readdirSync(join(root, "dist"), { withFileTypes: true })) {
    const path = join(root, "dist", entry.name);
    if (!entry.isDirectory()) files[`node_modules/hono/dist/${entry.name}`] = readFileSync(path);
    else if (entry.name !== "cjs" && entry.name !== "types")
      Object.assign(files, filesUnder(path, `node_modules/hono/dist/${entry.name}`));
  }
  return files;
}

test("a Hono app deploys unchanged, named by its export, with routes, params, middleware and c.env", async () => {
  await deploy(
    "web-hono",
    {
      ...honoPackage(),
      "package.json": '{"type":"module"}',
      "index.js": `import { Hono } from "hono";
export const app = new Hono();
app.use("*", async (c, next) => {
  await next();
  c.header("x-powered-by", "hono on nimbus");
});
app.get("/hello/:name", (c) => c.json({ hello: c.req.param("name"), lang: c.req.query("lang"), greeting: c.env.GREETING }));
app.post("/echo", async (c) => c.text(await c.req.text(), 202));
`,
    },
    "index.app",
    { GREETING: "welcome" },
  );
  const hello = answer(await invoke("web-hono", urlEvent("GET", "/hello/ada", "lang=en")));
  assert.equal(hello.statusCode, 200);
  assert.equal(hello.headers?.["x-powered-by"], "hono on nimbus");
  assert.deepEqual(JSON.parse(hello.body ?? ""), { hello: "ada", lang: "en", greeting: "welcome" });

  const echo = answer(await invoke("web-hono", urlEvent("POST", "/echo", "", { body: "ping" })));
  assert.deepEqual([echo.statusCode, echo.body, echo.isBase64Encoded], [202, "ping", false]);

  const missing = answer(await invoke("web-hono", urlEvent("GET", "/nowhere")));
  assert.equal(missing.statusCode, 404);
});

test("a fetch handler invoked with an event that is no HTTP request fails with Runtime.InvalidEvent, saying why", async () => {
  await deploy("web-not-http", { "index.mjs": ECHO }, "index.default");
  const out = await invoke("web-not-http", { Records: [{ eventSource: "aws:sqs", body: "hello" }] });
  assert.equal(out.functionError, "Unhandled");
  const body = out.payload as { errorType: string; errorMessage: string };
  assert.equal(body.errorType, "Runtime.InvalidEvent");
  assert.equal(
    body.errorMessage,
    'a fetch handler needs an HTTP event (a function URL or an HTTP API request, payload 2.0 or 1.0); got an object with keys "Records"',
  );
});
