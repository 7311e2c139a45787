/** The platform's own surfaces, driven in-process (`app.request`, no port). */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { CodeUrls } from "../control/code-urls.js";
import { noSuchBucket } from "../services/storage/errors.js";
import { NimbusError } from "../shared/errors.js";
import { silentLogger } from "../shared/logger.js";
import { Sha256 } from "../shared/sha256.js";
import { type GatewayDeps, platformSurfaces } from "./app.js";
import { createAuthenticator } from "./auth/principal.js";
import { serveSurfaces } from "./dispatch.js";

const CREDS = { accessKeyId: "AKIDGATEWAYTEST", secretAccessKey: "gateway-test-secret" };
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const ZIP = Buffer.from("PK\u0005\u0006 a zip");
const codeUrls = new CodeUrls(CREDS.secretAccessKey, { now: () => NOW });

/**
 * The platform's dependencies for routes that must not run: any other one a route reaches for
 * fails the test, naming it.
 */
const deps = new Proxy(
  {
    codeUrls,
    packages: { read: async (id: string) => (id === "pkg-1" ? ZIP : Promise.reject(new Error(id))) },
    metrics: { expose: async () => ({ contentType: "text/plain; version=0.0.4", body: "up 1\n" }) },
    // S3 decides per request: an unsigned one is an anonymous caller, held to a bucket that is not there.
    authMode: "verify",
    storage: { bucket: async (name: string) => Promise.reject(noSuchBucket(name)) },
    logger: silentLogger,
  },
  {
    get(target, key) {
      if (key in target) return target[key as keyof typeof target];
      throw new Error(`a route ran and used deps.${String(key)}`);
    },
  },
) as unknown as GatewayDeps;

const surfaces = platformSurfaces(deps);
const app = serveSurfaces(surfaces, {
  authenticator: createAuthenticator("verify", CREDS, () => NOW),
  logger: silentLogger,
});

async function signed(url: string, service = "lambda"): Promise<Request> {
  const u = new URL(url);
  const signer = new SignatureV4({
    service,
    region: "us-east-1",
    credentials: CREDS,
    sha256: Sha256,
  });
  const req = await signer.sign(
    new HttpRequest({
      method: "GET",
      hostname: u.hostname,
      path: u.pathname,
      headers: { host: u.host, "x-amz-content-sha256": createHash("sha256").digest("hex") },
    }),
    { signingDate: new Date(NOW) },
  );
  return new Request(url, { headers: req.headers });
}

/** A request each surface that shares its paths accepts as its own (by its target header). */
const ACCEPTED: Record<string, Record<string, string>> = {
  sqs: { "x-amz-target": "AmazonSQS.ListQueues", "content-type": "application/x-amz-json-1.0" },
  eventbridge: { "x-amz-target": "AWSEvents.ListRules", "content-type": "application/x-amz-json-1.1" },
};

/** Path parameters a surface reaches only with a real value (Scheduler's tags take its own ARNs). */
const PARAMS: Record<string, Record<string, string>> = {
  scheduler: { ResourceArn: "arn:aws:scheduler:us-east-1:000000000000:schedule-group/g" },
};

/** The host a surface's routes are requested at, where its routes are its hosts' paths (S3's buckets). */
const HOSTS: Record<string, string> = { s3: "bucket.s3.localhost" };

describe("every route of a surface that takes the platform's key", () => {
  // Surfaces whose policy is per request (function URLs) test their own auth.
  for (const s of surfaces.filter((s) => typeof s.auth !== "function" && s.auth.kind === "platform-key")) {
    test(`${s.name}: refuses each route's unsigned request, in the surface's error format`, async () => {
      // A surface sharing its paths with another is reached by the requests it accepts (SQS's target).
      const headers: Record<string, string> = s.reach.accepts ? (ACCEPTED[s.name] ?? {}) : {};
      const expected = s.renderError(
        new NimbusError("MissingAuthenticationToken", "m"),
        "r",
        new Request("http://localhost/", { headers }),
      );
      // Every route registered, so that a route added later cannot be left open.
      const routes = s.app.routes.filter((r) => r.method !== "ALL");
      assert.ok(routes.length > 0, `${s.name} registers no routes`);
      for (const r of routes) {
        const path = r.path.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) =>
          encodeURIComponent(PARAMS[s.name]?.[name] ?? "x"),
        );
        const res = await app.request(`http://${HOSTS[s.name] ?? "localhost"}${path}`, {
          method: r.method,
          headers,
        });
        const where = `${r.method} ${r.path}`;
        assert.equal(res.status, 403, `${where} answered ${res.status}: ${await res.clone().text()}`);
        assert.equal(res.headers.get("content-type"), expected.headers.get("content-type"), where);
        assert.equal(res.headers.get("x-amzn-errortype"), expected.headers.get("x-amzn-errortype"), where);
        assert.match(await res.text(), /Missing Authentication Token/, where);
      }
    });
  }

  test("the Lambda API's routes are all there: its own, and the operations it refuses as not implemented", () => {
    const lambda = surfaces.find((s) => s.name === "lambda-api")!;
    assert.ok(lambda.app.routes.length > 100, `${lambda.app.routes.length} routes`);
  });
});

