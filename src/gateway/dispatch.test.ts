/** The gateway's dispatch, driven in-process (`app.request`, no port) with surfaces made for the test. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Hono } from "hono";
import { NimbusError } from "../shared/errors.js";
import { type Logger, silentLogger } from "../shared/logger.js";
import { Sha256 } from "../shared/sha256.js";
import { createAuthenticator, type Principal } from "./auth/principal.js";
import { serveSurfaces } from "./dispatch.js";
import { bodyOf, principalOf, type Surface, type SurfaceEnv } from "./surface.js";

const CREDS = { accessKeyId: "AKIDGATEWAYTEST", secretAccessKey: "gateway-test-secret" };
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const sha256 = (b: string | Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A request signed with the platform's key for `service`, as an SDK would send it. */
async function signed(
  url: string,
  o: { method?: string; body?: string; service?: string; payloadHash?: string } = {},
): Promise<Request> {
  const u = new URL(url);
  const service = o.service ?? "lambda";
  const signer = new SignatureV4({ service, region: "us-east-1", credentials: CREDS, sha256: Sha256 });
  const req = await signer.sign(
    new HttpRequest({
      method: o.method ?? "GET",
      hostname: u.hostname,
      path: u.pathname,
      headers: { host: u.host, "x-amz-content-sha256": o.payloadHash ?? sha256(o.body ?? "") },
      body: o.body,
    }),
    { signingDate: new Date(NOW) },
  );
  return new Request(url, { method: req.method, headers: req.headers, body: o.body });
}

/** A logger that keeps the errors it is given. */
function recordingLogger() {
  const errors: { msg: string; fields: Record<string, unknown> }[] = [];
  const logger: Logger = {
    ...silentLogger,
    error: (msg, fields = {}) => {
      errors.push({ msg, fields });
    },
  };
  return { ...logger, errors };
}

/** A surface answering which surface it is, and who called; errors as `<name>:<code>` text. */
function testSurface(name: string, over: Partial<Surface> = {}): Surface {
  const app = new Hono<SurfaceEnv>();
  app.all("*", (c) => c.json({ surface: name, principal: principalOf(c), reach: c.get("reach") }));
  return {
    name,
    reach: { pathPrefix: "/" },
    auth: { kind: "anonymous" },
    body: { mode: "buffered", limit: () => ({ bytes: 64, tooLarge: `${name} takes 64 bytes` }) },
    renderError: (err, requestId) =>
      new Response(`${name}:${err.code}:${err.message}`, {
        status: err.status,
        headers: { "x-request-id": requestId },
      }),
    app,
    ...over,
  };
}

function serve(surfaces: Surface[], logger: Logger = recordingLogger()) {
  return serveSurfaces(surfaces, { authenticator: createAuthenticator("verify", CREDS, () => NOW), logger });
}

async function whoAnswers(app: Hono, url: string): Promise<string> {
  const res = await app.request(url);
  return res.ok ? ((await res.json()) as { surface: string }).surface : `${res.status} ${await res.text()}`;
}

