/**
 * End to end: an OAUTH_CLIENT_CREDENTIALS connection through `@aws-sdk/client-eventbridge`. The
 * platform asks a token endpoint on the loopback for an access token (client id and secret as
 * HTTP Basic, grant_type=client_credentials and the connection's OAuth parameters), sends it as
 * a Bearer token, keeps it until a minute before it expires, asks again after a 401, and
 * deauthorizes the connection when the token endpoint refuses the client.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  DescribeConnectionCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { FakeClock } from "../src/shared/clock.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { Receiver } from "./helpers/receiver.js";
import { eventually } from "./helpers/wait.js";

const clock = new FakeClock(Date.now());
let t: TestPlatform;
let eb: EventBridgeClient;
let sqs: SQSClient;
let rx: Receiver;

before(async () => {
  rx = await Receiver.start();
  t = await startPlatform({}, clock);
  const o = { endpoint: t.url, region: "us-east-1", credentials: t.platform.credentials, maxAttempts: 1 };
  eb = new EventBridgeClient(o);
  sqs = new SQSClient(o);
});
after(async () => {
  eb.destroy();
  sqs.destroy();
  await t.close();
  rx.close();
});

const token = (value: string, expiresIn = 300) => ({
  status: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ access_token: value, token_type: "Bearer", expires_in: expiresIn }),
});

/**
 * Moves the platform's clock on once the deliveries under way have ended (a request seen by the
 * receiver may not be recorded yet: moving time first would let its lease lapse), then lets the
 * passes that fall due run.
 */
async function advance(ms: number): Promise<void> {
  await t.platform.events.deliveries.idle();
  clock.advance(ms);
  await clock.settle();
  await t.platform.events.deliveries.idle();
}

/** An OAuth connection whose token endpoint is `/<tokens>`, a destination at `/<hook>`, a rule for `source`. */
async function oauthRoute(name: string, tokens: string, hook: string, target: Record<string, unknown> = {}) {
  const conn = await eb.send(
    new CreateConnectionCommand({
      Name: name,
      AuthorizationType: "OAUTH_CLIENT_CREDENTIALS",
      AuthParameters: {
        OAuthParameters: {
          ClientParameters: { ClientID: "client-1", ClientSecret: "s3cret" },
          AuthorizationEndpoint: `${rx.base}/${tokens}`,
          HttpMethod: "POST",
          OAuthHttpParameters: {
            BodyParameters: [{ Key: "audience", Value: "orders-api", IsValueSecret: false }],
            HeaderParameters: [{ Key: "x-realm", Value: "shop", IsValueSecret: true }],
          },
        },
      },
    }),
  );
  const d = await eb.send(
    new CreateApiDestinationCommand({
      Name: name,
      ConnectionArn: conn.ConnectionArn,
      InvocationEndpoint: `${rx.base}/${hook}`,
      HttpMethod: "POST",
    }),
  );
  await eb.send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify({ source: [name] }) }));
  await eb.send(
    new PutTargetsCommand({ Rule: name, Targets: [{ Id: "h", Arn: d.ApiDestinationArn!, ...target }] }),
  );
}

const put = (source: string) =>
  eb.send(new PutEventsCommand({ Entries: [{ Source: source, DetailType: "T", Detail: "{}" }] }));

