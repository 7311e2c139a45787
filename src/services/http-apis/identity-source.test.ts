import assert from "node:assert/strict";
import { test } from "node:test";
import { NimbusError } from "../../shared/errors.js";
import { checkIdentitySource, evaluateIdentitySource, parseIdentitySource } from "./identity-source.js";

const REQUEST = {
  headers: { authorization: "Bearer t", "x-api-key": "k" },
  queryStringParameters: { token: "q1,q2" },
  context: { "identity.sourceIp": "203.0.113.9", requestId: "r-1" },
  stageVariables: { tenant: "acme" },
};

function read(expression: string): string | undefined {
  return evaluateIdentitySource(parseIdentitySource(expression), REQUEST);
}

test("each kind of expression reads its part of the request", () => {
  assert.equal(read("$request.header.Authorization"), "Bearer t");
  assert.equal(read("$request.header.X-Api-Key"), "k");
  assert.equal(read("$request.querystring.token"), "q1,q2");
  assert.equal(read("$context.identity.sourceIp"), "203.0.113.9");
  assert.equal(read("$context.requestId"), "r-1");
  assert.equal(read("$stageVariables.tenant"), "acme");
});

test("what is absent or empty reads as missing", () => {
  assert.equal(read("$request.header.Cookie"), undefined);
  assert.equal(read("$request.querystring.other"), undefined);
  assert.equal(read("$stageVariables.none"), undefined);
  assert.equal(read("$request.header.constructor"), undefined);
  const empty = parseIdentitySource("$request.header.X");
  assert.equal(evaluateIdentitySource(empty, { headers: { x: "" } }), undefined);
  assert.equal(evaluateIdentitySource(parseIdentitySource("$stageVariables.a"), { headers: {} }), undefined);
});

test("malformed expressions are refused with what is expected", () => {
  const error = (e: string) => {
    const c = checkIdentitySource(e);
    return "error" in c ? c.error : "";
  };
  assert.match(error("Authorization"), /must be \$request\.header\.NAME, \$request\.querystring\.NAME/);
  assert.match(error("$request.header."), /names no header/);
  assert.match(error("$context.authorizer.principalId"), /unknown context variable: expected one of/);
  assert.throws(
    () => parseIdentitySource("$request.body.x"),
    (err: unknown) => err instanceof NimbusError && err.code === "InvalidParameter",
  );
});
