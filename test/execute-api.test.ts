/**
 * End to end: what an HTTP API does on a request, against the real platform. APIs are made
 * through @aws-sdk/client-apigatewayv2 and called with plain fetch on the path form
 * (`/execute-api/{apiId}/…`): Lambda authorizers (allow, deny, failure, their cache), AWS_IAM
 * routes, payload 1.0, throttling, the body limit, CORS preflights and access logs.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type ApiGatewayV2Client,
  CreateApiCommand,
  CreateAuthorizerCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  ResetAuthorizersCacheCommand,
} from "@aws-sdk/client-apigatewayv2";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../src/shared/sha256.js";
import { apiGatewayClient } from "./helpers/apigateway.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";

let t: TestPlatform;
let gw: ApiGatewayV2Client;

/** The event as the function saw it, answered in a shape both payload formats accept. */
const ECHO = `export const handler = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    version: event.version, routeKey: event.routeKey ?? null, rawPath: event.rawPath ?? null,
    httpMethod: event.httpMethod ?? null, path: event.path ?? null, resource: event.resource ?? null,
    authorizer: event.requestContext?.authorizer ?? null,
  }),
});`;

/** A Lambda authorizer with simple responses: `allow-{user}` passes, `deny` does not, `throw` fails. */
const AUTHORIZER = `export const handler = async (event) => {
  const token = event.headers?.authorization ?? "";
  if (token === "throw") throw new Error("the authorizer broke");
  if (token.startsWith("allow-")) return { isAuthorized: true, context: { user: token.slice(6), tier: 2 } };
  return { isAuthorized: false };
};`;

const arnOf = (name: string) =>
  `arn:aws:lambda:${t.platform.config.region}:${t.platform.config.accountId}:function:${name}`;

before(async () => {
  t = await startPlatform();
  gw = apiGatewayClient(t);
  await createNodeFunction(t.lambda, "xa-echo", ECHO);
  await createNodeFunction(t.lambda, "xa-auth", AUTHORIZER);
});
after(async () => {
  gw.destroy();
  await t.close();
});

/** An API with one integration to `fn`, routes by key and authorization, and an auto-deployed stage. */
async function apiWith(opts: {
  name: string;
  fn?: string;
  payloadFormatVersion?: "1.0" | "2.0";
  routes: { key: string; auth?: "NONE" | "AWS_IAM" | "CUSTOM"; authorizerId?: string }[];
  stage?: Omit<ConstructorParameters<typeof CreateStageCommand>[0], "ApiId">;
  cors?: ConstructorParameters<typeof CreateApiCommand>[0]["CorsConfiguration"];
  authorizer?: boolean;
}): Promise<{ apiId: string; base: string }> {
  const api = await gw.send(
    new CreateApiCommand({ Name: opts.name, ProtocolType: "HTTP", CorsConfiguration: opts.cors }),
  );
  const apiId = api.ApiId!;
  const integration = await gw.send(
    new CreateIntegrationCommand({
      ApiId: apiId,
      IntegrationType: "AWS_PROXY",
      IntegrationUri: arnOf(opts.fn ?? "xa-echo"),
      PayloadFormatVersion: opts.payloadFormatVersion ?? "2.0",
    }),
  );
  let authorizerId: string | undefined;
  if (opts.authorizer) {
    const authorizer = await gw.send(
      new CreateAuthorizerCommand({
        ApiId: apiId,
        Name: "tokens",
        AuthorizerType: "REQUEST",
        AuthorizerUri: arnOf("xa-auth"),
        AuthorizerPayloadFormatVersion: "2.0",
        EnableSimpleResponses: true,
        IdentitySource: ["$request.header.Authorization"],
        AuthorizerResultTtlInSeconds: 300,
      }),
    );
    authorizerId = authorizer.AuthorizerId;
  }
  for (const r of opts.routes)
    await gw.send(
      new CreateRouteCommand({
        ApiId: apiId,
        RouteKey: r.key,
        Target: `integrations/${integration.IntegrationId}`,
        AuthorizationType: r.auth ?? "NONE",
        ...(r.auth === "CUSTOM" ? { AuthorizerId: authorizerId } : {}),
      }),
    );
  const stage = opts.stage ?? { StageName: "$default" };
  await gw.send(new CreateStageCommand({ ApiId: apiId, AutoDeploy: true, ...stage }));
  const prefix = stage.StageName === "$default" ? "" : `/${stage.StageName}`;
  return { apiId, base: `${t.url}/execute-api/${apiId}${prefix}` };
}

