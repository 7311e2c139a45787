/**
 * End to end: how an answer is framed on the wire is the platform's to say, not the function's.
 * A function's `content-length`, `connection` or `transfer-encoding` (which frameworks behind
 * adapters copy from their own server) must neither cut its answer short nor leave bytes on a
 * kept-alive connection, where the client would read them as the answer to its next request.
 * Each surface is called twice on one connection: both answers must be the function's, whole.
 * An answer the wire cannot carry as written (a 1xx status, a header value outside ASCII) is the
 * function's malformed answer: a 502 with the reason in its log, never a hang or a 500. And a
 * URL's CORS lists, which go out in every preflight's headers, must be header names when set.
 */
import assert from "node:assert/strict";
import { Agent, request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { type ApiGatewayV2Client, CreateApiCommand } from "@aws-sdk/client-apigatewayv2";
import { CreateFunctionUrlConfigCommand, UpdateFunctionUrlConfigCommand } from "@aws-sdk/client-lambda";
import { apiGatewayClient } from "./helpers/apigateway.js";
import { createNodeFunction, startPlatform, type TestPlatform } from "./helpers/platform.js";

/** A body whose first three bytes are what a `content-length: 3` would let through; the rest looks like an answer. */
const SMUGGLED = "abcHTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 6\r\n\r\nforged";

const LYING_HEADERS = `{
  "content-type": "text/plain", "Content-Length": "3", "Connection": "close",
  "Transfer-Encoding": "chunked", "Keep-Alive": "timeout=1", "x-kept": "yes",
}`;

const WHOLE = `export const handler = async () => ({
  statusCode: 200, headers: ${LYING_HEADERS}, body: ${JSON.stringify(SMUGGLED)},
});`;

const STREAMED = `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const out = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: ${LYING_HEADERS} });
  out.write(${JSON.stringify(SMUGGLED.slice(0, 10))});
  await new Promise((r) => setTimeout(r, 20));
  out.end(${JSON.stringify(SMUGGLED.slice(10))});
});`;

/** Answers `?status=N` or `?header=VALUE` as asked: what the wire cannot carry. */
const UNSENDABLE = `export const handler = async (event) => {
  const q = event.queryStringParameters ?? {};
  return q.status ? { statusCode: Number(q.status), body: "x" } : { statusCode: 200, headers: { "x-name": q.header }, body: "x" };
};`;

const UNSENDABLE_STREAM = `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const q = event.queryStringParameters ?? {};
  const prelude = q.status ? { statusCode: Number(q.status) } : { statusCode: 200, headers: { "x-name": q.header } };
  const out = awslambda.HttpResponseStream.from(responseStream, prelude);
  out.end("x");
});`;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** Whether the request went on a connection an earlier one used. */
  readonly reused: boolean;
}

let t: TestPlatform;
let gw: ApiGatewayV2Client;
before(async () => {
  t = await startPlatform();
  gw = apiGatewayClient(t);
  await createNodeFunction(t.lambda, "frame-whole", WHOLE);
  await createNodeFunction(t.lambda, "frame-whole-2", WHOLE);
  await createNodeFunction(t.lambda, "frame-streamed", STREAMED);
  await createNodeFunction(t.lambda, "frame-unsendable", UNSENDABLE);
  await createNodeFunction(t.lambda, "frame-unsendable-stream", UNSENDABLE_STREAM);
});
after(async () => {
  gw.destroy();
  await t.close();
});

/** One GET of `url` through `agent`, its host sent as the Host header. */
function get(url: string, agent?: Agent): Promise<Answer> {
  const u = new URL(url);
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(
      {
        ...(agent ? { agent } : {}),
        host: "127.0.0.1",
        port: new URL(t.url).port,
        path: `${u.pathname}${u.search}`,
        headers: { host: u.host },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            reused: req.reusedSocket,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Two GETs of `url` in turn on one kept-alive connection. */
async function twiceOnOneConnection(url: string): Promise<[Answer, Answer]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await get(url, agent);
    return [first, await get(url, agent)];
  } finally {
    agent.destroy();
  }
}

async function urlOf(name: string, invokeMode: "BUFFERED" | "RESPONSE_STREAM"): Promise<string> {
  const out = await t.lambda.send(
    new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: "NONE", InvokeMode: invokeMode }),
  );
  return out.FunctionUrl!;
}

