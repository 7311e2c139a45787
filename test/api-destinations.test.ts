/**
 * End to end: connections and API destinations through `@aws-sdk/client-eventbridge` unchanged,
 * and events a rule routes to one delivered as HTTP requests to a real server on the loopback:
 * signed as Standard Webhooks (checked with the `standardwebhooks` reference library), with
 * BASIC or API key authorization, the target's and the connection's parameters; retried on a 5xx
 * with the same webhook-id, dead-lettered on a 4xx or when the retry policy runs out; held to the
 * destination's rate. The platform's clock is a fake one: retries happen when it is advanced.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  DeauthorizeConnectionCommand,
  DeleteApiDestinationCommand,
  DeleteConnectionCommand,
  DescribeApiDestinationCommand,
  DescribeConnectionCommand,
  EventBridgeClient,
  ListApiDestinationsCommand,
  ListConnectionsCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  UpdateApiDestinationCommand,
  UpdateConnectionCommand,
} from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Webhook } from "standardwebhooks";
import { FakeClock } from "../src/shared/clock.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { Receiver } from "./helpers/receiver.js";
import { eventually } from "./helpers/wait.js";

// Starts at the real time: the SDKs sign with it, and receivers check webhook timestamps against it.
const clock = new FakeClock(Date.now());
let t: TestPlatform;
let eb: EventBridgeClient;
let sqs: SQSClient;
let rx: Receiver;
let base: string;
const ACCOUNT = "000000000000";
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;
const SECRET = `whsec_${randomBytes(32).toString("base64")}`;

before(async () => {
  rx = await Receiver.start();
  base = rx.base;
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

const requests = (key: string, n: number) => rx.requests(key, n);

async function connection(name: string, auth: Record<string, unknown>, type = "API_KEY"): Promise<string> {
  const out = await eb.send(
    new CreateConnectionCommand({ Name: name, AuthorizationType: type as "API_KEY", AuthParameters: auth }),
  );
  return out.ConnectionArn!;
}

/** A destination at `path`, a rule matching `source` on the default bus, and a target to it. */
async function route(
  name: string,
  connectionArn: string,
  path: string,
  target: Record<string, unknown> = {},
  method = "POST",
  rate?: number,
): Promise<string> {
  const d = await eb.send(
    new CreateApiDestinationCommand({
      Name: name,
      ConnectionArn: connectionArn,
      InvocationEndpoint: `${base}${path}`,
      HttpMethod: method as "POST",
      ...(rate ? { InvocationRateLimitPerSecond: rate } : {}),
    }),
  );
  await eb.send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify({ source: [name] }) }));
  const out = await eb.send(
    new PutTargetsCommand({ Rule: name, Targets: [{ Id: "hook", Arn: d.ApiDestinationArn!, ...target }] }),
  );
  assert.equal(out.FailedEntryCount, 0, JSON.stringify(out.FailedEntries));
  return d.ApiDestinationArn!;
}

async function put(source: string, detail: unknown = { n: 1 }, count = 1): Promise<string[]> {
  const out = await eb.send(
    new PutEventsCommand({
      Entries: Array.from({ length: count }, (_, i) => ({
        Source: source,
        DetailType: "Order Placed",
        Detail: JSON.stringify({ ...(detail as object), i }),
      })),
    }),
  );
  assert.equal(out.FailedEntryCount, 0);
  return out.Entries!.map((e) => e.EventId!);
}

async function dlqMessage(url: string): Promise<Message> {
  const got = await eventually(
    async () =>
      (
        await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1, MessageAttributeNames: ["All"] }),
        )
      ).Messages ?? [],
    (m) => m.length > 0,
    { what: "a dead-lettered event", timeoutMs: 8000 },
  );
  return got[0]!;
}

/** Moves the platform's clock on and lets the deliverer's pass run. */
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

