/**
 * End to end: function URLs. Configured through @aws-sdk/client-lambda, called as a browser,
 * curl or fetch would: by host (`{id}.lambda-url.{region}.localhost`, sent here with an explicit
 * Host header since Node does not resolve `*.localhost`) and by path (`/lambda-url/{id}/…`).
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateAliasCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  LambdaClient,
  ListFunctionUrlConfigsCommand,
  PublishVersionCommand,
  UpdateFunctionUrlConfigCommand,
} from "@aws-sdk/client-lambda";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { createPlatform } from "../src/platform/create-platform.js";
import { loadConfig } from "../src/shared/config.js";
import { silentLogger } from "../src/shared/logger.js";
import { Sha256 } from "../src/shared/sha256.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";
import { testStore } from "./helpers/store.js";

let t: TestPlatform;
before(async () => {
  t = await startPlatform();
});
after(async () => {
  await t.close();
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** A request to `url` on the platform's own port, its host sent as the Host header. */
function call(
  url: string,
  init: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string } = {},
  port = new URL(t.url).port,
): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: init.method ?? "GET",
        path: `${u.pathname}${u.search}`,
        headers: { host: u.host, ...init.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

const json = (a: Answer) => JSON.parse(a.body.toString("utf8")) as Record<string, unknown>;

/** A function answering with the event it got, in the 2.0 response shape. */
const ECHO = `export const handler = async (event) => ({
  statusCode: 201,
  headers: { "content-type": "application/json", "x-echo": "yes" },
  cookies: ["session=abc; Path=/", "theme=dark"],
  body: JSON.stringify(event),
});`;

async function urlFor(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const out = await t.lambda.send(
    new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: "NONE", ...extra }),
  );
  assert.ok(out.FunctionUrl);
  return out.FunctionUrl;
}