/** How many times `functionName` has started an invocation, by its log's START lines. */
async function starts(functionName: string): Promise<number> {
  await t.platform.logs.flush();
  return (await t.platform.logs.query({ functionName, contains: "START", limit: 1000 })).length;
}

describe("Lambda (REQUEST) authorizers", () => {
  let base: string;
  let apiId: string;
  before(async () => {
    ({ base, apiId } = await apiWith({
      name: "xa-lambda-auth",
      authorizer: true,
      routes: [{ key: "GET /private", auth: "CUSTOM" }, { key: "GET /open" }],
    }));
  });

  test("an allowing authorizer's context reaches the function in requestContext.authorizer.lambda", async () => {
    const res = await fetch(`${base}/private`, { headers: { authorization: "allow-ada" } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { authorizer: unknown };
    assert.deepEqual(body.authorizer, { lambda: { user: "ada", tier: 2 } });
  });

  test("a denying authorizer is a 403, and the function is not called", async () => {
    const before = await starts("xa-echo");
    const res = await fetch(`${base}/private`, { headers: { authorization: "deny" } });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { message: "Forbidden" });
    assert.equal(await starts("xa-echo"), before);
  });

  test("a missing identity source is a 401 without calling the authorizer", async () => {
    const before = await starts("xa-auth");
    const res = await fetch(`${base}/private`);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { message: "Unauthorized" });
    assert.equal(await starts("xa-auth"), before);
  });

  test("an authorizer that throws is a 500; the other routes and the platform keep serving", async () => {
    const res = await fetch(`${base}/private`, { headers: { authorization: "throw" } });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { message: "Internal Server Error" });
    const open = await fetch(`${base}/open`);
    assert.equal(open.status, 200);
    const health = await fetch(`${t.url}/nimbus/v1/health`);
    assert.equal(health.status, 200);
    // Not cached: it is called again, and fails again.
    const before = await starts("xa-auth");
    const again = await fetch(`${base}/private`, { headers: { authorization: "throw" } });
    assert.equal(again.status, 500);
    assert.equal(await starts("xa-auth"), before + 1);
  });

  test("two requests with the same identity call the authorizer once (its cache)", async () => {
    const before = await starts("xa-auth");
    for (const _ of [1, 2]) {
      const res = await fetch(`${base}/private`, { headers: { authorization: "allow-grace" } });
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as { authorizer: unknown }).authorizer, {
        lambda: { user: "grace", tier: 2 },
      });
    }
    assert.equal(await starts("xa-auth"), before + 1);
    // Another identity is another call.
    await fetch(`${base}/private`, { headers: { authorization: "allow-linus" } });
    assert.equal(await starts("xa-auth"), before + 2);
  });

  test("ResetAuthorizersCache makes the next request with a cached identity call the authorizer again", async () => {
    const call = () => fetch(`${base}/private`, { headers: { authorization: "allow-edsger" } });
    assert.equal((await call()).status, 200);
    const before = await starts("xa-auth");
    assert.equal((await call()).status, 200);
    assert.equal(await starts("xa-auth"), before);
    await gw.send(new ResetAuthorizersCacheCommand({ ApiId: apiId, StageName: "$default" }));
    assert.equal((await call()).status, 200);
    assert.equal(await starts("xa-auth"), before + 1);
    assert.equal((await call()).status, 200);
    assert.equal(await starts("xa-auth"), before + 1);
  });
});

describe("AWS_IAM routes", () => {
  test("a call signed with the platform's key (service execute-api) passes; an unsigned one is a 403", async () => {
    const { base } = await apiWith({ name: "xa-iam", routes: [{ key: "GET /iam", auth: "AWS_IAM" }] });
    const unsigned = await fetch(`${base}/iam`);
    assert.equal(unsigned.status, 403);
    assert.deepEqual(await unsigned.json(), { message: "Forbidden" });

    const u = new URL(`${base}/iam`);
    // A GET of `u` signed with the platform's keys for `service`.
    const signedGet = async (service: string) => {
      const signer = new SignatureV4({
        service,
        region: "us-east-1",
        credentials: t.platform.credentials,
        sha256: Sha256,
      });
      const signed = await signer.sign(
        new HttpRequest({
          method: "GET",
          protocol: "http:",
          hostname: u.hostname,
          port: Number(u.port),
          path: u.pathname,
          headers: { host: u.host },
        }),
      );
      return fetch(u, { headers: signed.headers as Record<string, string> });
    };
    const res = await signedGet("execute-api");
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { authorizer: { iam?: { accessKey?: string } } };
    assert.equal(body.authorizer.iam?.accessKey, t.platform.credentials.accessKeyId);

    // A signature for another service does not pass.
    const refused = await signedGet("lambda");
    assert.equal(refused.status, 403);
    assert.deepEqual(await refused.json(), { message: "Forbidden" });
  });
});

