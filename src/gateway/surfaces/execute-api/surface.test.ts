/**
 * HTTP APIs served in-process (`app.request`, no port): an in-memory reader holds the API, a
 * fake invoke service runs each "function" as a JavaScript handler over the event JSON it would
 * receive, and a fake clock drives throttling, timeouts and token expiry.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import type { SyncInvokeInput, SyncInvokeOutput } from "../../../control/invoke-service.js";
import type { LogEntry } from "../../../protocol/invoke.js";
import type {
  ApiAuthorizer,
  ApiDeployment,
  ApiRoute,
  ApiStage,
  HttpApi,
  HttpApiReader,
} from "../../../services/http-apis/model.js";
import { FakeClock } from "../../../shared/clock.js";
import { NimbusError } from "../../../shared/errors.js";
import { silentLogger } from "../../../shared/logger.js";
import { createAuthenticator } from "../../auth/principal.js";
import { serveSurfaces } from "../../dispatch.js";
import { executeApiSurface } from "./surface.js";

const CREDS = { accessKeyId: "AKIDAPITEST", secretAccessKey: "api-test-secret" };
const API = "abcde12345";
const ISSUER = "https://issuer.test";

// biome-ignore lint/suspicious/noExplicitAny: handlers and assertions read events field by field, as a function does
type Event = Record<string, any>;
type Handler = (event: Event) => unknown | Promise<unknown>;

const { publicKey, privateKey } = await generateKeyPair("RS256");
const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
/** The issuer's discovery document and key set, answered without a network. */
const issuerFetch = (async (input: string | URL | Request) => {
  const url = String(input instanceof Request ? input.url : input);
  if (url === `${ISSUER}/.well-known/openid-configuration`)
    return Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/keys` });
  if (url === `${ISSUER}/keys`) return Response.json({ keys: [jwk] });
  return new Response("no", { status: 404 });
}) as typeof fetch;

function integration(
  id: string,
  fn: string,
  payloadFormatVersion: "1.0" | "2.0" = "2.0",
  timeoutInMillis = 30_000,
) {
  return {
    integrationId: id,
    integrationType: "AWS_PROXY" as const,
    integrationUri: `arn:aws:lambda:us-east-1:000000000000:function:${fn}`,
    payloadFormatVersion,
    timeoutInMillis,
  };
}

function route(routeKey: string, target: string, over: Partial<ApiRoute> = {}): ApiRoute {
  return {
    routeId: routeKey,
    routeKey,
    target: `integrations/${target}`,
    authorizationType: "NONE",
    ...over,
  };
}

const AUTHORIZERS: ApiAuthorizer[] = [
  {
    authorizerId: "jwt",
    name: "jwt",
    authorizerType: "JWT",
    identitySource: ["$request.header.Authorization"],
    jwtConfiguration: { issuer: ISSUER, audience: ["my-app"] },
  },
  {
    authorizerId: "lam",
    name: "lam",
    authorizerType: "REQUEST",
    identitySource: ["$request.header.x-token"],
    authorizerUri: "arn:aws:lambda:us-east-1:000000000000:function:auth",
    authorizerPayloadFormatVersion: "2.0",
    enableSimpleResponses: true,
    authorizerResultTtlInSeconds: 300,
  },
];

const DEPLOYMENT: ApiDeployment = {
  apiId: API,
  deploymentId: "d1",
  autoDeployed: false,
  createdAt: 0,
  routes: [
    route("GET /items/{id}", "echo"),
    route("POST /v1", "v1"),
    route("GET /bad", "bad"),
    route("GET /fails", "fails"),
    route("GET /slow", "slow"),
    route("GET /missing", "missing"),
    route("GET /limited", "echo"),
    route("GET /jwt", "echo", { authorizationType: "JWT", authorizerId: "jwt" }),
    route("GET /scoped", "echo", {
      authorizationType: "JWT",
      authorizerId: "jwt",
      authorizationScopes: ["items:write"],
    }),
    route("GET /lambda", "echo", { authorizationType: "CUSTOM", authorizerId: "lam" }),
    route("GET /iam", "echo", { authorizationType: "AWS_IAM" }),
    route("ANY /{proxy+}", "echo"),
  ],
  integrations: [
    integration("echo", "echo"),
    integration("v1", "echo", "1.0"),
    integration("bad", "bad"),
    integration("fails", "fails"),
    integration("slow", "slow", "2.0", 100),
    integration("missing", "nobody"),
  ],
  authorizers: AUTHORIZERS,
  corsConfiguration: { allowOrigins: ["https://app.test"], allowMethods: ["GET", "PUT"], maxAge: 60 },
};

function stage(stageName: string, over: Partial<ApiStage> = {}): ApiStage {
  return {
    stageName,
    autoDeploy: false,
    deploymentId: "d1",
    stageVariables: { tenant: "acme" },
    routeSettings: { "GET /limited": { throttlingBurstLimit: 2, throttlingRateLimit: 1 } },
    accessLogSettings: { destinationArn: "", format: "$context.routeKey $context.status" },
    createdAt: 0,
    lastUpdatedAt: 0,
    ...over,
  };
}

const HTTP_API: HttpApi = {
  apiId: API,
  name: "items",
  disableExecuteApiEndpoint: false,
  tags: {},
  createdAt: 0,
  routes: [],
  integrations: [],
  authorizers: [],
  stages: [stage("$default"), stage("prod", { stageVariables: { tenant: "prod-co" } })],
};

let clock: FakeClock;
let logs: LogEntry[];
let calls: Record<string, number>;
let app: ReturnType<typeof serveSurfaces>;

const HANDLERS: Record<string, Handler> = {
  echo: (event) => ({
    statusCode: 200,
    headers: { "access-control-allow-origin": "*" },
    body: JSON.stringify(event),
  }),
  bad: () => ({ statusCode: "two hundred" }),
  fails: () => {
    throw new Error("boom");
  },
  slow: () => new Promise(() => {}),
  auth: (event) => {
    const token = event.headers["x-token"];
    if (token === "throw") throw new Error("authorizer crashed");
    return { isAuthorized: token === "good", context: { user: "ann" } };
  },
};

beforeEach(() => {
  clock = new FakeClock();
  logs = [];
  calls = {};
  const reader: HttpApiReader = {
    api: (id) => (id === API ? HTTP_API : undefined),
    deployment: (id, dep) => (id === API && dep === "d1" ? DEPLOYMENT : undefined),
    authorizersReset: () => 0,
  };
  const invoke = {
    async invoke(input: SyncInvokeInput): Promise<SyncInvokeOutput> {
      const handler = HANDLERS[input.functionName];
      if (handler === undefined)
        throw new NimbusError("NotFound", `Function not found: ${input.functionName}`);
      calls[input.functionName] = (calls[input.functionName] ?? 0) + 1;
      const base = { requestId: "inv-1", executedVersion: "$LATEST", result: undefined };
      try {
        const out = await handler(JSON.parse(input.payload.toString("utf8")));
        return { ...base, payload: Buffer.from(JSON.stringify(out)), functionError: undefined };
      } catch (err) {
        const payload = Buffer.from(JSON.stringify({ errorMessage: (err as Error).message }));
        return { ...base, payload, functionError: "Unhandled" };
      }
    },
  };
  const surface = executeApiSurface({
    httpApis: reader,
    invoke: invoke as never,
    logs: { write: (e) => logs.push(e) },
    arn: { region: "us-east-1", accountId: "000000000000" },
    clock,
    logger: silentLogger,
    fetch: issuerFetch,
  });
  app = serveSurfaces([surface], {
    authenticator: createAuthenticator("verify", CREDS, () => clock.now()),
    logger: silentLogger,
  });
});

const byPath = (path: string, init?: RequestInit) =>
  app.request(`http://localhost/execute-api/${API}${path}`, init);
const event = async (res: Response) => JSON.parse(await res.text()) as Event;

function token(claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: "my-app", sub: "user-1", exp: now + 300, ...claims })
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .sign(privateKey);
}