describe("the URL configuration API", () => {
  test("create, get, list, update and delete speak Lambda's shapes, and FunctionUrl is an address that answers", async () => {
    await createNodeFunction(t.lambda, "url-config", ECHO);
    const created = await t.lambda.send(
      new CreateFunctionUrlConfigCommand({ FunctionName: "url-config", AuthType: "NONE" }),
    );
    const port = new URL(t.url).port;
    assert.match(
      created.FunctionUrl!,
      new RegExp(`^http://[a-z2-7]{32}\\.lambda-url\\.us-east-1\\.localhost:${port}/$`),
    );
    assert.equal(created.FunctionArn, "arn:aws:lambda:us-east-1:000000000000:function:url-config");
    assert.equal(created.AuthType, "NONE");
    assert.equal(created.InvokeMode, "BUFFERED");
    assert.ok(created.CreationTime && !Number.isNaN(Date.parse(created.CreationTime)));
    assert.equal((await call(created.FunctionUrl!)).status, 201);

    const got = await t.lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: "url-config" }));
    assert.equal(got.FunctionUrl, created.FunctionUrl);
    assert.ok(got.LastModifiedTime);

    const updated = await t.lambda.send(
      new UpdateFunctionUrlConfigCommand({
        FunctionName: "url-config",
        AuthType: "AWS_IAM",
        Cors: { AllowOrigins: ["http://app.localhost:5173"], MaxAge: 60 },
      }),
    );
    assert.equal(updated.FunctionUrl, created.FunctionUrl, "the address stays across updates");
    assert.equal(updated.AuthType, "AWS_IAM");
    assert.deepEqual(updated.Cors, { AllowOrigins: ["http://app.localhost:5173"], MaxAge: 60 });

    const listed = await t.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: "url-config" }));
    assert.deepEqual(
      listed.FunctionUrlConfigs?.map((c) => [c.FunctionUrl, c.AuthType]),
      [[created.FunctionUrl, "AWS_IAM"]],
    );

    await t.lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: "url-config" }));
    await assert.rejects(t.lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: "url-config" })), {
      name: "ResourceNotFoundException",
    });
    const gone = await call(created.FunctionUrl!);
    assert.equal(gone.status, 404);
    assert.deepEqual(json(gone), { Message: "Not Found" });
  });

  test("bad settings are refused with what was wrong; a second URL for one qualifier is a conflict", async () => {
    await createNodeFunction(t.lambda, "url-bad", ECHO);
    await assert.rejects(
      t.lambda.send(
        new CreateFunctionUrlConfigCommand({ FunctionName: "url-bad", AuthType: "OPEN" as "NONE" }),
      ),
      (err: Error) => err.name === "InvalidParameterValueException" && /NONE, AWS_IAM/.test(err.message),
    );
    await assert.rejects(
      t.lambda.send(
        new CreateFunctionUrlConfigCommand({
          FunctionName: "url-bad",
          AuthType: "NONE",
          Cors: { MaxAge: 86_401 },
        }),
      ),
      (err: Error) => err.name === "InvalidParameterValueException" && /86400/.test(err.message),
    );
    await assert.rejects(
      t.lambda.send(
        new CreateFunctionUrlConfigCommand({
          FunctionName: "url-bad",
          AuthType: "NONE",
          Cors: { AllowOrigins: ["example.com/path"] },
        }),
      ),
      (err: Error) => err.name === "InvalidParameterValueException" && /origins/.test(err.message),
    );
    await assert.rejects(
      t.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: "url-missing", AuthType: "NONE" })),
      { name: "ResourceNotFoundException" },
    );
    await urlFor("url-bad");
    await assert.rejects(
      t.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: "url-bad", AuthType: "AWS_IAM" })),
      { name: "ResourceConflictException" },
    );
    // The refused calls left nothing behind but the one URL.
    const listed = await t.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: "url-bad" }));
    assert.equal(listed.FunctionUrlConfigs?.length, 1);
    assert.equal(listed.FunctionUrlConfigs?.[0]?.AuthType, "NONE");
  });

  test("a URL on an alias runs the version the alias names; deleting the function takes its URLs", async () => {
    await createNodeFunction(t.lambda, "url-alias", `export const handler = async () => "v1";`);
    const v1 = await t.lambda.send(new PublishVersionCommand({ FunctionName: "url-alias" }));
    await t.lambda.send(
      new CreateAliasCommand({ FunctionName: "url-alias", Name: "live", FunctionVersion: v1.Version }),
    );
    const live = await urlFor("url-alias", { Qualifier: "live" });
    const latest = await urlFor("url-alias");
    assert.notEqual(live, latest);
    const answer = await call(live);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), '"v1"');
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: "url-alias" }));
    assert.equal((await call(live)).status, 404);
    assert.equal((await call(latest)).status, 404);
  });
});

