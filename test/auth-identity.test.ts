/**
 * The verified caller in functions: an HTTP API whose JWT authorizer names the platform's own
 * issuer, and an open function URL given a user's token, both hand the function the token's
 * claims (`requestContext.authorizer.jwt`), which `nimbus.caller(event)` reads. Blocking hooks
 * run as functions before a user is created and before a token is signed, and the service's
 * events reach the bus.
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
} from "@aws-sdk/client-apigatewayv2";
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateFunctionUrlConfigCommand } from "@aws-sdk/client-lambda";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { AuthApiError } from "@supabase/auth-js";
import { decodeJwt } from "jose";
import { apiGatewayClient } from "./helpers/apigateway.js";
import { authClient, authKeys } from "./helpers/auth.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";

const PASSWORD = "correct horse battery staple";

/** A function that answers with who called it, as the runtime's helper reads the event. */
const WHOAMI = `export const handler = async (event) => {
  const who = nimbus.caller(event);
  return { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(who ?? null) };
};`;

async function signedIn(t: TestPlatform, email: string) {
  const { serviceKey } = await authKeys(t);
  const admin = authClient(t, { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` }).admin;
  const made = await admin.createUser({
    email,
    password: PASSWORD,
    email_confirm: true,
    app_metadata: { roles: ["editor"] },
  });
  assert.equal(made.error, null);
  const auth = authClient(t);
  const { data, error } = await auth.signInWithPassword({ email, password: PASSWORD });
  assert.equal(error, null);
  return { token: data.session?.access_token ?? "", id: data.user?.id ?? "" };
}

describe("identity in functions", () => {
  let t: TestPlatform;
  let gw: ApiGatewayV2Client;
  before(async () => {
    t = await startPlatform({ poolSize: 0 });
    gw = apiGatewayClient(t);
    await createNodeFunction(t.lambda, "whoami", WHOAMI);
  });
  after(async () => {
    gw.destroy();
    await t.close();
  });

  test("an HTTP API's JWT authorizer with the platform's issuer admits its users; the function reads the caller", async () => {
    const { token, id } = await signedIn(t, "api-user@example.com");
    const api = await gw.send(new CreateApiCommand({ Name: "web", ProtocolType: "HTTP" }));
    const integration = await gw.send(
      new CreateIntegrationCommand({
        ApiId: api.ApiId,
        IntegrationType: "AWS_PROXY",
        IntegrationUri: `arn:aws:lambda:us-east-1:${t.platform.config.accountId}:function:whoami`,
        PayloadFormatVersion: "2.0",
      }),
    );
    const authorizer = await gw.send(
      new CreateAuthorizerCommand({
        ApiId: api.ApiId,
        Name: "users",
        AuthorizerType: "JWT",
        IdentitySource: ["$request.header.Authorization"],
        JwtConfiguration: { Issuer: `${t.url}/auth/v1`, Audience: ["authenticated"] },
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
    const url = `${t.url}/execute-api/${api.ApiId}/me`;

    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    const who = (await ok.json()) as {
      userId: string;
      email: string;
      role: string;
      appMetadata: { roles: string[] };
    };
    assert.equal(who.userId, id);
    assert.equal(who.email, "api-user@example.com");
    assert.equal(who.role, "authenticated");
    assert.deepEqual(who.appMetadata.roles, ["editor"]);

    assert.equal((await fetch(url)).status, 401);
    const tampered = `${token.slice(0, -6)}AAAAAA`;
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${tampered}` } })).status, 401);
  });

  test("an open function URL hands a user's verified claims to its function; without a valid token, none", async () => {
    const { token, id } = await signedIn(t, "url-user@example.com");
    const created = await t.lambda.send(
      new CreateFunctionUrlConfigCommand({ FunctionName: "whoami", AuthType: "NONE" }),
    );
    const urlId = new URL(created.FunctionUrl ?? "").hostname.split(".")[0];
    const url = `${t.url}/lambda-url/${urlId}/`;
    const withToken = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(((await withToken.json()) as { userId: string }).userId, id);
    const anonymous = await fetch(url);
    assert.equal(await anonymous.text(), "null");
    const forged = await fetch(url, { headers: { authorization: `Bearer ${token.slice(0, -6)}AAAAAA` } });
    assert.equal(await forged.text(), "null", "a token that does not verify gives no claims");
  });
});