describe("OAuth connections", () => {
  test("the token is asked for with the client's credentials, sent as Bearer, and kept until a minute before it expires", async () => {
    rx.answers.set("tokens", [token("tok-1", 120), token("tok-2", 120)]);
    await oauthRoute("oauth", "tokens", "orders");
    await put("oauth");
    const [ask] = await rx.requests("tokens", 1);
    assert.equal(ask!.method, "POST");
    assert.equal(ask!.headers.authorization, `Basic ${Buffer.from("client-1:s3cret").toString("base64")}`);
    assert.equal(ask!.headers["x-realm"], "shop");
    assert.equal(ask!.headers["content-type"], "application/x-www-form-urlencoded");
    assert.deepEqual(Object.fromEntries(new URLSearchParams(ask!.body)), {
      grant_type: "client_credentials",
      audience: "orders-api",
    });
    const [first] = await rx.requests("orders", 1);
    assert.equal(first!.headers.authorization, "Bearer tok-1");

    await advance(59_000);
    await put("oauth");
    const [, second] = await rx.requests("orders", 2);
    assert.equal(second!.headers.authorization, "Bearer tok-1", "kept while more than a minute is left");
    assert.equal(rx.at("tokens").length, 1);

    await advance(1_000);
    await put("oauth");
    const [, , third] = await rx.requests("orders", 3);
    assert.equal(third!.headers.authorization, "Bearer tok-2", "asked again a minute before it expires");
    assert.equal(rx.at("tokens").length, 2);

    const described = await eb.send(new DescribeConnectionCommand({ Name: "oauth" }));
    assert.deepEqual(described.AuthParameters!.OAuthParameters!.ClientParameters, { ClientID: "client-1" });
    assert.deepEqual(described.AuthParameters!.OAuthParameters!.OAuthHttpParameters!.HeaderParameters, [
      { Key: "x-realm", IsValueSecret: true },
    ]);
  });

  test("a 401 from the endpoint makes the retry ask for a new token", async () => {
    rx.answers.set("tokens401", [token("old"), token("new")]);
    rx.answers.set("guarded", [{ status: 401 }]);
    await oauthRoute("oauth401", "tokens401", "guarded");
    await put("oauth401");
    const [refused] = await rx.requests("guarded", 1);
    assert.equal(refused!.headers.authorization, "Bearer old");
    await t.platform.events.deliveries.idle();
    await advance(1000);
    const [, retried] = await rx.requests("guarded", 2);
    assert.equal(retried!.headers.authorization, "Bearer new");
  });

  test("a token endpoint that refuses the client deauthorizes the connection, and the event goes to the dead-letter queue", async () => {
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: "oauth-dlq" }))).QueueUrl!;
    // The platform says so on the default bus: a rule sends it to a queue.
    const alerts = (await sqs.send(new CreateQueueCommand({ QueueName: "oauth-alerts" }))).QueueUrl!;
    await eb.send(
      new PutRuleCommand({
        Name: "deauthorized",
        EventPattern: JSON.stringify({
          source: ["nimbus.events"],
          "detail-type": ["Connection Deauthorized"],
        }),
      }),
    );
    await eb.send(
      new PutTargetsCommand({
        Rule: "deauthorized",
        Targets: [{ Id: "q", Arn: "arn:aws:sqs:us-east-1:000000000000:oauth-alerts" }],
      }),
    );
    rx.answers.set("badtokens", [{ status: 401, body: '{"error":"invalid_client"}' }]);
    await oauthRoute("oauthbad", "badtokens", "never", {
      DeadLetterConfig: { Arn: "arn:aws:sqs:us-east-1:000000000000:oauth-dlq" },
    });
    await put("oauthbad");
    const [m] = await eventually(
      async () =>
        (
          await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 1, MessageAttributeNames: ["All"] }),
          )
        ).Messages ?? [],
      (l) => l.length > 0,
      { what: "the dead-lettered event", timeoutMs: 8000 },
    );
    assert.equal(m!.MessageAttributes!.ERROR_CODE!.StringValue, "NO_PERMISSIONS");
    assert.match(
      m!.MessageAttributes!.ERROR_MESSAGE!.StringValue!,
      /answered 401: \{"error":"invalid_client"\}/,
    );
    const c = await eb.send(new DescribeConnectionCommand({ Name: "oauthbad" }));
    assert.equal(c.ConnectionState, "DEAUTHORIZED");
    assert.match(c.StateReason!, /invalid_client/);
    assert.deepEqual(rx.at("never"), []);
    const alert = await eventually(
      async () =>
        (await sqs.send(new ReceiveMessageCommand({ QueueUrl: alerts, WaitTimeSeconds: 1 }))).Messages ?? [],
      (l) => l.length > 0,
      { what: "the Connection Deauthorized event", timeoutMs: 8000 },
    );
    const event = JSON.parse(alert[0]!.Body!) as {
      detail: { connectionName: string; stateReason: string };
      resources: string[];
    };
    assert.equal(event.detail.connectionName, "oauthbad");
    assert.match(event.detail.stateReason, /invalid_client/);
    assert.match(event.resources[0]!, /^arn:aws:events:us-east-1:000000000000:connection\/oauthbad\//);
  });

  test("OAuth parameters, and headers no request could carry, are refused when written", async () => {
    const make = (o: Record<string, unknown>) =>
      eb.send(
        new CreateConnectionCommand({
          Name: "oauthbadinput",
          AuthorizationType: "OAUTH_CLIENT_CREDENTIALS",
          AuthParameters: { OAuthParameters: o as never },
        }),
      );
    const client = { ClientParameters: { ClientID: "c", ClientSecret: "s" } };
    await assert.rejects(
      make({ ...client, AuthorizationEndpoint: "ftp://x/token", HttpMethod: "POST" }),
      /http or https URL/,
    );
    await assert.rejects(
      make({ ...client, AuthorizationEndpoint: `${rx.base}/t`, HttpMethod: "DELETE" }),
      /GET, POST, PUT/,
    );
    await assert.rejects(
      make({ AuthorizationEndpoint: `${rx.base}/t`, HttpMethod: "POST" }),
      /ClientID is required/,
    );
    const privately = {
      Name: "private",
      AuthorizationType: "API_KEY",
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: "k", ApiKeyValue: "v" } },
      InvocationConnectivityParameters: {
        ResourceParameters: {
          ResourceConfigurationArn: "arn:aws:vpc-lattice:us-east-1:000000000000:resourceconfiguration/rcfg-1",
        },
      },
    };
    await assert.rejects(
      eb.send(new CreateConnectionCommand(privately as never)),
      /a private endpoint\) is not served/,
    );
    // What no request could carry is refused when written, not retried for a day.
    const apiKey = (name: string, value: string, headers: Array<{ Key: string; Value: string }> = []) =>
      eb.send(
        new CreateConnectionCommand({
          Name: "carried",
          AuthorizationType: "API_KEY",
          AuthParameters: {
            ApiKeyAuthParameters: { ApiKeyName: name, ApiKeyValue: value },
            InvocationHttpParameters: {
              HeaderParameters: headers.map((h) => ({ ...h, IsValueSecret: false })),
            },
          },
        }),
      );
    await assert.rejects(apiKey("x key", "v"), /ApiKeyName "x key" is not a header name/);
    await assert.rejects(apiKey("x-key", "v\r\nx-evil: 1"), /ApiKeyValue must not hold a line break or NUL/);
    await assert.rejects(
      apiKey("x-key", "v", [{ Key: "x-h", Value: "a\nb" }]),
      /HeaderParameters\[0\]\.Value must not hold a line break/,
    );
    await assert.rejects(
      eb.send(
        new CreateConnectionCommand({
          Name: "colon",
          AuthorizationType: "BASIC",
          AuthParameters: { BasicAuthParameters: { Username: "a:b", Password: "p" } },
        }),
      ),
      /Username must not hold ':'/,
    );
    const conn = await apiKey("x-key", "v");
    const dest = await eb.send(
      new CreateApiDestinationCommand({
        Name: "carried",
        ConnectionArn: conn.ConnectionArn,
        InvocationEndpoint: `${rx.base}/c`,
        HttpMethod: "POST",
      }),
    );
    await eb.send(
      new PutRuleCommand({ Name: "carried", EventPattern: JSON.stringify({ source: ["carried"] }) }),
    );
    const out = await eb.send(
      new PutTargetsCommand({
        Rule: "carried",
        Targets: [
          {
            Id: "name",
            Arn: dest.ApiDestinationArn!,
            HttpParameters: { HeaderParameters: { "bad name": "x" } },
          },
          {
            Id: "value",
            Arn: dest.ApiDestinationArn!,
            HttpParameters: { HeaderParameters: { "x-ok": "a\r\nb" } },
          },
          {
            Id: "latin",
            Arn: dest.ApiDestinationArn!,
            HttpParameters: { HeaderParameters: { "x-price": "5 €" } },
          },
        ],
      }),
    );
    assert.deepEqual(
      out.FailedEntries!.map((f) => [f.TargetId, f.ErrorMessage]),
      [
        [
          "name",
          `HttpParameters.HeaderParameters: "bad name" is not a header name (letters, digits and !#$%&'*+-.^_|~)`,
        ],
        [
          "value",
          "HttpParameters.HeaderParameters: the value of x-ok must not hold a line break or NUL: a header could not carry it",
        ],
        [
          "latin",
          'HttpParameters.HeaderParameters: the value of x-price must be Latin-1 text: a header could not carry "€"',
        ],
      ],
    );
  });
});
