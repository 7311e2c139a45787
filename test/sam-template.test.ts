/**
 * End to end through `nimbus deploy --template` against a real platform: a SAM template's two
 * functions (one with a function URL, one with AutoPublishAlias) deployed, deployed again
 * with nothing to do, then changed in one setting; and a template outside the subset refused
 * with nothing changed. What a stack no longer declares is deleted; a function it did not make
 * is never taken over; AWS::AccountId resolves on a platform with no function yet. Queues and
 * SQS events: created, fed, updated in place, deleted when dropped.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GetApisCommand } from "@aws-sdk/client-apigatewayv2";
import {
  CreateFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListVersionsByFunctionCommand,
} from "@aws-sdk/client-lambda";
import { apiGatewayClient } from "./helpers/apigateway.js";
import { cliEnv, exited, NIMBUS, nimbus, output } from "./helpers/cli.js";
import { startPlatform, type TestPlatform, zipOf } from "./helpers/platform.js";

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
      /Resources\.Table\.Type: resource type AWS::DynamoDB::Table is not supported \(supported: AWS::Serverless::Function, AWS::Serverless::HttpApi, AWS::SQS::Queue\)/,
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

/** A stack directory with a function per name (each answers its name), and its template's path. */
function stackDir(stack: string, fns: readonly string[]): string {
  const root = join(mkdtempSync(join(tmpdir(), "nimbus-sam-")), stack);
  for (const fn of fns) {
    mkdirSync(join(root, fn), { recursive: true });
    writeFileSync(join(root, fn, "index.mjs"), `export const handler = async () => ${JSON.stringify(fn)};`);
  }
  return join(root, "template.yaml");
}

function functionsTemplate(fns: readonly string[]): string {
  const resources = fns
    .map((fn) => `  ${fn}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ${fn}\n`)
    .join("");
  return `Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs20.x
    Handler: index.handler
Resources:
${resources}`;
}

describe("what a stack owns", () => {
  test("a function removed from the template is planned for deletion, shown by a dry run, then deleted", async () => {
    const template = stackDir("trim", ["Keep", "Drop"]);
    try {
      writeFileSync(template, functionsTemplate(["Keep", "Drop"]));
      const first = await cli("deploy", "--template", template);
      assert.equal(first.code, 0, first.stderr);
      const made = await t.lambda.send(new GetFunctionCommand({ FunctionName: "trim-Drop" }));
      assert.deepEqual(made.Tags, { "nimbus:stack": "trim", "nimbus:logical-id": "Drop" });
      const kept = (await t.lambda.send(new GetFunctionCommand({ FunctionName: "trim-Keep" }))).Configuration;

      writeFileSync(template, functionsTemplate(["Keep"]));
      const dry = await cli("deploy", "--template", template, "--dry-run");
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /^= unchanged function trim-Keep\n- delete function trim-Drop\n/m);
      assert.match(dry.stdout, /dry run: 1 change\(s\) not applied\n$/);
      await t.lambda.send(new GetFunctionCommand({ FunctionName: "trim-Drop" }));

      const second = await cli("deploy", "--template", template);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /^- delete function trim-Drop$/m);
      assert.match(second.stdout, /applied 1 change\(s\)\n$/);
      await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: "trim-Drop" })), {
        name: "ResourceNotFoundException",
      });
      const after = (await t.lambda.send(new GetFunctionCommand({ FunctionName: "trim-Keep" })))
        .Configuration;
      assert.equal(after?.RevisionId, kept?.RevisionId, "the function still declared is untouched");
      const again = await cli("deploy", "--template", template);
      assert.match(again.stdout, /\nno changes\n$/);
    } finally {
      await rm(join(template, "..", ".."), { recursive: true, force: true });
    }
  });

  test("a function made by hand under a new resource's name is not taken over: the deploy is refused, naming it", async () => {
    const template = stackDir("hand", ["Api", "Worker"]);
    try {
      writeFileSync(template, functionsTemplate(["Api"]));
      assert.equal((await cli("deploy", "--template", template)).code, 0);
      const zip = await zipOf({ "index.mjs": "export const handler = async () => 'by hand';" });
      await t.lambda.send(
        new CreateFunctionCommand({
          FunctionName: "hand-Worker",
          Runtime: "nodejs20.x",
          Handler: "index.handler",
          Role: "arn:aws:iam::000000000000:role/test",
          Code: { ZipFile: zip },
        }),
      );
      const before = (await t.lambda.send(new GetFunctionCommand({ FunctionName: "hand-Worker" })))
        .Configuration;

      writeFileSync(template, functionsTemplate(["Api", "Worker"]));
      for (const dryRun of [["--dry-run"], []]) {
        const res = await cli("deploy", "--template", template, ...dryRun);
        assert.equal(res.code, 1, res.stdout);
        assert.match(
          res.stderr,
          /^error: Worker: function hand-Worker already exists and was not made by a stack \(it has no nimbus:stack tag\); Nimbus does not take over a function it did not create\..* tag it nimbus:stack=hand and nimbus:logical-id=Worker\nnothing was changed\n$/,
        );
        assert.doesNotMatch(res.stdout, /^[+~-] /m);
      }
      const after = (await t.lambda.send(new GetFunctionCommand({ FunctionName: "hand-Worker" })))
        .Configuration;
      assert.equal(after?.RevisionId, before?.RevisionId, "the hand-made function is untouched");
      assert.equal(after?.CodeSha256, before?.CodeSha256);

      // Removed from the template, the hand-made function is not the stack's to delete either.
      writeFileSync(template, functionsTemplate(["Api"]));
      const res = await cli("deploy", "--template", template);
      assert.equal(res.code, 0, res.stderr);
      assert.doesNotMatch(res.stdout, /hand-Worker/);
      await t.lambda.send(new GetFunctionCommand({ FunctionName: "hand-Worker" }));
    } finally {
      await rm(join(template, "..", ".."), { recursive: true, force: true });
    }
  });
});

