/**
 * End to end: HTTP APIs managed through @aws-sdk/client-apigatewayv2, unchanged, against the
 * real platform: what the SDK sends, what it parses back, and the errors it raises.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ApiGatewayV2Client,
  BadRequestException,
  ConflictException,
  CreateApiCommand,
  CreateAuthorizerCommand,
  CreateDeploymentCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  DeleteAccessLogSettingsCommand,
  DeleteApiCommand,
  DeleteDeploymentCommand,
  DeleteIntegrationCommand,
  DeleteRouteCommand,
  DeleteRouteSettingsCommand,
  DeleteStageCommand,
  GetApiCommand,
  GetApisCommand,
  GetDeploymentCommand,
  GetDeploymentsCommand,
  GetIntegrationCommand,
  GetIntegrationsCommand,
  GetRouteCommand,
  GetRoutesCommand,
  GetStageCommand,
  GetStagesCommand,
  GetTagsCommand,
  NotFoundException,
  ResetAuthorizersCacheCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateApiCommand,
  UpdateIntegrationCommand,
  UpdateRouteCommand,
  UpdateStageCommand,
} from "@aws-sdk/client-apigatewayv2";
import { createPlatform } from "../src/platform/create-platform.js";
import { loadConfig } from "../src/shared/config.js";
import { silentLogger } from "../src/shared/logger.js";
import { apiGatewayClient } from "./helpers/apigateway.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";
import { testStore } from "./helpers/store.js";

let t: TestPlatform;
let gw: ApiGatewayV2Client;
let fnArn: string;

before(async () => {
  t = await startPlatform();
  gw = apiGatewayClient(t);
  await createNodeFunction(
    t.lambda,
    "hello",
    "export const handler = async () => ({ statusCode: 200, body: 'hi' });",
  );
  fnArn = `arn:aws:lambda:${t.platform.config.region}:${t.platform.config.accountId}:function:hello`;
});
after(async () => {
  gw.destroy();
  await t.close();
});

/** The error `p` rejects with, checked to be of `type`. */
async function refused<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const err = await p.then(
    () => assert.fail(`expected ${type.name}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
  return err;
}

async function apiWithIntegration(name: string) {
  const api = await gw.send(new CreateApiCommand({ Name: name, ProtocolType: "HTTP" }));
  const integration = await gw.send(
    new CreateIntegrationCommand({
      ApiId: api.ApiId,
      IntegrationType: "AWS_PROXY",
      IntegrationUri: fnArn,
      PayloadFormatVersion: "2.0",
    }),
  );
  return { apiId: api.ApiId!, integrationId: integration.IntegrationId! };
}

describe("APIs", () => {
  test("CreateApi answers the API with its endpoint on the execute-api host; GetApi and GetApis find it", async () => {
    const created = await gw.send(
      new CreateApiCommand({
        Name: "shop",
        ProtocolType: "HTTP",
        Description: "the shop's backend",
        CorsConfiguration: { AllowOrigins: ["https://shop.example"], AllowMethods: ["GET"], MaxAge: 300 },
        Tags: { team: "web" },
      }),
    );
    assert.match(created.ApiId!, /^[a-z0-9]{10}$/);
    const port = new URL(t.url).port;
    assert.equal(created.ApiEndpoint, `http://${created.ApiId}.execute-api.localhost:${port}`);
    assert.equal(created.ProtocolType, "HTTP");
    assert.deepEqual(created.CorsConfiguration, {
      AllowOrigins: ["https://shop.example"],
      AllowMethods: ["GET"],
      MaxAge: 300,
    });
    assert.ok(created.CreatedDate instanceof Date);
    assert.deepEqual(created.Tags, { team: "web" });

    const got = await gw.send(new GetApiCommand({ ApiId: created.ApiId }));
    assert.equal(got.Name, "shop");
    const all = await gw.send(new GetApisCommand({}));
    assert.ok(all.Items?.some((a) => a.ApiId === created.ApiId));

    const updated = await gw.send(new UpdateApiCommand({ ApiId: created.ApiId, Name: "shop-v2" }));
    assert.deepEqual([updated.Name, updated.Description], ["shop-v2", "the shop's backend"]);
  });

  test("quick create with Target makes the integration, the route and an auto-deployed $default stage", async () => {
    const api = await gw.send(
      new CreateApiCommand({ Name: "quick", ProtocolType: "HTTP", Target: fnArn, RouteKey: "GET /hello" }),
    );
    const routes = await gw.send(new GetRoutesCommand({ ApiId: api.ApiId }));
    const integrations = await gw.send(new GetIntegrationsCommand({ ApiId: api.ApiId }));
    assert.deepEqual(
      integrations.Items?.map((i) => [i.IntegrationType, i.IntegrationUri, i.PayloadFormatVersion]),
      [["AWS_PROXY", fnArn, "2.0"]],
    );
    assert.deepEqual(
      routes.Items?.map((r) => [r.RouteKey, r.Target]),
      [["GET /hello", `integrations/${integrations.Items?.[0]?.IntegrationId}`]],
    );
    const stage = await gw.send(new GetStageCommand({ ApiId: api.ApiId, StageName: "$default" }));
    assert.equal(stage.AutoDeploy, true);
    const deployment = await gw.send(
      new GetDeploymentCommand({ ApiId: api.ApiId, DeploymentId: stage.DeploymentId }),
    );
    assert.deepEqual([deployment.AutoDeployed, deployment.DeploymentStatus], [true, "DEPLOYED"]);
  });

  test("an unknown API is a NotFoundException; a deleted one is gone", async () => {
    await refused(gw.send(new GetApiCommand({ ApiId: "nosuchapi0" })), NotFoundException);
    const api = await gw.send(new CreateApiCommand({ Name: "gone", ProtocolType: "HTTP" }));
    await gw.send(new DeleteApiCommand({ ApiId: api.ApiId }));
    await refused(gw.send(new GetApiCommand({ ApiId: api.ApiId })), NotFoundException);
    await refused(gw.send(new GetRoutesCommand({ ApiId: api.ApiId })), NotFoundException);
  });

  test("a WEBSOCKET API is refused, saying what Nimbus serves", async () => {
    const err = await refused(
      gw.send(new CreateApiCommand({ Name: "ws", ProtocolType: "WEBSOCKET" })),
      BadRequestException,
    );
    assert.match(err.message, /protocolType is "WEBSOCKET": it must be HTTP/);
  });
});

