import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NimbusError } from "../../shared/errors.js";
import { type AuthPolicy, createAuthenticator } from "./principal.js";

const CREDS = { accessKeyId: "AKIDPRINCIPALTEST", secretAccessKey: "principal-test-secret" };
const verifying = createAuthenticator("verify", CREDS, () => Date.UTC(2026, 11, 1));
const open = createAuthenticator("off", CREDS, () => Date.UTC(2026, 11, 1));
const at = (url: string, headers: Record<string, string> = {}) => ({
  raw: new Request(url, { headers }),
  url,
});
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});
const code = (c: string) => (err: unknown) => err instanceof NimbusError && err.code === c;

describe("the platform's key", () => {
  const lambda: AuthPolicy = { kind: "platform-key", service: "lambda" };
  const scrape: AuthPolicy = { kind: "platform-key", service: "lambda", basic: true };

  test("as HTTP Basic, only where the policy allows it", async () => {
    const req = at("http://localhost/metrics", basic(CREDS.accessKeyId, CREDS.secretAccessKey));
    assert.deepEqual(await verifying.authenticate(scrape, req), {
      kind: "platform",
      accessKeyId: CREDS.accessKeyId,
      via: "basic",
    });
    await assert.rejects(verifying.authenticate(lambda, req), code("IncompleteSignature"));
    await assert.rejects(
      verifying.authenticate(scrape, at("http://localhost/metrics", basic(CREDS.accessKeyId, "guess"))),
      code("UnrecognizedClient"),
    );
  });

  test("is required: an unsigned request has no Principal", async () => {
    await assert.rejects(
      verifying.authenticate(lambda, at("http://localhost/x")),
      code("MissingAuthenticationToken"),
    );
  });

  test("with auth off, every caller is taken for the platform's operator", async () => {
    assert.deepEqual(await open.authenticate(lambda, at("http://localhost/x")), {
      kind: "platform",
      accessKeyId: CREDS.accessKeyId,
      via: "auth-off",
    });
  });
});

test("a link is checked by its own verifier, auth off or not", async () => {
  const link: AuthPolicy = {
    kind: "link",
    verify: (url) => {
      if (url.searchParams.get("sig") !== "ok") throw new NimbusError("InvalidSignature", "bad link");
      return url.pathname.slice(1);
    },
  };
  assert.deepEqual(await open.authenticate(link, at("http://localhost/pkg?sig=ok")), {
    kind: "link",
    resource: "pkg",
  });
  await assert.rejects(open.authenticate(link, at("http://localhost/pkg?sig=no")), code("InvalidSignature"));
});

test("a user's token is taken from Authorization: Bearer and given to the policy's verifier", async () => {
  const jwt: AuthPolicy = {
    kind: "jwt",
    verify: async (token) => ({ kind: "user", userId: `user-of-${token}`, claims: { sub: token } }),
  };
  assert.deepEqual(await verifying.authenticate(jwt, at("http://app/x", { authorization: "Bearer t0k" })), {
    kind: "user",
    userId: "user-of-t0k",
    claims: { sub: "t0k" },
  });
  await assert.rejects(verifying.authenticate(jwt, at("http://app/x")), code("MissingAuthenticationToken"));
});

test("an API key is read from the policy's header and looked up; an unknown key is refused", async () => {
  const apiKey: AuthPolicy = {
    kind: "api-key",
    header: "x-api-key",
    lookup: async (key) => (key === "k1" ? { kind: "api-key", keyId: "key-1" } : undefined),
  };
  assert.deepEqual(await verifying.authenticate(apiKey, at("http://app/x", { "x-api-key": "k1" })), {
    kind: "api-key",
    keyId: "key-1",
  });
  await assert.rejects(
    verifying.authenticate(apiKey, at("http://app/x", { "x-api-key": "k2" })),
    code("UnrecognizedClient"),
  );
  await assert.rejects(
    verifying.authenticate(apiKey, at("http://app/x")),
    code("MissingAuthenticationToken"),
  );
});
