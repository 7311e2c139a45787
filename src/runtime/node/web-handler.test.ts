import assert from "node:assert/strict";
import { test } from "node:test";
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from "aws-lambda";
import { LambdaError } from "./runtime-api-client.js";
import {
  type FetchContext,
  fetchHandler,
  type HttpResultV1,
  type HttpResultV2,
  isFetchTarget,
  requestFromEvent,
  resultFromResponse,
} from "./web-handler.js";

/** Bytes no UTF-8 decoder accepts (a PNG signature's 0x89 starts no character). */
const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);

function v2(overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/orders/42",
    rawQueryString: "a=1&a=2&b=x%20y",
    cookies: ["session=abc", "theme=dark"],
    headers: { "content-type": "application/json", "x-multi": "v1,v2", "user-agent": "curl/8" },
    queryStringParameters: { a: "1,2", b: "x y" },
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdefghijklmnopqrstuvwxyz012345",
      domainName: "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws",
      domainPrefix: "abcdefghijklmnopqrstuvwxyz012345",
      http: {
        method: "POST",
        path: "/orders/42",
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.1",
        userAgent: "curl/8",
      },
      requestId: "6f7b2a62-1b3c-4c61-9a1e-0c2b8e0e3f11",
      routeKey: "$default",
      stage: "$default",
      time: "24/Nov/2026:15:51:06 +0000",
      timeEpoch: 1795535466000,
    },
    body: '{"item":"tea"}',
    isBase64Encoded: false,
    ...overrides,
  } satisfies APIGatewayProxyEventV2;
}

function v1(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: "PUT",
    path: "/orders/42",
    resource: "/orders/{id}",
    headers: { Host: "api.example.com", "X-Multi": "v2" },
    multiValueHeaders: { Host: ["api.example.com"], "X-Multi": ["v1", "v2"] },
    queryStringParameters: { a: "2", b: "x y" },
    multiValueQueryStringParameters: { a: ["1", "2"], b: ["x y"] },
    pathParameters: { id: "42" },
    stageVariables: null,
    requestContext: {
      domainName: "api.example.com",
    } as APIGatewayProxyEvent["requestContext"],
    body: null,
    isBase64Encoded: false,
    ...overrides,
  } satisfies APIGatewayProxyEvent;
}

function assertInvalidEvent(event: unknown, message: RegExp): void {
  assert.throws(
    () => requestFromEvent(event),
    (err: unknown) =>
      err instanceof LambdaError && err.name === "Runtime.InvalidEvent" && message.test(err.message),
  );
}

test("a 2.0 event becomes a Request with its method, https URL, raw query, headers, cookies and body", async () => {
  const { request, version } = requestFromEvent(v2());
  assert.equal(version, "2.0");
  assert.equal(request.method, "POST");
  assert.equal(
    request.url,
    "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/orders/42?a=1&a=2&b=x%20y",
  );
  assert.deepEqual(new URL(request.url).searchParams.getAll("a"), ["1", "2"]);
  assert.equal(request.headers.get("x-multi"), "v1,v2");
  assert.equal(request.headers.get("cookie"), "session=abc; theme=dark");
  assert.equal(await request.text(), '{"item":"tea"}');
});

test("a base64 request body arrives as its bytes", async () => {
  const { request } = requestFromEvent(v2({ body: BINARY.toString("base64"), isBase64Encoded: true }));
  assert.deepEqual(Buffer.from(await request.arrayBuffer()), BINARY);
});

test("a localhost domain is served over http, with the port the Host header names; X-Forwarded-Proto wins", () => {
  const local = v2();
  local.requestContext.domainName = "abc.lambda-url.us-east-1.localhost";
  local.headers = { host: "abc.lambda-url.us-east-1.localhost:9000" };
  assert.equal(
    requestFromEvent(local).request.url,
    "http://abc.lambda-url.us-east-1.localhost:9000/orders/42?a=1&a=2&b=x%20y",
  );

  const forwarded = v2({ rawQueryString: "" });
  forwarded.headers = { "x-forwarded-proto": "http" };
  assert.equal(
    requestFromEvent(forwarded).request.url,
    "http://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/orders/42",
  );

  // A Host header naming another domain does not move the request there.
  const other = v2({ rawQueryString: "" });
  other.headers = { host: "evil.example:8080" };
  assert.equal(
    new URL(requestFromEvent(other).request.url).host,
    "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws",
  );
});