describe("integrations and stages", () => {
  test("a payload 1.0 integration gets the REST-style event", async () => {
    const { base } = await apiWith({
      name: "xa-v1",
      payloadFormatVersion: "1.0",
      routes: [{ key: "GET /items/{id}" }],
    });
    const res = await fetch(`${base}/items/7`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(
      [body.version, body.httpMethod, body.path, body.resource],
      ["1.0", "GET", "/items/7", "/items/{id}"],
    );
  });

  test("a stage throttled to a burst of 1 answers the second request 429", async () => {
    const { base } = await apiWith({
      name: "xa-throttle",
      routes: [{ key: "GET /x" }],
      stage: {
        StageName: "slow",
        DefaultRouteSettings: { ThrottlingBurstLimit: 1, ThrottlingRateLimit: 0.0001 },
      },
    });
    const first = await fetch(`${base}/x`);
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    const second = await fetch(`${base}/x`);
    assert.equal(second.status, 429);
    assert.deepEqual(await second.json(), { message: "Too Many Requests" });
  });

  test("a body over 10 MB is a 413 and the function is not called", async () => {
    const { base } = await apiWith({ name: "xa-big", routes: [{ key: "POST /upload" }] });
    const before = await starts("xa-echo");
    const res = await fetch(`${base}/upload`, { method: "POST", body: Buffer.alloc(10_485_761, 97) });
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), { message: "Request Entity Too Large" });
    assert.equal(await starts("xa-echo"), before);
  });
});

describe("CORS and access logs", () => {
  test("a preflight on an API with a corsConfiguration is answered without invoking the function", async () => {
    await createNodeFunction(t.lambda, "xa-cors", ECHO);
    const { base } = await apiWith({
      name: "xa-cors",
      fn: "xa-cors",
      routes: [{ key: "POST /orders" }],
      cors: {
        AllowOrigins: ["https://shop.example"],
        AllowMethods: ["POST"],
        AllowHeaders: ["content-type"],
        MaxAge: 600,
      },
    });
    const preflight = await fetch(`${base}/orders`, {
      method: "OPTIONS",
      headers: {
        origin: "https://shop.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    assert.ok(preflight.status === 200 || preflight.status === 204, `preflight answered ${preflight.status}`);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://shop.example");
    assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.equal(preflight.headers.get("access-control-max-age"), "600");
    assert.equal(await starts("xa-cors"), 0);

    // The request itself reaches the function and carries the allow header.
    const actual = await fetch(`${base}/orders`, {
      method: "POST",
      headers: { origin: "https://shop.example" },
    });
    assert.equal(actual.status, 200);
    assert.equal(actual.headers.get("access-control-allow-origin"), "https://shop.example");
    assert.equal(await starts("xa-cors"), 1);
  });

  test("a stage with accessLogSettings writes one line per request under the destination's name", async () => {
    const { base } = await apiWith({
      name: "xa-logs",
      routes: [{ key: "GET /logged" }],
      stage: {
        StageName: "prod",
        AccessLogSettings: {
          DestinationArn: `arn:aws:logs:us-east-1:${t.platform.config.accountId}:log-group:xa-access`,
          Format:
            '{"requestId":"$context.requestId","routeKey":"$context.routeKey","status":"$context.status"}',
        },
      },
    });
    const res = await fetch(`${base}/logged`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const requestId = res.headers.get("apigw-requestid")!;
    await t.platform.logs.flush();
    const lines = await t.platform.logs.query({ functionName: "xa-access", contains: requestId, limit: 10 });
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]!.message), {
      requestId,
      routeKey: "GET /logged",
      status: "200",
    });
  });
});
