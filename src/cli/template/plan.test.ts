import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { conflicts } from "./ownership.js";
import { parseTemplate } from "./parse.js";
import {
  type BuiltCode,
  type CurrentApi,
  type CurrentFunction,
  computePlan,
  describePlan,
  type LambdaConfig,
} from "./plan.js";

const TEMPLATE = `Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration: { issuer: "https://issuer.example", audience: [app] }
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      MemorySize: 256
      AutoPublishAlias: live
      FunctionUrlConfig: { AuthType: NONE }
      Events:
        Get: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: /hello, Method: get, Auth: { Authorizer: Jwt } } }
`;
const stack = parseTemplate({
  file: "t.yaml",
  text: TEMPLATE,
  stackName: "app",
  region: "us-east-1",
  accountId: "1",
});
const code = new Map<string, BuiltCode>([
  ["Hello", { zip: Buffer.from("zip"), sha256: "NEWSHA", handler: "index.handler" }],
]);
const ARN = "arn:aws:lambda:us-east-1:1:function:app-Hello";

function config(over: Partial<LambdaConfig> = {}): LambdaConfig {
  return {
    FunctionName: "app-Hello",
    FunctionArn: ARN,
    Runtime: "nodejs20.x",
    Handler: "index.handler",
    MemorySize: 256,
    Timeout: 3,
    Description: "",
    Environment: { Variables: {} },
    CodeSha256: "NEWSHA",
    Version: "$LATEST",
    RevisionId: "r1",
    ...over,
  };
}

const deployedFunction: CurrentFunction = {
  config: config(),
  alias: { version: "1", config: config({ Version: "1" }) },
  url: { FunctionUrl: "http://x/", AuthType: "NONE", InvokeMode: "BUFFERED" },
  tags: { "nimbus:stack": "app", "nimbus:logical-id": "Hello" },
};
const deployedApi: CurrentApi = {
  apiId: "a1",
  name: "app-Api",
  routes: [
    {
      routeId: "r1",
      routeKey: "GET /hello",
      target: "integrations/i1",
      authorizationType: "JWT",
      authorizerId: "z1",
    },
    { routeId: "r2", routeKey: "GET /gone", target: "integrations/i1", authorizationType: "NONE" },
  ],
  integrations: [{ integrationId: "i1", integrationUri: `${ARN}:live`, payloadFormatVersion: "2.0" }],
  authorizers: [
    {
      authorizerId: "z1",
      name: "Jwt",
      identitySource: ["$request.header.Authorization"],
      jwtConfiguration: { issuer: "https://issuer.example", audience: ["app"] },
    },
  ],
  stages: [{ stageName: "$default", autoDeploy: true }],
};

