/**
 * What EventBridge's connections and API destinations rely on from every store: connections
 * (their secrets too) and destinations read back exactly as written and list in byte order of
 * their names page by page; deliveries are queued once per id, and claimed due first, each by
 * one claimer only, until retried or deleted. Times are epoch ms past 2^32, so a store that
 * narrowed them would show.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  ApiDestinationRecord,
  ConnectionRecord,
  HttpDeliveryRecord,
} from "../../services/events/model.js";
import type { ApiDestinationsRepo } from "../../services/events/repo.js";
import { NAMES_IN_BYTE_ORDER, NAMES_SHUFFLED, PREFIX_NAMES } from "./events.contract.js";
import { type OpenRepo, T0_MS, withRepo } from "./harness.js";
import { sqsArn } from "./queues.contract.js";

const NO_PARAMETERS = { headers: [], queryString: [], body: [] } as const;

/** An authorized API-key connection made at T0, every optional field unset; `patch` overrides. */
export function connection(name: string, patch: Partial<ConnectionRecord> = {}): ConnectionRecord {
  return {
    name,
    uuid: `uuid-${name}`,
    description: undefined,
    authorizationType: "API_KEY",
    auth: { apiKey: { name: "x-api-key", value: "k-1" }, invocation: NO_PARAMETERS },
    state: "AUTHORIZED",
    stateReason: undefined,
    createdAt: T0_MS,
    modifiedAt: T0_MS,
    authorizedAt: undefined,
    ...patch,
  };
}

/** An active POST destination of `connectionName` made at T0, every optional field unset; `patch` overrides. */
export function destination(
  name: string,
  connectionName: string,
  patch: Partial<ApiDestinationRecord> = {},
): ApiDestinationRecord {
  return {
    name,
    uuid: `uuid-${name}`,
    description: undefined,
    connectionName,
    endpoint: "https://hooks.example.com/in",
    httpMethod: "POST",
    rateLimitPerSecond: undefined,
    state: "ACTIVE",
    createdAt: T0_MS,
    modifiedAt: T0_MS,
    ...patch,
  };
}

/** A first attempt at `destinationName` due at T0, without a dead-letter queue; `patch` overrides. */
export function delivery(
  id: string,
  destinationName = "hook",
  patch: Partial<HttpDeliveryRecord> = {},
): HttpDeliveryRecord {
  return {
    id,
    destinationName,
    createdAt: T0_MS,
    nextAt: T0_MS,
    attempts: 0,
    spec: {
      ruleArn: "arn:aws:events:us-east-1:000000000000:rule/orders/paid",
      targetArn: "arn:aws:events:us-east-1:000000000000:api-destination/hook/uuid-hook",
      targetId: "t1",
      pathValues: [],
      headers: {},
      query: {},
      deadLetterArn: undefined,
      maxRetries: 185,
      expiresAt: T0_MS + 86_400_000,
    },
    payload: JSON.stringify({ id }),
    lastError: undefined,
    ...patch,
  };
}

const names = (records: ReadonlyArray<{ name: string }>): string[] => records.map((r) => r.name);
const ids = (records: readonly HttpDeliveryRecord[]): string[] => records.map((r) => r.id);
/** Ids that sort the same as bytes and as JavaScript strings, so that `sort()` is the stores' order. */
const id = (i: number): string => `d-${String(i).padStart(3, "0")}`;

