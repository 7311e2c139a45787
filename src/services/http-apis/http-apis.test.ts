import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import { HttpApis } from "./http-apis.js";
import { MemoryHttpApis } from "./memory-repo.js";

const FN = "arn:aws:lambda:us-east-1:123456789012:function:hello";
const MISSING = "arn:aws:lambda:us-east-1:123456789012:function:nobody";
const INVOCATION_URI = `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}/invocations`;

let store: MemoryHttpApis;
let clock: FakeClock;
let apis: HttpApis;

function service(): HttpApis {
  return new HttpApis({
    store,
    clock,
    functionExists: async (arn) => arn === FN || arn === "hello",
    region: "us-east-1",
    accountId: "123456789012",
  });
}

beforeEach(async () => {
  store = new MemoryHttpApis();
  clock = new FakeClock();
  apis = service();
  await apis.start();
});

/** The error `fn` throws, with its code. */
async function refusal(fn: () => unknown, code: NimbusError["code"]): Promise<NimbusError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof NimbusError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

async function apiWithIntegration() {
  const api = await apis.createApi({ name: "shop", protocolType: "HTTP" });
  const integration = await apis.createIntegration(api.apiId, {
    integrationType: "AWS_PROXY",
    integrationUri: FN,
    payloadFormatVersion: "2.0",
  });
  return { apiId: api.apiId, integrationId: integration.integrationId };
}

describe("APIs", () => {
  test("an API gets a 10-character id of lower-case letters and digits, and is stored before the answer", async () => {
    const api = await apis.createApi({ name: "shop", protocolType: "HTTP", tags: { team: "web" } });
    assert.match(api.apiId, /^[a-z0-9]{10}$/);
    assert.deepEqual(await store.getHttpApi(api.apiId), api);
    assert.deepEqual(apis.listApis(), [api]);
  });

  test("every problem of a create is reported at once, naming the field, the value and what is expected", async () => {
    const err = await refusal(
      () => apis.createApi({ protocolType: "WEBSOCKET", corsConfiguration: { maxAge: 90_000 } }),
      "InvalidParameter",
    );
    assert.deepEqual(
      err.problems.map((p) => [p.field, p.rule]),
      [
        ["name", "required"],
        ["protocolType", "oneOf"],
        ["corsConfiguration.maxAge", "range"],
      ],
    );
    assert.match(err.message, /protocolType is "WEBSOCKET": it must be HTTP/);
  });

  test("CORS allow and expose lists hold header names: each goes out in an access-control-* header", async () => {
    for (const bad of ["x-☃", "x-bell\u0007", "a,b", "x y", ""]) {
      const err = await refusal(
        () =>
          apis.createApi({
            name: "cors",
            protocolType: "HTTP",
            corsConfiguration: { allowHeaders: ["content-type", bad], exposeHeaders: [bad] },
          }),
        "InvalidParameter",
      );
      assert.deepEqual(
        err.problems.map((p) => [p.field, p.rule]),
        [
          ["corsConfiguration.allowHeaders", "pattern"],
          ["corsConfiguration.exposeHeaders", "pattern"],
        ],
        JSON.stringify(bad),
      );
    }
    const ok = await apis.createApi({
      name: "cors",
      protocolType: "HTTP",
      corsConfiguration: {
        allowHeaders: ["*", "Content-Type", "x-api-key"],
        exposeHeaders: ["x-request-id"],
      },
    });
    assert.deepEqual(ok.corsConfiguration?.allowHeaders, ["*", "Content-Type", "x-api-key"]);
  });

  test("quick create makes a 2.0 proxy integration, the route and an auto-deployed $default stage the reader serves", async () => {
    const api = await apis.createApi({
      name: "quick",
      protocolType: "HTTP",
      target: FN,
      routeKey: "GET /hi",
    });
    assert.equal(api.integrations[0]?.payloadFormatVersion, "2.0");
    assert.equal(api.integrations[0]?.integrationUri, FN);
    assert.deepEqual(
      api.routes.map((r) => [r.routeKey, r.target]),
      [["GET /hi", `integrations/${api.integrations[0]?.integrationId}`]],
    );
    const stage = api.stages[0]!;
    assert.deepEqual([stage.stageName, stage.autoDeploy], ["$default", true]);
    const deployment = apis.deployment(api.apiId, stage.deploymentId!);
    assert.deepEqual(deployment?.routes, api.routes);
    assert.equal(deployment?.autoDeployed, true);
  });

  test("quick create refuses a target that is no existing function, and a route key without a target", async () => {
    const err = await refusal(
      () => apis.createApi({ name: "q", protocolType: "HTTP", target: MISSING }),
      "InvalidParameter",
    );
    assert.deepEqual(
      err.problems.map((p) => [p.field, p.rule]),
      [["target", "exists"]],
    );
    await refusal(
      () => apis.createApi({ name: "q", protocolType: "HTTP", routeKey: "GET /" }),
      "InvalidParameter",
    );
  });

  test("an unknown API is NotFound; a deleted one is gone from memory and store", async () => {
    await refusal(() => apis.getApi("nosuchapi0"), "NotFound");
    const api = await apis.createApi({ name: "gone", protocolType: "HTTP", target: FN });
    await apis.deleteApi(api.apiId);
    assert.equal(apis.api(api.apiId), undefined);
    assert.equal(await store.getHttpApi(api.apiId), undefined);
    assert.deepEqual(await store.listDeployments(api.apiId), []);
    await refusal(() => apis.deleteApi(api.apiId), "NotFound");
  });

  test("a restarted service serves what the store kept", async () => {
    const api = await apis.createApi({ name: "kept", protocolType: "HTTP", target: FN });
    const again = service();
    await again.start();
    assert.deepEqual(again.api(api.apiId), api);
    assert.ok(again.deployment(api.apiId, api.stages[0]!.deploymentId!));
  });
});

