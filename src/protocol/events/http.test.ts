import assert from "node:assert/strict";
import { test } from "node:test";
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from "aws-lambda";
import {
  clfTime,
  type HttpEventContext,
  type HttpRequestFacts,
  httpEventV1,
  httpEventV2,
  isTextBody,
  isTextualType,
} from "./http.js";

const URL_ID = "abcdefghijklmnopqrstuvwxyz012345";

function request(over: Partial<HttpRequestFacts> = {}): HttpRequestFacts {
  return {
    method: "GET",
    rawPath: "/my/path",
    rawQuery: "",
    headers: [
      ["Host", `${URL_ID}.lambda-url.us-east-1.localhost`],
      ["User-Agent", "curl/8"],
    ],
    body: Buffer.alloc(0),
    sourceIp: "203.0.113.1",
    protocol: "HTTP/1.1",
    ...over,
  };
}

const CONTEXT: HttpEventContext = {
  accountId: "123456789012",
  apiId: URL_ID,
  domainName: `${URL_ID}.lambda-url.us-east-1.localhost`,
  domainPrefix: URL_ID,
  requestId: "0b6c2a3e-1f7d-4c55-9a47-7f3d1f0e9b21",
  timeEpochMs: 1795535466000,
};

/** A PNG's signature and the start of its IHDR chunk: not UTF-8 (0x89 cannot start a sequence). */
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48]);

test("a function URL's GET becomes the 2.0 event Lambda sends, with $default route and stage", () => {
  const event = httpEventV2(request(), CONTEXT);
  assert.deepEqual(event, {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/my/path",
    rawQueryString: "",
    headers: { host: `${URL_ID}.lambda-url.us-east-1.localhost`, "user-agent": "curl/8" },
    requestContext: {
      accountId: "123456789012",
      apiId: URL_ID,
      domainName: `${URL_ID}.lambda-url.us-east-1.localhost`,
      domainPrefix: URL_ID,
      http: {
        method: "GET",
        path: "/my/path",
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.1",
        userAgent: "curl/8",
      },
      requestId: "0b6c2a3e-1f7d-4c55-9a47-7f3d1f0e9b21",
      routeKey: "$default",
      stage: "$default",
      time: "24/Nov/2026:15:51:06 +0000",
      timeEpoch: 1795535466000,
    },
    isBase64Encoded: false,
  });
});

test("the 2.0 event has the shape @types/aws-lambda declares for HTTP APIs and function URLs", () => {
  const event: APIGatewayProxyEventV2 = httpEventV2(request({ rawQuery: "a=1" }), CONTEXT);
  assert.equal(event.version, "2.0");
});

test("a 2.0 event without cookies, query or body leaves those fields out, as do path parameters and stage variables not given", () => {
  const event = httpEventV2(request(), CONTEXT);
  for (const field of ["cookies", "queryStringParameters", "body", "pathParameters", "stageVariables"])
    assert.equal(field in event, false, `${field} should be absent`);
  assert.equal("authorizer" in event.requestContext, false);
});

test("header names are lower-cased and a repeated header's values are joined with commas, in arrival order", () => {
  const event = httpEventV2(
    request({
      headers: [
        ["X-Multi", "v1"],
        ["Accept", "text/html"],
        ["x-multi", "v2"],
        ["X-MULTI", "v3"],
      ],
    }),
    CONTEXT,
  );
  assert.deepEqual(event.headers, { "x-multi": "v1,v2,v3", accept: "text/html" });
});

test("every Cookie header is split on '; ' into cookies, and no Cookie header stays in headers", () => {
  const event = httpEventV2(
    request({
      headers: [
        ["Cookie", "c1=v1; c2=v2"],
        ["Accept", "*/*"],
        ["cookie", "c3=v3"],
      ],
    }),
    CONTEXT,
  );
  assert.deepEqual(event.cookies, ["c1=v1", "c2=v2", "c3=v3"]);
  assert.deepEqual(event.headers, { accept: "*/*" });
});

test("a repeated query key's values are comma-joined and values are URL-decoded; rawQueryString stays as received", () => {
  const event = httpEventV2(request({ rawQuery: "a=1&a=2&b=x%20y" }), CONTEXT);
  assert.equal(event.rawQueryString, "a=1&a=2&b=x%20y");
  assert.deepEqual(event.queryStringParameters, { a: "1,2", b: "x y" });
});