describe("planning a stack", () => {
  test("from nothing, everything is created in dependency order, new ids left for the apply to fill in", () => {
    const plan = computePlan(stack, code, {
      region: "us-east-1",
      accountId: undefined,
      functions: new Map(),
      functionTags: new Map(),
      apis: new Map(),
    });
    assert.equal(
      describePlan(plan),
      [
        "+ create function app-Hello",
        "+ create alias app-Hello:live (publish a version and point the alias at it)",
        "+ create URL of app-Hello:live",
        "+ create HTTP API app-Api",
        "+ create authorizer Jwt of HTTP API app-Api",
        "+ create integration app-Hello (payload 2.0) of HTTP API app-Api",
        "+ create route GET /hello of HTTP API app-Api",
        "+ create stage $default of HTTP API app-Api",
        "",
      ].join("\n"),
    );
    const api = plan.steps.find((s) => s.kind === "api");
    assert.deepEqual(api?.kind === "api" && api.body, {
      name: "app-Api",
      protocolType: "HTTP",
      tags: { "nimbus:stack": "app", "nimbus:logical-id": "Api" },
    });
    const route = plan.steps.find((s) => s.kind === "route");
    assert.deepEqual(route && "body" in route && route.body, {
      routeKey: "GET /hello",
      target: { ref: "api:Api:integration:Hello@2.0", prefix: "integrations/" },
      authorizationType: "JWT",
      authorizerId: { ref: "api:Api:authorizer:Jwt" },
    });
  });

  test("what matches the template is unchanged; a route the template dropped is deleted", () => {
    const plan = computePlan(stack, code, {
      region: "us-east-1",
      accountId: "1",
      functions: new Map([["app-Hello", deployedFunction]]),
      functionTags: new Map([["app-Hello", deployedFunction.tags]]),
      apis: new Map([["Api", deployedApi]]),
    });
    assert.equal(
      describePlan(plan),
      [
        "= unchanged function app-Hello",
        "= unchanged alias app-Hello:live",
        "= unchanged URL of app-Hello:live",
        "= unchanged HTTP API app-Api",
        "= unchanged authorizer Jwt of HTTP API app-Api",
        "= unchanged integration app-Hello (payload 2.0) of HTTP API app-Api",
        "= unchanged route GET /hello of HTTP API app-Api",
        "= unchanged stage $default of HTTP API app-Api",
        "- delete route GET /gone of HTTP API app-Api",
        "",
      ].join("\n"),
    );
  });

  test("a changed setting and new code update the function and publish a new version for the alias", () => {
    const plan = computePlan(stack, code, {
      region: "us-east-1",
      accountId: "1",
      functions: new Map([
        [
          "app-Hello",
          {
            ...deployedFunction,
            config: config({
              MemorySize: 128,
              CodeSha256: "OLDSHA12345",
              Environment: { Variables: { X: "secret" } },
            }),
            url: { FunctionUrl: "http://x/", AuthType: "AWS_IAM", InvokeMode: "BUFFERED" },
          },
        ],
      ]),
      functionTags: new Map([["app-Hello", deployedFunction.tags]]),
      apis: new Map(),
    });
    const lines = describePlan(plan).split("\n");
    assert.equal(
      lines[0],
      "~ update function app-Hello: MemorySize 128 → 256, Environment X removed, code OLDSHA12 → NEWSHA",
    );
    assert.equal(
      lines[1],
      "~ update alias app-Hello:live (publish a version and point the alias at it): version 1 → a new version",
    );
    assert.equal(lines[2], "~ update URL of app-Hello:live: AuthType AWS_IAM → NONE");
    assert.doesNotMatch(describePlan(plan), /secret/);
  });

  test("what the stack made and no longer declares is deleted last, APIs before functions; others' functions are left", () => {
    const plan = computePlan(stack, code, {
      region: "us-east-1",
      accountId: "1",
      functions: new Map([["app-Hello", deployedFunction]]),
      functionTags: new Map<string, Record<string, string>>([
        ["app-Hello", deployedFunction.tags],
        ["app-Old", { "nimbus:stack": "app", "nimbus:logical-id": "Old" }],
        ["other-Old", { "nimbus:stack": "other", "nimbus:logical-id": "Old" }],
        ["by-hand", {}],
      ]),
      apis: new Map([
        ["Api", deployedApi],
        ["OldApi", { ...deployedApi, apiId: "a2", name: "app-OldApi" }],
      ]),
    });
    const lines = describePlan(plan).trimEnd().split("\n");
    assert.deepEqual(lines.slice(-2), ["- delete HTTP API app-OldApi", "- delete function app-Old"]);
    assert.doesNotMatch(describePlan(plan), /other-Old|by-hand/);
  });

  test("a resource renamed in the template, its FunctionName kept, is the same function, retagged", () => {
    const plan = computePlan(stack, code, {
      region: "us-east-1",
      accountId: "1",
      functions: new Map([
        [
          "app-Hello",
          { ...deployedFunction, tags: { "nimbus:stack": "app", "nimbus:logical-id": "Greeter" } },
        ],
      ]),
      functionTags: new Map([["app-Hello", { "nimbus:stack": "app", "nimbus:logical-id": "Greeter" }]]),
      apis: new Map([["Api", deployedApi]]),
    });
    assert.match(describePlan(plan), /^~ update function app-Hello: nimbus:logical-id Greeter → Hello$/m);
    assert.doesNotMatch(describePlan(plan), /delete function/);
  });
});

describe("ownership", () => {
  const state = (tags: Record<string, string>) => ({
    region: "us-east-1",
    accountId: "1",
    functions: new Map(),
    functionTags: new Map([["app-Hello", tags]]),
    apis: new Map(),
  });

  test("a declared function that exists without the stack's tag is a conflict that says how to resolve it", () => {
    const [byHand] = conflicts(stack, state({ team: "x" }));
    assert.match(
      byHand!,
      /^Hello: function app-Hello already exists and was not made by a stack \(it has no nimbus:stack tag\)/,
    );
    assert.match(byHand!, /tag it nimbus:stack=app and nimbus:logical-id=Hello$/);
    const [other] = conflicts(stack, state({ "nimbus:stack": "shop" }));
    assert.match(other!, /already exists and belongs to stack shop; .* another FunctionName$/);
    assert.deepEqual(conflicts(stack, state({ "nimbus:stack": "app" })), []);
  });
});