describe("routes", () => {
  test("a malformed route key is refused in the route-key checker's words", async () => {
    const { apiId } = await apiWithIntegration();
    const err = await refusal(() => apis.createRoute(apiId, { routeKey: "GET items" }), "InvalidParameter");
    assert.equal(err.problems[0]?.field, "routeKey");
    assert.match(err.message, /must start with '\/'/);
  });

  test("a route must target an existing integration, as integrations/{id}", async () => {
    const { apiId } = await apiWithIntegration();
    const missing = await refusal(
      () => apis.createRoute(apiId, { routeKey: "GET /a", target: "integrations/zzzzzzz" }),
      "InvalidParameter",
    );
    assert.deepEqual(
      missing.problems.map((p) => [p.field, p.rule]),
      [["target", "exists"]],
    );
    const shape = await refusal(
      () => apis.createRoute(apiId, { routeKey: "GET /a", target: "zzzzzzz" }),
      "InvalidParameter",
    );
    assert.deepEqual(
      shape.problems.map((p) => [p.field, p.rule]),
      [["target", "pattern"]],
    );
  });

  test("route keys are unique per API: a second one is a Conflict", async () => {
    const { apiId, integrationId } = await apiWithIntegration();
    await apis.createRoute(apiId, { routeKey: "GET /a", target: `integrations/${integrationId}` });
    await refusal(() => apis.createRoute(apiId, { routeKey: "GET /a" }), "Conflict");
  });

  test("JWT routes need a JWT authorizer of the API; scopes are for JWT routes only", async () => {
    const { apiId } = await apiWithIntegration();
    const none = await refusal(
      () => apis.createRoute(apiId, { routeKey: "GET /a", authorizationType: "JWT" }),
      "InvalidParameter",
    );
    assert.deepEqual(
      none.problems.map((p) => [p.field, p.rule]),
      [["authorizerId", "required"]],
    );
    const lambda = await apis.createAuthorizer(apiId, {
      name: "lambda",
      authorizerType: "REQUEST",
      authorizerUri: INVOCATION_URI,
      authorizerPayloadFormatVersion: "2.0",
      identitySource: ["$request.header.X-Key"],
    });
    const wrong = await refusal(
      () =>
        apis.createRoute(apiId, {
          routeKey: "GET /a",
          authorizationType: "JWT",
          authorizerId: lambda.authorizerId,
        }),
      "InvalidParameter",
    );
    assert.deepEqual(
      wrong.problems.map((p) => [p.field, p.rule]),
      [["authorizerId", "consistent"]],
    );
    const scoped = await refusal(
      () => apis.createRoute(apiId, { routeKey: "GET /a", authorizationScopes: ["read"] }),
      "InvalidParameter",
    );
    assert.deepEqual(
      scoped.problems.map((p) => p.field),
      ["authorizationScopes"],
    );
  });
});