test("query decoding: + is a space, a key without = has an empty value, broken escapes are kept as sent", () => {
  const event = httpEventV2(request({ rawQuery: "q=a+b&flag&&bad=%zz&k%C3%A9=%E2%9C%93&eq=a=b" }), CONTEXT);
  assert.deepEqual(event.queryStringParameters, { q: "a b", flag: "", bad: "%zz", ké: "✓", eq: "a=b" });
});

test("an empty query, or one of only separators, has no queryStringParameters", () => {
  assert.equal("queryStringParameters" in httpEventV2(request({ rawQuery: "" }), CONTEXT), false);
  assert.equal("queryStringParameters" in httpEventV2(request({ rawQuery: "&&" }), CONTEXT), false);
});

test("a header or query key named like an Object.prototype member is an ordinary field", () => {
  const event = httpEventV2(
    request({
      headers: [
        ["__proto__", "a"],
        ["constructor", "b"],
        ["__proto__", "c"],
      ],
      rawQuery: "__proto__=1&toString=2",
    }),
    CONTEXT,
  );
  assert.equal(JSON.stringify(event.headers), '{"__proto__":"a,c","constructor":"b"}');
  assert.deepEqual(Object.keys(event.queryStringParameters ?? {}), ["__proto__", "toString"]);
  assert.equal(Object.getPrototypeOf(event.headers), Object.prototype);
});

test("a JSON body is passed as text, not base64", () => {
  const body = Buffer.from('{"name":"é ✓"}');
  const event = httpEventV2(
    request({ method: "POST", headers: [["Content-Type", "application/json; charset=utf-8"]], body }),
    CONTEXT,
  );
  assert.equal(event.body, '{"name":"é ✓"}');
  assert.equal(event.isBase64Encoded, false);
});

test("a PNG body is base64 and decodes back to the same bytes", () => {
  const event = httpEventV2(
    request({ method: "PUT", headers: [["content-type", "image/png"]], body: PNG }),
    CONTEXT,
  );
  assert.equal(event.isBase64Encoded, true);
  assert.deepEqual(Buffer.from(event.body ?? "", "base64"), PNG);
});

test("bytes that are not UTF-8 are base64 even under a textual content type", () => {
  const event = httpEventV2(request({ headers: [["content-type", "text/plain"]], body: PNG }), CONTEXT);
  assert.equal(event.isBase64Encoded, true);
});

test("valid UTF-8 under a binary content type is still base64, so an upload arrives byte for byte", () => {
  const event = httpEventV2(
    request({ headers: [["content-type", "application/octet-stream"]], body: Buffer.from("plain") }),
    CONTEXT,
  );
  assert.deepEqual(event.isBase64Encoded, true);
  assert.equal(event.body, Buffer.from("plain").toString("base64"));
});

test("a body without a content type is text when it is valid UTF-8", () => {
  const event = httpEventV2(request({ body: Buffer.from("hello") }), CONTEXT);
  assert.equal(event.body, "hello");
  assert.equal(event.isBase64Encoded, false);
});

test("textual types: text/*, JSON and XML and their +suffixes, forms, scripts; not images, octets or multipart", () => {
  for (const t of [
    "text/plain",
    "TEXT/HTML; charset=utf-8",
    "application/json",
    "application/vnd.api+json",
    "application/problem+json",
    "application/xml",
    "application/atom+xml",
    "application/x-www-form-urlencoded",
    "application/javascript",
    "application/graphql",
    "",
  ])
    assert.equal(isTextualType(t), true, t);
  for (const t of [
    "image/png",
    "application/octet-stream",
    "multipart/form-data; boundary=x",
    "application/pdf",
  ])
    assert.equal(isTextualType(t), false, t);
  assert.equal(isTextBody(Buffer.from("{}"), undefined), true);
});

test("an HTTP API route's key, stage, path parameters, stage variables and authorizer are carried as given", () => {
  const event = httpEventV2(request({ rawPath: "/items/42" }), {
    ...CONTEXT,
    routeKey: "GET /items/{id}",
    stage: "prod",
    pathParameters: { id: "42" },
    stageVariables: { table: "items" },
    authorizer: { jwt: { claims: { sub: "u-1" }, scopes: null } },
  });
  assert.equal(event.routeKey, "GET /items/{id}");
  assert.equal(event.requestContext.routeKey, "GET /items/{id}");
  assert.equal(event.requestContext.stage, "prod");
  assert.deepEqual(event.pathParameters, { id: "42" });
  assert.deepEqual(event.stageVariables, { table: "items" });
  assert.deepEqual(event.requestContext.authorizer, { jwt: { claims: { sub: "u-1" }, scopes: null } });
});