describe("dispatch", () => {
  const app = serve([
    testSurface("function-urls", {
      reach: { hosts: ["{id}.lambda-url.{region}.localhost"], pathPrefix: "/nimbus/v1/url/{id}" },
    }),
    testSurface("health", { reach: { pathPrefix: "/nimbus/v1/health" } }),
    testSurface("nimbus", { reach: { pathPrefix: "/nimbus" } }),
    testSurface("lambda", { reach: { pathPrefix: "/2015-03-31" } }),
  ]);

  test("sends each path to the first surface whose prefix takes it", async () => {
    assert.equal(await whoAnswers(app, "http://localhost/nimbus/v1/health"), "health");
    assert.equal(await whoAnswers(app, "http://localhost/nimbus/v1/logs"), "nimbus");
    assert.equal(await whoAnswers(app, "http://localhost/2015-03-31/functions"), "lambda");
    assert.equal(await whoAnswers(app, "http://localhost/nimbus/v1/url/abc/orders"), "function-urls");
  });

  test("sends a host surface's hosts to it whatever the path, before any prefix", async () => {
    for (const path of ["/", "/nimbus/v1/health", "/2015-03-31/functions"])
      assert.equal(
        await whoAnswers(app, `http://abc.lambda-url.us-east-1.localhost:9000${path}`),
        "function-urls",
      );
  });

  test("tells the surface how the request reached it", async () => {
    const byHost = await app.request("http://abc.lambda-url.us-east-1.localhost/x");
    assert.deepEqual(((await byHost.json()) as { reach: unknown }).reach, {
      via: "host",
      params: { id: "abc", region: "us-east-1" },
    });
    const byPath = await app.request("http://localhost/nimbus/v1/url/abc/x");
    assert.deepEqual(((await byPath.json()) as { reach: unknown }).reach, {
      via: "path",
      params: { id: "abc" },
    });
  });

  test("answers a request no surface takes with Nimbus's JSON 404", async () => {
    const res = await app.request("http://localhost/2016-08-19/account-settings");
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    assert.equal(body.error.code, "NotFound");
    assert.match(
      body.error.message,
      /No API of this platform serves localhost\/2016-08-19\/account-settings/,
    );
    assert.ok(body.error.requestId);
  });

  test("refuses a list of surfaces where one can never be reached", () => {
    assert.throws(
      () => serve([testSurface("everything"), testSurface("nimbus", { reach: { pathPrefix: "/nimbus" } })]),
      /surface nimbus: its path \/nimbus is never reached: everything \(path \/\) comes first/,
    );
  });
});

describe("each surface's errors in its own format", () => {
  const logger = recordingLogger();
  const failing = (name: string): Surface => {
    const routes = new Hono<SurfaceEnv>();
    routes.get(`/${name}/conflict`, () => {
      throw new NimbusError("Conflict", "it exists already");
    });
    routes.get(`/${name}/bug`, () => {
      throw new TypeError("x is undefined");
    });
    return testSurface(name, {
      reach: { pathPrefix: `/${name}` },
      auth: { kind: "platform-key", service: "lambda" },
      app: routes,
    });
  };
  const app = serve([failing("a"), failing("b")], logger);

  test("a failed authentication", async () => {
    const res = await app.request("http://localhost/a/conflict");
    assert.equal(res.status, 403);
    assert.match(await res.text(), /^a:MissingAuthenticationToken:Missing Authentication Token/);
    assert.match(
      await (await app.request("http://localhost/b/conflict")).text(),
      /^b:MissingAuthenticationToken:/,
    );
  });

  test("an error a route throws", async () => {
    const res = await app.request(await signed("http://localhost/b/conflict"));
    assert.equal(res.status, 409);
    assert.equal(await res.text(), "b:Conflict:it exists already");
  });

  test("no route: the surface's own not-found, once the caller is known", async () => {
    const unsigned = await app.request("http://localhost/a/nothing");
    assert.equal(unsigned.status, 403);
    const res = await app.request(await signed("http://localhost/a/nothing"));
    assert.equal(res.status, 404);
    assert.equal(await res.text(), "a:NotFound:No route for GET /a/nothing");
  });

  test("an unexpected error: a generic internal error, logged in full with its request id", async () => {
    const res = await app.request(await signed("http://localhost/a/bug"));
    assert.equal(res.status, 500);
    assert.match(await res.text(), /^a:Internal:An internal error occurred/);
    const logged = logger.errors.at(-1);
    assert.equal(logged?.fields.requestId, res.headers.get("x-request-id"));
    assert.equal(logged?.fields.surface, "a");
    assert.match(String(logged?.fields.err), /x is undefined/);
  });
});

describe("the Principal", () => {
  const app = serve([
    testSurface("operator", {
      reach: { pathPrefix: "/op" },
      auth: { kind: "platform-key", service: "lambda" },
    }),
    testSurface("public", { reach: { pathPrefix: "/pub" } }),
  ]);
  const principal = async (req: Request | string) => {
    const res = await app.request(req);
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { principal: Principal }).principal;
  };

  test("a signed request reaches the route as the platform's key", async () => {
    assert.deepEqual(await principal(await signed("http://localhost/op/anything")), {
      kind: "platform",
      accessKeyId: CREDS.accessKeyId,
      via: "sigv4",
    });
  });

  test("an anonymous surface's route sees an anonymous caller", async () => {
    assert.deepEqual(await principal("http://localhost/pub/anything"), { kind: "anonymous" });
  });
});