describe("a template on a platform with no function yet", () => {
  test("AWS::AccountId and !GetAtt X.Arn resolve to the platform's account", async () => {
    const fresh = await startPlatform();
    const template = stackDir("first", ["Caller", "Callee"]);
    try {
      writeFileSync(
        join(template, "..", "Caller", "index.mjs"),
        "export const handler = async () => [process.env.CALLEE, process.env.ACCOUNT];",
      );
      writeFileSync(
        template,
        functionsTemplate(["Caller", "Callee"]).replace(
          "      CodeUri: Caller\n",
          "      CodeUri: Caller\n      Environment:\n        Variables:\n          CALLEE: !GetAtt Callee.Arn\n          ACCOUNT: !Ref AWS::AccountId\n",
        ),
      );
      const res = await nimbus(fresh.dataDir, "deploy", "--template", template);
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      const callee = await fresh.lambda.send(new GetFunctionCommand({ FunctionName: "first-Callee" }));
      const arn = callee.Configuration!.FunctionArn!;
      const out = await fresh.lambda.send(new InvokeCommand({ FunctionName: "first-Caller" }));
      assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), [arn, arn.split(":")[4]]);
    } finally {
      await fresh.close();
      await rm(join(template, "..", ".."), { recursive: true, force: true });
    }
  });
});

describe("templates with an HTTP API", () => {
  test("two functions, an HTTP API and a function URL: all answer, and a second run changes nothing", async () => {
    const stack = join(mkdtempSync(join(tmpdir(), "nimbus-sam-api-")), "bff");
    mkdirSync(join(stack, "items"), { recursive: true });
    mkdirSync(join(stack, "page"), { recursive: true });
    writeFileSync(
      join(stack, "page", "index.mjs"),
      'export const handler = async () => ({ statusCode: 200, body: "page" });',
    );
    writeFileSync(
      join(stack, "items", "index.mjs"),
      'export const handler = async (event) => ({ statusCode: 200, body: "item " + event.pathParameters.id });',
    );
    const template = join(stack, "template.yaml");
    writeFileSync(
      template,
      `Transform: AWS::Serverless-2016-10-31
Resources:
  Page:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: page
      Handler: index.handler
      Runtime: nodejs20.x
      FunctionUrlConfig:
        AuthType: NONE
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
      const before = await t.lambda.send(new GetFunctionCommand({ FunctionName: "bff-Page" }));
      const second = await cli("deploy", "--template", template);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /\nno changes\n$/);
      assert.doesNotMatch(second.stdout, /^[+~-] /m);
      const after = await t.lambda.send(new GetFunctionCommand({ FunctionName: "bff-Page" }));
      assert.equal(after.Configuration?.RevisionId, before.Configuration?.RevisionId);
      const page = await cli("urls", "call", "bff-Page", "/");
      assert.equal(page.stdout.trim(), "page");
      // The API the stack made, found through the management API, answers the route.
      const gw = apiGatewayClient(t);
      const { Items } = await gw.send(new GetApisCommand({}));
      gw.destroy();
      const api = Items?.find((a) => a.Tags?.["nimbus:stack"] === "bff");
      assert.ok(api, JSON.stringify(Items));
      const res = await fetch(`${t.url}/execute-api/${api.ApiId}/items/42`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "item 42");

      // The API dropped from the template (and the event that used it) is deleted; the function stays.
      const text = readFileSync(template, "utf8");
      writeFileSync(
        template,
        text.replace(/ {2}WebApi:[\s\S]*?(?= {2}Items:)/, "").replace(/ {6}Events:[\s\S]*$/, ""),
      );
      const dropped = await cli("deploy", "--template", template);
      assert.equal(dropped.code, 0, `${dropped.stdout}\n${dropped.stderr}`);
      assert.match(dropped.stdout, new RegExp(`^- delete HTTP API ${api.Name}$`, "m"));
      const gw2 = apiGatewayClient(t);
      const left = (await gw2.send(new GetApisCommand({}))).Items ?? [];
      gw2.destroy();
      assert.equal(
        left.find((a) => a.ApiId === api.ApiId),
        undefined,
      );
      await t.lambda.send(new GetFunctionCommand({ FunctionName: "bff-Items" }));
    } finally {
      await rm(join(stack, ".."), { recursive: true, force: true });
    }
  });
});