test("a request without User-Agent has an empty userAgent", () => {
  const event = httpEventV2(request({ headers: [] }), CONTEXT);
  assert.equal(event.requestContext.http.userAgent, "");
});

test("the request time is written in API Gateway's common-log form, in UTC, zero-padded", () => {
  assert.equal(clfTime(1795535466000), "24/Nov/2026:15:51:06 +0000");
  assert.equal(clfTime(Date.UTC(2027, 0, 2, 3, 4, 5)), "02/Jan/2027:03:04:05 +0000");
});

test("the 1.0 event keeps every value of a repeated header and query key, and the last one in the single-value maps", () => {
  const event = httpEventV1(
    request({
      method: "POST",
      rawQuery: "a=1&a=2&b=x%20y",
      headers: [
        ["X-Multi", "v1"],
        ["x-multi", "v2"],
        ["Cookie", "c1=v1; c2=v2"],
        ["User-Agent", "curl/8"],
      ],
    }),
    CONTEXT,
  );
  assert.deepEqual(event.headers, { "x-multi": "v2", cookie: "c1=v1; c2=v2", "user-agent": "curl/8" });
  assert.deepEqual(event.multiValueHeaders, {
    "x-multi": ["v1", "v2"],
    cookie: ["c1=v1; c2=v2"],
    "user-agent": ["curl/8"],
  });
  assert.deepEqual(event.queryStringParameters, { a: "2", b: "x y" });
  assert.deepEqual(event.multiValueQueryStringParameters, { a: ["1", "2"], b: ["x y"] });
});

test("the 1.0 event of a bodiless, queryless request has nulls where REST-style events have them", () => {
  const event = httpEventV1(request(), CONTEXT);
  assert.equal(event.version, "1.0");
  assert.equal(event.resource, "/my/path");
  assert.equal(event.path, "/my/path");
  assert.equal(event.httpMethod, "GET");
  assert.equal(event.body, null);
  assert.equal(event.isBase64Encoded, false);
  assert.equal(event.queryStringParameters, null);
  assert.equal(event.multiValueQueryStringParameters, null);
  assert.equal(event.pathParameters, null);
  assert.equal(event.stageVariables, null);
  assert.deepEqual(
    {
      sourceIp: event.requestContext.identity.sourceIp,
      userAgent: event.requestContext.identity.userAgent,
      requestTime: event.requestContext.requestTime,
      requestTimeEpoch: event.requestContext.requestTimeEpoch,
      stage: event.requestContext.stage,
      resourcePath: event.requestContext.resourcePath,
    },
    {
      sourceIp: "203.0.113.1",
      userAgent: "curl/8",
      requestTime: "24/Nov/2026:15:51:06 +0000",
      requestTimeEpoch: 1795535466000,
      stage: "$default",
      resourcePath: "/my/path",
    },
  );
});

test("the 1.0 event base64-encodes a binary body and carries the route's resource and parameters", () => {
  const event = httpEventV1(
    request({ method: "PUT", rawPath: "/items/42", headers: [["content-type", "image/png"]], body: PNG }),
    { ...CONTEXT, resource: "/items/{id}", pathParameters: { id: "42" } },
  );
  assert.equal(event.isBase64Encoded, true);
  assert.deepEqual(Buffer.from(event.body ?? "", "base64"), PNG);
  assert.equal(event.resource, "/items/{id}");
  assert.equal(event.requestContext.resourcePath, "/items/{id}");
  assert.deepEqual(event.pathParameters, { id: "42" });
});

test("the 1.0 event has the shape @types/aws-lambda declares, but for what an HTTP API leaves out of REST's", () => {
  // An HTTP API sends resourceId as null and no API-key or client-certificate fields in
  // identity; REST's declared type has them, so those are left out of this check.
  type HttpApiV1 = Omit<APIGatewayProxyEvent, "requestContext"> & {
    requestContext: Omit<APIGatewayProxyEvent["requestContext"], "resourceId" | "identity"> & {
      identity: Omit<
        APIGatewayProxyEvent["requestContext"]["identity"],
        "apiKey" | "apiKeyId" | "clientCert"
      >;
    };
  };
  const event: HttpApiV1 = httpEventV1(request(), CONTEXT);
  assert.equal(event.requestContext.resourcePath, "/my/path");
});