describe("reaching an API and its stages", () => {
  test("by path, the $default stage serves at the root: the function sees the path after the prefix, with path parameters", async () => {
    const res = await byPath("/items/42?a=1");
    assert.equal(res.status, 200);
    assert.ok(res.headers.get("apigw-requestid"));
    const e = await event(res);
    assert.equal(e.routeKey, "GET /items/{id}");
    assert.equal(e.rawPath, "/items/42");
    assert.deepEqual(e.pathParameters, { id: "42" });
    assert.deepEqual(e.stageVariables, { tenant: "acme" });
    assert.equal(e.requestContext.stage, "$default");
    assert.equal(e.requestContext.apiId, API);
    assert.equal(e.requestContext.domainName, `${API}.execute-api.localhost`);
    assert.equal(e.requestContext.requestId, res.headers.get("apigw-requestid"));
  });

  test("a named stage serves under its name, which stays in rawPath as API Gateway keeps it", async () => {
    const e = await event(await byPath("/prod/items/7"));
    assert.equal(e.routeKey, "GET /items/{id}");
    assert.equal(e.rawPath, "/prod/items/7");
    assert.equal(e.requestContext.http.path, "/prod/items/7");
    assert.equal(e.requestContext.stage, "prod");
    assert.deepEqual(e.stageVariables, { tenant: "prod-co" });
  });

  test("by host, the path is the function's whole path", async () => {
    const res = await app.request(`http://${API}.execute-api.localhost:9000/anything/here`);
    const e = await event(res);
    assert.equal(e.routeKey, "ANY /{proxy+}");
    assert.deepEqual(e.pathParameters, { proxy: "anything/here" });
    assert.equal(e.requestContext.domainName, `${API}.execute-api.localhost`);
  });

  test("an unknown API is a 404 that says nothing of other APIs", async () => {
    for (const res of [
      await app.request("http://zzzzz99999.execute-api.localhost/items/1"),
      await app.request("http://localhost/execute-api/zzzzz99999/items/1"),
    ]) {
      assert.equal(res.status, 404);
      assert.equal(await res.text(), '{"message":"Not Found"}');
    }
  });

  test("payload 1.0: the REST-style event, and its answer read by 1.0's rules", async () => {
    const res = await byPath("/v1", {
      method: "POST",
      body: "hi",
      headers: { "content-type": "text/plain" },
    });
    // The echo answers in 2.0's shape with a statusCode, which 1.0 reads the same way.
    assert.equal(res.status, 200);
    const e = await event(res);
    assert.equal(e.version, "1.0");
    assert.equal(e.resource, "/v1");
    assert.equal(e.httpMethod, "POST");
    assert.equal(e.body, "hi");
    assert.deepEqual(e.stageVariables, { tenant: "acme" });
  });
});

