/** What HTTP APIs rely on from every store: documents and deployments read back exactly as put. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  ApiAuthorizer,
  ApiDeployment,
  ApiRoute,
  ApiStage,
  HttpApi,
} from "../../services/http-apis/model.js";
import type { HttpApisRepo } from "../../services/http-apis/repo.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";

/** Text a store could mangle: non-ASCII, an emoji (a surrogate pair), NUL, a lone surrogate. */
const ODD_TEXT = "Bücher 📚 a\u0000b \ud800 end";

const ROUTES: readonly ApiRoute[] = [
  { routeId: "r1", routeKey: "$default", target: "integrations/i1", authorizationType: "NONE" },
  {
    routeId: "r2",
    routeKey: "GET /items/{id}",
    target: "integrations/i1",
    authorizationType: "JWT",
    authorizerId: "a1",
    authorizationScopes: ["items:read", "items:admin"],
  },
  {
    routeId: "r3",
    routeKey: "ANY /{proxy+}",
    target: "integrations/i2",
    authorizationType: "CUSTOM",
    authorizerId: "a2",
    authorizationScopes: [],
  },
];

const INTEGRATIONS = [
  {
    integrationId: "i1",
    integrationType: "AWS_PROXY",
    integrationUri: "arn:aws:lambda:us-east-1:000000000000:function:items:live",
    payloadFormatVersion: "2.0",
    timeoutInMillis: 30_000,
    description: ODD_TEXT,
  },
  {
    integrationId: "i2",
    integrationType: "AWS_PROXY",
    integrationUri:
      "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:legacy/invocations",
    payloadFormatVersion: "1.0",
    timeoutInMillis: 50,
  },
] as const;

const AUTHORIZERS: readonly ApiAuthorizer[] = [
  {
    authorizerId: "a1",
    name: "cognito",
    authorizerType: "JWT",
    identitySource: ["$request.header.Authorization"],
    jwtConfiguration: { issuer: "https://issuer.example/pool", audience: ["client-a", "client-b"] },
  },
  {
    authorizerId: "a2",
    name: "by-token",
    authorizerType: "REQUEST",
    identitySource: ["$request.header.X-Token", "$request.querystring.token", "$stageVariables.key"],
    authorizerUri: "arn:aws:lambda:us-east-1:000000000000:function:authorize",
    authorizerPayloadFormatVersion: "2.0",
    enableSimpleResponses: false,
    authorizerResultTtlInSeconds: 0,
  },
];

const STAGES: readonly ApiStage[] = [
  {
    stageName: "$default",
    autoDeploy: true,
    deploymentId: "d1",
    stageVariables: {},
    routeSettings: {},
    createdAt: T0_MS,
    lastUpdatedAt: T0_MS,
  },
  {
    stageName: "prod",
    description: "live traffic",
    autoDeploy: false,
    deploymentId: "d2",
    stageVariables: { key: "v1", "odd name": ODD_TEXT, empty: "" },
    defaultRouteSettings: { throttlingBurstLimit: 100, throttlingRateLimit: 0.5 },
    routeSettings: {
      "GET /items/{id}": { throttlingBurstLimit: 0, throttlingRateLimit: 12.25 },
      $default: {},
    },
    accessLogSettings: {
      destinationArn: "arn:aws:logs:us-east-1:000000000000:log-group:api-access",
      format:
        '{"requestId":"$context.requestId","status":"$context.status","ip":"$context.identity.sourceIp"}',
    },
    createdAt: T0_MS + 1,
    lastUpdatedAt: T0_MS + 60_000,
  },
];

/** An API with every part the model has; `patch` overrides. */
function api(apiId: string, patch: Partial<HttpApi> = {}): HttpApi {
  return {
    apiId,
    name: `api ${apiId}`,
    description: ODD_TEXT,
    version: "2026-12-01",
    corsConfiguration: {
      allowCredentials: false,
      allowHeaders: ["content-type"],
      allowMethods: ["GET", "POST"],
      allowOrigins: ["https://bücher.example"],
      exposeHeaders: [],
      maxAge: 0,
    },
    disableExecuteApiEndpoint: false,
    tags: { team: "platform", "cost-center": "" },
    createdAt: T0_MS,
    routes: ROUTES,
    integrations: INTEGRATIONS,
    authorizers: AUTHORIZERS,
    stages: STAGES,
    ...patch,
  };
}