/** Both answers are the function's whole body on one connection, its other headers kept. */
function assertWhole([first, second]: [Answer, Answer], lengthHeader: boolean): void {
  for (const a of [first, second]) {
    assert.equal(a.status, 200);
    assert.equal(a.body, SMUGGLED);
    assert.equal(a.headers["x-kept"], "yes");
    assert.notEqual(a.headers.connection, "close");
    if (lengthHeader) assert.equal(a.headers["content-length"], String(Buffer.byteLength(SMUGGLED)));
    else assert.equal(a.headers["content-length"], undefined);
  }
  assert.equal(second.reused, true, "the second request went on the first one's connection");
}

describe("a function cannot frame its own answer", () => {
  test("a buffered function URL sends the body's real length and keeps the connection", async () => {
    assertWhole(await twiceOnOneConnection(await urlOf("frame-whole", "BUFFERED")), true);
  });

  test("a RESPONSE_STREAM URL whose function answers whole does the same", async () => {
    assertWhole(await twiceOnOneConnection(await urlOf("frame-whole-2", "RESPONSE_STREAM")), true);
  });

  test("a streamed prelude's content-length and connection are left out: the stream arrives whole", async () => {
    assertWhole(await twiceOnOneConnection(await urlOf("frame-streamed", "RESPONSE_STREAM")), false);
  });

  test("an HTTP API route does the same", async () => {
    const arn = `arn:aws:lambda:${t.platform.config.region}:${t.platform.config.accountId}:function:frame-whole`;
    const api = await gw.send(new CreateApiCommand({ Name: "framing", ProtocolType: "HTTP", Target: arn }));
    assertWhole(await twiceOnOneConnection(`${t.url}/execute-api/${api.ApiId}/anything`), true);
  });
});

describe("an answer the wire cannot carry is the function's 502, the reason in its log", () => {
  for (const [name, mode] of [
    ["frame-unsendable", "BUFFERED"],
    ["frame-unsendable-stream", "RESPONSE_STREAM"],
  ] as const)
    test(`a 1xx status or a header value outside ASCII (${mode})`, async () => {
      const url = await urlOf(name, mode);
      for (const [query, why] of [
        ["status=101", /statusCode 101 is informational/],
        ["status=103", /statusCode 103 is informational/],
        [
          `header=${encodeURIComponent("Zoë")}`,
          /header "x-name" has "ë" \(U\+00EB\) in its value; header values are ASCII/,
        ],
        [`header=${encodeURIComponent("☃")}`, /header "x-name" has "☃" \(U\+2603\)/],
      ] as const) {
        const answer = await get(`${url}?${query}`);
        assert.equal(answer.status, 502, query);
        assert.equal(answer.body, '{"Message":"Internal Server Error"}');
        const requestId = String(answer.headers["x-amzn-requestid"]);
        await t.platform.logs.flush();
        const lines = await t.platform.logs.query({ functionName: name, requestId, limit: 100 });
        assert.ok(
          lines.some((l) => why.test(l.message)),
          `${query}: ${lines.map((l) => l.message).join("\n")}`,
        );
      }
      // Percent-encoded, the same name travels as it is.
      const ok = await get(`${url}?header=${encodeURIComponent(encodeURIComponent("Zoë ☃"))}`);
      assert.equal(ok.status, 200);
      assert.equal(decodeURIComponent(String(ok.headers["x-name"])), "Zoë ☃");
    });
});

describe("a URL's CORS lists", () => {
  test("hold header names: one Node could not write in a preflight's headers is refused when set", async () => {
    await createNodeFunction(t.lambda, "frame-cors", WHOLE);
    await urlOf("frame-cors", "BUFFERED");
    for (const bad of ["x-☃", "x-bell\u0007", "a,b"])
      for (const Cors of [{ AllowHeaders: [bad] }, { ExposeHeaders: [bad] }])
        await assert.rejects(
          t.lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: "frame-cors", Cors })),
          (err: Error) => err.name === "InvalidParameterValueException" && /header names/.test(err.message),
          JSON.stringify(Cors),
        );
    const set = await t.lambda.send(
      new UpdateFunctionUrlConfigCommand({
        FunctionName: "frame-cors",
        Cors: { AllowOrigins: ["https://app.example.com"], AllowHeaders: ["*", "x-api-key"] },
      }),
    );
    assert.deepEqual(set.Cors?.AllowHeaders, ["*", "x-api-key"]);
  });
});
