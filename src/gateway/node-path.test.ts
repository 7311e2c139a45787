/** Surfaces' node paths (`Surface.node`), through the platform's HTTP server on a port. */
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { Hono } from "hono";
import { HttpServer } from "../platform/http-server.js";
import { systemClock } from "../shared/clock.js";
import { NimbusError } from "../shared/errors.js";
import { type Logger, silentLogger } from "../shared/logger.js";
import { createAuthenticator } from "./auth/principal.js";
import { serveOnNode, serveSurfaces } from "./dispatch.js";
import type { Surface, SurfaceEnv } from "./surface.js";

/** A surface whose routes answer `fetch:<name>`, its errors `<name>:<code>`. */
function surface(name: string, over: Partial<Surface> = {}): Surface {
  const app = new Hono<SurfaceEnv>();
  app.all("*", (c) => c.text(`fetch:${name}`));
  return {
    name,
    reach: { pathPrefix: "/" },
    auth: { kind: "anonymous" },
    body: { mode: "buffered", limit: () => ({ bytes: 64, tooLarge: "too large" }) },
    renderError: (err) => new Response(`${name}:${err.code}`, { status: err.status }),
    app,
    ...over,
  };
}

function get(base: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get(`${base}${path}`, { headers, agent: false }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe("a surface's node path", () => {
  const errors: unknown[] = [];
  const logger: Logger = { ...silentLogger, error: (_msg, fields) => void errors.push(fields?.err) };
  const surfaces = [
    surface("a", {
      reach: { pathPrefix: "/a" },
      node: (req) => {
        const url = req.url ?? "";
        if (url.includes("decline")) return undefined;
        if (url.includes("too-large")) return Promise.reject(new NimbusError("RequestTooLarge", "too large"));
        if (url.includes("boom")) return Promise.reject(new Error("boom"));
        if (url.includes("throws")) throw new Error("thrown before any answer");
        if (url.includes("bad-header"))
          return Promise.resolve({ status: 200, headers: { "x-bad": "a\nb" }, body: "never sent" });
        return Promise.resolve({ status: 200, headers: { "x-by": "node" }, body: `node:a ${req.method}` });
      },
    }),
    surface("b", { reach: { hosts: ["{x}.b.localhost"] } }),
    // Takes its hosts' requests only when they carry its header.
    surface("c", { reach: { hosts: ["{x}.c.localhost"], accepts: (r) => r.headers.has("x-c") } }),
  ];
  let server: HttpServer;
  let base: string;

  before(async () => {
    const d = {
      authenticator: createAuthenticator("verify", { accessKeyId: "K", secretAccessKey: "S" }, () =>
        Date.now(),
      ),
      logger,
    };
    server = new HttpServer(systemClock);
    base = await server.listen(serveSurfaces(surfaces, d).fetch, "127.0.0.1", 0, serveOnNode(surfaces, d));
  });

  after(() => server.flush());

  test("serves what its surface's reach takes, ahead of the fetch", async () => {
    assert.deepEqual(await get(base, "/a/x"), { status: 200, body: "node:a GET" });
  });

  test("what it declines, the fetch serves", async () => {
    assert.deepEqual(await get(base, "/a/decline"), { status: 200, body: "fetch:a" });
  });

  test("a later surface's host still wins over its path, as in the fetch", async () => {
    assert.deepEqual(await get(base, "/a/x", { host: "one.b.localhost" }), { status: 200, body: "fetch:b" });
  });

  test("a request a surface's `accepts` must judge goes to the fetch, which judges it", async () => {
    const host = "one.c.localhost";
    assert.deepEqual(await get(base, "/a/x", { host, "x-c": "1" }), { status: 200, body: "fetch:c" });
    assert.deepEqual(await get(base, "/a/x", { host }), { status: 200, body: "fetch:a" });
  });

  test("its failures answer in the surface's format; an unexpected one is logged", async () => {
    assert.deepEqual(await get(base, "/a/too-large"), { status: 413, body: "a:RequestTooLarge" });
    assert.equal(errors.length, 0);
    assert.deepEqual(await get(base, "/a/boom"), { status: 500, body: "a:Internal" });
    assert.equal((errors[0] as Error).message, "boom");
  });

  test("a node path that throws leaves the request to the fetch", async () => {
    assert.deepEqual(await get(base, "/a/throws"), { status: 200, body: "fetch:a" });
  });

  test("an answer Node refuses to write (a line break in a header) is a 500, and the server goes on", async () => {
    assert.deepEqual(await get(base, "/a/bad-header"), { status: 500, body: "a:Internal" });
    assert.deepEqual(await get(base, "/a/x"), { status: 200, body: "node:a GET" });
  });
});