export function apiDestinationsContract(open: OpenRepo<ApiDestinationsRepo>): void {
  test("a connection reads back as created, secrets and parameters included, unset fields undefined, and creating its name again says false and changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      const basic = connection("basic", {
        description: "Zahlungen 💶",
        authorizationType: "BASIC",
        auth: {
          basic: { username: "ünïcode", password: 'p"a\\ss\nword 🔑' },
          invocation: {
            headers: [
              { key: "x-team", value: "shop", secret: false },
              { key: "x-token", value: "s3cr3t", secret: true },
            ],
            queryString: [{ key: "v", value: "2", secret: false }],
            body: [{ key: "tenant", value: "t-1", secret: true }],
          },
        },
        state: "DEAUTHORIZED",
        stateReason: "the password was rejected",
        createdAt: T0_MS + 2 ** 32 + 1,
        modifiedAt: T0_MS + 2 ** 33,
        authorizedAt: T0_MS + 2 ** 32 + 2,
      });
      const oauth = connection("oauth", {
        authorizationType: "OAUTH_CLIENT_CREDENTIALS",
        auth: {
          oauth: {
            authorizationEndpoint: "https://auth.example.com/token",
            httpMethod: "POST",
            clientId: "client",
            clientSecret: "client-secret",
            headers: [{ key: "x-a", value: "1", secret: false }],
            queryString: [],
            body: [{ key: "scope", value: "events:write", secret: true }],
          },
          invocation: NO_PARAMETERS,
        },
      });
      const webhook = connection("webhook", {
        auth: {
          apiKey: { name: "webhook-signature", value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
          invocation: NO_PARAMETERS,
        },
      });
      for (const c of [basic, oauth, webhook]) assert.equal(await repo.createConnection(c), true);
      assert.deepEqual(await repo.getConnection("basic"), basic);
      assert.deepEqual(await repo.getConnection("oauth"), oauth);
      assert.deepEqual(await repo.getConnection("webhook"), webhook);

      assert.equal(await repo.createConnection(connection("basic", { description: "other" })), false);
      assert.deepEqual(await repo.getConnection("basic"), basic, "the first is kept");
      assert.equal(await repo.getConnection("missing"), undefined);
      assert.equal(await repo.getConnection("Basic"), undefined, "names match with their case");
    }));

  test("updating a connection replaces every field but its name, and says false when there is none", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createConnection(
        connection("c", { description: "old", stateReason: "why", authorizedAt: T0_MS + 1 }),
      );
      await repo.createConnection(connection("other"));
      const changed = connection("c", {
        uuid: "uuid-2",
        authorizationType: "BASIC",
        auth: { basic: { username: "u", password: "p" }, invocation: NO_PARAMETERS },
        state: "DEAUTHORIZED",
        createdAt: T0_MS + 5,
        modifiedAt: T0_MS + 2 ** 32,
      });
      assert.equal(await repo.updateConnection(changed), true);
      assert.deepEqual(await repo.getConnection("c"), changed, "unset fields are unset again");
      assert.deepEqual(await repo.getConnection("other"), connection("other"), "another is left as it was");
      assert.equal(await repo.updateConnection(connection("missing")), false);
      assert.equal(await repo.getConnection("missing"), undefined, "an update creates nothing");
    }));

  test("deleting a connection says whether there was one, and leaves the others", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createConnection(connection("a"));
      await repo.createConnection(connection("b"));
      assert.equal(await repo.deleteConnection("a"), true);
      assert.equal(await repo.getConnection("a"), undefined);
      assert.equal(await repo.deleteConnection("a"), false);
      assert.equal(await repo.deleteConnection("missing"), false);
      assert.deepEqual(await repo.getConnection("b"), connection("b"));
      assert.equal(await repo.createConnection(connection("a", { uuid: "new" })), true, "its name is free");
    }));

  test("connections are listed in byte order of their names, after the given name, at most the limit, by literal prefix and by state", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listConnections({ limit: 10 }), []);
      for (const [i, name] of NAMES_SHUFFLED.entries())
        await repo.createConnection(connection(name, { state: i % 2 === 0 ? "AUTHORIZED" : "DEAUTHORIZED" }));
      const list = async (o: { prefix?: string; state?: string; after?: string; limit: number }) =>
        names(await repo.listConnections(o));
      assert.deepEqual(await list({ limit: 100 }), NAMES_IN_BYTE_ORDER);
      assert.deepEqual(await list({ limit: 3 }), ["-x", ".x", "/x"]);
      assert.deepEqual(await list({ after: "/x", limit: 3 }), ["B", "Z", "_x"]);
      assert.deepEqual(await list({ after: "A", limit: 2 }), ["B", "Z"], "after need not exist");
      assert.deepEqual(await list({ after: "b", limit: 3 }), []);
      assert.deepEqual(await list({ prefix: "a1", limit: 10 }), ["a1", "a10"]);
      assert.deepEqual(await list({ prefix: "a", after: "a.1", limit: 2 }), ["a1", "a10"]);

      const deauthorized = ["-x", ".x", "/x", "B", "a", "b"];
      assert.deepEqual(await list({ state: "DEAUTHORIZED", limit: 100 }), deauthorized);
      assert.deepEqual(await list({ state: "DEAUTHORIZED", limit: 2 }), deauthorized.slice(0, 2));
      assert.deepEqual(
        await list({ state: "DEAUTHORIZED", after: deauthorized[1]!, limit: 2 }),
        deauthorized.slice(2, 4),
      );
      assert.deepEqual(await list({ state: "AUTHORIZED", prefix: "a", limit: 10 }), [
        "a-1",
        "a.1",
        "a1",
        "a10",
        "a2",
      ]);
      assert.deepEqual(await list({ state: "CREATING", limit: 10 }), []);
      assert.deepEqual(
        await repo.listConnections({ prefix: "_", limit: 10 }),
        [connection("_x", { state: "AUTHORIZED" })],
        "each with every field",
      );
    }));

  test("a name prefix matches literally: case counts, and _, % and \\ are not wildcards or escapes", () =>
    withRepo(open, async ({ repo }) => {
      for (const name of PREFIX_NAMES) {
        await repo.createConnection(connection(name));
        await repo.createApiDestination(destination(name, "c"));
      }
      for (const [prefix, expected] of [
        ["a_", ["a_1"]],
        ["A", ["A_1"]],
        ["50%", ["50%off"]],
        ["x\\", ["x\\y"]],
        ["%", []],
        ["_", []],
        ["", PREFIX_NAMES],
      ] as const) {
        assert.deepEqual(names(await repo.listConnections({ prefix, limit: 10 })), expected, prefix);
        assert.deepEqual(names(await repo.listApiDestinations({ prefix, limit: 10 })), expected, prefix);
      }
    }));

  test("an API destination reads back as created, unset fields undefined, and creating its name again says false and changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      const full = destination("hook", "c", {
        description: "Webhook für Bestellungen 📦",
        endpoint: "https://hooks.example.com/orders/*/items/*?src=nimbus&x=%20",
        httpMethod: "PATCH",
        rateLimitPerSecond: 1,
        state: "INACTIVE",
        createdAt: T0_MS + 2 ** 32 + 1,
        modifiedAt: T0_MS + 2 ** 33,
      });
      assert.equal(await repo.createApiDestination(full), true);
      assert.equal(await repo.createApiDestination(destination("plain", "c")), true);
      assert.deepEqual(await repo.getApiDestination("hook"), full);
      assert.deepEqual(await repo.getApiDestination("plain"), destination("plain", "c"));
      assert.equal(await repo.createApiDestination(destination("hook", "other")), false);
      assert.deepEqual(await repo.getApiDestination("hook"), full, "the first is kept");
      assert.equal(await repo.getApiDestination("missing"), undefined);
      assert.equal(await repo.getApiDestination("Hook"), undefined, "names match with their case");
    }));

  test("updating an API destination replaces every field but its name, deleting it says whether there was one, and both say false when there is none", () =>
    withRepo(open, async ({ repo }) => {
      await repo.createApiDestination(
        destination("hook", "c", { description: "old", rateLimitPerSecond: 300 }),
      );
      await repo.createApiDestination(destination("other", "c"));
      const changed = destination("hook", "c2", {
        endpoint: "http://127.0.0.1:9/x",
        httpMethod: "DELETE",
        state: "INACTIVE",
        modifiedAt: T0_MS + 2 ** 32,
      });
      assert.equal(await repo.updateApiDestination(changed), true);
      assert.deepEqual(await repo.getApiDestination("hook"), changed, "unset fields are unset again");
      assert.equal(await repo.updateApiDestination(destination("missing", "c")), false);
      assert.equal(await repo.getApiDestination("missing"), undefined, "an update creates nothing");

      assert.equal(await repo.deleteApiDestination("hook"), true);
      assert.equal(await repo.getApiDestination("hook"), undefined);
      assert.equal(await repo.deleteApiDestination("hook"), false);
      assert.deepEqual(await repo.getApiDestination("other"), destination("other", "c"));
    }));

  test("API destinations are listed in byte order of their names, after the given name, at most the limit, by prefix and by connection", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.listApiDestinations({ limit: 10 }), []);
      for (const name of NAMES_SHUFFLED) await repo.createApiDestination(destination(name, "main"));
      await repo.createApiDestination(destination("a0", "Main"));
      await repo.createApiDestination(destination("zz", "other"));
      const list = async (o: { prefix?: string; connectionName?: string; after?: string; limit: number }) =>
        names(await repo.listApiDestinations(o));
      assert.deepEqual(await list({ limit: 100 }), [
        ...["-x", ".x", "/x", "B", "Z", "_x", "a", "a-1", "a.1"],
        ...["a0", "a1", "a10", "a2", "b", "zz"],
      ]);
      assert.deepEqual(await list({ connectionName: "main", limit: 100 }), NAMES_IN_BYTE_ORDER);
      assert.deepEqual(await list({ connectionName: "main", limit: 4 }), ["-x", ".x", "/x", "B"]);
      assert.deepEqual(await list({ connectionName: "main", after: "B", limit: 4 }), ["Z", "_x", "a", "a-1"]);
      assert.deepEqual(await list({ connectionName: "main", prefix: "a", after: "a.1", limit: 10 }), [
        "a1",
        "a10",
        "a2",
      ]);
      assert.deepEqual(await list({ prefix: "a", limit: 3 }), ["a", "a-1", "a.1"]);
      assert.deepEqual(
        await list({ connectionName: "Main", limit: 10 }),
        ["a0"],
        "connections match with their case",
      );
      assert.deepEqual(await list({ connectionName: "missing", limit: 10 }), []);
      assert.deepEqual(
        await repo.listApiDestinations({ connectionName: "other", limit: 10 }),
        [destination("zz", "other")],
        "each with every field",
      );
    }));

  test("queued deliveries are claimed as queued, and queuing an id again keeps the delivery first queued", () =>
    withRepo(open, async ({ repo }) => {
      await repo.enqueueHttpDeliveries([]);
      const full = delivery("a", "hook", {
        createdAt: T0_MS + 2 ** 32,
        nextAt: T0_MS + 1,
        attempts: 3,
        spec: {
          ruleArn: "arn:aws:events:us-east-1:000000000000:rule/paid",
          targetArn: "arn:aws:events:us-east-1:000000000000:api-destination/hook/uuid-hook",
          targetId: "Ziel-ü",
          pathValues: ["orders", "a b/c", "ä"],
          headers: { "x-order": "42", "X-Empty": "" },
          query: { q: "ä&b=c", "": "blank" },
          deadLetterArn: sqsArn("dlq"),
          maxRetries: 0,
          expiresAt: T0_MS + 2 ** 33,
        },
        payload: '{ "note": "Grüße 👋🏽\\n",\t"n": 1e3 }',
        lastError: "HTTP 503 from https://hooks.example.com/in",
      });
      const plain = delivery("b");
      await repo.enqueueHttpDeliveries([
        full,
        plain,
        delivery("a", "other", { payload: "again, same batch" }),
      ]);
      await repo.enqueueHttpDeliveries([delivery("b", "other", { payload: "later" })]);
      assert.equal(await repo.countHttpDeliveries("hook"), 2);
      assert.equal(await repo.countHttpDeliveries("other"), 0, "an id already queued is not queued again");
      assert.deepEqual(await repo.claimHttpDeliveries(T0_MS + 1, T0_MS + 60_000, 10), [
        { ...plain, nextAt: T0_MS + 60_000 },
        { ...full, nextAt: T0_MS + 60_000 },
      ]);
    }));

  test("a claim takes due deliveries alone, earliest first then by id, at most the limit, and leases them until the given time", () =>
    withRepo(open, async ({ repo }) => {
      assert.deepEqual(await repo.claimHttpDeliveries(T0_MS, T0_MS + 1, 10), []);
      await repo.enqueueHttpDeliveries([
        delivery("late", "hook", { nextAt: T0_MS + 10 }),
        delivery("b", "hook", { nextAt: T0_MS - 5 }),
        delivery("a", "hook", { nextAt: T0_MS - 5 }),
        delivery("first", "hook", { nextAt: T0_MS - 2 ** 32 }),
        delivery("now", "hook", { nextAt: T0_MS }),
      ]);
      const lease = T0_MS + 30_000;
      const taken = await repo.claimHttpDeliveries(T0_MS, lease, 3);
      assert.deepEqual(ids(taken), ["first", "a", "b"]);
      assert.ok(
        taken.every((d) => d.nextAt === lease),
        "each with its lease as its next time",
      );
      assert.deepEqual(ids(await repo.claimHttpDeliveries(T0_MS, lease, 10)), ["now"], "not those taken");
      assert.deepEqual(await repo.claimHttpDeliveries(T0_MS + 9, lease, 10), [], "none due");
      assert.equal(await repo.nextHttpDeliveryAt(), T0_MS + 10);
      assert.deepEqual(ids(await repo.claimHttpDeliveries(lease - 1, lease + 1, 10)), ["late"]);
      assert.equal(await repo.nextHttpDeliveryAt(), lease);

      // Not retried nor deleted by the lease's end (its claimer crashed): taken again.
      const again = await repo.claimHttpDeliveries(lease, lease + 30_000, 10);
      assert.deepEqual(ids(again), ["a", "b", "first", "now"], "due together: by id");
      assert.deepEqual(
        again[0],
        delivery("a", "hook", { nextAt: lease + 30_000 }),
        "as queued but for the lease",
      );
      assert.equal(await repo.countHttpDeliveries("hook"), 5, "claimed deliveries still wait");
    }));

  test("claims at the same time never take the same delivery, and together take every due one", () =>
    withRepo(open, async ({ repo }) => {
      const all = Array.from({ length: 20 }, (_, i) => id(i));
      await repo.enqueueHttpDeliveries(all.map((d, i) => delivery(d, "hook", { nextAt: T0_MS - i })));
      const [a, b] = await Promise.all([
        repo.claimHttpDeliveries(T0_MS, T0_MS + 60_000, 20),
        repo.claimHttpDeliveries(T0_MS, T0_MS + 60_000, 20),
      ]);
      const taken = [...ids(a!), ...ids(b!)];
      assert.equal(new Set(taken).size, taken.length, `a delivery taken twice: ${ids(a!)} / ${ids(b!)}`);
      assert.deepEqual(taken.sort(), all);

      // Many small claims at once, over the deliveries once their lease is over.
      const lease = T0_MS + 60_000;
      const claims = await Promise.all(
        Array.from({ length: 5 }, () => repo.claimHttpDeliveries(lease, lease + 60_000, 4)),
      );
      const again = claims.flatMap(ids);
      assert.equal(
        new Set(again).size,
        again.length,
        `a delivery taken twice: ${claims.map(ids).join(" / ")}`,
      );
      assert.deepEqual(again.sort(), all);
    }));

  test("a retry sets the attempts, next time and last error; a delete removes the delivery; neither minds one that is gone", () =>
    withRepo(open, async ({ repo }) => {
      await repo.enqueueHttpDeliveries([delivery("a"), delivery("b"), delivery("c", "other")]);
      const lease = T0_MS + 60_000;
      await repo.claimHttpDeliveries(T0_MS, lease, 10);
      const error = "HTTP 500: Interner Fehler ⚠";
      assert.equal(await repo.retryHttpDelivery("a", lease, 1, T0_MS + 30_000, error), true);
      assert.equal(await repo.nextHttpDeliveryAt(), T0_MS + 30_000);
      assert.deepEqual(await repo.claimHttpDeliveries(T0_MS + 30_000, T0_MS + 2 ** 33, 10), [
        delivery("a", "hook", { attempts: 1, nextAt: T0_MS + 2 ** 33, lastError: error }),
      ]);

      assert.equal(await repo.deleteHttpDelivery("b", lease), true);
      assert.equal(await repo.deleteHttpDelivery("b", lease), false, "gone already");
      assert.equal(await repo.deleteHttpDelivery("missing", lease), false);
      assert.equal(await repo.retryHttpDelivery("missing", lease, 1, T0_MS, "gone"), false);
      assert.equal(await repo.countHttpDeliveries("hook"), 1);
      assert.equal(await repo.countHttpDeliveries("other"), 1);
      assert.deepEqual(ids(await repo.claimHttpDeliveries(T0_MS + 2 ** 34, T0_MS + 2 ** 35, 10)), ["c", "a"]);
      assert.deepEqual(
        ids(await repo.claimHttpDeliveries(T0_MS + 2 ** 35, T0_MS + 2 ** 36, 10)),
        ["a", "c"],
        "the retry of one that is gone created nothing",
      );
    }));

  test("a retry or delete by a claim whose lease lapsed and was taken again changes nothing", () =>
    withRepo(open, async ({ repo }) => {
      await repo.enqueueHttpDeliveries([delivery("a"), delivery("b")]);
      const first = T0_MS + 30_000;
      await repo.claimHttpDeliveries(T0_MS, first, 10);
      // The first claimer stalls past its lease; a second claim takes both.
      const second = first + 30_000;
      assert.deepEqual(ids(await repo.claimHttpDeliveries(first, second, 10)), ["a", "b"]);
      assert.equal(await repo.retryHttpDelivery("a", first, 1, T0_MS, "late"), false, "a stale retry");
      assert.equal(await repo.deleteHttpDelivery("b", first), false, "a stale delete");
      assert.equal(await repo.countHttpDeliveries("hook"), 2, "both still there");
      assert.equal(await repo.nextHttpDeliveryAt(), second, "neither moved");
      // The second claimer's own outcomes apply.
      assert.equal(await repo.retryHttpDelivery("a", second, 1, second + 5, "HTTP 503"), true);
      assert.equal(await repo.deleteHttpDelivery("b", second), true);
      assert.deepEqual(await repo.claimHttpDeliveries(second + 5, second + 60_000, 10), [
        delivery("a", "hook", { attempts: 1, nextAt: second + 60_000, lastError: "HTTP 503" }),
      ]);
    }));

  test("the next delivery's time is the earliest of any destination's, and each destination's deliveries are counted", () =>
    withRepo(open, async ({ repo }) => {
      assert.equal(await repo.nextHttpDeliveryAt(), undefined);
      assert.equal(await repo.countHttpDeliveries("hook"), 0);
      await repo.enqueueHttpDeliveries([
        delivery("a", "hook", { nextAt: T0_MS + 2 ** 32 }),
        delivery("b", "hook", { nextAt: T0_MS + 7 }),
        delivery("c", "Hook", { nextAt: T0_MS + 2 ** 33 }),
      ]);
      assert.equal(await repo.nextHttpDeliveryAt(), T0_MS + 7);
      assert.equal(await repo.countHttpDeliveries("hook"), 2);
      assert.equal(await repo.countHttpDeliveries("Hook"), 1, "destinations match with their case");
      assert.equal(await repo.countHttpDeliveries("missing"), 0);
      await repo.deleteHttpDelivery("b", T0_MS + 7);
      assert.equal(await repo.nextHttpDeliveryAt(), T0_MS + 2 ** 32);
      await repo.deleteHttpDelivery("a", T0_MS + 2 ** 32);
      await repo.deleteHttpDelivery("c", T0_MS + 2 ** 33);
      assert.equal(await repo.nextHttpDeliveryAt(), undefined);
    }));
}
