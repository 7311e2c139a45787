import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { FakeClock } from "../../shared/clock.js";
import { JwtAuthorizer, type JwtAuthorizerConfig, type JwtDecision } from "./jwt-authorizer.js";

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

interface Issuer {
  readonly url: string;
  /** The keys the JWKS serves now. */
  keys: JWK[];
  discoveryHits: number;
  jwksHits: number;
  readonly server: Server;
}

let issuer: Issuer;
let keyA: { privateKey: PrivateKey; jwk: JWK };
let keyB: { privateKey: PrivateKey; jwk: JWK };
let stranger: { privateKey: PrivateKey; jwk: JWK };

async function key(kid: string): Promise<{ privateKey: PrivateKey; jwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { privateKey, jwk };
}

before(async () => {
  [keyA, keyB, stranger] = await Promise.all([key("a"), key("b"), key("a")]);
  const state = { keys: [keyA.jwk], discoveryHits: 0, jwksHits: 0 };
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === "/.well-known/openid-configuration") {
      state.discoveryHits++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/keys` }));
    } else if (req.url === "/keys") {
      state.jwksHits++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: state.keys }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = Object.assign(state, { url, server });
});

after(() => {
  issuer.server.close();
});

const clock = new FakeClock();
const nowSec = (): number => Math.floor(clock.now() / 1000);

function sign(
  claims: JWTPayload,
  {
    with: k = keyA,
    kid = k.jwk.kid,
  }: { with?: { privateKey: PrivateKey; jwk: JWK }; kid?: string | undefined } = {},
): Promise<string> {
  return new SignJWT({ iss: issuer.url, aud: "my-api", sub: "user-1", exp: nowSec() + 300, ...claims })
    .setProtectedHeader({ alg: "RS256", ...(kid === undefined ? {} : { kid }) })
    .sign(k.privateKey);
}

function authorizer(over: Partial<JwtAuthorizerConfig> = {}): JwtAuthorizer {
  return new JwtAuthorizer(
    { issuer: issuer.url, audience: ["my-api"], ...over },
    { clock, jwksCooldownMs: 0 },
  );
}

function bearer(token: string) {
  return { headers: { authorization: `Bearer ${token}` } };
}

function denied(d: JwtDecision): { status: number; body: string } {
  assert.equal(d.kind, "deny", d.kind === "allow" ? "expected a denial" : d.reason);
  return d.kind === "deny" ? { status: d.status, body: d.body } : { status: 0, body: "" };
}

test("a valid token is allowed, and the function sees its claims as strings", async () => {
  const token = await sign({
    groups: ["admin", "ops"],
    verified: true,
    n: 42,
    addr: { city: "Oslo", zip: 1 },
  });
  const d = await authorizer().authorize(bearer(token));
  assert.equal(d.kind, "allow");
  if (d.kind !== "allow") return;
  assert.deepEqual(d.authorizer.jwt.claims, {
    iss: issuer.url,
    aud: "my-api",
    sub: "user-1",
    exp: String(nowSec() + 300),
    groups: "[admin ops]",
    verified: "true",
    n: "42",
    addr: "map[city:Oslo zip:1]",
  });
  assert.equal(d.authorizer.jwt.scopes, null);
});

test("the token is taken with or without the Bearer prefix", async () => {
  const token = await sign({});
  assert.equal((await authorizer().authorize({ headers: { authorization: token } })).kind, "allow");
});

test("a missing header is a 401 with API Gateway's body", async () => {
  assert.deepEqual(denied(await authorizer().authorize({ headers: {} })), {
    status: 401,
    body: '{"message":"Unauthorized"}',
  });
});

test("an expired token is a 401, judged by the injected clock", async () => {
  const token = await sign({ exp: nowSec() + 60 });
  const a = authorizer();
  assert.equal((await a.authorize(bearer(token))).kind, "allow");
  clock.advance(61_000);
  assert.equal(denied(await a.authorize(bearer(token))).status, 401);
});

test("a token not valid before a later time is a 401 until then", async () => {
  const token = await sign({ nbf: nowSec() + 100 });
  const a = authorizer();
  assert.equal(denied(await a.authorize(bearer(token))).status, 401);
  clock.advance(100_000);
  assert.equal((await a.authorize(bearer(token))).kind, "allow");
});

test("a token without exp is a 401", async () => {
  const token = await new SignJWT({ iss: issuer.url, aud: "my-api" })
    .setProtectedHeader({ alg: "RS256", kid: "a" })
    .sign(keyA.privateKey);
  assert.equal(denied(await authorizer().authorize(bearer(token))).status, 401);
});

test("a wrong issuer is a 401", async () => {
  const token = await sign({ iss: "https://evil.example" });
  assert.equal(denied(await authorizer().authorize(bearer(token))).status, 401);
});

test("a wrong audience is a 401; any configured audience, or client_id without aud, passes", async () => {
  assert.equal(denied(await authorizer().authorize(bearer(await sign({ aud: "other" })))).status, 401);
  const multi = authorizer({ audience: ["x", "my-api"] });
  assert.equal((await multi.authorize(bearer(await sign({ aud: ["y", "my-api"] })))).kind, "allow");
  const clientOnly = await sign({ aud: undefined, client_id: "my-api" });
  assert.equal((await authorizer().authorize(bearer(clientOnly))).kind, "allow");
  const neither = await sign({ aud: undefined });
  assert.equal(denied(await authorizer().authorize(bearer(neither))).status, 401);
});

test("a token signed by a key the issuer does not publish is a 401", async () => {
  const token = await sign({}, { with: stranger });
  assert.equal(denied(await authorizer().authorize(bearer(token))).status, 401);
});

test("garbage in the header is a 401, not an exception", async () => {
  assert.equal(denied(await authorizer().authorize(bearer("not.a.jwt"))).status, 401);
});

test("a route's scopes: one of them in scope or scp passes, none is a 403 with API Gateway's body", async () => {
  const a = authorizer();
  const read = await sign({ scope: "orders:read profile" });
  const d = await a.authorize(bearer(read), ["orders:write", "orders:read"]);
  assert.equal(d.kind, "allow");
  if (d.kind === "allow") assert.deepEqual(d.authorizer.jwt.scopes, ["orders:read", "profile"]);
  assert.equal(
    (await a.authorize(bearer(await sign({ scp: ["orders:read"] })), ["orders:read"])).kind,
    "allow",
  );
  assert.deepEqual(denied(await a.authorize(bearer(read), ["orders:write"])), {
    status: 403,
    body: '{"message":"Forbidden"}',
  });
  assert.equal(denied(await a.authorize(bearer(await sign({})), ["orders:read"])).status, 403);
});

test("keys are fetched once and cached across requests", async () => {
  const a = authorizer();
  const before = { d: issuer.discoveryHits, k: issuer.jwksHits };
  for (let i = 0; i < 3; i++) assert.equal((await a.authorize(bearer(await sign({})))).kind, "allow");
  assert.equal(issuer.discoveryHits - before.d, 1);
  assert.equal(issuer.jwksHits - before.k, 1);
});

test("a token signed by a rotated-in key makes the authorizer fetch the keys again", async () => {
  const a = authorizer();
  assert.equal((await a.authorize(bearer(await sign({})))).kind, "allow");
  issuer.keys = [keyA.jwk, keyB.jwk];
  try {
    const hits = issuer.jwksHits;
    assert.equal((await a.authorize(bearer(await sign({}, { with: keyB })))).kind, "allow");
    assert.equal(issuer.jwksHits - hits, 1);
  } finally {
    issuer.keys = [keyA.jwk];
  }
});

test("a token seen before passes again, but not once it has expired, though it was verified", async () => {
  const a = authorizer();
  const token = await sign({ exp: nowSec() + 30 });
  assert.equal((await a.authorize(bearer(token))).kind, "allow");
  assert.equal((await a.authorize(bearer(token))).kind, "allow");
  clock.advance(31_000);
  assert.equal(denied(await a.authorize(bearer(token))).status, 401);
  // Another token of the same subject, still valid, passes.
  assert.equal((await a.authorize(bearer(await sign({})))).kind, "allow");
});

test("a token refused once is refused again (refusals are not kept as passes)", async () => {
  const a = authorizer();
  const token = await sign({ aud: "other-api" });
  assert.equal(denied(await a.authorize(bearer(token))).status, 401);
  assert.equal(denied(await a.authorize(bearer(token))).status, 401);
});

test("a key set given directly is used without discovery", async () => {
  const a = authorizer({ jwksUri: `${issuer.url}/keys` });
  const hits = issuer.discoveryHits;
  assert.equal((await a.authorize(bearer(await sign({})))).kind, "allow");
  assert.equal(issuer.discoveryHits, hits);
});

test("the identity source can be another header or the query string", async () => {
  const token = await sign({});
  const byQuery = authorizer({ identitySource: "$request.querystring.access_token" });
  assert.equal(
    (await byQuery.authorize({ headers: {}, queryStringParameters: { access_token: token } })).kind,
    "allow",
  );
  const byHeader = authorizer({ identitySource: "$request.header.X-Token" });
  assert.equal((await byHeader.authorize({ headers: { "x-token": token } })).kind, "allow");
});

test("an issuer that is down gives a 401, and the next request tries discovery again", async () => {
  let calls = 0;
  const down: typeof fetch = async () => {
    calls++;
    throw new TypeError("fetch failed: connect ECONNREFUSED");
  };
  const a = new JwtAuthorizer({ issuer: issuer.url, audience: ["my-api"] }, { clock, fetch: down });
  const token = await sign({});
  const d = await a.authorize(bearer(token));
  assert.equal(denied(d).status, 401);
  if (d.kind === "deny") assert.match(d.reason, /ECONNREFUSED/);
  assert.equal(denied(await a.authorize(bearer(token))).status, 401);
  assert.equal(calls, 2);
});

test("an issuer whose port is closed gives a 401 over a real connection", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const a = new JwtAuthorizer({ issuer: url, audience: ["my-api"] }, { clock });
  assert.equal(denied(await a.authorize(bearer(await sign({ iss: url })))).status, 401);
});

test("a malformed identity source is refused when the authorizer is built", () => {
  assert.throws(
    () => authorizer({ identitySource: "Authorization" }),
    /Identity source 'Authorization' must be/,
  );
});
