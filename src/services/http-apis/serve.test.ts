import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import type { ApiDeployment, ApiStage, HttpApi } from "./model.js";
import { compileDeployment, logNameOf, parseFunctionUri, type ServedStage, ServedStages } from "./serve.js";

const FN = "arn:aws:lambda:us-east-1:000000000000:function:items";

function deployment(over: Partial<ApiDeployment> = {}): ApiDeployment {
  return {
    apiId: "abcdefghij",
    deploymentId: "dep1",
    autoDeployed: false,
    createdAt: 0,
    routes: [
      { routeId: "r1", routeKey: "GET /items/{id}", target: "integrations/i1", authorizationType: "NONE" },
      {
        routeId: "r2",
        routeKey: "POST /items",
        target: "integrations/i1",
        authorizationType: "JWT",
        authorizerId: "jwt1",
        authorizationScopes: ["items:write"],
      },
      { routeId: "r3", routeKey: "$default", target: "integrations/gone", authorizationType: "NONE" },
      {
        routeId: "r4",
        routeKey: "GET /private",
        target: "integrations/i1",
        authorizationType: "CUSTOM",
        authorizerId: "missing",
      },
    ],
    integrations: [
      {
        integrationId: "i1",
        integrationType: "AWS_PROXY",
        integrationUri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}:live/invocations`,
        payloadFormatVersion: "2.0",
        timeoutInMillis: 30_000,
      },
    ],
    authorizers: [
      {
        authorizerId: "jwt1",
        name: "jwt",
        authorizerType: "JWT",
        identitySource: ["$request.header.Authorization"],
        jwtConfiguration: { issuer: "https://issuer.test", audience: ["app"] },
      },
    ],
    ...over,
  };
}

function stage(over: Partial<ApiStage> = {}): ApiStage {
  return {
    stageName: "prod",
    autoDeploy: false,
    deploymentId: "dep1",
    stageVariables: { tenant: "acme" },
    defaultRouteSettings: { throttlingBurstLimit: 2, throttlingRateLimit: 1 },
    routeSettings: { "POST /items": { throttlingBurstLimit: 1 } },
    accessLogSettings: { destinationArn: "", format: "$context.requestId $context.status" },
    createdAt: 0,
    lastUpdatedAt: 1,
    ...over,
  };
}

function api(over: Partial<HttpApi> = {}): HttpApi {
  return {
    apiId: "abcdefghij",
    name: "items",
    disableExecuteApiEndpoint: false,
    tags: {},
    createdAt: 0,
    routes: [],
    integrations: [],
    authorizers: [],
    stages: [stage()],
    ...over,
  };
}

function served(s: ServedStage | { error: string }): ServedStage {
  assert.ok(!("error" in s), "error" in s ? s.error : "");
  return s;
}

test("a compiled stage routes to the integration's function, with path parameters and the route's authorization", () => {
  const s = compileDeployment(api(), deployment(), stage(), { clock: new FakeClock() });
  const m = s.router.match("GET", "/items/42");
  assert.equal(m?.routeKey, "GET /items/{id}");
  assert.deepEqual(m?.pathParameters, { id: "42" });
  assert.deepEqual(m?.target.target, { functionName: "items", qualifier: "live" });
  assert.equal(m?.target.authorization.kind, "NONE");
  const post = s.router.match("POST", "/items")!;
  assert.equal(post.target.authorization.kind, "JWT");
  assert.deepEqual(post.target.authorization.kind === "JWT" ? post.target.authorization.scopes : [], [
    "items:write",
  ]);
  assert.deepEqual(s.stageVariables, { tenant: "acme" });
});

test("a route whose target the deployment lacks has no integration, and one whose authorizer is missing is broken", () => {
  const s = compileDeployment(api(), deployment(), stage(), { clock: new FakeClock() });
  const fallback = s.router.match("DELETE", "/anything")!;
  assert.equal(fallback.routeKey, "$default");
  assert.equal(fallback.target.integration, undefined);
  const priv = s.router.match("GET", "/private")!;
  assert.equal(priv.target.authorization.kind, "BROKEN");
});

test("the stage's throttle takes its default and per-route settings", () => {
  const s = compileDeployment(api(), deployment(), stage(), { clock: new FakeClock() });
  assert.equal(s.throttle.take("GET /items/{id}").kind, "pass");
  assert.equal(s.throttle.take("GET /items/{id}").kind, "pass");
  assert.equal(s.throttle.take("GET /items/{id}").kind, "throttled");
  assert.equal(s.throttle.take("POST /items").kind, "pass");
  assert.equal(s.throttle.take("POST /items").kind, "throttled");
});

test("a stage without variables gives none, and its access log renders the format", () => {
  const s = compileDeployment(api(), deployment(), stage({ stageVariables: {} }), { clock: new FakeClock() });
  assert.equal(s.stageVariables, undefined);
  assert.equal(s.accessLog?.destination, "api:abcdefghij/prod");
  const line = s.accessLog?.format.render({
    requestId: "req-1",
    apiId: "abcdefghij",
    stage: "prod",
    httpMethod: "GET",
    path: "/x",
    protocol: "HTTP/1.1",
    sourceIp: "127.0.0.1",
    requestTimeEpochMs: 0,
    status: 200,
  });
  assert.equal(line, "req-1 200");
});

test("function URIs: plain ARNs, qualified ARNs, API Gateway's invocation URI and bare names; anything else is none", () => {
  assert.deepEqual(parseFunctionUri(FN), { functionName: "items", qualifier: undefined });
  assert.deepEqual(parseFunctionUri(`${FN}:7`), { functionName: "items", qualifier: "7" });
  assert.deepEqual(
    parseFunctionUri(`arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${FN}/invocations`),
    { functionName: "items", qualifier: undefined },
  );
  assert.deepEqual(parseFunctionUri("items:$LATEST"), { functionName: "items", qualifier: "$LATEST" });
  assert.equal(parseFunctionUri("arn:aws:s3:::bucket"), undefined);
  assert.equal(parseFunctionUri("https://example.com"), undefined);
  assert.equal(parseFunctionUri("a:b:c"), undefined);
});

test("access logs go to the log group a CloudWatch Logs ARN names, else to the destination as written", () => {
  assert.equal(
    logNameOf("arn:aws:logs:us-east-1:000000000000:log-group:my-api-logs:*", "a", "s"),
    "my-api-logs",
  );
  assert.equal(logNameOf("my-logs", "a", "s"), "my-logs");
  assert.equal(logNameOf("", "a", "$default"), "api:a/$default");
});

test("the cache hands back the same compiled stage until the deployment or the stage changes", () => {
  const cache = new ServedStages({ clock: new FakeClock() });
  // The service's records: the same object until an update replaces it.
  const current = stage();
  const first = served(cache.get(api(), current, deployment()));
  assert.equal(cache.get(api(), current, deployment()), first);
  const newer = stage({ lastUpdatedAt: 2 });
  const updated = served(cache.get(api(), newer, deployment()));
  assert.notEqual(updated, first);
  assert.equal(cache.get(api(), newer, deployment()), updated);
  const redeployed = served(
    cache.get(api(), stage({ lastUpdatedAt: 2, deploymentId: "dep2" }), deployment({ deploymentId: "dep2" })),
  );
  assert.notEqual(redeployed, updated);
  assert.equal(redeployed.deploymentId, "dep2");
});

test("a stage updated twice in one millisecond is compiled again: the second update is served", () => {
  const cache = new ServedStages({ clock: new FakeClock() });
  const once = served(
    cache.get(api(), stage({ lastUpdatedAt: 7, stageVariables: { v: "1" } }), deployment()),
  );
  const twice = served(
    cache.get(api(), stage({ lastUpdatedAt: 7, stageVariables: { v: "2" } }), deployment()),
  );
  assert.notEqual(twice, once);
  assert.deepEqual(twice.stageVariables, { v: "2" });
});

test("a JWT authorizer is kept across recompiles of one deployment, and a new deployment gets its own", () => {
  const cache = new ServedStages({ clock: new FakeClock() });
  const jwtOf = (s: ServedStage) => {
    const a = s.router.match("POST", "/items")!.target.authorization;
    assert.equal(a.kind, "JWT");
    return a.kind === "JWT" ? a.authorizer : undefined;
  };
  const first = jwtOf(served(cache.get(api(), stage(), deployment())));
  const again = jwtOf(served(cache.get(api(), stage({ lastUpdatedAt: 5 }), deployment())));
  assert.equal(again, first);
  const other = jwtOf(
    served(cache.get(api(), stage({ deploymentId: "dep2" }), deployment({ deploymentId: "dep2" }))),
  );
  assert.notEqual(other, first);
});

test("a deployment whose routes cannot be compiled is an error, cached like a good one", () => {
  const cache = new ServedStages({ clock: new FakeClock() });
  const bad = deployment({
    routes: [{ routeId: "x", routeKey: "GET items", target: "integrations/i1", authorizationType: "NONE" }],
  });
  const current = stage();
  const out = cache.get(api(), current, bad);
  assert.ok("error" in out);
  assert.match(out.error, /GET items/);
  assert.equal(cache.get(api(), current, bad), out);
});
