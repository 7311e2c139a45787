/**
 * The deliverer's failure paths, on an in-memory store and a fake clock, against servers on the
 * loopback: an endpoint that does not answer in time (TIMEOUT, retried), one that refuses the
 * connection (CONNECTION_FAILURE, retried), a redirect (not followed: dead-lettered), a
 * destination deleted meanwhile (NO_RESOURCE), an event past MaximumEventAgeInSeconds, a large
 * answer read no further than its start, a stop() during a request (the lease brings it back),
 * and a hanging endpoint that holds up no other destination.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { silentLogger } from "../../shared/logger.js";
import { SqliteStore } from "../../store/sqlite.js";
import { HttpDeliveries } from "./http-delivery.js";
import type { HttpDeliveryRecord } from "./model.js";

type Behaviour = "hang" | "redirect" | "big" | "ok";
let server: Server;
let base: string;
const hits: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    const what = req.url!.slice(1) as Behaviour;
    hits.push(what);
    req.resume();
    if (what === "hang") return; // never answers
    if (what === "redirect") return void res.writeHead(302, { location: `${base}/ok` }).end();
    if (what === "big") return void res.writeHead(500).end("x".repeat(4 * 1024 * 1024));
    res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const count = (what: Behaviour) => hits.filter((h) => h === what).length;

/** Waits (in real time: the server is real) until the server has seen `n` requests for `what`. */
async function arrived(what: Behaviour, n: number, failure = `no request for /${what}`): Promise<void> {
  const started = performance.now();
  while (count(what) < n) {
    assert.ok(performance.now() - started < 2000, failure);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface DeadLetter {
  body: string;
  attributes: Record<string, string>;
}

/** A delivery of `{"n":1}` to `destination`, due now, retried 185 times within a day; `spec` overrides. */
function delivery(
  id: string,
  destination: string,
  now: number,
  spec: Partial<HttpDeliveryRecord["spec"]> = {},
): HttpDeliveryRecord {
  return {
    id,
    destinationName: destination,
    createdAt: now,
    nextAt: now,
    attempts: 0,
    payload: '{"n":1}',
    lastError: undefined,
    spec: {
      ruleArn: "arn:rule",
      targetArn: "arn:target",
      targetId: "t",
      pathValues: [],
      headers: {},
      query: {},
      deadLetterArn: undefined,
      maxRetries: 185,
      expiresAt: now + 86_400_000,
      ...spec,
    },
  };
}

async function setup(
  endpoint: string,
  spec: Partial<HttpDeliveryRecord["spec"]> = {},
  o: { timeoutMs?: number; wait?: boolean } = {},
) {
  const store = new SqliteStore(":memory:");
  const clock = new FakeClock(Date.now());
  const dead: DeadLetter[] = [];
  const deliveries = new HttpDeliveries({
    repo: store,
    clock,
    logger: silentLogger,
    deadLetter: async (_arn, body, attributes) => void dead.push({ body, attributes }),
    timeoutMs: o.timeoutMs ?? 5000,
  });
  const now = clock.now();
  await store.createConnection({
    name: "c",
    uuid: "u",
    description: undefined,
    authorizationType: "API_KEY",
    auth: { apiKey: { name: "x-k", value: "v" }, invocation: { headers: [], queryString: [], body: [] } },
    state: "AUTHORIZED",
    stateReason: undefined,
    createdAt: now,
    modifiedAt: now,
    authorizedAt: now,
  });
  await store.createApiDestination({
    name: "d",
    uuid: "u",
    description: undefined,
    connectionName: "c",
    endpoint,
    httpMethod: "POST",
    rateLimitPerSecond: undefined,
    state: "ACTIVE",
    createdAt: now,
    modifiedAt: now,
  });
  await store.enqueueHttpDeliveries([
    delivery("delivery-1", "d", now, { deadLetterArn: "arn:dlq", ...spec }),
  ]);
  await deliveries.start();
  if (o.wait !== false) await deliveries.idle();
  const advance = async (ms: number) => {
    clock.advance(ms);
    await clock.settle();
    await deliveries.idle();
  };
  /** Another destination, at `url`, with one delivery queued for it now. */
  const another = async (name: string, url: string) => {
    const d = (await store.getApiDestination("d"))!;
    await store.createApiDestination({ ...d, name, endpoint: url });
    const now = clock.now();
    await store.enqueueHttpDeliveries([
      { ...delivery(`delivery-${name}`, name, now, { maxRetries: 0 }), payload: "{}" },
    ]);
    deliveries.changed();
  };
  return { store, clock, dead, deliveries, advance, another, close: () => deliveries.stop() };
}

test("an endpoint that does not answer in time is tried again after 1 s, then dead-lettered as TIMEOUT", async () => {
  const s = await setup(`${base}/hang`, { maxRetries: 1 }, { timeoutMs: 200 });
  assert.equal(s.dead.length, 0);
  assert.equal(await s.store.countHttpDeliveries("d"), 1, "kept for its retry");
  await s.advance(1000);
  assert.equal(s.dead.length, 1);
  assert.equal(s.dead[0]!.attributes.ERROR_CODE, "TIMEOUT");
  assert.match(s.dead[0]!.attributes.ERROR_MESSAGE!, /no answer within 0.2 s/);
  assert.equal(s.dead[0]!.attributes.EXHAUSTED_RETRY_CONDITION, "MaximumRetryAttempts");
  assert.equal(s.dead[0]!.body, '{"n":1}');
  assert.equal(await s.store.countHttpDeliveries("d"), 0);
  await s.close();
});

test("a refused connection is CONNECTION_FAILURE; past MaximumEventAgeInSeconds it is given up", async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  const s = await setup(`http://127.0.0.1:${port}/x`, { expiresAt: Date.now() + 2500 });
  assert.equal(s.dead.length, 0);
  await s.advance(1000); // attempt 2; the third would fall 2 s later, past the event's age
  assert.equal(s.dead.length, 1);
  assert.equal(s.dead[0]!.attributes.ERROR_CODE, "CONNECTION_FAILURE");
  assert.match(s.dead[0]!.attributes.ERROR_MESSAGE!, /ECONNREFUSED/);
  assert.equal(s.dead[0]!.attributes.EXHAUSTED_RETRY_CONDITION, "MaximumEventAgeInSeconds");
  assert.equal(s.dead[0]!.attributes.RETRY_ATTEMPTS, "1");
  await s.close();
});

test("a redirect is not followed: the event goes to the dead-letter queue at once", async () => {
  const before = count("ok");
  const s = await setup(`${base}/redirect`);
  assert.equal(s.dead.length, 1);
  assert.equal(s.dead[0]!.attributes.ERROR_CODE, "ERROR_FROM_TARGET");
  assert.match(s.dead[0]!.attributes.ERROR_MESSAGE!, /answered 302/);
  assert.equal(s.dead[0]!.attributes.EXHAUSTED_RETRY_CONDITION, undefined);
  assert.equal(count("ok"), before);
  await s.close();
});

test("a large answer is read no further than its start, and the message keeps that start", async () => {
  const s = await setup(`${base}/big`, { maxRetries: 0 });
  assert.equal(s.dead.length, 1);
  const message = s.dead[0]!.attributes.ERROR_MESSAGE!;
  assert.ok(message.length <= 256, `${message.length} characters`);
  assert.match(message, /^the endpoint answered 500: x+$/);
  await s.close();
});

test("a destination deleted before its delivery sends nothing and dead-letters NO_RESOURCE", async () => {
  const s = await setup(`${base}/hang`, { maxRetries: 3 }, { timeoutMs: 200 });
  await s.store.deleteApiDestination("d");
  await s.advance(1000);
  assert.equal(s.dead.length, 1);
  assert.equal(s.dead[0]!.attributes.ERROR_CODE, "NO_RESOURCE");
  await s.close();
});

test("stop() during a request cuts it; the delivery comes back when its lease lapses", async () => {
  const s = await setup(`${base}/ok`);
  assert.equal(await s.store.countHttpDeliveries("d"), 0, "delivered");
  const hang = await setup(`${base}/hang`, { maxRetries: 3 }, { timeoutMs: 200 });
  // Due now: a claim whose lease ends now.
  const [waiting] = await hang.store.claimHttpDeliveries(hang.clock.now() + 3_600_000, hang.clock.now(), 10);
  const seen = count("hang");
  hang.deliveries.changed();
  await arrived("hang", seen + 1); // the request is under way
  await hang.deliveries.stop();
  const [left] = await hang.store.claimHttpDeliveries(
    hang.clock.now() + 10_000,
    hang.clock.now() + 20_000,
    10,
  );
  assert.equal(left?.id, "delivery-1", "still there, due when its lease lapses");
  assert.equal(left?.attempts, waiting?.attempts, "the cut attempt is not counted");
  await s.close();
});

test("an endpoint that hangs holds up no other destination's delivery", async () => {
  const hanging = count("hang");
  const s = await setup(`${base}/hang`, { maxRetries: 0 }, { timeoutMs: 3000, wait: false });
  await arrived("hang", hanging + 1); // the hanging request is under way
  const okBefore = count("ok");
  await s.another("other", `${base}/ok`);
  await arrived("ok", okBefore + 1, "the other delivery waited for the hanging one");
  assert.equal(s.dead.length, 0, "the hanging request has not timed out yet");
  await s.close();
});

test("a request that cannot be made (a header value past Latin-1, stored before it was checked) is dead-lettered, not retried", async () => {
  const s = await setup(`${base}/ok`, { headers: { "x-price": "5 €" } });
  assert.equal(s.dead.length, 1);
  assert.equal(s.dead[0]!.attributes.ERROR_CODE, "INVALID_PARAMETER");
  assert.match(s.dead[0]!.attributes.ERROR_MESSAGE!, /ByteString/);
  assert.equal(await s.store.countHttpDeliveries("d"), 0);
  await s.close();
});