describe("the platform's own answers", () => {
  test("a CORS preflight is answered from the deployment's configuration, the function not called", async () => {
    const res = await byPath("/items/1", {
      method: "OPTIONS",
      headers: { origin: "https://app.test", "access-control-request-method": "PUT" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.test");
    assert.equal(res.headers.get("access-control-max-age"), "60");
    assert.equal(calls.echo, undefined);
  });

  test("the API's CORS headers replace the function's own", async () => {
    const res = await byPath("/items/1", { headers: { origin: "https://app.test" } });
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.test");
  });

  test("past a route's burst, API Gateway's 429; tokens come back on the clock", async () => {
    assert.equal((await byPath("/limited")).status, 200);
    assert.equal((await byPath("/limited")).status, 200);
    const refused = await byPath("/limited");
    assert.equal(refused.status, 429);
    assert.equal(await refused.text(), '{"message":"Too Many Requests"}');
    clock.advance(1000);
    assert.equal((await byPath("/limited")).status, 200);
  });

  test("a malformed answer is a 500 in API Gateway's words, its reason in the function's log", async () => {
    const res = await byPath("/bad");
    assert.equal(res.status, 500);
    assert.equal(await res.text(), '{"message":"Internal Server Error"}');
    const line = logs.find((l) => l.functionName === "bad");
    assert.match(line?.message ?? "", /statusCode must be an integer/);
  });

  test("a function's error and a missing function are 500s", async () => {
    assert.equal((await byPath("/fails")).status, 500);
    const missing = await byPath("/missing");
    assert.equal(missing.status, 500);
    assert.equal(await missing.text(), '{"message":"Internal Server Error"}');
  });

  test("past the integration's timeout, a 503; the function is left to finish", async () => {
    const pending = byPath("/slow");
    await new Promise((r) => setImmediate(r));
    clock.advance(100);
    const res = await pending;
    assert.equal(res.status, 503);
    assert.equal(await res.text(), '{"message":"Service Unavailable"}');
  });

  test("each request's access-log line goes to the stage's log", async () => {
    await byPath("/items/1");
    await byPath("/nope-method", { method: "DELETE" });
    const lines = logs.filter((l) => l.functionName === `api:${API}/$default`).map((l) => l.message);
    assert.deepEqual(lines, ["GET /items/{id} 200", "ANY /{proxy+} 200"]);
  });
});

describe("authorizers", () => {
  test("JWT: a valid token passes, its claims in requestContext.authorizer.jwt", async () => {
    const res = await byPath("/jwt", { headers: { authorization: `Bearer ${await token()}` } });
    assert.equal(res.status, 200);
    const e = await event(res);
    assert.equal(e.requestContext.authorizer.jwt.claims.sub, "user-1");
  });

  test("JWT: no token or an expired one is a 401, a token without the route's scope a 403", async () => {
    const none = await byPath("/jwt");
    assert.deepEqual([none.status, await none.text()], [401, '{"message":"Unauthorized"}']);
    const expired = await token({ exp: Math.floor(clock.now() / 1000) - 10 });
    assert.equal((await byPath("/jwt", { headers: { authorization: expired } })).status, 401);
    const unscoped = await byPath("/scoped", {
      headers: { authorization: await token({ scope: "items:read" }) },
    });
    assert.deepEqual([unscoped.status, await unscoped.text()], [403, '{"message":"Forbidden"}']);
    const scoped = await byPath("/scoped", {
      headers: { authorization: await token({ scope: "items:write" }) },
    });
    assert.equal(scoped.status, 200);
  });

  test("Lambda: allowed with its context, denied with 403, its answer cached for the same token", async () => {
    const ok = await byPath("/lambda", { headers: { "x-token": "good" } });
    assert.equal(ok.status, 200);
    assert.deepEqual((await event(ok)).requestContext.authorizer, { lambda: { user: "ann" } });
    assert.equal((await byPath("/lambda", { headers: { "x-token": "good" } })).status, 200);
    assert.equal(calls.auth, 1);
    const denied = await byPath("/lambda", { headers: { "x-token": "bad" } });
    assert.deepEqual([denied.status, await denied.text()], [403, '{"message":"Forbidden"}']);
    assert.equal((await byPath("/lambda")).status, 401);
  });

  test("Lambda: an authorizer that throws is a 500, and the API keeps serving", async () => {
    const res = await byPath("/lambda", { headers: { "x-token": "throw" } });
    assert.deepEqual([res.status, await res.text()], [500, '{"message":"Internal Server Error"}']);
    assert.equal((await byPath("/items/1")).status, 200);
  });

  test("AWS_IAM: an unsigned request is refused in API Gateway's words", async () => {
    const res = await byPath("/iam");
    assert.equal(res.status, 403);
    assert.equal(await res.text(), '{"message":"Forbidden"}');
    assert.equal(calls.echo, undefined);
  });
});
