import assert from "node:assert/strict";
import { test } from "node:test";
import { type AccessLogContext, compileAccessLogFormat } from "./access-log.js";

const CONTEXT: AccessLogContext = {
  requestId: "r-1",
  apiId: "a1b2c3",
  stage: "$default",
  routeKey: "GET /items/{id}",
  httpMethod: "GET",
  path: "/items/7",
  protocol: "HTTP/1.1",
  sourceIp: "203.0.113.9",
  userAgent: "curl/8",
  requestTimeEpochMs: Date.UTC(2026, 10, 24, 15, 51, 6),
  status: 200,
  responseLength: 17,
  integrationLatency: 12,
  responseLatency: 15,
};

const render = (format: string, c: AccessLogContext = CONTEXT) => compileAccessLogFormat(format).render(c);

test("the common-log-like format reads as API Gateway writes it", () => {
  assert.equal(
    render(
      '$context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod $context.routeKey $context.protocol" $context.status $context.responseLength $context.requestId',
    ),
    '203.0.113.9 - - [24/Nov/2026:15:51:06 +0000] "GET GET /items/{id} HTTP/1.1" 200 17 r-1',
  );
});

test("a JSON format is a format string, and its line parses as JSON", () => {
  const line = render(
    '{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "path":"$context.path", "status":"$context.status", "latency":$context.integrationLatency, "epoch":$context.requestTimeEpoch }',
  );
  assert.deepEqual(JSON.parse(line), {
    requestId: "r-1",
    ip: "203.0.113.9",
    path: "/items/7",
    status: "200",
    latency: 12,
    epoch: CONTEXT.requestTimeEpochMs,
  });
});

test("unknown variables and values not set for this request render as -", () => {
  assert.equal(render("$context.nothing $context.error.message $context.authorizer.claims.sub"), "- - -");
});

test("a JWT authorizer's claims and a Lambda authorizer's context are reachable by name", () => {
  const c: AccessLogContext = {
    ...CONTEXT,
    authorizer: {
      claims: { sub: "user-1", "cognito:groups": "[admin]" },
      context: { tenant: "acme", n: 3, o: { a: 1 } },
    },
  };
  assert.equal(
    render(
      "$context.authorizer.claims.sub $context.authorizer.claims.cognito:groups $context.authorizer.tenant $context.authorizer.n $context.authorizer.o",
      c,
    ),
    'user-1 [admin] acme 3 {"a":1}',
  );
});

test("an error's message, and its quoted form for JSON formats", () => {
  const c: AccessLogContext = {
    ...CONTEXT,
    status: 401,
    error: { message: "Unauthorized", responseType: "UNAUTHORIZED" },
  };
  assert.equal(
    render("$context.status $context.error.message $context.error.responseType", c),
    "401 Unauthorized UNAUTHORIZED",
  );
  assert.deepEqual(JSON.parse(render('{"err":$context.error.messageString}', c)), { err: "Unauthorized" });
});

test("a full stop after a variable is not part of its name", () => {
  assert.equal(render("ended with $context.status."), "ended with 200.");
});

test("in a JSON format a quote in a value cannot break the line", () => {
  const c: AccessLogContext = { ...CONTEXT, userAgent: 'evil" , "status":"999' };
  assert.deepEqual(JSON.parse(render('{"ua":"$context.identity.userAgent","status":"$context.status"}', c)), {
    ua: 'evil" , "status":"999',
    status: "200",
  });
});

test("a newline in a value is escaped, so one request stays one line", () => {
  const c: AccessLogContext = { ...CONTEXT, userAgent: "a\nfake line" };
  assert.equal(render("$context.identity.userAgent"), "curl/8");
  assert.equal(render("$context.identity.userAgent", c), "a\\nfake line");
  assert.equal(
    render("$context.identity.userAgent", { ...CONTEXT, userAgent: "x\u007fy\u0001" }),
    "x\\u007fy\\u0001",
  );
});

test("a format without variables is written as is", () => {
  assert.equal(render("static text"), "static text");
});