describe("requests and answers", () => {
  let url: string;
  before(async () => {
    await createNodeFunction(t.lambda, "url-echo", ECHO);
    url = await urlFor("url-echo");
  });

  test("the function gets payload 2.0: raw path and query, cookies, lower-cased comma-joined headers", async () => {
    const answer = await call(`${url}my/path?a=1&a=2&b=x%20y`, {
      method: "POST",
      headers: { "X-Multi": ["v1", "v2"], Cookie: "c1=v1; c2=v2", "content-type": "application/json" },
      body: JSON.stringify({ hello: "world" }),
    });
    assert.equal(answer.status, 201);
    assert.equal(answer.headers["x-echo"], "yes");
    assert.deepEqual(answer.headers["set-cookie"], ["session=abc; Path=/", "theme=dark"]);
    const event = json(answer);
    // The id the function sees is the invocation's, the one its logs and the response carry.
    assert.equal(
      (event.requestContext as { requestId: string }).requestId,
      answer.headers["x-amzn-requestid"],
    );
    assert.equal(event.version, "2.0");
    assert.equal(event.routeKey, "$default");
    assert.equal(event.rawPath, "/my/path");
    assert.equal(event.rawQueryString, "a=1&a=2&b=x%20y");
    assert.deepEqual(event.queryStringParameters, { a: "1,2", b: "x y" });
    assert.deepEqual(event.cookies, ["c1=v1", "c2=v2"]);
    const headers = event.headers as Record<string, string>;
    assert.equal(headers["x-multi"], "v1,v2");
    assert.equal(headers["content-type"], "application/json");
    assert.equal(headers.cookie, undefined);
    assert.equal(event.body, JSON.stringify({ hello: "world" }));
    assert.equal(event.isBase64Encoded, false);
    const ctx = event.requestContext as Record<string, unknown>;
    const id = new URL(url).hostname.split(".")[0];
    assert.equal(ctx.apiId, id);
    assert.equal(ctx.domainPrefix, id);
    assert.equal(ctx.domainName, new URL(url).hostname);
    assert.equal(ctx.accountId, "000000000000");
    assert.equal(typeof ctx.timeEpoch, "number");
    assert.equal(ctx.authorizer, undefined, "no IAM identity on an open URL");
    const http = ctx.http as Record<string, unknown>;
    assert.equal(http.method, "POST");
    assert.equal(http.path, "/my/path");
    assert.equal(http.sourceIp, "127.0.0.1");
  });

  test("the path form reaches the same function, with the path after its prefix", async () => {
    const id = new URL(url).hostname.split(".")[0];
    const res = await fetch(`${t.url}/lambda-url/${id}/items/7?x=1`);
    assert.equal(res.status, 201);
    const event = (await res.json()) as Record<string, unknown>;
    assert.equal(event.rawPath, "/items/7");
    assert.equal(event.rawQueryString, "x=1");
    const root = await fetch(`${t.url}/lambda-url/${id}`);
    assert.equal(((await root.json()) as Record<string, unknown>).rawPath, "/");
  });

  test("binary bodies travel base64 both ways", async () => {
    await createNodeFunction(
      t.lambda,
      "url-binary",
      `export const handler = async (event) => ({
        statusCode: 200,
        headers: { "content-type": "application/octet-stream" },
        isBase64Encoded: true,
        body: Buffer.from(Buffer.from(event.body, "base64").reverse()).toString("base64"),
      });`,
    );
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const answer = await call(await urlFor("url-binary"), {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, Buffer.from(bytes).reverse());
  });

  test("a result without statusCode is a 200 JSON body, a string included", async () => {
    await createNodeFunction(
      t.lambda,
      "url-plain",
      `export const handler = async () => ({ ok: true, n: 1 });`,
    );
    const plain = await call(await urlFor("url-plain"));
    assert.equal(plain.status, 200);
    assert.match(String(plain.headers["content-type"]), /^application\/json/);
    assert.deepEqual(json(plain), { ok: true, n: 1 });

    await createNodeFunction(t.lambda, "url-string", `export const handler = async () => "hello there";`);
    const str = await call(await urlFor("url-string"));
    assert.equal(str.status, 200);
    // As on Lambda: the JSON text of the string, quotes and all.
    assert.equal(str.body.toString(), '"hello there"');
    assert.match(String(str.headers["content-type"]), /^application\/json/);
  });

  test("a function that fails, or answers a malformed response, gives a 502; the reason is in its log", async () => {
    await createNodeFunction(
      t.lambda,
      "url-throws",
      `export const handler = async () => { throw new Error("boom"); };`,
    );
    const thrown = await call(await urlFor("url-throws"));
    assert.equal(thrown.status, 502);
    assert.deepEqual(json(thrown), { Message: "Internal Server Error" });
    assert.ok(thrown.headers["x-amzn-requestid"]);

    await createNodeFunction(
      t.lambda,
      "url-malformed",
      `export const handler = async () => ({ statusCode: "teapot", body: "x" });`,
    );
    const malformed = await call(await urlFor("url-malformed"));
    assert.equal(malformed.status, 502);
    const requestId = String(malformed.headers["x-amzn-requestid"]);
    await t.platform.logs.flush();
    const lines = await t.platform.logs.query({ functionName: "url-malformed", requestId, limit: 100 });
    assert.ok(
      lines.some((l) => /malformed/.test(l.message) && /statusCode/.test(l.message)),
      lines.map((l) => l.message).join("\n"),
    );
    // The platform and the function stay up.
    assert.equal((await call(url)).status, 201);
  });

  test("an unknown URL id is a 404 that says nothing of other URLs; a body over 6 MB is a 413", async () => {
    const unknown = await call(`http://${"a".repeat(32)}.lambda-url.us-east-1.localhost:1/`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(json(unknown), { Message: "Not Found" });
    const big = await call(url, { method: "POST", body: Buffer.alloc(6 * 1024 * 1024 + 1, 97) });
    assert.equal(big.status, 413);
  });
});

describe("auth and CORS", () => {
  test("an AWS_IAM URL refuses unsigned calls and serves calls signed with the platform's key", async () => {
    await createNodeFunction(t.lambda, "url-iam", ECHO);
    const url = await urlFor("url-iam", { AuthType: "AWS_IAM" });
    const unsigned = await call(`${url}x`);
    assert.equal(unsigned.status, 403);
    assert.deepEqual(json(unsigned), { Message: "Forbidden" });

    const u = new URL(`${url}x?q=1`);
    const signer = new SignatureV4({
      service: "lambda",
      region: "us-east-1",
      credentials: t.platform.credentials,
      sha256: Sha256,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: "POST",
        protocol: "http:",
        hostname: u.hostname,
        port: Number(u.port),
        path: u.pathname,
        query: { q: "1" },
        headers: { host: u.host, "content-type": "text/plain" },
        body: "signed body",
      }),
    );
    const answer = await call(u.toString(), {
      method: "POST",
      headers: signed.headers as Record<string, string>,
      body: "signed body",
    });
    assert.equal(answer.status, 201, answer.body.toString());
    const ctx = json(answer).requestContext as { authorizer?: { iam?: { accessKey?: string } } };
    assert.equal(ctx.authorizer?.iam?.accessKey, t.platform.credentials.accessKeyId);

    // A signature over another body does not pass.
    const tampered = await call(u.toString(), {
      method: "POST",
      headers: signed.headers as Record<string, string>,
      body: "other body!",
    });
    assert.equal(tampered.status, 403);
  });

  test("a browser's preflight is answered by the platform; allowed origins get CORS headers, others none", async () => {
    await createNodeFunction(t.lambda, "url-cors", ECHO);
    const url = await urlFor("url-cors", {
      AuthType: "AWS_IAM",
      Cors: {
        AllowOrigins: ["http://app.localhost:5173"],
        AllowMethods: ["POST", "GET"],
        AllowHeaders: ["content-type", "x-custom"],
        ExposeHeaders: ["x-echo"],
        AllowCredentials: true,
        MaxAge: 600,
      },
    });
    const preflight = await call(url, {
      method: "OPTIONS",
      headers: {
        origin: "http://app.localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-custom",
      },
    });
    assert.ok(preflight.status === 200 || preflight.status === 204, `preflight answered ${preflight.status}`);
    assert.equal(preflight.headers["access-control-allow-origin"], "http://app.localhost:5173");
    assert.match(String(preflight.headers["access-control-allow-methods"]), /POST/);
    assert.match(String(preflight.headers["access-control-allow-headers"]), /x-custom/);
    assert.equal(preflight.headers["access-control-allow-credentials"], "true");
    assert.equal(preflight.headers["access-control-max-age"], "600");

    const other = await call(url, {
      method: "OPTIONS",
      headers: { origin: "http://evil.localhost", "access-control-request-method": "POST" },
    });
    assert.equal(other.headers["access-control-allow-origin"], undefined);
    // Neither preflight ran the function.
    await t.platform.logs.flush();
    const started = await t.platform.logs.query({ functionName: "url-cors", contains: "START", limit: 10 });
    assert.deepEqual(started, []);

    // The actual request is signed (AWS_IAM) and gets the allow and expose headers.
    await t.lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: "url-cors", AuthType: "NONE" }));
    const actual = await call(url, {
      method: "POST",
      headers: { origin: "http://app.localhost:5173" },
      body: "{}",
    });
    assert.equal(actual.status, 201);
    assert.equal(actual.headers["access-control-allow-origin"], "http://app.localhost:5173");
    assert.match(String(actual.headers["access-control-expose-headers"]), /x-echo/);
    const foreign = await call(url, {
      method: "POST",
      headers: { origin: "http://evil.localhost" },
      body: "{}",
    });
    assert.equal(foreign.status, 201);
    assert.equal(foreign.headers["access-control-allow-origin"], undefined);
  });
});