describe("routes, integrations, authorizers", () => {
  test("routes and integrations: create, get, update, list, delete", async () => {
    const { apiId, integrationId } = await apiWithIntegration("crud");
    const integration = await gw.send(
      new GetIntegrationCommand({ ApiId: apiId, IntegrationId: integrationId }),
    );
    assert.equal(integration.TimeoutInMillis, 30_000);
    const changed = await gw.send(
      new UpdateIntegrationCommand({ ApiId: apiId, IntegrationId: integrationId, TimeoutInMillis: 5000 }),
    );
    assert.equal(changed.TimeoutInMillis, 5000);

    const route = await gw.send(
      new CreateRouteCommand({
        ApiId: apiId,
        RouteKey: "GET /items/{id}",
        Target: `integrations/${integrationId}`,
      }),
    );
    assert.equal(route.AuthorizationType, "NONE");
    const moved = await gw.send(
      new UpdateRouteCommand({ ApiId: apiId, RouteId: route.RouteId, RouteKey: "ANY /items/{id}" }),
    );
    assert.deepEqual([moved.RouteKey, moved.Target], ["ANY /items/{id}", `integrations/${integrationId}`]);
    assert.equal(
      (await gw.send(new GetRouteCommand({ ApiId: apiId, RouteId: route.RouteId }))).RouteKey,
      "ANY /items/{id}",
    );

    // In use: a conflict, until the route goes.
    await refused(
      gw.send(new DeleteIntegrationCommand({ ApiId: apiId, IntegrationId: integrationId })),
      ConflictException,
    );
    await gw.send(new DeleteRouteCommand({ ApiId: apiId, RouteId: route.RouteId }));
    await refused(gw.send(new GetRouteCommand({ ApiId: apiId, RouteId: route.RouteId })), NotFoundException);
    await gw.send(new DeleteIntegrationCommand({ ApiId: apiId, IntegrationId: integrationId }));
    assert.deepEqual((await gw.send(new GetIntegrationsCommand({ ApiId: apiId }))).Items, []);
  });

  test("a JWT route uses a JWT authorizer of the API, with scopes", async () => {
    const { apiId, integrationId } = await apiWithIntegration("jwt");
    const authorizer = await gw.send(
      new CreateAuthorizerCommand({
        ApiId: apiId,
        Name: "users",
        AuthorizerType: "JWT",
        IdentitySource: ["$request.header.Authorization"],
        JwtConfiguration: { Issuer: "https://issuer.example", Audience: ["shop"] },
      }),
    );
    assert.deepEqual(authorizer.JwtConfiguration, { Issuer: "https://issuer.example", Audience: ["shop"] });
    const route = await gw.send(
      new CreateRouteCommand({
        ApiId: apiId,
        RouteKey: "GET /me",
        Target: `integrations/${integrationId}`,
        AuthorizationType: "JWT",
        AuthorizerId: authorizer.AuthorizerId,
        AuthorizationScopes: ["profile"],
      }),
    );
    assert.deepEqual([route.AuthorizerId, route.AuthorizationScopes], [authorizer.AuthorizerId, ["profile"]]);
  });

  test("bad input is a BadRequestException whose message names the problem", async () => {
    const { apiId } = await apiWithIntegration("bad");
    const key = await refused(
      gw.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: "GET items" })),
      BadRequestException,
    );
    assert.match(key.message, /routeKey is "GET items".*must start with '\/'/);
    const target = await refused(
      gw.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: "GET /x", Target: "integrations/nothing" })),
      BadRequestException,
    );
    assert.match(
      target.message,
      /target is "integrations\/nothing": it must be integrations\/\{integrationId\}/,
    );
    const missing = `arn:aws:lambda:us-east-1:${t.platform.config.accountId}:function:nobody`;
    const fn = await refused(
      gw.send(
        new CreateIntegrationCommand({
          ApiId: apiId,
          IntegrationType: "AWS_PROXY",
          IntegrationUri: missing,
          PayloadFormatVersion: "2.0",
        }),
      ),
      BadRequestException,
    );
    assert.match(fn.message, /integrationUri is ".*nobody": it must be .*of an existing function/);
    const jwt = await refused(
      gw.send(
        new CreateAuthorizerCommand({
          ApiId: apiId,
          Name: "no-audience",
          AuthorizerType: "JWT",
          IdentitySource: ["$request.header.Authorization"],
          JwtConfiguration: { Issuer: "https://issuer.example" },
        }),
      ),
      BadRequestException,
    );
    assert.match(jwt.message, /jwtConfiguration\.audience is missing: it must be a non-empty list/);
  });

  test("a second route with the same key is a ConflictException", async () => {
    const { apiId } = await apiWithIntegration("dup");
    await gw.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: "POST /orders" }));
    const err = await refused(
      gw.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: "POST /orders" })),
      ConflictException,
    );
    assert.match(err.message, /POST \/orders already exists/);
  });
});