describe("blocking hooks and events", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startPlatform({
      poolSize: 0,
      authConfirmEmail: false,
      authHookBeforeUserCreated: "gatekeeper",
      authHookCustomAccessToken: "claims",
      // A hook's first call includes its cold start, which a busy CI host can stretch
      // past the 2 s default; these tests are about answers, not the deadline (hooks.test.ts).
      authHookTimeoutMs: 30_000,
    });
    // Refuses sign-ups from one domain, as Supabase's before-user-created hook answers.
    await createNodeFunction(
      t.lambda,
      "gatekeeper",
      `export const handler = async ({ user }) =>
        user.email.endsWith("@blocked.example") ? { error: { http_code: 403, message: "sign-ups from this domain are closed" } } : {};`,
    );
    // Adds a claim, and tries to change one it may not.
    await createNodeFunction(
      t.lambda,
      "claims",
      `export const handler = async ({ claims }) => ({ claims: { ...claims, plan: "pro", sub: "someone-else" } });`,
    );
  });
  after(async () => {
    await t.close();
  });

  test("a hook refuses a sign-up; another adds a claim but cannot change the subject", async () => {
    const auth = authClient(t);
    const refused = await auth.signUp({ email: "eve@blocked.example", password: PASSWORD });
    assert.equal((refused.error as AuthApiError).status, 403);
    assert.equal(refused.error?.message, "sign-ups from this domain are closed");

    const ok = await auth.signUp({ email: "bob@open.example", password: PASSWORD });
    assert.equal(ok.error, null);
    const claims = decodeJwt(ok.data.session?.access_token ?? "");
    assert.equal(claims.plan, "pro");
    assert.equal(claims.sub, ok.data.user?.id);
  });

  test("a hook that fails refuses the request (fail closed) and says which function", async () => {
    const broken = await startPlatform({
      poolSize: 0,
      authConfirmEmail: false,
      authHookBeforeUserCreated: "broken",
      authHookTimeoutMs: 30_000,
    });
    try {
      await createNodeFunction(
        broken.lambda,
        "broken",
        `export const handler = async () => { throw new Error("down"); };`,
      );
      const res = await fetch(`${broken.url}/auth/v1/signup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "x@example.com", password: PASSWORD }),
      });
      assert.equal(res.status, 500);
      const body = (await res.json()) as { code: string; msg: string };
      assert.equal(body.code, "hook_timeout");
      assert.match(body.msg, /before-user-created hook \(function broken\) failed: .*down/);
    } finally {
      await broken.close();
    }
  });

  test("sign-ups and sign-ins are published on the bus as nimbus.auth events", async () => {
    const sqs = new SQSClient({
      endpoint: t.url,
      region: "us-east-1",
      credentials: t.platform.credentials,
      maxAttempts: 1,
    });
    const eb = new EventBridgeClient({
      endpoint: t.url,
      region: "us-east-1",
      credentials: t.platform.credentials,
      maxAttempts: 1,
    });
    try {
      const q = await sqs.send(new CreateQueueCommand({ QueueName: "auth-events" }));
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ["QueueArn"] }),
      );
      await eb.send(
        new PutRuleCommand({ Name: "auth", EventPattern: JSON.stringify({ source: ["nimbus.auth"] }) }),
      );
      await eb.send(
        new PutTargetsCommand({ Rule: "auth", Targets: [{ Id: "q", Arn: attrs.Attributes?.QueueArn }] }),
      );

      const auth = authClient(t);
      const up = await auth.signUp({ email: "events@open.example", password: PASSWORD });
      assert.equal(up.error, null);
      // A long poll answers as soon as one event is there: the second may come on the next.
      const events: { source: string; "detail-type": string; detail: { user_id: string } }[] = [];
      for (let polls = 0; polls < 5 && events.length < 2; polls++) {
        const got = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
        );
        for (const m of got.Messages ?? [])
          events.push(JSON.parse(m.Body ?? "{}") as (typeof events)[number]);
      }
      assert.deepEqual(events.map((e) => e["detail-type"]).sort(), ["User Created", "User Signed In"]);
      for (const e of events) {
        assert.equal(e.source, "nimbus.auth");
        assert.equal(e.detail.user_id, up.data.user?.id);
      }
    } finally {
      sqs.destroy();
      eb.destroy();
    }
  });
});