describe("across a restart", () => {
  test("a URL answers at the same address after the platform restarts on the same store", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "nimbus-url-restart-"));
    chmodSync(dataDir, 0o711);
    const { store, drop } = await testStore();
    const start = async () => {
      const config = loadConfig({}, {}, { port: 0, dataDir, store });
      const platform = await createPlatform(config, { logger: silentLogger });
      return { platform, port: new URL(await platform.listen()).port };
    };
    try {
      const first = await start();
      const client = new LambdaClient({
        endpoint: first.platform.url(),
        region: "us-east-1",
        credentials: first.platform.credentials,
        maxAttempts: 1,
      });
      await createNodeFunction(
        client,
        "url-restart",
        `export const handler = async () => ({ statusCode: 200, body: "still here" });`,
      );
      const { FunctionUrl } = await client.send(
        new CreateFunctionUrlConfigCommand({ FunctionName: "url-restart", AuthType: "NONE" }),
      );
      client.destroy();
      await first.platform.close();
      const second = await start();
      try {
        const answer = await call(FunctionUrl!, {}, second.port);
        assert.equal(answer.status, 200);
        assert.equal(answer.body.toString(), "still here");
      } finally {
        await second.platform.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await drop();
    }
  });
});

describe("RESPONSE_STREAM URLs", () => {
  test("bytes reach the caller as the function writes them, with the status, headers and cookies of its prelude", async () => {
    await createNodeFunction(
      t.lambda,
      "url-stream",
      `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
        const out = awslambda.HttpResponseStream.from(responseStream, {
          statusCode: 201, headers: { "content-type": "text/plain", "x-streamed": "yes" }, cookies: ["a=1"],
        });
        out.write("first;");
        await new Promise((r) => setTimeout(r, 400));
        out.write("second");
        out.end();
      });`,
    );
    const url = await urlFor("url-stream", { InvokeMode: "RESPONSE_STREAM" });
    const u = new URL(url);
    const arrivals: Array<{ at: number; text: string }> = [];
    const answer = await new Promise<{ status: number; headers: Record<string, unknown> }>(
      (resolve, reject) => {
        const req = httpRequest(
          { host: "127.0.0.1", port: new URL(t.url).port, path: "/", headers: { host: u.host } },
          (res) => {
            res.on("data", (c: Buffer) => arrivals.push({ at: performance.now(), text: c.toString() }));
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers }));
          },
        );
        req.on("error", reject);
        req.end();
      },
    );
    assert.equal(answer.status, 201);
    assert.equal(answer.headers["x-streamed"], "yes");
    assert.deepEqual(answer.headers["set-cookie"], ["a=1"]);
    assert.equal(arrivals.map((a) => a.text).join(""), "first;second");
    // The first write arrived on its own, well before the function's last one (400 ms later).
    assert.equal(arrivals[0]?.text, "first;");
    assert.ok(arrivals.at(-1)!.at - arrivals[0]!.at >= 300, JSON.stringify(arrivals));
  });

  test("a streamed URL whose function answers whole, or fails, follows the buffered rules", async () => {
    await createNodeFunction(
      t.lambda,
      "url-stream-whole",
      `export const handler = async () => ({ statusCode: 202, body: "whole" });`,
    );
    const whole = await call(await urlFor("url-stream-whole", { InvokeMode: "RESPONSE_STREAM" }));
    assert.equal(whole.status, 202);
    assert.equal(whole.body.toString(), "whole");
    await createNodeFunction(
      t.lambda,
      "url-stream-throws",
      `export const handler = async () => { throw new Error("no"); };`,
    );
    const thrown = await call(await urlFor("url-stream-throws", { InvokeMode: "RESPONSE_STREAM" }));
    assert.equal(thrown.status, 502);
    assert.deepEqual(json(thrown), { Message: "Internal Server Error" });
  });
});