describe("the platform's surfaces", () => {
  test("the Lambda API answers a signed request for no route in Lambda's shape", async () => {
    const res = await app.request(await signed("http://localhost/2015-03-31/no-such-thing"));
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("x-amzn-errortype"), "ResourceNotFoundException");
    assert.deepEqual(await res.json(), {
      Type: "User",
      message: "No route for GET /2015-03-31/no-such-thing",
    });
  });

  test("the Nimbus API answers it in Nimbus's JSON", async () => {
    const res = await app.request(await signed("http://localhost/nimbus/v1/no-such-thing"));
    assert.equal(res.status, 404);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    assert.deepEqual([error.code, error.message], ["NotFound", "No route for GET /nimbus/v1/no-such-thing"]);
  });

  test("the API Gateway v2 API answers its own paths in API Gateway's shape, signed for apigateway", async () => {
    const res = await app.request(await signed("http://localhost/v2/domainnames", "apigateway"));
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("x-amzn-errortype"), "NotFoundException");
    assert.deepEqual(await res.json(), { message: "No route for GET /v2/domainnames" });
    // A signature for another service's scope is refused before any route runs.
    const lambdaSigned = await app.request(await signed("http://localhost/v2/apis"));
    assert.equal(lambdaSigned.status, 400);
    assert.equal(lambdaSigned.headers.get("x-amzn-errortype"), "IncompleteSignatureException");
  });

  test("S3 takes /s3 and {bucket}.s3.localhost, and answers in S3's XML (a HEAD without a body)", async () => {
    for (const url of ["http://localhost/s3/photos/a%20b.jpg", "http://photos.s3.localhost:9000/a%20b.jpg"]) {
      const res = await app.request(url);
      assert.equal(res.status, 403, url);
      assert.equal(res.headers.get("content-type"), "application/xml");
      assert.ok(res.headers.get("x-amz-request-id"));
      assert.match(
        await res.text(),
        /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code>/,
      );
    }
    const head = await app.request("http://localhost/s3/photos", { method: "HEAD" });
    assert.equal(head.status, 403);
    assert.equal(await head.text(), "");
    // A path that only starts like S3's is not S3's.
    const lambda = await app.request("http://localhost/s3x/photos");
    assert.equal(lambda.headers.get("content-type"), "application/json");
  });

  test("tus takes /storage/v1/upload/resumable: OPTIONS needs no credentials, an unsigned creation is refused in JSON", async () => {
    const options = await app.request("http://localhost/storage/v1/upload/resumable", { method: "OPTIONS" });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get("tus-version"), "1.0.0");
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const res = await app.request("http://localhost/storage/v1/upload/resumable", {
      method: "POST",
      headers: {
        "tus-resumable": "1.0.0",
        "upload-length": "3",
        "upload-metadata": `bucketName ${b64("photos")},objectName ${b64("a.txt")}`,
        origin: "http://localhost:5173",
      },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("tus-resumable"), "1.0.0");
    assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "AccessDenied");
    // Credentials that do not verify are refused by the gateway, before any route.
    const bearer = await app.request("http://localhost/storage/v1/upload/resumable/some-id", {
      method: "HEAD",
      headers: { "tus-resumable": "1.0.0", authorization: "Basic eDp5" },
    });
    assert.equal(bearer.status, 403);
  });

  test("health answers anyone", async () => {
    const res = await app.request("http://localhost/nimbus/v1/health");
    assert.deepEqual([res.status, await res.json()], [200, { status: "ok" }]);
  });

  test("a package link is its own credential: the route serves the package it grants", async () => {
    const link = codeUrls.sign("http://localhost", "pkg-1");
    const res = await app.request(link);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), ZIP);
    const other = new URL(link);
    other.pathname = "/nimbus/v1/packages/pkg-2";
    const refused = await app.request(other.href);
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "InvalidSignature");
  });

  test("metrics take the platform's key as HTTP Basic; the Lambda API does not", async () => {
    const basic = `Basic ${Buffer.from(`${CREDS.accessKeyId}:${CREDS.secretAccessKey}`).toString("base64")}`;
    const metrics = await app.request("http://localhost/metrics", { headers: { authorization: basic } });
    assert.deepEqual([metrics.status, await metrics.text()], [200, "up 1\n"]);
    const lambda = await app.request("http://localhost/2015-03-31/functions", {
      headers: { authorization: basic },
    });
    assert.equal(lambda.status, 400);
    assert.equal(lambda.headers.get("x-amzn-errortype"), "IncompleteSignatureException");
  });
});
