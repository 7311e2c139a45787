/**
 * End to end through the `nimbus` command: HTTP APIs made with @aws-sdk/client-apigatewayv2's
 * quick create, then listed, shown, called and removed with `nimbus apis …`, against a real platform.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type ApiGatewayV2Client,
  CreateApiCommand,
  CreateDeploymentCommand,
  CreateStageCommand,
} from "@aws-sdk/client-apigatewayv2";
import { apiGatewayClient } from "./helpers/apigateway.js";
import { nimbus } from "./helpers/cli.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";

let t: TestPlatform;
let gw: ApiGatewayV2Client;
let cli: (...args: string[]) => ReturnType<typeof nimbus>;
let apiId: string;

before(async () => {
  t = await startPlatform();
  cli = (...args) => nimbus(t.dataDir, ...args);
  gw = apiGatewayClient(t);
  await createNodeFunction(
    t.lambda,
    "cli-api",
    `export const handler = async (event) => ({
      statusCode: event.rawPath.endsWith("/missing") ? 404 : 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method: event.requestContext.http.method, path: event.rawPath,
        stage: event.requestContext.stage, query: event.rawQueryString, body: event.body ?? null,
        custom: event.headers["x-custom"] ?? null }),
    });`,
  );
  const { region, accountId } = t.platform.config;
  const api = await gw.send(
    new CreateApiCommand({
      Name: "cli-shop",
      ProtocolType: "HTTP",
      Target: `arn:aws:lambda:${region}:${accountId}:function:cli-api`,
    }),
  );
  apiId = api.ApiId!;
});

after(async () => {
  gw.destroy();
  await t.close();
});

describe("nimbus apis", () => {
  test("ls lists the API with its endpoint, its stages and its number of routes", async () => {
    const listed = await cli("apis", "ls");
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+NAME\s+ENDPOINT\s+STAGES\s+ROUTES$/m);
    assert.match(
      listed.stdout,
      new RegExp(
        `^${apiId}\\s+cli-shop\\s+http://${apiId}\\.execute-api\\.localhost:\\d+\\s+\\$default\\s+1$`,
        "m",
      ),
    );

    const json = await cli("apis", "ls", "--json");
    assert.equal(json.code, 0, json.stderr);
    const { items } = JSON.parse(json.stdout) as { items: Array<{ apiId: string; name: string }> };
    assert.deepEqual(
      items.filter((a) => a.apiId === apiId).map((a) => a.name),
      ["cli-shop"],
    );
  });

  test("get shows the endpoint, the stages with their deployment, and each route's function and auth", async () => {
    const { DeploymentId } = await gw.send(new CreateDeploymentCommand({ ApiId: apiId }));
    await gw.send(new CreateStageCommand({ ApiId: apiId, StageName: "prod", DeploymentId }));

    const shown = await cli("apis", "get", apiId);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^cli-shop \\(${apiId}\\)$`, "m"));
    assert.match(shown.stdout, /^ {2}endpoint\s+http:\/\/\S+\.execute-api\.localhost:\d+$/m);
    assert.match(shown.stdout, /^ {2}\$default\s+\S+\s+yes$/m);
    assert.match(shown.stdout, new RegExp(`^  prod\\s+${DeploymentId}\\s+no$`, "m"));
    assert.match(shown.stdout, /^ {2}ROUTE\s+FUNCTION\s+AUTH$/m);
    assert.match(shown.stdout, /^ {2}\$default\s+cli-api\s+NONE$/m);

    const json = await cli("apis", "get", apiId, "--json");
    assert.equal(json.code, 0, json.stderr);
    const got = JSON.parse(json.stdout) as {
      api: { apiId: string };
      stages: Array<{ stageName: string }>;
      routes: Array<{ routeKey: string }>;
      integrations: Array<{ integrationUri: string }>;
    };
    assert.equal(got.api.apiId, apiId);
    assert.deepEqual(got.stages.map((s) => s.stageName).sort(), ["$default", "prod"]);
    assert.deepEqual(
      got.routes.map((r) => r.routeKey),
      ["$default"],
    );
    assert.match(got.integrations[0]?.integrationUri ?? "", /:function:cli-api$/);
  });

  test("call sends one request to the API's $default stage, or to a named one with --stage", async () => {
    const called = await cli(
      "apis",
      "call",
      apiId,
      "/items/7?x=1",
      "-X",
      "PUT",
      "-H",
      "x-custom: hi",
      "-d",
      "payload",
    );
    assert.equal(called.code, 0, called.stderr);
    assert.match(called.stderr, /^HTTP 200 /);
    assert.deepEqual(JSON.parse(called.stdout), {
      method: "PUT",
      path: "/items/7",
      stage: "$default",
      query: "x=1",
      body: "payload",
      custom: "hi",
    });

    const staged = await cli("apis", "call", apiId, "items", "--stage", "prod");
    assert.equal(staged.code, 0, staged.stderr);
    const answer = JSON.parse(staged.stdout) as { method: string; stage: string; path: string };
    assert.deepEqual([answer.method, answer.stage, answer.path], ["GET", "prod", "/prod/items"]);

    const missing = await cli("apis", "call", apiId, "/missing");
    assert.equal(missing.code, 1, "a 4xx answer exits 1");
    assert.match(missing.stderr, /^HTTP 404 /);
  });

  test("rm deletes the API: get then fails naming it, and ls no longer lists it", async () => {
    const removed = await cli("apis", "rm", apiId);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, `deleted the HTTP API ${apiId}\n`);

    const gone = await cli("apis", "get", apiId);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NotFoundException/);
    assert.match(gone.stderr, /HTTP 404/);

    const listed = await cli("apis", "ls");
    assert.equal(listed.code, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, new RegExp(apiId));

    const called = await cli("apis", "call", apiId);
    assert.equal(called.code, 1);
    assert.match(called.stderr, /NotFoundException/);
  });
});