describe("stages and deployments", () => {
  test("a stage serves the deployment made for it; auto-deploy stages follow every change", async () => {
    const { apiId, integrationId } = await apiWithIntegration("stages");
    await gw.send(
      new CreateRouteCommand({ ApiId: apiId, RouteKey: "GET /a", Target: `integrations/${integrationId}` }),
    );
    const prod = await gw.send(
      new CreateStageCommand({
        ApiId: apiId,
        StageName: "prod",
        StageVariables: { table: "orders" },
        DefaultRouteSettings: { ThrottlingBurstLimit: 10, ThrottlingRateLimit: 5.5 },
      }),
    );
    assert.equal(prod.DeploymentId, undefined);
    await refused(gw.send(new CreateStageCommand({ ApiId: apiId, StageName: "prod" })), ConflictException);

    const deployment = await gw.send(
      new CreateDeploymentCommand({ ApiId: apiId, StageName: "prod", Description: "v1" }),
    );
    assert.equal(deployment.AutoDeployed, false);
    const served = await gw.send(new GetStageCommand({ ApiId: apiId, StageName: "prod" }));
    assert.equal(served.DeploymentId, deployment.DeploymentId);
    assert.deepEqual(served.DefaultRouteSettings, { ThrottlingBurstLimit: 10, ThrottlingRateLimit: 5.5 });
    assert.deepEqual(served.StageVariables, { table: "orders" });
    await refused(
      gw.send(new DeleteDeploymentCommand({ ApiId: apiId, DeploymentId: deployment.DeploymentId })),
      BadRequestException,
    );

    const live = await gw.send(
      new CreateStageCommand({ ApiId: apiId, StageName: "$default", AutoDeploy: true }),
    );
    assert.ok(live.DeploymentId);
    await gw.send(
      new CreateRouteCommand({ ApiId: apiId, RouteKey: "GET /b", Target: `integrations/${integrationId}` }),
    );
    const after = await gw.send(new GetStageCommand({ ApiId: apiId, StageName: "$default" }));
    assert.notEqual(after.DeploymentId, live.DeploymentId);
    const ids = (await gw.send(new GetDeploymentsCommand({ ApiId: apiId }))).Items?.map(
      (d) => d.DeploymentId,
    );
    assert.deepEqual(ids, [deployment.DeploymentId, after.DeploymentId]);

    const updated = await gw.send(
      new UpdateStageCommand({ ApiId: apiId, StageName: "prod", Description: "production" }),
    );
    assert.deepEqual([updated.Description, updated.DeploymentId], ["production", deployment.DeploymentId]);
    assert.equal((await gw.send(new GetStagesCommand({ ApiId: apiId }))).Items?.length, 2);
    await gw.send(new DeleteStageCommand({ ApiId: apiId, StageName: "prod" }));
    await gw.send(new DeleteDeploymentCommand({ ApiId: apiId, DeploymentId: deployment.DeploymentId }));
    await refused(
      gw.send(new GetDeploymentCommand({ ApiId: apiId, DeploymentId: deployment.DeploymentId })),
      NotFoundException,
    );
  });

  test("a bad stage is refused with every problem named", async () => {
    const { apiId } = await apiWithIntegration("bad-stage");
    const err = await refused(
      gw.send(
        new CreateStageCommand({
          ApiId: apiId,
          StageName: "no spaces",
          StageVariables: { "bad-name": "x" },
          DefaultRouteSettings: { ThrottlingBurstLimit: -1 },
        }),
      ),
      BadRequestException,
    );
    assert.match(err.message, /stageName is "no spaces"/);
    assert.match(err.message, /stageVariables has the key "bad-name"/);
    assert.match(err.message, /defaultRouteSettings\.throttlingBurstLimit is -1/);
  });
});