describe("a surface that buffers its body", () => {
  const received: Buffer[] = [];
  const s = testSurface("buffered", { auth: { kind: "platform-key", service: "lambda" } });
  const routes = new Hono<SurfaceEnv>();
  routes.post("/echo", (c) => {
    received.push(bodyOf(c));
    return c.text("ok");
  });
  const app = serve([{ ...s, app: routes }]);

  test("hands the route the body the signature covers", async () => {
    const res = await app.request(await signed("http://localhost/echo", { method: "POST", body: "hello" }));
    assert.equal(res.status, 200);
    assert.equal(received.at(-1)?.toString(), "hello");
  });

  test("refuses a body other than the one signed", async () => {
    const good = await signed("http://localhost/echo", { method: "POST", body: "hello" });
    const res = await app.request(
      new Request(good.url, { method: "POST", headers: good.headers, body: "hellO" }),
    );
    assert.equal(res.status, 403);
    assert.match(await res.text(), /InvalidSignature/);
  });

  test("refuses a body over its limit with 413 before looking at the signature", async () => {
    const res = await app.request("http://localhost/echo", { method: "POST", body: "x".repeat(65) });
    assert.equal(res.status, 413);
    assert.equal(await res.text(), "buffered:RequestTooLarge:buffered takes 64 bytes");
  });
});

describe("a surface that streams its body", () => {
  const app = new Hono<SurfaceEnv>();
  let readBeforeRoute: number | undefined;
  let pulls = 0;
  app.put("/bucket/:key", async (c) => {
    readBeforeRoute = pulls;
    let bytes = 0;
    for await (const chunk of c.req.raw.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
    return c.json({ bytes, principal: principalOf(c).kind });
  });
  const gateway = serve([
    testSurface("storage", {
      auth: { kind: "platform-key", service: "s3" },
      body: { mode: "stream" },
      app,
    }),
  ]);

  /** A body of `chunks` chunks of 1 MiB, counting how many were pulled. */
  const body = (chunks: number) =>
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls === chunks) controller.close();
        else {
          pulls++;
          controller.enqueue(new Uint8Array(1024 * 1024));
        }
      },
    });
  const put = async (headers: Headers, chunks: number) => {
    pulls = 0;
    readBeforeRoute = undefined;
    return gateway.request("http://localhost/bucket/big.bin", {
      method: "PUT",
      headers,
      body: body(chunks),
      duplex: "half",
    } as RequestInit);
  };

  test("authenticates an UNSIGNED-PAYLOAD request without reading its body, past any buffer limit", async () => {
    const { headers } = await signed("http://localhost/bucket/big.bin", {
      method: "PUT",
      service: "s3",
      payloadHash: "UNSIGNED-PAYLOAD",
    });
    const res = await put(headers, 8);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { bytes: 8 * 1024 * 1024, principal: "platform" });
    assert.ok((readBeforeRoute ?? 99) <= 1, `${readBeforeRoute} chunks were read before the route ran`);
  });

  test("takes a declared payload hash as declared: checking it is the route's, as it reads", async () => {
    const { headers } = await signed("http://localhost/bucket/big.bin", {
      method: "PUT",
      service: "s3",
      payloadHash: sha256("not the body"),
    });
    assert.equal((await put(headers, 1)).status, 200);
  });

  test("still refuses a request signed with another secret, or for another service", async () => {
    const { headers } = await signed("http://localhost/bucket/big.bin", {
      method: "PUT",
      service: "lambda",
      payloadHash: "UNSIGNED-PAYLOAD",
    });
    const res = await put(headers, 1);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /credential is for service "lambda", expected "s3"/);
    const unsigned = await put(new Headers(), 1);
    assert.equal(unsigned.status, 403);
  });

  test("refuses a signed request that declares no payload hash", async () => {
    const { headers } = await signed("http://localhost/bucket/big.bin", {
      method: "PUT",
      service: "s3",
      payloadHash: "UNSIGNED-PAYLOAD",
    });
    headers.delete("x-amz-content-sha256");
    const res = await put(headers, 1);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /IncompleteSignature:.*x-amz-content-sha256/);
  });
});