test("a GET keeps no body, and a path with spaces or a double slash stays a path", async () => {
  const http = { ...v2().requestContext.http, method: "GET" };
  const get = v2({ rawPath: "//files/a b.txt", rawQueryString: "", body: "ignored" });
  get.requestContext.http = http;
  const { request } = requestFromEvent(get);
  assert.equal(request.body, null);
  assert.equal(new URL(request.url).pathname, "//files/a%20b.txt");
});

test("a 1.0 event becomes a Request from its repeated headers and query values", async () => {
  const { request, version } = requestFromEvent(
    v1({ body: BINARY.toString("base64"), isBase64Encoded: true }),
  );
  assert.equal(version, "1.0");
  assert.equal(request.method, "PUT");
  assert.equal(request.url, "https://api.example.com/orders/42?a=1&a=2&b=x+y");
  assert.equal(request.headers.get("x-multi"), "v1, v2");
  assert.deepEqual(Buffer.from(await request.arrayBuffer()), BINARY);

  // Without the multi-value maps, the single-valued ones are read.
  const single = requestFromEvent(
    v1({ multiValueHeaders: {}, multiValueQueryStringParameters: null, body: "plain" }),
  ).request;
  assert.equal(single.url, "https://api.example.com/orders/42?a=2&b=x+y");
  assert.equal(single.headers.get("x-multi"), "v2");
  assert.equal(await single.text(), "plain");
});

test("any other event is refused with Runtime.InvalidEvent, saying what a fetch handler needs and what came", () => {
  const needs =
    "a fetch handler needs an HTTP event \\(a function URL or an HTTP API request, payload 2.0 or 1.0\\)";
  assertInvalidEvent(
    { Records: [{ eventSource: "aws:sqs" }] },
    new RegExp(`^${needs}; got an object with keys "Records"$`),
  );
  assertInvalidEvent({}, /; got an empty object$/);
  assertInvalidEvent("ping", /; got a string "ping"$/);
  assertInvalidEvent(null, /; got null$/);
  // 2.0 in name only: without requestContext.http.method there is no request to make.
  assertInvalidEvent({ version: "2.0", rawPath: "/" }, /; got an object with keys "version", "rawPath"$/);
  assertInvalidEvent(
    { ...v2(), headers: { "x-bad": "caf\u0100" } },
    /^cannot make a Request of the HTTP event: .*ByteString/,
  );
});

test("a Response becomes the 2.0 answer: one value per header, each Set-Cookie in cookies, text body", async () => {
  const headers = new Headers({ "content-type": "application/json; charset=utf-8" });
  headers.append("vary", "accept");
  headers.append("vary", "origin");
  headers.append("set-cookie", "session=abc; HttpOnly");
  headers.append("set-cookie", "theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT");
  const result = await resultFromResponse(new Response('{"ok":"é"}', { status: 201, headers }), "2.0");
  assert.deepEqual(result, {
    statusCode: 201,
    headers: { "content-type": "application/json; charset=utf-8", vary: "accept, origin" },
    cookies: ["session=abc; HttpOnly", "theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT"],
    body: '{"ok":"é"}',
    isBase64Encoded: false,
  } satisfies HttpResultV2);
});

test("a binary body, or a textual one that is not UTF-8, is base64; an empty one is empty text", async () => {
  const png = await resultFromResponse(
    new Response(BINARY, { headers: { "content-type": "image/png" } }),
    "2.0",
  );
  assert.equal(png.isBase64Encoded, true);
  assert.deepEqual(Buffer.from(png.body, "base64"), BINARY);

  const latin1 = await resultFromResponse(
    new Response(Buffer.from("caf\xe9", "latin1"), {
      headers: { "content-type": "text/plain; charset=iso-8859-1" },
    }),
    "2.0",
  );
  assert.deepEqual([latin1.body, latin1.isBase64Encoded], ["Y2Fm6Q==", true]);

  // The BOM is part of the bytes and must survive the round trip through text.
  const bom = await resultFromResponse(
    new Response("\ufeffhi", { headers: { "content-type": "text/csv" } }),
    "2.0",
  );
  assert.deepEqual([bom.body, bom.isBase64Encoded], ["\ufeffhi", false]);

  const svg = await resultFromResponse(
    new Response("<svg/>", { headers: { "content-type": "image/svg+xml" } }),
    "2.0",
  );
  assert.deepEqual([svg.body, svg.isBase64Encoded], ["<svg/>", false]);

  const empty = await resultFromResponse(new Response(null, { status: 204 }), "2.0");
  assert.deepEqual([empty.statusCode, empty.body, empty.isBase64Encoded], [204, "", false]);
});

