/**
 * End to end through the `nimbus` command: function URLs created, listed, updated, called and
 * removed (`nimbus urls …`), and `nimbus invoke NAME --path …`, against a real platform.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { nimbus } from "./helpers/cli.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";

let t: TestPlatform;
let cli: (...args: string[]) => ReturnType<typeof nimbus>;

before(async () => {
  t = await startPlatform();
  cli = (...args) => nimbus(t.dataDir, ...args);
  await createNodeFunction(
    t.lambda,
    "cli-url",
    `export const handler = async (event) => ({
      statusCode: event.rawPath === "/missing" ? 404 : 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method: event.requestContext.http.method, path: event.rawPath,
        query: event.rawQueryString, body: event.body ?? null, custom: event.headers["x-custom"] ?? null,
        signed: event.requestContext.authorizer !== undefined }),
    });`,
  );
});

after(async () => {
  await t.close();
});

describe("nimbus urls", () => {
  test("create prints the URL; ls and get show it; call sends a request and prints the body", async () => {
    const created = await cli("urls", "create", "cli-url", "--cors-origin", "http://localhost:5173");
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout.trim(), /^http:\/\/[a-z2-7]{32}\.lambda-url\.us-east-1\.localhost:\d+\/$/);

    const listed = await cli("urls", "ls", "cli-url");
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^QUALIFIER\s+URL\s+AUTH\s+MODE\s+CORS/m);
    assert.match(listed.stdout, /\$LATEST\s+http:\/\/\S+\s+NONE\s+BUFFERED\s+yes/);

    const called = await cli(
      "urls",
      "call",
      "cli-url",
      "/items/7?x=1",
      "-X",
      "PUT",
      "-H",
      "x-custom: hi",
      "-d",
      "payload",
    );
    assert.equal(called.code, 0, called.stderr);
    assert.match(called.stderr, /^HTTP 200 /);
    assert.deepEqual(JSON.parse(called.stdout), {
      method: "PUT",
      path: "/items/7",
      query: "x=1",
      body: "payload",
      custom: "hi",
      signed: false,
    });

    const missing = await cli("urls", "call", "cli-url", "/missing");
    assert.equal(missing.code, 1, "a 4xx answer exits 1");
    assert.match(missing.stderr, /^HTTP 404 /);
  });

  test("update to iam: calls are then signed with the platform's key; rm removes the URL", async () => {
    const updated = await cli("urls", "update", "cli-url", "--auth", "iam", "--no-cors", "--json");
    assert.equal(updated.code, 0, updated.stderr);
    const config = JSON.parse(updated.stdout) as { AuthType: string; Cors?: unknown };
    assert.equal(config.AuthType, "AWS_IAM");
    assert.equal(config.Cors, undefined);

    const invoked = await cli("invoke", "cli-url", "--path", "/via-invoke", "--payload", "{}");
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.deepEqual(JSON.parse(invoked.stdout), {
      method: "POST",
      path: "/via-invoke",
      query: "",
      body: "{}",
      custom: null,
      signed: true,
    });

    const removed = await cli("urls", "rm", "cli-url");
    assert.equal(removed.code, 0, removed.stderr);
    const gone = await cli("urls", "get", "cli-url");
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /ResourceNotFoundException/);
  });

  test("a bad option value is a usage error that says what is expected (exit 2)", async () => {
    const res = await cli("urls", "create", "cli-url", "--auth", "open");
    assert.equal(res.code, 2);
    assert.match(res.stderr, /expected none or iam/);
  });
});
