import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileReach, shadows } from "./surface.js";

describe("a surface reached by host", () => {
  const functionUrls = { hosts: ["{id}.lambda-url.{region}.localhost"], pathPrefix: "/nimbus/v1/url/{id}" };

  test("takes its hosts whatever the port and the case, and captures their labels", () => {
    assert.deepEqual(compileReach(functionUrls)("Abc123.lambda-url.us-east-1.localhost:9000", "/any/path"), {
      via: "host",
      params: { id: "abc123", region: "us-east-1" },
    });
    assert.deepEqual(compileReach(functionUrls)("abc.lambda-url.eu-west-1.localhost", "/"), {
      via: "host",
      params: { id: "abc", region: "eu-west-1" },
    });
  });

  test("takes no host with a label more or less, nor another domain", () => {
    for (const host of [
      "lambda-url.us-east-1.localhost",
      "x.abc.lambda-url.us-east-1.localhost",
      "abc.lambda-url.us-east-1.example.com",
      "abc.lambda-url..localhost",
      "localhost:9000",
    ])
      assert.equal(compileReach(functionUrls)(host, "/x"), undefined, host);
  });

  test("falls back to its path prefix on any other host, capturing its segments", () => {
    assert.deepEqual(compileReach(functionUrls)("localhost:9000", "/nimbus/v1/url/abc/orders/7"), {
      via: "path",
      params: { id: "abc" },
    });
    assert.equal(compileReach(functionUrls)("localhost:9000", "/nimbus/v1/url/"), undefined);
    assert.equal(compileReach(functionUrls)("localhost:9000", "/nimbus/v1/urls/abc"), undefined);
  });

  test("without a path prefix, is reached by its hosts only", () => {
    const hostOnly = { hosts: ["api.{app}.localhost"] };
    assert.equal(compileReach(hostOnly)("localhost", "/anything"), undefined);
    assert.deepEqual(compileReach(hostOnly)("api.shop.localhost", "/v1/cart")?.params, { app: "shop" });
  });
});

describe("a surface reached by path prefix", () => {
  test("takes whole segments only: the prefix itself and what is under it", () => {
    const nimbus = { pathPrefix: "/nimbus" };
    assert.equal(compileReach(nimbus)("h", "/nimbus")?.via, "path");
    assert.equal(compileReach(nimbus)("h", "/nimbus/v1/logs")?.via, "path");
    assert.equal(compileReach(nimbus)("h", "/nimbusx"), undefined);
    assert.equal(compileReach(nimbus)("h", "/2015-03-31/functions"), undefined);
  });

  test("/ takes every path on every host", () => {
    for (const path of ["/", "/2015-03-31/functions", "/nimbus/v1/logs"])
      assert.deepEqual(compileReach({ pathPrefix: "/" })("any.host:1", path), { via: "path", params: {} });
  });
});

test("a prefix shadows the prefixes under it, not its siblings nor what is above it", () => {
  assert.equal(shadows({ pathPrefix: "/" }, { pathPrefix: "/nimbus" }), true);
  assert.equal(shadows({ pathPrefix: "/nimbus" }, { pathPrefix: "/nimbus/v1/health" }), true);
  assert.equal(shadows({ pathPrefix: "/nimbus/{v}" }, { pathPrefix: "/nimbus/v1/health" }), true);
  assert.equal(shadows({ pathPrefix: "/nimbus/v1/health" }, { pathPrefix: "/nimbus" }), false);
  assert.equal(shadows({ pathPrefix: "/metrics" }, { pathPrefix: "/nimbus" }), false);
  assert.equal(shadows({ hosts: ["a.localhost"] }, { pathPrefix: "/nimbus" }), false);
});
