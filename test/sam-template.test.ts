/**
 * End to end through `nimbus deploy --template` against a real platform: a SAM template's two
 * functions (one with a function URL, one with AutoPublishAlias) deployed, deployed again
 * with nothing to do, then changed in one setting; and a template outside the subset refused
 * with nothing changed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  ListVersionsByFunctionCommand,
} from "@aws-sdk/client-lambda";
import { cliEnv, exited, NIMBUS, nimbus, output } from "./helpers/cli.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";

let t: TestPlatform;
let cli: (...args: string[]) => ReturnType<typeof nimbus>;
let dir: string;

const TEMPLATE = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Runtime: nodejs20.x
    Timeout: 5
Resources:
  Web:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: web
      Handler: index.handler
      Environment:
        Variables:
          GREETING: !Ref Greeting
          WORKER: !Ref Worker
      FunctionUrlConfig:
        AuthType: NONE
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: worker
      MemorySize: 256
      AutoPublishAlias: live
      Environment:
        Variables:
          STACK: !Sub "\${AWS::StackName}"
`;

before(async () => {
  t = await startPlatform();
  cli = (...args) => nimbus(t.dataDir, ...args);
  dir = join(mkdtempSync(join(tmpdir(), "nimbus-sam-")), "shop");
  for (const [fn, code] of [
    [
      "web",
      'export const handler = async () => ({ statusCode: 200, body: process.env.GREETING + " from " + process.env.WORKER });',
    ],
    ["worker", "export const handler = async () => process.env.STACK;"],
  ] as const) {
    mkdirSync(join(dir, fn), { recursive: true });
    writeFileSync(join(dir, fn, "index.mjs"), code);
  }
  writeFileSync(join(dir, "template.yaml"), TEMPLATE);
});

after(async () => {
  await t.close();
  await rm(join(dir, ".."), { recursive: true, force: true });
});

async function snapshot() {
  const web = await t.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "shop-Web" }));
  const worker = await t.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "shop-Worker" }));
  const versions = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: "shop-Worker" }));
  const alias = await t.lambda.send(new GetAliasCommand({ FunctionName: "shop-Worker", Name: "live" }));
  return {
    web: web.RevisionId,
    worker: worker.RevisionId,
    workerMemory: worker.MemorySize,
    versions: versions.Versions?.map((v) => v.Version),
    alias: [alias.FunctionVersion, alias.RevisionId],
  };
}

describe("nimbus deploy --template", () => {
  test("deploys the stack, then a second run changes nothing, then a MemorySize change updates only that", async () => {
    const template = join(dir, "template.yaml");
    const first = await cli("deploy", "--template", template);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(
      first.stdout,
      [
        `stack shop (${template})`,
        "+ create function shop-Web",
        "+ create URL of shop-Web",
        "+ create function shop-Worker",
        "+ create alias shop-Worker:live (publish a version and point the alias at it)",
        "applied 4 change(s)",
        "",
      ].join("\n"),
    );
    const called = await cli("urls", "call", "shop-Web", "/");
    assert.equal(called.stdout.trim(), "hello from shop-Worker");
    const invoked = await cli("invoke", "shop-Worker:live");
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.match(invoked.stdout, /"shop"/);
    const before = await snapshot();
    assert.deepEqual(before.versions, ["$LATEST", "1"]);

    const second = await cli("deploy", "--template", template);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^= unchanged function shop-Web$/m);
    assert.match(second.stdout, /^= unchanged alias shop-Worker:live$/m);
    assert.match(second.stdout, /\nno changes\n$/);
    assert.doesNotMatch(second.stdout, /^[+~-] /m);
    assert.deepEqual(await snapshot(), before, "nothing changed: same revisions, versions and alias");

    writeFileSync(template, TEMPLATE.replace("MemorySize: 256", "MemorySize: 512"));
    const dry = await cli("deploy", "--template", template, "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^~ update function shop-Worker: MemorySize 256 → 512$/m);
    assert.match(dry.stdout, /dry run: 2 change\(s\) not applied\n$/);
    assert.deepEqual(await snapshot(), before, "a dry run changes nothing");

    const third = await cli("deploy", "--template", template);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /^= unchanged function shop-Web$/m);
    assert.match(third.stdout, /^= unchanged URL of shop-Web$/m);
    assert.match(third.stdout, /^~ update function shop-Worker: MemorySize 256 → 512$/m);
    assert.match(third.stdout, /^~ update alias shop-Worker:live .*: version 1 → a new version$/m);
    assert.match(third.stdout, /applied 2 change\(s\)\n$/);
    const after = await snapshot();
    assert.equal(after.web, before.web, "the other function is untouched");
    assert.notEqual(after.worker, before.worker);
    assert.equal(after.workerMemory, 512);
    assert.deepEqual(after.versions, ["$LATEST", "1", "2"]);
    assert.equal(after.alias[0], "2");
  });

  test("nimbus dev deploys, deploys again when a CodeUri file changes, and stops on Ctrl-C", async () => {
    const template = join(dir, "template.yaml");
    const child = spawn(process.execPath, [NIMBUS, "dev", "--template", template], {
      env: cliEnv(t.dataDir),
      stdio: ["ignore", "pipe", "inherit"],
    });
    const out = output(child);
    await out.waitFor(/watching for changes/, 30_000);
    writeFileSync(join(dir, "worker", "index.mjs"), "export const handler = async () => 'changed';");
    await out.waitFor(/~ update function shop-Worker: code \S+ → \S+\n[\s\S]*applied 2 change\(s\)/, 30_000);
    child.kill("SIGINT");
    assert.equal(await exited(child), 0);
    const invoked = await cli("invoke", "shop-Worker:live");
    assert.match(invoked.stdout, /changed/);
  });

  test("an unsupported resource type fails with exit 2, naming it, and nothing is changed", async () => {
    const other = join(dir, "unsupported.yaml");
    writeFileSync(
      other,
      `${TEMPLATE.replaceAll("shop", "x")}  Table:\n    Type: AWS::DynamoDB::Table\n    Properties: { TableName: t }\n`,
    );
    const res = await cli("deploy", "--template", other, "--stack-name", "other");
    assert.equal(res.code, 2);
    assert.equal(res.stdout, "");
    assert.match(
      res.stderr,
      /Resources\.Table\.Type: resource type AWS::DynamoDB::Table is not supported \(supported: AWS::Serverless::Function, AWS::Serverless::HttpApi\)/,
    );
    assert.match(res.stderr, /nothing was changed/);
    const listed = await cli("functions", "ls", "--json");
    const names = (JSON.parse(listed.stdout) as { Functions: Array<{ FunctionName: string }> }).Functions.map(
      (f) => f.FunctionName,
    );
    assert.ok(!names.some((n) => n.startsWith("other-")), `no function of the refused stack: ${names}`);
    assert.ok(readFileSync(other, "utf8").includes("AWS::DynamoDB::Table"));
  });
});

describe("templates with an HTTP API", () => {
  test("an HttpApi event makes the API, its route and stage; the route answers; a second run changes nothing", async () => {
    const stack = join(mkdtempSync(join(tmpdir(), "nimbus-sam-api-")), "bff");
    mkdirSync(join(stack, "items"), { recursive: true });
    writeFileSync(
      join(stack, "items", "index.mjs"),
      'export const handler = async (event) => ({ statusCode: 200, body: "item " + event.pathParameters.id });',
    );
    const template = join(stack, "template.yaml");
    writeFileSync(
      template,
      `Transform: AWS::Serverless-2016-10-31
Resources:
  WebApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: $default
  Items:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: items
      Handler: index.handler
      Runtime: nodejs20.x
      Events:
        GetItem:
          Type: HttpApi
          Properties:
            ApiId: !Ref WebApi
            Path: /items/{id}
            Method: GET
`,
    );
    try {
      const first = await cli("deploy", "--template", template);
      assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
      const apis = await cli("deploy", "--template", template, "--dry-run");
      assert.equal(apis.code, 0, apis.stderr);
      assert.match(apis.stdout, /no changes/);
      // The API the stack made, found through the management API, answers the route.
      const { ApiGatewayV2Client, GetApisCommand } = await import("@aws-sdk/client-apigatewayv2");
      const gw = new ApiGatewayV2Client({
        endpoint: t.url,
        region: "us-east-1",
        credentials: t.platform.credentials,
        maxAttempts: 1,
      });
      const { Items } = await gw.send(new GetApisCommand({}));
      gw.destroy();
      const api = Items?.find((a) => a.Tags?.["nimbus:stack"] === "bff");
      assert.ok(api, JSON.stringify(Items));
      const res = await fetch(`${t.url}/execute-api/${api.ApiId}/items/42`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "item 42");
    } finally {
      await rm(join(stack, ".."), { recursive: true, force: true });
    }
  });
});