describe("updates", () => {
  test("a route back to NONE drops its authorizer; an authorizer a route uses keeps its type", async () => {
    const { apiId } = await apiWithIntegration();
    const jwt = await apis.createAuthorizer(apiId, {
      name: "users",
      authorizerType: "JWT",
      identitySource: ["$request.header.Authorization"],
      jwtConfiguration: { issuer: "https://issuer.example", audience: ["shop"] },
    });
    const route = await apis.createRoute(apiId, {
      routeKey: "GET /me",
      authorizationType: "JWT",
      authorizerId: jwt.authorizerId,
      authorizationScopes: ["profile"],
    });
    const err = await refusal(
      () =>
        apis.updateAuthorizer(apiId, jwt.authorizerId, {
          authorizerType: "REQUEST",
          authorizerUri: FN,
          authorizerPayloadFormatVersion: "2.0",
        }),
      "InvalidParameter",
    );
    assert.match(err.message, /route 'GET \/me' uses it/);
    await refusal(() => apis.deleteAuthorizer(apiId, jwt.authorizerId), "Conflict");
    const open = await apis.updateRoute(apiId, route.routeId, { authorizationType: "NONE" });
    assert.deepEqual(
      [open.authorizationType, open.authorizerId, open.authorizationScopes],
      ["NONE", undefined, undefined],
    );
    await apis.deleteAuthorizer(apiId, jwt.authorizerId);
  });

  test("turning autoDeploy on deploys the stage at once; an unchanged integration URI is not judged again", async () => {
    const { apiId, integrationId } = await apiWithIntegration();
    await apis.createStage(apiId, { stageName: "prod" });
    const on = await apis.updateStage(apiId, "prod", { autoDeploy: true });
    assert.ok(on.deploymentId && apis.deployment(apiId, on.deploymentId));
    const changed = await apis.updateIntegration(apiId, integrationId, { timeoutInMillis: 1000 });
    assert.equal(changed.integrationUri, FN);
    assert.equal(
      apis.deployment(apiId, apis.getStage(apiId, "prod").deploymentId!)?.integrations[0]?.timeoutInMillis,
      1000,
    );
  });
});

describe("integrations and authorizers", () => {
  test("only AWS_PROXY integrations to existing functions, with a payload version, within the timeout range", async () => {
    const api = await apis.createApi({ name: "x", protocolType: "HTTP" });
    const err = await refusal(
      () =>
        apis.createIntegration(api.apiId, {
          integrationType: "HTTP_PROXY",
          integrationUri: MISSING,
          timeoutInMillis: 40_000,
        }),
      "InvalidParameter",
    );
    assert.deepEqual(
      err.problems.map((p) => [p.field, p.rule]),
      [
        ["integrationType", "oneOf"],
        ["integrationUri", "exists"],
        ["payloadFormatVersion", "required"],
        ["timeoutInMillis", "range"],
      ],
    );
    assert.match(err.message, /Nimbus integrates functions only/);
    const ok = await apis.createIntegration(api.apiId, {
      integrationType: "AWS_PROXY",
      integrationUri: INVOCATION_URI,
      payloadFormatVersion: "1.0",
    });
    assert.equal(ok.timeoutInMillis, 30_000);
  });

  test("an integration a route targets cannot be deleted (Conflict); once the route is gone it can", async () => {
    const { apiId, integrationId } = await apiWithIntegration();
    const route = await apis.createRoute(apiId, {
      routeKey: "ANY /{proxy+}",
      target: `integrations/${integrationId}`,
    });
    await refusal(() => apis.deleteIntegration(apiId, integrationId), "Conflict");
    await apis.deleteRoute(apiId, route.routeId);
    await apis.deleteIntegration(apiId, integrationId);
    assert.deepEqual(apis.listIntegrations(apiId), []);
    await refusal(() => apis.getIntegration(apiId, integrationId), "NotFound");
  });

  test("a JWT authorizer needs an http(s) issuer, an audience and one header identity source", async () => {
    const api = await apis.createApi({ name: "x", protocolType: "HTTP" });
    const err = await refusal(
      () =>
        apis.createAuthorizer(api.apiId, {
          name: "jwt",
          authorizerType: "JWT",
          identitySource: ["$request.querystring.token"],
          jwtConfiguration: { issuer: "ftp://issuer" },
        }),
      "InvalidParameter",
    );
    assert.deepEqual(
      err.problems.map((p) => [p.field, p.rule]),
      [
        ["jwtConfiguration.issuer", "pattern"],
        ["jwtConfiguration.audience", "required"],
        ["identitySource", "pattern"],
      ],
    );
  });

  test("a REQUEST authorizer's identity sources are checked, its TTL bounded, its function must exist", async () => {
    const api = await apis.createApi({ name: "x", protocolType: "HTTP" });
    const err = await refusal(
      () =>
        apis.createAuthorizer(api.apiId, {
          name: "lambda",
          authorizerType: "REQUEST",
          authorizerUri: MISSING,
          authorizerPayloadFormatVersion: "2.0",
          identitySource: ["$request.body.token"],
          authorizerResultTtlInSeconds: 4000,
        }),
      "InvalidParameter",
    );
    assert.deepEqual(
      err.problems.map((p) => p.field),
      ["identitySource", "authorizerUri", "authorizerResultTtlInSeconds"],
    );
  });
});

