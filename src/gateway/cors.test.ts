import assert from "node:assert/strict";
import { test } from "node:test";
import type { CorsSettings } from "../protocol/cors.js";
import { corsHeaders, isPreflight, PREFLIGHT_STATUS, preflightAnswer } from "./cors.js";

const APP = "https://app.example.com";

const LISTED: CorsSettings = {
  allowOrigins: [APP, "http://localhost:5173"],
  allowMethods: ["GET", "PUT", "DELETE"],
  allowHeaders: ["Content-Type", "X-Custom"],
  exposeHeaders: ["X-Request-Id", "Date"],
  maxAge: 300,
};

test("a preflight is OPTIONS with both Origin and Access-Control-Request-Method", () => {
  const h = (init: Record<string, string>) => new Headers(init);
  assert.equal(isPreflight("OPTIONS", h({ Origin: APP, "Access-Control-Request-Method": "PUT" })), true);
  assert.equal(isPreflight("OPTIONS", h({ Origin: APP })), false);
  assert.equal(isPreflight("OPTIONS", h({ "Access-Control-Request-Method": "PUT" })), false);
  assert.equal(isPreflight("PUT", h({ Origin: APP, "Access-Control-Request-Method": "PUT" })), false);
});

test("a preflight from a listed origin echoes the origin with the lists, max-age and vary", () => {
  const a = preflightAnswer(LISTED, APP, "PUT", "content-type, x-custom");
  assert.deepEqual(a, {
    status: PREFLIGHT_STATUS,
    headers: [
      ["access-control-allow-origin", APP],
      ["access-control-allow-methods", "GET, PUT, DELETE"],
      ["access-control-allow-headers", "Content-Type, X-Custom"],
      ["access-control-max-age", "300"],
      ["vary", "origin"],
    ],
  });
});

test("origins match case-insensitively on scheme and host, exactly on port", () => {
  assert.equal(preflightAnswer(LISTED, "HTTPS://App.Example.COM", "GET", null).refused, undefined);
  assert.equal(
    preflightAnswer(LISTED, "HTTPS://App.Example.COM", "GET", null).headers[0]?.[1],
    "HTTPS://App.Example.COM",
  );
  assert.equal(preflightAnswer(LISTED, "http://localhost:5173", "GET", null).refused, undefined);
  assert.match(
    preflightAnswer(LISTED, "http://localhost:5174", "GET", null).refused ?? "",
    /not in AllowOrigins/,
  );
  assert.match(
    preflightAnswer(LISTED, "https://app.example.com:8443", "GET", null).refused ?? "",
    /AllowOrigins/,
  );
  assert.match(preflightAnswer(LISTED, "http://app.example.com", "GET", null).refused ?? "", /AllowOrigins/);
});

test("a preflight from an origin not allowed gets the same status with no allow header at all", () => {
  const a = preflightAnswer(LISTED, "https://evil.example", "PUT", "x-custom");
  assert.equal(a.status, PREFLIGHT_STATUS);
  assert.deepEqual(a.headers, [["vary", "origin"]]);
  assert.equal(a.refused, "origin https://evil.example is not in AllowOrigins");
});

test("a preflight asking for a header not allowed gets the configured list, so the browser names the header", () => {
  const a = preflightAnswer(LISTED, APP, "PUT", "X-Custom, Authorization");
  assert.deepEqual(
    a.headers.find(([n]) => n === "access-control-allow-headers"),
    ["access-control-allow-headers", "Content-Type, X-Custom"],
  );
  assert.equal(a.refused, "request header authorization not in AllowHeaders");
});

test("a preflight asking for a method not allowed is refused; safelisted methods need no listing", () => {
  assert.equal(preflightAnswer(LISTED, APP, "PATCH", null).refused, "method PATCH is not in AllowMethods");
  assert.equal(preflightAnswer(LISTED, APP, "POST", null).refused, undefined);
});

test("with AllowOrigins * and no credentials, every origin gets * and nothing varies by origin", () => {
  const cors: CorsSettings = { allowOrigins: ["*"], allowMethods: ["*"], allowHeaders: ["*"] };
  const a = preflightAnswer(cors, "https://anywhere.example", "PATCH", "x-one, authorization");
  assert.deepEqual(a, {
    status: PREFLIGHT_STATUS,
    headers: [
      ["access-control-allow-origin", "*"],
      ["access-control-allow-methods", "PATCH"],
      ["access-control-allow-headers", "x-one, authorization"],
    ],
  });
  assert.deepEqual(corsHeaders(cors, "https://anywhere.example"), [["access-control-allow-origin", "*"]]);
});

test("with credentials, * echoes the actual origin (a browser refuses * on a credentialed request) and says so", () => {
  const cors: CorsSettings = { allowOrigins: ["*"], allowCredentials: true, allowMethods: ["GET"] };
  const a = preflightAnswer(cors, APP, "GET", null);
  assert.deepEqual(a.headers, [
    ["access-control-allow-origin", APP],
    ["access-control-allow-credentials", "true"],
    ["access-control-allow-methods", "GET"],
    ["vary", "origin"],
  ]);
  assert.deepEqual(corsHeaders(cors, APP), [
    ["access-control-allow-origin", APP],
    ["access-control-allow-credentials", "true"],
    ["vary", "origin"],
  ]);
});

test("an actual answer to an allowed origin carries allow-origin, expose-headers and vary", () => {
  assert.deepEqual(corsHeaders(LISTED, "http://localhost:5173"), [
    ["access-control-allow-origin", "http://localhost:5173"],
    ["access-control-expose-headers", "X-Request-Id, Date"],
    ["vary", "origin"],
  ]);
});

test("an actual answer to an origin not allowed, or to a request without Origin, carries only vary", () => {
  assert.deepEqual(corsHeaders(LISTED, "https://evil.example"), [["vary", "origin"]]);
  assert.deepEqual(corsHeaders(LISTED, null), [["vary", "origin"]]);
  assert.deepEqual(corsHeaders({ allowOrigins: ["*"] }, null), []);
});

test("the scheme wildcards https://* and http://* take any origin of that scheme, echoed", () => {
  const cors: CorsSettings = { allowOrigins: ["https://*"] };
  assert.deepEqual(corsHeaders(cors, "https://a.example:8443"), [
    ["access-control-allow-origin", "https://a.example:8443"],
    ["vary", "origin"],
  ]);
  assert.deepEqual(corsHeaders(cors, "http://a.example"), [["vary", "origin"]]);
});

test("a wildcard subdomain is not a pattern: it matches no origin", () => {
  const cors: CorsSettings = { allowOrigins: ["https://*.example.com"] };
  assert.deepEqual(corsHeaders(cors, "https://app.example.com"), [["vary", "origin"]]);
});

test("a configuration without methods, headers or max-age sends none of them", () => {
  const a = preflightAnswer({ allowOrigins: [APP] }, APP, "GET", null);
  assert.deepEqual(a.headers, [
    ["access-control-allow-origin", APP],
    ["vary", "origin"],
  ]);
  assert.equal(a.refused, undefined);
});

test("a configured origin with a trailing slash still matches the origin a browser sends", () => {
  assert.equal(preflightAnswer({ allowOrigins: [`${APP}/`] }, APP, "GET", null).refused, undefined);
});