describe("stage settings taken out one at a time, authorizer caches, tags", () => {
  test("DeleteAccessLogSettings and DeleteRouteSettings take one setting out of a stage", async () => {
    const { apiId, integrationId } = await apiWithIntegration("stage-subops");
    await gw.send(
      new CreateRouteCommand({ ApiId: apiId, RouteKey: "GET /a", Target: `integrations/${integrationId}` }),
    );
    await gw.send(
      new CreateStageCommand({
        ApiId: apiId,
        StageName: "prod",
        AccessLogSettings: { DestinationArn: "prod-access", Format: "$context.requestId" },
        DefaultRouteSettings: { ThrottlingBurstLimit: 10, ThrottlingRateLimit: 5 },
        RouteSettings: { "GET /a": { ThrottlingBurstLimit: 1, ThrottlingRateLimit: 1 } },
      }),
    );
    await gw.send(new DeleteAccessLogSettingsCommand({ ApiId: apiId, StageName: "prod" }));
    await gw.send(new DeleteRouteSettingsCommand({ ApiId: apiId, StageName: "prod", RouteKey: "GET /a" }));
    const stage = await gw.send(new GetStageCommand({ ApiId: apiId, StageName: "prod" }));
    assert.equal(stage.AccessLogSettings, undefined);
    assert.deepEqual(stage.RouteSettings, {});
    assert.deepEqual(stage.DefaultRouteSettings, { ThrottlingBurstLimit: 10, ThrottlingRateLimit: 5 });
    // Settings that are not there, or a stage that is not: NotFound.
    await refused(
      gw.send(new DeleteRouteSettingsCommand({ ApiId: apiId, StageName: "prod", RouteKey: "GET /a" })),
      NotFoundException,
    );
    await refused(
      gw.send(new DeleteAccessLogSettingsCommand({ ApiId: apiId, StageName: "nope" })),
      NotFoundException,
    );
  });

  test("ResetAuthorizersCache answers for a stage of the API, NotFound for another", async () => {
    const { apiId } = await apiWithIntegration("reset-cache");
    await gw.send(new CreateStageCommand({ ApiId: apiId, StageName: "$default", AutoDeploy: true }));
    await gw.send(new ResetAuthorizersCacheCommand({ ApiId: apiId, StageName: "$default" }));
    await refused(
      gw.send(new ResetAuthorizersCacheCommand({ ApiId: apiId, StageName: "prod" })),
      NotFoundException,
    );
  });

  test("TagResource, GetTags and UntagResource on an API's ARN", async () => {
    const api = await gw.send(
      new CreateApiCommand({ Name: "tagged", ProtocolType: "HTTP", Tags: { team: "web" } }),
    );
    const arn = `arn:aws:apigateway:us-east-1::/apis/${api.ApiId}`;
    await gw.send(new TagResourceCommand({ ResourceArn: arn, Tags: { env: "prod", team: "shop" } }));
    assert.deepEqual((await gw.send(new GetTagsCommand({ ResourceArn: arn }))).Tags, {
      team: "shop",
      env: "prod",
    });
    await gw.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ["team", "absent"] }));
    assert.deepEqual((await gw.send(new GetTagsCommand({ ResourceArn: arn }))).Tags, { env: "prod" });
    assert.deepEqual((await gw.send(new GetApiCommand({ ApiId: api.ApiId }))).Tags, { env: "prod" });

    const bad = await refused(
      gw.send(new TagResourceCommand({ ResourceArn: arn, Tags: { "aws:reserved": "x" } })),
      BadRequestException,
    );
    assert.match(bad.message, /aws:reserved/);
    await refused(
      gw.send(new GetTagsCommand({ ResourceArn: "arn:aws:apigateway:us-east-1::/apis/nosuchapi0" })),
      NotFoundException,
    );
    const routeArn = await refused(
      gw.send(new GetTagsCommand({ ResourceArn: `${arn}/routes/abc1234` })),
      BadRequestException,
    );
    assert.match(routeArn.message, /Nimbus tags APIs and stages only/);
  });

  test("a stage has tags of its own: CreateStage's, then TagResource and UntagResource on its ARN", async () => {
    const api = await gw.send(
      new CreateApiCommand({ Name: "tagged-stage", ProtocolType: "HTTP", Tags: { team: "web" } }),
    );
    const created = await gw.send(
      new CreateStageCommand({ ApiId: api.ApiId, StageName: "prod", Tags: { env: "prod" } }),
    );
    assert.deepEqual(created.Tags, { env: "prod" });
    const arn = `arn:aws:apigateway:us-east-1::/apis/${api.ApiId}/stages/prod`;
    await gw.send(new TagResourceCommand({ ResourceArn: arn, Tags: { owner: "ops" } }));
    assert.deepEqual((await gw.send(new GetTagsCommand({ ResourceArn: arn }))).Tags, {
      env: "prod",
      owner: "ops",
    });
    await gw.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ["env"] }));
    const stage = await gw.send(new GetStageCommand({ ApiId: api.ApiId, StageName: "prod" }));
    assert.deepEqual(stage.Tags, { owner: "ops" });
    assert.equal(
      stage.LastUpdatedDate?.getTime(),
      created.LastUpdatedDate?.getTime(),
      "tags are not settings",
    );
    // The API's tags and another stage's are its own.
    assert.deepEqual((await gw.send(new GetApiCommand({ ApiId: api.ApiId }))).Tags, { team: "web" });
    await gw.send(new CreateStageCommand({ ApiId: api.ApiId, StageName: "$default" }));
    const other = `arn:aws:apigateway:us-east-1::/apis/${api.ApiId}/stages/$default`;
    assert.deepEqual((await gw.send(new GetTagsCommand({ ResourceArn: other }))).Tags, {});

    const missing = await refused(
      gw.send(
        new GetTagsCommand({ ResourceArn: `arn:aws:apigateway:us-east-1::/apis/${api.ApiId}/stages/dev` }),
      ),
      NotFoundException,
    );
    assert.match(missing.message, /stage identifier .*:dev/);
    const bad = await refused(
      gw.send(new CreateStageCommand({ ApiId: api.ApiId, StageName: "beta", Tags: { "aws:x": "y" } })),
      BadRequestException,
    );
    assert.match(bad.message, /aws:x/);
  });
});

