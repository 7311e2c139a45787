import assert from "node:assert/strict";
import { test } from "node:test";
import { caller } from "./nimbus-global.js";

const payload = {
  sub: "u-1",
  iat: 1700000000,
  app_metadata: { roles: ["editor"] },
  user_metadata: { name: "Ada" },
};
const token = `e30.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.sig`;
const claims = {
  sub: "u-1",
  iat: "1700000000",
  email: "ada@example.com",
  role: "authenticated",
  aal: "aal1",
  session_id: "s-1",
  is_anonymous: "false",
  app_metadata: "map[roles:[editor]]",
};
const event = (headers: Record<string, string>, c: Record<string, string> | null = claims) => ({
  headers,
  requestContext: c === null ? {} : { authorizer: { jwt: { claims: c, scopes: null } } },
});

test("the caller comes from the verified claims, with typed metadata from the same token", () => {
  const me = caller(event({ authorization: `Bearer ${token}` }));
  assert.equal(me?.userId, "u-1");
  assert.equal(me?.email, "ada@example.com");
  assert.equal(me?.isAnonymous, false);
  assert.deepEqual(me?.appMetadata, { roles: ["editor"] });
  assert.deepEqual(me?.userMetadata, { name: "Ada" });
});

test("metadata is not taken from a header token that is not the verified one", () => {
  const other = `e30.${Buffer.from(JSON.stringify({ ...payload, sub: "someone-else" })).toString("base64url")}.sig`;
  const me = caller(event({ authorization: `Bearer ${other}` }));
  assert.equal(me?.userId, "u-1");
  assert.deepEqual(me?.appMetadata, {});
});

test("no verified claims, no caller", () => {
  assert.equal(caller(event({ authorization: `Bearer ${token}` }, null)), undefined);
  assert.equal(caller(null), undefined);
  assert.equal(caller({}), undefined);
});
