/**
 * End to end through the `nimbus` command: `nimbus events webhook add` makes a connection, an API
 * destination, a rule and its target in one step and prints the secret it made; an event put with
 * `nimbus events put` reaches a receiver on the loopback signed with that secret (checked with the
 * Standard Webhooks reference library); `ls` lists it; `rm` removes every part; an `add` that
 * fails part-way leaves nothing behind.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  DescribeConnectionCommand,
  EventBridgeClient,
  ListApiDestinationsCommand,
  ListConnectionsCommand,
  ListRulesCommand,
} from "@aws-sdk/client-eventbridge";
import { Webhook } from "standardwebhooks";
import { nimbus } from "./helpers/cli.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { Receiver } from "./helpers/receiver.js";

let t: TestPlatform;
let rx: Receiver;
let eb: EventBridgeClient;
let cli: (...args: string[]) => ReturnType<typeof nimbus>;

before(async () => {
  rx = await Receiver.start();
  t = await startPlatform();
  cli = (...args) => nimbus(t.dataDir, ...args);
  eb = new EventBridgeClient({ endpoint: t.url, region: "us-east-1", credentials: t.platform.credentials });
});
after(async () => {
  eb.destroy();
  await t.close();
  rx.close();
});

test("add makes a signed webhook in one step; put reaches it; ls lists it; rm removes every part", async () => {
  const added = await cli(
    "events",
    "webhook",
    "add",
    "orders",
    "--url",
    `${rx.base}/orders`,
    "--pattern",
    '{"source":["app.orders"]}',
  );
  assert.equal(added.code, 0, added.stderr);
  assert.match(
    added.stdout,
    new RegExp(`^webhook orders: POST ${rx.base}/orders for the events matching its rule on default\\n`),
  );
  const secret = /^secret: (whsec_\S+)$/m.exec(added.stdout)?.[1];
  assert.ok(secret, added.stdout);
  assert.match(added.stderr, /the secret is shown once/);

  const put = await cli(
    "events",
    "put",
    "--source",
    "app.orders",
    "--detail-type",
    "OrderPlaced",
    "--detail",
    '{"id":42}',
  );
  assert.equal(put.code, 0, put.stderr);
  const [req] = await rx.requests("orders", 1);
  const event = new Webhook(secret).verify(req!.body, req!.headers as Record<string, string>) as {
    id: string;
    detail: unknown;
  };
  assert.equal(event.id, put.stdout.trim());
  assert.deepEqual(event.detail, { id: 42 });

  const listed = await cli("events", "webhook", "ls");
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^NAME\s+METHOD\s+ENDPOINT\s+RATE$/m);
  assert.match(listed.stdout, new RegExp(`^orders\\s+POST\\s+${rx.base}/orders\\s+300$`, "m"));

  const removed = await cli("events", "webhook", "rm", "orders");
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, "removed target, rule, API destination, connection\n");
  assert.deepEqual((await eb.send(new ListApiDestinationsCommand({}))).ApiDestinations, []);
  assert.deepEqual((await eb.send(new ListConnectionsCommand({}))).Connections, []);
  const again = await cli("events", "webhook", "rm", "orders");
  assert.equal(again.code, 1);
  assert.equal(again.stderr, "error: there is no webhook named orders\n");
});

test("an add that fails part-way leaves nothing; a taken rule name is refused before anything is made", async () => {
  const bad = await cli(
    "events",
    "webhook",
    "add",
    "broken",
    "--url",
    `${rx.base}/x`,
    "--pattern",
    '{"source":"not a list"}',
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /InvalidEventPatternException/);
  assert.deepEqual((await eb.send(new ListConnectionsCommand({}))).Connections, []);
  assert.deepEqual((await eb.send(new ListApiDestinationsCommand({}))).ApiDestinations, []);
  assert.deepEqual(
    (await eb.send(new ListRulesCommand({}))).Rules?.filter((r) => r.Name === "broken"),
    [],
  );

  const given = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
  const first = await cli(
    "events",
    "webhook",
    "add",
    "taken",
    "--url",
    `${rx.base}/y`,
    "--pattern",
    '{"source":["a"]}',
    "--secret",
    given,
  );
  assert.equal(first.code, 0, first.stderr);
  assert.doesNotMatch(first.stdout, /secret:/, "a given secret is not printed");
  const conn = await eb.send(new DescribeConnectionCommand({ Name: "taken" }));
  assert.equal(conn.AuthParameters?.ApiKeyAuthParameters?.ApiKeyName, "webhook-signature");
  const second = await cli(
    "events",
    "webhook",
    "add",
    "taken",
    "--url",
    `${rx.base}/z`,
    "--pattern",
    '{"source":["b"]}',
  );
  assert.equal(second.code, 1);
  assert.equal(
    second.stderr,
    "error: a rule named taken exists on the bus default: choose another name, or remove it first\n",
  );
  const weak = await cli(
    "events",
    "webhook",
    "add",
    "weak",
    "--url",
    `${rx.base}/w`,
    "--pattern",
    '{"source":["c"]}',
    "--secret",
    "whsec_short",
  );
  assert.equal(weak.code, 1);
  assert.match(weak.stderr, /whsec_" followed by 24 to 64 random bytes/);
});