describe("across a restart", () => {
  test("an API, its routes and the deployment its stage serves survive a restart on the same store", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "nimbus-apis-restart-"));
    chmodSync(dataDir, 0o711);
    const { store, drop } = await testStore();
    const start = async () => {
      const platform = await createPlatform(loadConfig({}, {}, { port: 0, dataDir, store }), {
        logger: silentLogger,
      });
      const url = await platform.listen();
      const client = new ApiGatewayV2Client({
        endpoint: url,
        region: "us-east-1",
        credentials: platform.credentials,
        maxAttempts: 1,
      });
      return { platform, client };
    };
    try {
      const first = await start();
      const api = await first.client.send(new CreateApiCommand({ Name: "kept", ProtocolType: "HTTP" }));
      await first.client.send(new CreateRouteCommand({ ApiId: api.ApiId, RouteKey: "GET /kept" }));
      const stage = await first.client.send(
        new CreateStageCommand({ ApiId: api.ApiId, StageName: "$default", AutoDeploy: true }),
      );
      first.client.destroy();
      await first.platform.close();
      const second = await start();
      try {
        const routes = await second.client.send(new GetRoutesCommand({ ApiId: api.ApiId }));
        assert.deepEqual(
          routes.Items?.map((r) => r.RouteKey),
          ["GET /kept"],
        );
        const again = await second.client.send(
          new GetStageCommand({ ApiId: api.ApiId, StageName: "$default" }),
        );
        assert.equal(again.DeploymentId, stage.DeploymentId);
        await second.client.send(
          new GetDeploymentCommand({ ApiId: api.ApiId, DeploymentId: stage.DeploymentId }),
        );
      } finally {
        second.client.destroy();
        await second.platform.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await drop();
    }
  });
});