/** A deployment of `apiId` made at T0 + `atMs`, with what the API serves; `patch` overrides. */
function deployment(
  apiId: string,
  deploymentId: string,
  atMs = 0,
  patch: Partial<ApiDeployment> = {},
): ApiDeployment {
  return {
    apiId,
    deploymentId,
    description: `deployment ${deploymentId}`,
    autoDeployed: false,
    createdAt: T0_MS + atMs,
    routes: ROUTES,
    integrations: INTEGRATIONS,
    authorizers: AUTHORIZERS,
    corsConfiguration: { allowOrigins: ["*"] },
    ...patch,
  };
}

const ids = (ds: readonly ApiDeployment[]) => ds.map((d) => d.deploymentId);

export function httpApisContract(open: OpenRepo<HttpApisRepo>): void {
  test("an API with routes, integrations, JWT and REQUEST authorizers and stages reads back exactly as it was put", () =>
    withRepo(open, async ({ repo }) => {
      const orders = api("orders0001");
      await repo.putHttpApi(orders);
      assert.deepEqual(await repo.getHttpApi("orders0001"), orders);
      assert.deepEqual(await repo.listHttpApis(), [orders]);
      assert.equal(await repo.getHttpApi("missing001"), undefined);
    }));

  test("putting an API again replaces its whole document and keeps its deployments", () =>
    withRepo(open, async ({ repo }) => {
      await repo.putHttpApi(api("orders0001"));
      await repo.putDeployment(deployment("orders0001", "d1"));
      const changed = api("orders0001", {
        name: "orders v2",
        routes: [ROUTES[0]!],
        authorizers: [],
        stages: [{ ...STAGES[0]!, deploymentId: "d1", lastUpdatedAt: T0_MS + 5_000 }],
      });
      const { description: _dropped, ...withoutDescription } = changed;
      await repo.putHttpApi(withoutDescription);
      const got = await repo.getHttpApi("orders0001");
      assert.deepEqual(got, withoutDescription);
      assert.equal(got?.description, undefined, "a field the new document leaves out is gone");
      assert.deepEqual(await repo.listHttpApis(), [withoutDescription]);
      assert.deepEqual(await repo.listDeployments("orders0001"), [deployment("orders0001", "d1")]);
    }));

  test("every API is listed in byte order of its id", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listHttpApis(), []);
      for (const id of ["b", "a1", "B", "a-1", "_x", "a10", "a2"]) await repo.putHttpApi(api(id));
      assert.deepEqual(
        (await repo.listHttpApis()).map((a) => a.apiId),
        ["B", "_x", "a-1", "a1", "a10", "a2", "b"],
      );
    }));

  test("deleting an API says whether there was one, and takes its deployments with it", () =>
    withRepo(open, async ({ repo }) => {
      await repo.putHttpApi(api("orders0001"));
      await repo.putHttpApi(api("users00001"));
      await repo.putDeployment(deployment("orders0001", "d1"));
      await repo.putDeployment(deployment("orders0001", "d2", 1_000));
      await repo.putDeployment(deployment("users00001", "d1"));
      assert.equal(await repo.deleteHttpApi("orders0001"), true);
      assert.equal(await repo.deleteHttpApi("orders0001"), false);
      assert.equal(await repo.deleteHttpApi("missing001"), false);
      assert.equal(await repo.getHttpApi("orders0001"), undefined);
      assert.equal(await repo.getDeployment("orders0001", "d1"), undefined);
      assert.deepEqual(await repo.listDeployments("orders0001"), []);
      assert.deepEqual(await repo.listHttpApis(), [api("users00001")]);
      assert.deepEqual(await repo.listDeployments("users00001"), [deployment("users00001", "d1")]);
      // Made again under the same id, the API starts with no deployments.
      await repo.putHttpApi(api("orders0001"));
      assert.deepEqual(await repo.listDeployments("orders0001"), []);
    }));

  test("a deployment reads back exactly as it was put, and one never put reads back undefined", () =>
    withRepo(open, async ({ repo }) => {
      await repo.putHttpApi(api("orders0001"));
      const d1 = deployment("orders0001", "d1", 0, { autoDeployed: true });
      await repo.putDeployment(d1);
      assert.deepEqual(await repo.getDeployment("orders0001", "d1"), d1);
      assert.deepEqual(await repo.listDeployments("orders0001"), [d1]);
      assert.equal(await repo.getDeployment("orders0001", "d2"), undefined);
      assert.equal(await repo.getDeployment("missing001", "d1"), undefined);
    }));

  test("an API's deployments are listed oldest first, those made at the same time in byte order of their ids", () =>
    withRepo(open, async ({ repo }) => {
      await repo.putHttpApi(api("orders0001"));
      assert.deepEqual(await repo.listDeployments("orders0001"), []);
      await repo.putDeployment(deployment("orders0001", "late", 9_000));
      await repo.putDeployment(deployment("orders0001", "b", 1_000));
      await repo.putDeployment(deployment("orders0001", "a", 1_000));
      await repo.putDeployment(deployment("orders0001", "B", 1_000));
      await repo.putDeployment(deployment("orders0001", "zz-first", 0));
      const listed = await repo.listDeployments("orders0001");
      assert.deepEqual(ids(listed), ["zz-first", "B", "a", "b", "late"]);
      assert.deepEqual(listed[0], deployment("orders0001", "zz-first", 0));
    }));

  test("a second put of a deployment id replaces that deployment", () =>
    withRepo(open, async ({ repo }) => {
      await repo.putHttpApi(api("orders0001"));
      await repo.putDeployment(deployment("orders0001", "d1", 0));
      await repo.putDeployment(deployment("orders0001", "d2", 1_000));
      const replaced = deployment("orders0001", "d1", 2_000, {
        description: "again",
        routes: [],
        authorizers: [],
      });
      await repo.putDeployment(replaced);
      assert.deepEqual(await repo.getDeployment("orders0001", "d1"), replaced);
      assert.deepEqual(await repo.listDeployments("orders0001"), [
        deployment("orders0001", "d2", 1_000),
        replaced,
      ]);
    }));

  test("deleting a deployment says whether there was one, and leaves the API's others", () =>
    withRepo(open, async ({ repo }) => {
      await repo.putHttpApi(api("orders0001"));
      await repo.putDeployment(deployment("orders0001", "d1", 0));
      await repo.putDeployment(deployment("orders0001", "d2", 1_000));
      assert.equal(await repo.deleteDeployment("orders0001", "d1"), true);
      assert.equal(await repo.deleteDeployment("orders0001", "d1"), false);
      assert.equal(await repo.deleteDeployment("missing001", "d2"), false);
      assert.equal(await repo.getDeployment("orders0001", "d1"), undefined);
      assert.deepEqual(await repo.listDeployments("orders0001"), [deployment("orders0001", "d2", 1_000)]);
      assert.deepEqual(await repo.getHttpApi("orders0001"), api("orders0001"), "the API stays");
    }));

  test("the deployments of two APIs are apart, even under the same id", () =>
    withRepo(open, async ({ repo }) => {
      await repo.putHttpApi(api("orders0001"));
      await repo.putHttpApi(api("users00001"));
      const orders = deployment("orders0001", "d1", 0, { description: "orders" });
      const users = deployment("users00001", "d1", 0, { description: "users", routes: [] });
      await repo.putDeployment(orders);
      await repo.putDeployment(users);
      await repo.putDeployment(deployment("users00001", "d2", 1_000));
      assert.deepEqual(await repo.getDeployment("orders0001", "d1"), orders);
      assert.deepEqual(await repo.getDeployment("users00001", "d1"), users);
      assert.deepEqual(await repo.listDeployments("orders0001"), [orders]);
      assert.deepEqual(ids(await repo.listDeployments("users00001")), ["d1", "d2"]);
      assert.equal(await repo.deleteDeployment("orders0001", "d1"), true);
      assert.deepEqual(await repo.getDeployment("users00001", "d1"), users);
      assert.equal(await repo.getDeployment("orders0001", "d2"), undefined);
    }));

  test("a deployment of an API that does not exist is refused and nothing is written", () =>
    withRepo(open, async ({ repo }) => {
      await assert.rejects(repo.putDeployment(deployment("ghost00001", "d1")));
      assert.deepEqual(await repo.listDeployments("ghost00001"), []);
      assert.deepEqual(await repo.listHttpApis(), []);
    }));

  test("an optional field left out, or set to undefined, reads back undefined", () =>
    withRepo(open, async ({ repo }) => {
      const bare: HttpApi = {
        apiId: "bare000001",
        name: "bare",
        description: undefined,
        version: undefined,
        corsConfiguration: undefined,
        disableExecuteApiEndpoint: true,
        tags: {},
        createdAt: T0_MS,
        routes: [{ routeId: "r1", routeKey: "GET /", target: undefined, authorizationType: "NONE" }],
        integrations: [],
        authorizers: [
          {
            authorizerId: "a1",
            name: "jwt",
            authorizerType: "JWT",
            identitySource: [],
            jwtConfiguration: { issuer: "https://issuer.example", audience: [] },
            authorizerUri: undefined,
          },
        ],
        stages: [
          {
            stageName: "dev",
            autoDeploy: false,
            deploymentId: undefined,
            stageVariables: {},
            defaultRouteSettings: { throttlingBurstLimit: undefined },
            routeSettings: {},
            accessLogSettings: undefined,
            createdAt: T0_MS,
            lastUpdatedAt: T0_MS,
          },
        ],
      };
      await repo.putHttpApi(bare);
      await repo.putDeployment({
        apiId: "bare000001",
        deploymentId: "d1",
        description: undefined,
        autoDeployed: false,
        createdAt: T0_MS,
        routes: [],
        integrations: [],
        authorizers: [],
        corsConfiguration: undefined,
      });

      const got = await repo.getHttpApi("bare000001");
      assert.ok(got);
      assert.equal(got.description, undefined);
      assert.equal(got.version, undefined);
      assert.equal(got.corsConfiguration, undefined);
      assert.equal(got.routes[0]?.target, undefined);
      assert.equal(got.authorizers[0]?.authorizerUri, undefined);
      assert.equal(got.stages[0]?.deploymentId, undefined);
      assert.equal(got.stages[0]?.accessLogSettings, undefined);
      assert.deepEqual(got.stages[0]?.defaultRouteSettings, {});
      // Left out altogether: the same object from every store.
      assert.deepEqual(got, {
        apiId: "bare000001",
        name: "bare",
        disableExecuteApiEndpoint: true,
        tags: {},
        createdAt: T0_MS,
        routes: [{ routeId: "r1", routeKey: "GET /", authorizationType: "NONE" }],
        integrations: [],
        authorizers: [
          {
            authorizerId: "a1",
            name: "jwt",
            authorizerType: "JWT",
            identitySource: [],
            jwtConfiguration: { issuer: "https://issuer.example", audience: [] },
          },
        ],
        stages: [
          {
            stageName: "dev",
            autoDeploy: false,
            stageVariables: {},
            defaultRouteSettings: {},
            routeSettings: {},
            createdAt: T0_MS,
            lastUpdatedAt: T0_MS,
          },
        ],
      });

      const d1 = await repo.getDeployment("bare000001", "d1");
      assert.ok(d1);
      assert.equal(d1.description, undefined);
      assert.equal(d1.corsConfiguration, undefined);
      assert.deepEqual(d1, {
        apiId: "bare000001",
        deploymentId: "d1",
        autoDeployed: false,
        createdAt: T0_MS,
        routes: [],
        integrations: [],
        authorizers: [],
      });
    }));
}