describe("stages and deployments", () => {
  test("an auto-deploy stage gets one new deployment per change, which the reader returns", async () => {
    const { apiId, integrationId } = await apiWithIntegration();
    await apis.createStage(apiId, { stageName: "$default", autoDeploy: true });
    const first = apis.getStage(apiId, "$default").deploymentId!;
    clock.advance(1000);
    const route = await apis.createRoute(apiId, {
      routeKey: "GET /items/{id}",
      target: `integrations/${integrationId}`,
    });
    const second = apis.getStage(apiId, "$default").deploymentId!;
    assert.notEqual(second, first);
    assert.deepEqual(apis.deployment(apiId, second)?.routes, [route]);
    // The replaced auto-made deployment is gone: a stage serves only the newest.
    assert.equal(apis.deployment(apiId, first), undefined);
    assert.equal((await store.listDeployments(apiId)).length, 1);
    await apis.updateApi(apiId, { corsConfiguration: { allowOrigins: ["https://example.com"] } });
    const third = apis.deployment(apiId, apis.getStage(apiId, "$default").deploymentId!);
    assert.deepEqual(third?.corsConfiguration, { allowOrigins: ["https://example.com"] });
  });

  test("a stage without auto-deploy serves what CreateDeployment snapshot, until the next one", async () => {
    const { apiId, integrationId } = await apiWithIntegration();
    await apis.createStage(apiId, { stageName: "prod" });
    assert.equal(apis.getStage(apiId, "prod").deploymentId, undefined);
    await apis.createRoute(apiId, { routeKey: "GET /a", target: `integrations/${integrationId}` });
    const d = await apis.createDeployment(apiId, { stageName: "prod", description: "v1" });
    assert.equal(apis.getStage(apiId, "prod").deploymentId, d.deploymentId);
    await apis.createRoute(apiId, { routeKey: "GET /b", target: `integrations/${integrationId}` });
    assert.deepEqual(
      apis.deployment(apiId, d.deploymentId)?.routes.map((r) => r.routeKey),
      ["GET /a"],
    );
    await refusal(() => apis.deleteDeployment(apiId, d.deploymentId), "InvalidParameter");
    await refusal(() => apis.createDeployment(apiId, { stageName: "nope" }), "InvalidParameter");
  });

  test("stage names are unique and well formed; variables, throttles and access logs are checked", async () => {
    const { apiId } = await apiWithIntegration();
    await apis.createStage(apiId, { stageName: "dev" });
    await refusal(() => apis.createStage(apiId, { stageName: "dev" }), "Conflict");
    const err = await refusal(
      () =>
        apis.createStage(apiId, {
          stageName: "bad name",
          stageVariables: { "bad-key": "v" },
          defaultRouteSettings: { throttlingBurstLimit: 1.5, throttlingRateLimit: -1 },
          routeSettings: { "GET /missing": {} },
          accessLogSettings: { destinationArn: "access", format: "$context.status" },
        }),
      "InvalidParameter",
    );
    assert.deepEqual(
      err.problems.map((p) => p.field),
      [
        "stageName",
        "stageVariables",
        "defaultRouteSettings.throttlingBurstLimit",
        "defaultRouteSettings.throttlingRateLimit",
        "routeSettings",
        "accessLogSettings.format",
      ],
    );
    await apis.deleteStage(apiId, "dev");
    await refusal(() => apis.getStage(apiId, "dev"), "NotFound");
  });

  test("writes to one API run one after another: concurrent creates all land", async () => {
    const { apiId, integrationId } = await apiWithIntegration();
    await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        apis.createRoute(apiId, { routeKey: `GET /r${n}`, target: `integrations/${integrationId}` }),
      ),
    );
    assert.equal(apis.listRoutes(apiId).length, 10);
    assert.equal((await store.getHttpApi(apiId))?.routes.length, 10);
  });
});