describe("API destinations", () => {
  test("an event reaches the endpoint signed as Standard Webhooks, which the reference library verifies", async () => {
    const conn = await connection("hooks", {
      ApiKeyAuthParameters: { ApiKeyName: "webhook-signature", ApiKeyValue: SECRET },
    });
    await route("signed", conn, "/signed/orders");
    const [id] = await put("signed", { order: "o-1" });
    const [req] = await requests("signed", 1);
    assert.equal(req!.method, "POST");
    assert.equal(req!.headers["content-type"], "application/json; charset=utf-8");
    const event = new Webhook(SECRET).verify(req!.body, req!.headers as Record<string, string>) as Record<
      string,
      unknown
    >;
    assert.equal(event.id, id);
    assert.equal(event.source, "signed");
    assert.deepEqual(event.detail, { order: "o-1", i: 0 });
    assert.match(String(req!.headers["webhook-id"]), /^[0-9a-f-]{36}$/);
    // A signature under another secret, or over another body, does not verify.
    assert.throws(() =>
      new Webhook(`whsec_${randomBytes(32).toString("base64")}`).verify(
        req!.body,
        req!.headers as Record<string, string>,
      ),
    );
    assert.throws(() => new Webhook(SECRET).verify(`${req!.body} `, req!.headers as Record<string, string>));
  });

  test("BASIC and API key connections authorize; the target's and the connection's parameters are sent", async () => {
    const basic = await connection(
      "basic",
      { BasicAuthParameters: { Username: "ada", Password: "s3cret" } },
      "BASIC",
    );
    await route("basicauth", basic, "/basicauth");
    await put("basicauth");
    const [b] = await requests("basicauth", 1);
    assert.equal(b!.headers.authorization, `Basic ${Buffer.from("ada:s3cret").toString("base64")}`);

    const keyed = await connection("keyed", {
      ApiKeyAuthParameters: { ApiKeyName: "x-api-key", ApiKeyValue: "k-123" },
      InvocationHttpParameters: {
        HeaderParameters: [{ Key: "x-tenant", Value: "acme", IsValueSecret: false }],
        QueryStringParameters: [{ Key: "v", Value: "2", IsValueSecret: true }],
        BodyParameters: [{ Key: "from", Value: "nimbus", IsValueSecret: false }],
      },
    });
    await route("keyedauth", keyed, "/keyedauth/*/items/*", {
      HttpParameters: {
        PathParameterValues: ["shop 1", "o-2"],
        HeaderParameters: { "x-trace": "t-1", "x-tenant": "overridden" },
        QueryStringParameters: { page: "3" },
      },
      InputTransformer: { InputPathsMap: { n: "$.detail.n" }, InputTemplate: '{"count": <n>}' },
    });
    await put("keyedauth", { n: 7 });
    const [k] = await requests("keyedauth", 1);
    const url = new URL(k!.url, base);
    assert.equal(url.pathname, "/keyedauth/shop%201/items/o-2");
    assert.equal(url.searchParams.get("page"), "3");
    assert.equal(url.searchParams.get("v"), "2");
    assert.equal(k!.headers["x-api-key"], "k-123");
    assert.equal(k!.headers["x-trace"], "t-1");
    assert.equal(k!.headers["x-tenant"], "acme", "the connection's header wins over the target's");
    assert.deepEqual(JSON.parse(k!.body), { count: 7, from: "nimbus" });

    const targets = await eb.send(new ListTargetsByRuleCommand({ Rule: "keyedauth" }));
    assert.deepEqual(targets.Targets![0]!.HttpParameters!.PathParameterValues, ["shop 1", "o-2"]);
  });

  test("a 5xx is tried again after 1 s with the same webhook-id and a fresh signature; then it is delivered once", async () => {
    const conn = await connection("retrying", {
      ApiKeyAuthParameters: { ApiKeyName: "webhook-signature", ApiKeyValue: SECRET },
    });
    await route("flaky", conn, "/flaky");
    rx.answers.set("flaky", [{ status: 503 }, { status: 500 }]);
    await put("flaky");
    await requests("flaky", 1);
    await t.platform.events.deliveries.idle();
    await advance(999);
    assert.equal(rx.at("flaky").length, 1, "not before its second");
    await advance(1);
    await requests("flaky", 2);
    await t.platform.events.deliveries.idle();
    await advance(2000);
    const [first, second, third] = await requests("flaky", 3);
    assert.equal(second!.headers["webhook-id"], first!.headers["webhook-id"]);
    assert.equal(third!.headers["webhook-id"], first!.headers["webhook-id"]);
    assert.notEqual(third!.headers["webhook-timestamp"], first!.headers["webhook-timestamp"]);
    new Webhook(SECRET).verify(third!.body, third!.headers as Record<string, string>);
    await advance(60_000);
    assert.equal(rx.at("flaky").length, 3, "a delivered event is not sent again");
    const { accessKeyId, secretAccessKey } = t.platform.credentials;
    const metrics = await (
      await fetch(`${t.url}/metrics`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${accessKeyId}:${secretAccessKey}`).toString("base64")}`,
        },
      })
    ).text();
    const count = (outcome: string) =>
      Number(
        new RegExp(
          `^nimbus_api_destination_requests_total\\{destination="flaky",outcome="${outcome}"\\} (\\d+)$`,
          "m",
        ).exec(metrics)?.[1],
      );
    assert.deepEqual([count("retried"), count("delivered")], [2, 1], metrics.slice(0, 300));
    assert.match(
      metrics,
      /^nimbus_api_destination_request_duration_seconds_count\{destination="flaky"\} 1$/m,
    );
  });

  test("a 4xx goes to the dead-letter queue at once; a 5xx once the retry policy runs out", async () => {
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: "hooks-dlq" }))).QueueUrl!;
    const conn = await connection("dead", { BasicAuthParameters: { Username: "u", Password: "p" } }, "BASIC");
    await route("refusing", conn, "/refusing", { DeadLetterConfig: { Arn: queueArn("hooks-dlq") } });
    rx.answers.set("refusing", [{ status: 400 }]);
    const [id] = await put("refusing");
    const m = await dlqMessage(dlq);
    assert.equal(JSON.parse(m.Body!).id, id);
    const attrs = m.MessageAttributes!;
    assert.equal(attrs.ERROR_CODE!.StringValue, "ERROR_FROM_TARGET");
    assert.match(attrs.ERROR_MESSAGE!.StringValue!, /answered 400: refused by the test/);
    assert.equal(attrs.RULE_ARN!.StringValue, `arn:aws:events:us-east-1:${ACCOUNT}:rule/refusing`);
    assert.equal(rx.at("refusing").length, 1);

    await route("failing", conn, "/failing", {
      DeadLetterConfig: { Arn: queueArn("hooks-dlq") },
      RetryPolicy: { MaximumRetryAttempts: 1 },
    });
    rx.answers.set("failing", [{ status: 502 }, { status: 502 }, { status: 502 }]);
    await put("failing");
    await requests("failing", 1);
    await t.platform.events.deliveries.idle();
    await advance(1000);
    await requests("failing", 2);
    const gone = await dlqMessage(dlq);
    assert.equal(gone.MessageAttributes!.EXHAUSTED_RETRY_CONDITION!.StringValue, "MaximumRetryAttempts");
    assert.equal(gone.MessageAttributes!.RETRY_ATTEMPTS!.StringValue, "1");
    await advance(10_000);
    assert.equal(rx.at("failing").length, 2);
  });

  test("a 429's Retry-After is honoured; the destination's rate holds requests to the next second", async () => {
    const conn = await connection("paced", {
      ApiKeyAuthParameters: { ApiKeyName: "x-key", ApiKeyValue: "v" },
    });
    await route("throttled", conn, "/throttled");
    rx.answers.set("throttled", [{ status: 429, headers: { "retry-after": "10" } }]);
    await put("throttled");
    await requests("throttled", 1);
    await t.platform.events.deliveries.idle();
    await advance(5000);
    assert.equal(rx.at("throttled").length, 1, "Retry-After: 10 is later than the 1 s backoff");
    await advance(5000);
    await requests("throttled", 2);

    // Aligned to a second, so that the window the rate counts in is the one the test thinks.
    await advance(1000 - (clock.now() % 1000));
    await route("paced", conn, "/paced", {}, "PUT", 2);
    await put("paced", {}, 5);
    await requests("paced", 2);
    await t.platform.events.deliveries.idle();
    assert.equal(rx.at("paced").length, 2, "two in the first second");
    await advance(1000);
    await requests("paced", 4);
    await t.platform.events.deliveries.idle();
    assert.equal(rx.at("paced").length, 4);
    await advance(1000);
    const all = await requests("paced", 5);
    assert.deepEqual(all.map((r) => JSON.parse(r.body).detail.i).sort(), [0, 1, 2, 3, 4]);
    assert.ok(all.every((r) => r.method === "PUT"));
  });

  test("connections and destinations: describe shows no secret, list, update, deauthorize, delete", async () => {
    const arn = await connection("managed", {
      ApiKeyAuthParameters: { ApiKeyName: "webhook-signature", ApiKeyValue: SECRET },
      InvocationHttpParameters: {
        HeaderParameters: [{ Key: "x-secret", Value: "hidden", IsValueSecret: true }],
      },
    });
    assert.match(arn, new RegExp(`^arn:aws:events:us-east-1:${ACCOUNT}:connection/managed/[0-9a-f-]{36}$`));
    const c = await eb.send(new DescribeConnectionCommand({ Name: "managed" }));
    assert.equal(c.ConnectionState, "AUTHORIZED");
    assert.equal(c.AuthorizationType, "API_KEY");
    assert.deepEqual(c.AuthParameters!.ApiKeyAuthParameters, { ApiKeyName: "webhook-signature" });
    assert.deepEqual(c.AuthParameters!.InvocationHttpParameters!.HeaderParameters, [
      { Key: "x-secret", IsValueSecret: true },
    ]);
    assert.ok(!JSON.stringify(c).includes(SECRET.slice(6, 20)), "no secret in the answer");
    const listed = await eb.send(new ListConnectionsCommand({ NamePrefix: "manag" }));
    assert.deepEqual(
      listed.Connections!.map((x) => x.Name),
      ["managed"],
    );

    const dest = await route("managedhook", arn, "/managed");
    const d = await eb.send(new DescribeApiDestinationCommand({ Name: "managedhook" }));
    assert.equal(d.ApiDestinationArn, dest);
    assert.equal(d.ConnectionArn, arn);
    assert.equal(d.InvocationRateLimitPerSecond, 300);
    assert.equal(d.ApiDestinationState, "ACTIVE");
    await eb.send(
      new UpdateApiDestinationCommand({ Name: "managedhook", InvocationEndpoint: `${base}/managed2` }),
    );
    const byConnection = await eb.send(new ListApiDestinationsCommand({ ConnectionArn: arn }));
    assert.deepEqual(
      byConnection.ApiDestinations!.map((x) => [x.Name, x.InvocationEndpoint]),
      [["managedhook", `${base}/managed2`]],
    );

    // Deauthorized: deliveries go to the dead-letter queue (or are logged); new credentials authorize again.
    await eb.send(new DeauthorizeConnectionCommand({ Name: "managed" }));
    assert.equal(
      (await eb.send(new DescribeConnectionCommand({ Name: "managed" }))).ConnectionState,
      "DEAUTHORIZED",
    );
    await put("managedhook");
    await t.platform.events.deliveries.idle();
    assert.deepEqual(rx.at("managed2"), [], "a deauthorized connection sends nothing");
    const again = await eb.send(
      new UpdateConnectionCommand({
        Name: "managed",
        AuthParameters: {
          ApiKeyAuthParameters: { ApiKeyValue: `whsec_${randomBytes(24).toString("base64")}` },
        },
      }),
    );
    assert.equal(again.ConnectionState, "AUTHORIZED");
    await put("managedhook");
    await requests("managed2", 1);

    await assert.rejects(eb.send(new DeleteConnectionCommand({ Name: "managed" })), (e: Error) => {
      assert.equal(e.name, "ValidationException");
      assert.match(e.message, /used by API destinations \(managedhook\)/);
      return true;
    });
    await eb.send(new DeleteApiDestinationCommand({ Name: "managedhook" }));
    await eb.send(new DeleteConnectionCommand({ Name: "managed" }));
    await assert.rejects(eb.send(new DescribeConnectionCommand({ Name: "managed" })), {
      name: "ResourceNotFoundException",
    });
  });

  test("bad input is refused saying what is expected", async () => {
    const refused = async (p: Promise<unknown>, name: string, message: RegExp) =>
      assert.rejects(p, (e: Error) => {
        assert.equal(e.name, name);
        assert.match(e.message, message);
        return true;
      });
    await refused(
      connection("weak", {
        ApiKeyAuthParameters: { ApiKeyName: "webhook-signature", ApiKeyValue: "whsec_c2hvcnQ=" },
      }),
      "ValidationException",
      /Standard Webhooks.*whsec_.*24 to 64 random bytes/,
    );
    await refused(connection("nokey", {}), "ValidationException", /ApiKeyAuthParameters .* are required/);
    await refused(
      connection("oauth", { OAuthParameters: {} }, "OAUTH_CLIENT_CREDENTIALS"),
      "ValidationException",
      /OAuthParameters.AuthorizationEndpoint is required/,
    );
    const arn = await connection("fine", { ApiKeyAuthParameters: { ApiKeyName: "x-k", ApiKeyValue: "v" } });
    await refused(
      connection("fine", { ApiKeyAuthParameters: { ApiKeyName: "x-k", ApiKeyValue: "v" } }),
      "ResourceAlreadyExistsException",
      /fine/,
    );
    const dest = (e: Record<string, unknown>) =>
      eb.send(
        new CreateApiDestinationCommand({
          Name: "d1",
          ConnectionArn: arn,
          InvocationEndpoint: `${base}/x`,
          HttpMethod: "POST",
          ...e,
        }),
      );
    await refused(
      dest({ InvocationEndpoint: "ftp://example.com/x" }),
      "ValidationException",
      /http or https URL/,
    );
    await refused(dest({ InvocationEndpoint: "not a url" }), "ValidationException", /is not a URL/);
    await refused(
      dest({ HttpMethod: "TRACE" }),
      "ValidationException",
      /HttpMethod must be one of POST, GET/,
    );
    await refused(
      dest({ InvocationRateLimitPerSecond: 0 }),
      "ValidationException",
      /InvocationRateLimitPerSecond/,
    );
    await refused(
      dest({ ConnectionArn: `arn:aws:events:us-east-1:${ACCOUNT}:connection/ghost/0000` }),
      "ResourceNotFoundException",
      /Connection ghost/,
    );
    const starred = await dest({ Name: "starred", InvocationEndpoint: `${base}/x/*/y/*` });
    await eb.send(
      new PutRuleCommand({ Name: "badtargets", EventPattern: JSON.stringify({ source: ["x"] }) }),
    );
    const out = await eb.send(
      new PutTargetsCommand({
        Rule: "badtargets",
        Targets: [
          { Id: "ghost", Arn: `arn:aws:events:us-east-1:${ACCOUNT}:api-destination/ghost/0000` },
          { Id: "http-on-queue", Arn: queueArn("hooks-dlq"), HttpParameters: { PathParameterValues: ["a"] } },
          { Id: "stars", Arn: starred.ApiDestinationArn!, HttpParameters: { PathParameterValues: ["a"] } },
        ],
      }),
    );
    assert.deepEqual(
      out.FailedEntries!.map((f) => [f.TargetId, f.ErrorMessage]),
      [
        ["ghost", `the target arn:aws:events:us-east-1:${ACCOUNT}:api-destination/ghost/0000 does not exist`],
        ["http-on-queue", "HttpParameters apply to API destination targets only"],
        [
          "stars",
          `the API destination's endpoint ${base}/x/*/y/* has 2 path parameters (*): HttpParameters.PathParameterValues must give 2, not 1`,
        ],
      ],
    );
  });
});