describe("served: what the management API makes, the execute-api surface answers", () => {
  const ECHO = `export const handler = async (event) => ({
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ routeKey: event.routeKey, rawPath: event.rawPath, pathParameters: event.pathParameters ?? null,
      stageVariables: event.stageVariables ?? null, stage: event.requestContext.stage,
      claims: event.requestContext.authorizer?.jwt?.claims ?? null }),
  });`;
  let echoArn: string;
  before(async () => {
    await createNodeFunction(t.lambda, "served-echo", ECHO);
    echoArn = `${fnArn.slice(0, fnArn.lastIndexOf(":"))}:served-echo`;
  });

  test("a quick-created API answers at once on its endpoint, by path", async () => {
    const api = await gw.send(
      new CreateApiCommand({ Name: "quick-served", ProtocolType: "HTTP", Target: fnArn }),
    );
    const res = await fetch(`${t.url}/execute-api/${api.ApiId}/anything/at/all`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "hi");
  });

  test("routes with path parameters on a named stage with variables; an unmatched path is a 404", async () => {
    const api = await gw.send(new CreateApiCommand({ Name: "served-stage", ProtocolType: "HTTP" }));
    const integration = await gw.send(
      new CreateIntegrationCommand({
        ApiId: api.ApiId,
        IntegrationType: "AWS_PROXY",
        IntegrationUri: echoArn,
        PayloadFormatVersion: "2.0",
      }),
    );
    await gw.send(
      new CreateRouteCommand({
        ApiId: api.ApiId,
        RouteKey: "GET /items/{id}",
        Target: `integrations/${integration.IntegrationId}`,
      }),
    );
    await gw.send(
      new CreateStageCommand({
        ApiId: api.ApiId,
        StageName: "prod",
        AutoDeploy: true,
        StageVariables: { env: "production" },
      }),
    );
    const res = await fetch(`${t.url}/execute-api/${api.ApiId}/prod/items/7`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      routeKey: "GET /items/{id}",
      rawPath: "/prod/items/7",
      pathParameters: { id: "7" },
      stageVariables: { env: "production" },
      stage: "prod",
      claims: null,
    });
    const missing = await fetch(`${t.url}/execute-api/${api.ApiId}/prod/nothing`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { message: "Not Found" });
  });

  test("a JWT route takes tokens of its issuer (JWKS on the loopback) and refuses others with 401", async () => {
    const { generateKeyPair, exportJWK, SignJWT } = await import("jose");
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const { createServer } = await import("node:http");
    const issuerServer = createServer((req, res) => {
      const base = `http://127.0.0.1:${(issuerServer.address() as { port: number }).port}`;
      res.setHeader("content-type", "application/json");
      if (req.url === "/.well-known/openid-configuration")
        res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks` }));
      else res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => issuerServer.listen(0, "127.0.0.1", r));
    const issuer = `http://127.0.0.1:${(issuerServer.address() as { port: number }).port}`;
    try {
      const api = await gw.send(new CreateApiCommand({ Name: "served-jwt", ProtocolType: "HTTP" }));
      const integration = await gw.send(
        new CreateIntegrationCommand({
          ApiId: api.ApiId,
          IntegrationType: "AWS_PROXY",
          IntegrationUri: echoArn,
          PayloadFormatVersion: "2.0",
        }),
      );
      const authorizer = await gw.send(
        new CreateAuthorizerCommand({
          ApiId: api.ApiId,
          Name: "users",
          AuthorizerType: "JWT",
          IdentitySource: ["$request.header.Authorization"],
          JwtConfiguration: { Issuer: issuer, Audience: ["web"] },
        }),
      );
      await gw.send(
        new CreateRouteCommand({
          ApiId: api.ApiId,
          RouteKey: "GET /me",
          Target: `integrations/${integration.IntegrationId}`,
          AuthorizationType: "JWT",
          AuthorizerId: authorizer.AuthorizerId,
        }),
      );
      await gw.send(new CreateStageCommand({ ApiId: api.ApiId, StageName: "$default", AutoDeploy: true }));
      const token = await new SignJWT({ sub: "ada" })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuer(issuer)
        .setAudience("web")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);
      const url = `${t.url}/execute-api/${api.ApiId}/me`;
      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { claims: Record<string, string> }).claims.sub, "ada");
      const none = await fetch(url);
      assert.equal(none.status, 401);
      const forged = await fetch(url, { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
      assert.equal(forged.status, 401);
    } finally {
      issuerServer.close();
    }
  });
});
