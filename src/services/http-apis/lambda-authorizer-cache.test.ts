import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { LambdaAuthorizerCache, type LambdaAuthorizerCacheConfig } from "./lambda-authorizer-cache.js";

function setup(over: Partial<LambdaAuthorizerCacheConfig> = {}) {
  const clock = new FakeClock();
  const cache = new LambdaAuthorizerCache(
    { identitySources: ["$request.header.Authorization"], ...over },
    clock,
  );
  const calls: string[] = [];
  let answer: unknown = { isAuthorized: true, context: { user: "u1" } };
  const call = (who: string) => async () => {
    calls.push(who);
    return answer;
  };
  return { clock, cache, calls, call, answerWith: (a: unknown) => (answer = a) };
}

const withToken = (token: string) => ({ headers: { authorization: token } });

test("an allowed caller's context reaches the function, and a second request within the TTL is served from the cache", async () => {
  const { cache, calls, call } = setup();
  const first = await cache.authorize(withToken("t1"), call("a"));
  assert.deepEqual(first, { kind: "allow", authorizer: { lambda: { user: "u1" } }, cached: false });
  const second = await cache.authorize(withToken("t1"), call("b"));
  assert.deepEqual(second, { kind: "allow", authorizer: { lambda: { user: "u1" } }, cached: true });
  assert.deepEqual(calls, ["a"]);
});

test("the cache expires after the TTL (default 300 s) on the injected clock", async () => {
  const { clock, cache, calls, call } = setup();
  await cache.authorize(withToken("t1"), call("a"));
  clock.advance(299_999);
  await cache.authorize(withToken("t1"), call("b"));
  clock.advance(1);
  await cache.authorize(withToken("t1"), call("c"));
  assert.deepEqual(calls, ["a", "c"]);
});

test("a TTL of 0 calls the authorizer for every request", async () => {
  const { cache, calls, call } = setup({ ttlSeconds: 0 });
  await cache.authorize(withToken("t1"), call("a"));
  await cache.authorize(withToken("t1"), call("b"));
  assert.deepEqual(calls, ["a", "b"]);
});

test("a missing or empty identity source is a 401 without calling the authorizer", async () => {
  const { cache, calls, call } = setup({
    identitySources: ["$request.header.Authorization", "$request.querystring.token"],
  });
  const missing = await cache.authorize({ headers: { authorization: "t" } }, call("a"));
  assert.equal(missing.kind, "deny");
  if (missing.kind === "deny") {
    assert.equal(missing.status, 401);
    assert.equal(missing.body, '{"message":"Unauthorized"}');
  }
  const empty = await cache.authorize(
    { headers: { authorization: "" }, queryStringParameters: { token: "x" } },
    call("b"),
  );
  assert.equal(empty.kind === "deny" && empty.status, 401);
  assert.deepEqual(calls, []);
});

test("the key is every identity source's value: a different one is a different caller", async () => {
  const { cache, calls, call } = setup({
    identitySources: ["$request.header.Authorization", "$request.querystring.token"],
  });
  const req = (h: string, q: string) => ({
    headers: { authorization: h },
    queryStringParameters: { token: q },
  });
  await cache.authorize(req("a", "b"), call("1"));
  await cache.authorize(req("a", "b"), call("2"));
  await cache.authorize(req("a", "c"), call("3"));
  await cache.authorize(req("a,b", ""), call("4"));
  assert.deepEqual(calls, ["1", "3"]);
});

test("isAuthorized false is a 403, and the denial is cached too", async () => {
  const { cache, calls, call, answerWith } = setup();
  answerWith({ isAuthorized: false });
  const d = await cache.authorize(withToken("bad"), call("a"));
  assert.deepEqual(d, {
    kind: "deny",
    status: 403,
    body: '{"message":"Forbidden"}',
    reason: "the authorizer answered isAuthorized: false",
    cached: false,
  });
  assert.equal((await cache.authorize(withToken("bad"), call("b"))).kind, "deny");
  assert.deepEqual(calls, ["a"]);
});

test("a failed call or a malformed answer is a 500 that is not cached", async () => {
  const { cache, calls, call, answerWith } = setup();
  const failing = async () => {
    calls.push("boom");
    throw new Error("function timed out");
  };
  const d = await cache.authorize(withToken("t"), failing);
  assert.equal(d.kind === "deny" && d.status, 500);
  if (d.kind === "deny") {
    assert.equal(d.body, '{"message":"Internal Server Error"}');
    assert.match(d.reason, /function timed out/);
  }
  answerWith({ allowed: true });
  const malformed = await cache.authorize(withToken("t"), call("m"));
  assert.equal(malformed.kind === "deny" && malformed.status, 500);
  if (malformed.kind === "deny") assert.match(malformed.reason, /not a simple response/);
  answerWith({ isAuthorized: true, context: ["x"] });
  assert.equal((await cache.authorize(withToken("t"), call("n"))).kind, "deny");
  answerWith({ isAuthorized: true });
  assert.equal((await cache.authorize(withToken("t"), call("ok"))).kind, "allow");
  assert.deepEqual(calls, ["boom", "m", "n", "ok"]);
});

test("the cache holds at most maxEntries, pushing out the least recently used", async () => {
  const { cache, calls, call } = setup({ maxEntries: 2 });
  await cache.authorize(withToken("a"), call("a1"));
  await cache.authorize(withToken("b"), call("b1"));
  await cache.authorize(withToken("a"), call("a2"));
  await cache.authorize(withToken("c"), call("c1"));
  assert.equal(cache.size, 2);
  await cache.authorize(withToken("a"), call("a3"));
  await cache.authorize(withToken("b"), call("b2"));
  assert.deepEqual(calls, ["a1", "b1", "c1", "b2"]);
});

test("concurrent requests with the same identity make one call", async () => {
  const { cache } = setup();
  let calls = 0;
  let release: (v: unknown) => void = () => {};
  const slow = () => {
    calls++;
    return new Promise((resolve) => {
      release = resolve;
    });
  };
  const both = Promise.all([cache.authorize(withToken("t"), slow), cache.authorize(withToken("t"), slow)]);
  await Promise.resolve();
  release({ isAuthorized: true });
  const [a, b] = await both;
  assert.equal(a.kind, "allow");
  assert.equal(b.kind, "allow");
  assert.equal(calls, 1);
});

test("an authorizer without a context gives the function an empty lambda context", async () => {
  const { cache, call, answerWith } = setup();
  answerWith({ isAuthorized: true });
  assert.deepEqual(await cache.authorize(withToken("t"), call("a")), {
    kind: "allow",
    authorizer: { lambda: {} },
    cached: false,
  });
});

test("clear forgets every answer", async () => {
  const { cache, calls, call } = setup();
  await cache.authorize(withToken("t"), call("a"));
  cache.clear();
  await cache.authorize(withToken("t"), call("b"));
  assert.deepEqual(calls, ["a", "b"]);
});

test("a TTL outside 0 to 3600 seconds or a malformed identity source is refused", () => {
  const clock = new FakeClock();
  assert.throws(
    () => new LambdaAuthorizerCache({ identitySources: [], ttlSeconds: 3601 }, clock),
    /from 0 to 3600/,
  );
  assert.throws(
    () => new LambdaAuthorizerCache({ identitySources: ["header.Authorization"] }, clock),
    /Identity source 'header.Authorization' must be/,
  );
});