test("a Response to a 1.0 event puts its cookies in multiValueHeaders", async () => {
  const headers = new Headers({ "content-type": "text/html" });
  headers.append("set-cookie", "a=1");
  headers.append("set-cookie", "b=2");
  const result = await resultFromResponse(new Response("<p>hi</p>", { status: 200, headers }), "1.0");
  assert.deepEqual(result, {
    statusCode: 200,
    headers: { "content-type": "text/html" },
    multiValueHeaders: { "set-cookie": ["a=1", "b=2"] },
    body: "<p>hi</p>",
    isBase64Encoded: false,
  } satisfies HttpResultV1);
  const none = (await resultFromResponse(new Response("x"), "1.0")) as HttpResultV1;
  assert.deepEqual(none.multiValueHeaders, {});
});

test("only objects with a fetch method are web handlers, class instances included; functions stay Lambda handlers", () => {
  class App {
    fetch = () => new Response("ok");
  }
  assert.equal(isFetchTarget({ fetch() {} }), true);
  assert.equal(isFetchTarget(new App()), true);
  assert.equal(isFetchTarget(Object.assign(() => null, { fetch() {} })), false);
  assert.equal(isFetchTarget({ fetch: "no" }), false);
  assert.equal(isFetchTarget(null), false);
});

test("fetch gets the environment and a ctx with Lambda's context; the answer waits for waitUntil", async () => {
  process.env.WEB_HANDLER_TEST_VAR = "from the environment";
  const lambdaContext = { awsRequestId: "req-1" };
  const order: string[] = [];
  let seen: { env: unknown; ctx: FetchContext; self: unknown } | undefined;
  const target = {
    name: "the target",
    async fetch(request: Request, env: Record<string, string | undefined>, ctx: FetchContext) {
      seen = { env: env.WEB_HANDLER_TEST_VAR, ctx, self: (this as { name?: string }).name };
      ctx.passThroughOnException();
      ctx.waitUntil(
        new Promise((resolve) => setTimeout(resolve, 30)).then(() => {
          order.push("waitUntil");
          // A waitUntil task may hand over more work.
          ctx.waitUntil(Promise.resolve().then(() => order.push("nested waitUntil")));
        }),
      );
      ctx.waitUntil(Promise.reject(new Error("logged, not the answer")));
      order.push("fetch returned");
      return new Response(`${request.method} ${new URL(request.url).pathname}`);
    },
  };
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  let result: unknown;
  try {
    result = await fetchHandler(target)(v2(), lambdaContext);
  } finally {
    console.error = error;
    delete process.env.WEB_HANDLER_TEST_VAR;
  }
  order.push("answered");
  assert.deepEqual(order, ["fetch returned", "waitUntil", "nested waitUntil", "answered"]);
  assert.equal((result as HttpResultV2).body, "POST /orders/42");
  assert.equal(seen?.env, "from the environment");
  assert.equal(seen?.ctx.lambda, lambdaContext);
  assert.equal(seen?.self, "the target");
  assert.equal(logged.length, 1);
  assert.match(String(logged[0]?.[1]), /logged, not the answer/);
});

test("an error fetch throws is the invocation's error, and anything but a Response is a TypeError", async () => {
  const thrown = new RangeError("no such order");
  await assert.rejects(
    fetchHandler({
      fetch() {
        throw thrown;
      },
    })(v2(), {}),
    thrown,
  );
  await assert.rejects(fetchHandler({ fetch: () => ({ statusCode: 200, body: "lambda style" }) })(v2(), {}), {
    name: "TypeError",
    message:
      'a fetch handler must answer with a Response; it answered with an object with keys "statusCode", "body"',
  });
});
