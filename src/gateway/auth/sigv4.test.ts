import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Sha256 } from "@aws-crypto/sha256-js";
import { InvokeCommand, LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { type SigV4Options, type SigV4Request, type SigV4Result, verifySigV4 } from "./sigv4.js";

const ACCESS_KEY = "AKIDNIMBUSTEST";
const SECRET = "nimbus-test-secret";
const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const MINUTE_MS = 60_000;

const secretFor = (ak: string) => (ak === ACCESS_KEY ? SECRET : undefined);
const optionsAt = (service: string, nowMs: number): SigV4Options => ({
  service,
  secretFor,
  now: () => nowMs,
});
const sha256Hex = (body: string) => createHash("sha256").update(body).digest("hex");

/** Encodes a query value the way the SDK's HTTP handler puts it on the wire. */
const wireEncode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

type Signed = Awaited<ReturnType<SignatureV4["presign"]>>;

/** Turns a request signed by the SDK into what our HTTP layer would hand the verifier. */
function asReceived(signed: Signed, bodySha256Hex?: string): SigV4Request {
  const headers = new Map(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const rawQuery = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v ?? ""]).map((x) => `${wireEncode(k)}=${wireEncode(x)}`))
    .join("&");
  return {
    method: signed.method,
    rawPath: signed.path,
    rawQuery,
    header: (n) => headers.get(n),
    bodySha256Hex,
  };
}

function signer(service: string, opts: { secret?: string; applyChecksum?: boolean } = {}): SignatureV4 {
  return new SignatureV4({
    service,
    region: "eu-west-1",
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: opts.secret ?? SECRET },
    sha256: Sha256,
    uriEscapePath: service !== "s3",
    applyChecksum: opts.applyChecksum ?? true,
  });
}

function request(path: string, headers: Record<string, string> = {}, method = "GET", body?: string) {
  return new HttpRequest({
    method,
    hostname: "nimbus.test",
    path,
    headers: { host: "nimbus.test", ...headers },
    body,
  });
}

function assertFails(result: SigV4Result, reason: string): void {
  assert.equal(result.ok, false, "expected verification to fail");
  if (!result.ok) assert.equal(result.reason, reason, result.message);
}

describe("SigV4 against the real Lambda client over HTTP", () => {
  let server: Server;
  let endpoint: string;
  const seen: { rawPath: string; rawQuery: string; result: SigV4Result }[] = [];

  async function handle(req: IncomingMessage, body: Buffer): Promise<SigV4Result> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? "" : url.slice(q + 1);
    const result = await verifySigV4(
      {
        method: req.method ?? "GET",
        rawPath,
        rawQuery,
        header: (name) => {
          const v = req.headers[name];
          return Array.isArray(v) ? v.join(",") : v;
        },
        bodySha256Hex: createHash("sha256").update(body).digest("hex"),
      },
      { service: "lambda", secretFor, now: () => Date.now() },
    );
    seen.push({ rawPath, rawQuery, result });
    return result;
  }

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void handle(req, Buffer.concat(chunks)).then((result) => {
          if (result.ok) {
            res.writeHead(200, { "content-type": "application/json" }).end("{}");
          } else {
            res
              .writeHead(403, {
                "content-type": "application/json",
                "x-amzn-ErrorType": "InvalidSignatureException",
              })
              .end(JSON.stringify({ message: result.message }));
          }
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = (accessKeyId = ACCESS_KEY, secretAccessKey = SECRET) =>
    new LambdaClient({
      endpoint,
      region: "us-east-1",
      maxAttempts: 1,
      credentials: { accessKeyId, secretAccessKey },
    });

  const lastSeen = () => {
    const last = seen.at(-1);
    assert.ok(last, "the server saw no request");
    return last;
  };

  it("accepts an Invoke of a function by plain name with a JSON payload", async () => {
    const out = await client().send(
      new InvokeCommand({ FunctionName: "resize", Payload: Buffer.from('{"w":1}') }),
    );
    assert.equal(out.StatusCode, 200);
    assert.deepEqual(lastSeen().result, { ok: true, accessKeyId: ACCESS_KEY, region: "us-east-1" });
  });

  it("accepts an Invoke addressed by a full alias ARN, whose path is percent-encoded", async () => {
    const arn = "arn:aws:lambda:us-east-1:123456789012:function:resize:alias1";
    await client().send(new InvokeCommand({ FunctionName: arn }));
    const { rawPath, result } = lastSeen();
    assert.equal(rawPath, `/2015-03-31/functions/${encodeURIComponent(arn)}/invocations`);
    assert.ok(rawPath.includes("%3A"));
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  it("accepts an Invoke with a Qualifier in the query string", async () => {
    await client().send(new InvokeCommand({ FunctionName: "resize", Qualifier: "prod" }));
    const { rawQuery, result } = lastSeen();
    assert.equal(rawQuery, "Qualifier=prod");
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  it("accepts ListFunctions with a Marker containing a space and a slash", async () => {
    await client().send(new ListFunctionsCommand({ Marker: "a b/c" }));
    const { rawQuery, result } = lastSeen();
    assert.equal(rawQuery, "Marker=a%20b%2Fc");
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  it("refuses a client signing with the wrong secret as a signature mismatch", async () => {
    await assert.rejects(
      client(ACCESS_KEY, "not-the-secret").send(new ListFunctionsCommand({})),
      (err: Error) => {
        assert.equal(err.name, "InvalidSignatureException");
        return true;
      },
    );
    assertFails(lastSeen().result, "mismatch");
  });

  it("refuses a client whose access key id is unknown", async () => {
    await assert.rejects(client("AKIDNOBODY", SECRET).send(new InvokeCommand({ FunctionName: "resize" })), {
      name: "InvalidSignatureException",
    });
    assertFails(lastSeen().result, "unknown-key");
  });
});

describe("SigV4 for S3 requests signed by SignatureV4", () => {
  const s3Path = "/bkt/dir/with%20space%2Bplus%25pct/%C3%BCn%C3%AF.txt";
  const body = "hello";

  it("verifies a header-signed PUT whose key has a space, plus, percent and non-ASCII characters", async () => {
    const signed = await signer("s3").sign(
      request(s3Path, { "x-amz-content-sha256": sha256Hex(body) }, "PUT"),
      {
        signingDate: new Date(T0),
      },
    );
    const result = await verifySigV4(asReceived(signed, sha256Hex(body)), optionsAt("s3", T0));
    assert.deepEqual(result, { ok: true, accessKeyId: ACCESS_KEY, region: "eu-west-1" });
  });

  it("refuses the same S3 request when the key in the path was changed after signing", async () => {
    const signed = await signer("s3").sign(
      request(s3Path, { "x-amz-content-sha256": sha256Hex(body) }, "PUT"),
      {
        signingDate: new Date(T0),
      },
    );
    const received = { ...asReceived(signed, sha256Hex(body)), rawPath: s3Path.replace("%2Bplus", "+plus") };
    assertFails(await verifySigV4(received, optionsAt("s3", T0)), "mismatch");
  });

  it("verifies a streaming S3 upload whose payload hash is the STREAMING-UNSIGNED-PAYLOAD-TRAILER marker", async () => {
    const headers = {
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      "x-amz-decoded-content-length": "5",
    };
    const signed = await signer("s3").sign(request(s3Path, headers, "PUT"), { signingDate: new Date(T0) });
    const result = await verifySigV4(
      asReceived(signed, sha256Hex("3\r\nabc\r\n0\r\n\r\n")),
      optionsAt("s3", T0),
    );
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  describe("presigned GET URL valid for 60 s", () => {
    // As the S3 presigner does: the UNSIGNED-PAYLOAD marker is hoisted into the query.
    const presign = () =>
      signer("s3").presign(
        new HttpRequest({
          method: "GET",
          hostname: "nimbus.test",
          path: s3Path,
          headers: { host: "nimbus.test", "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD" },
          query: { "x-id": "GetObject", "response-content-disposition": 'attachment; filename="a b.txt"' },
        }),
        { signingDate: new Date(T0), expiresIn: 60 },
      );

    it("verifies while it is valid", async () => {
      const received = asReceived(await presign());
      assert.match(received.rawQuery, /X-Amz-Content-Sha256=UNSIGNED-PAYLOAD/);
      const result = await verifySigV4(received, optionsAt("s3", T0 + 59_000));
      assert.deepEqual(result, { ok: true, accessKeyId: ACCESS_KEY, region: "eu-west-1" });
    });

    it("refuses it when the path was changed", async () => {
      const received = { ...asReceived(await presign()), rawPath: "/bkt/other.txt" };
      assertFails(await verifySigV4(received, optionsAt("s3", T0)), "mismatch");
    });

    it("refuses it as expired once the 60 s have passed", async () => {
      assertFails(await verifySigV4(asReceived(await presign()), optionsAt("s3", T0 + 61_000)), "expired");
    });

    it("refuses it as malformed when X-Amz-Expires is over a week", async () => {
      const received = asReceived(await presign());
      received.rawQuery = received.rawQuery.replace("X-Amz-Expires=60", "X-Amz-Expires=604801");
      assertFails(await verifySigV4(received, optionsAt("s3", T0)), "malformed");
    });
  });

  it("verifies a presigned URL without an X-Amz-Content-Sha256 parameter as UNSIGNED-PAYLOAD", async () => {
    const signed = await signer("s3").presign(
      request(s3Path, { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" }),
      {
        signingDate: new Date(T0),
        expiresIn: 60,
        unhoistableHeaders: new Set(["x-amz-content-sha256"]),
        unsignableHeaders: new Set(["x-amz-content-sha256"]),
      },
    );
    const received = asReceived(signed);
    assert.doesNotMatch(received.rawQuery, /Content-Sha256/i);
    const { header } = received;
    received.header = (n) => (n === "x-amz-content-sha256" ? undefined : header(n));
    const result = await verifySigV4(received, optionsAt("s3", T0));
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  it("checks the body against a presigned PUT's x-amz-content-sha256 parameter", async () => {
    const signed = await signer("s3").presign(
      request(s3Path, { "x-amz-content-sha256": sha256Hex(body) }, "PUT"),
      {
        signingDate: new Date(T0),
        expiresIn: 60,
      },
    );
    const genuine = asReceived(signed, sha256Hex(body));
    assert.match(genuine.rawQuery, new RegExp(`x-amz-content-sha256=${sha256Hex(body)}`));
    const result = await verifySigV4(genuine, optionsAt("s3", T0));
    assert.equal(result.ok, true, JSON.stringify(result));
    const tampered = asReceived(signed, sha256Hex("another body"));
    assertFails(await verifySigV4(tampered, optionsAt("s3", T0)), "body-hash-mismatch");
  });

  it("verifies a presigned PUT with hoisted checksum parameters without checking them against the body", async () => {
    const headers = {
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
      "x-amz-checksum-crc32": "AAAAAA==",
      "x-amz-sdk-checksum-algorithm": "CRC32",
    };
    const signed = await signer("s3").presign(request(s3Path, headers, "PUT"), {
      signingDate: new Date(T0),
      expiresIn: 60,
    });
    const received = asReceived(signed, sha256Hex("a body whose CRC32 is not zero"));
    assert.match(received.rawQuery, /x-amz-checksum-crc32=AAAAAA%3D%3D/);
    const result = await verifySigV4(received, optionsAt("s3", T0));
    assert.equal(result.ok, true, JSON.stringify(result));
  });
});

describe("SigV4 request checks", () => {
  const path = "/2015-03-31/functions/resize/invocations";
  const body = '{"w":1}';
  const signLambda = (signingMs: number, opts: { applyChecksum?: boolean; service?: string } = {}) =>
    signer(opts.service ?? "lambda", opts).sign(
      request(path, { "content-type": "application/json" }, "POST", body),
      {
        signingDate: new Date(signingMs),
      },
    );

  it("reports a request with no Authorization header and no presigned query as missing", async () => {
    const received: SigV4Request = { method: "GET", rawPath: "/", rawQuery: "", header: () => undefined };
    assertFails(await verifySigV4(received, optionsAt("lambda", T0)), "missing");
  });

  it("reports a garbage or incomplete Authorization header as malformed", async () => {
    for (const authorization of [
      "Bearer abc.def",
      "AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/lambda",
    ]) {
      const received = asReceived(await signLambda(T0), sha256Hex(body));
      const { header } = received;
      received.header = (n) => (n === "authorization" ? authorization : header(n));
      assertFails(await verifySigV4(received, optionsAt("lambda", T0)), "malformed");
    }
  });

  it("reports an X-Amz-Date that is no real time (the 31st of April, hour 24, second 60) as malformed", async () => {
    for (const date of ["20260431T000000Z", "20261124T240000Z", "20261124T235960Z", "2026-11-24T00:00:00Z"]) {
      const received = asReceived(await signLambda(T0), sha256Hex(body));
      const { header } = received;
      received.header = (n) => (n === "x-amz-date" ? date : header(n));
      const result = await verifySigV4(received, optionsAt("lambda", T0));
      assertFails(result, "malformed");
      assert.match(result.ok ? "" : result.message, /must be like 20261124T120000Z/, date);
    }
  });

  it("reports a credential scoped to another service as malformed", async () => {
    const signed = await signLambda(T0, { service: "s3" });
    assertFails(await verifySigV4(asReceived(signed, sha256Hex(body)), optionsAt("lambda", T0)), "malformed");
  });

  it("reports an X-Amz-Date 20 minutes before or after server time as skewed", async () => {
    for (const offsetMs of [-20 * MINUTE_MS, 20 * MINUTE_MS]) {
      const signed = await signLambda(T0 + offsetMs);
      assertFails(await verifySigV4(asReceived(signed, sha256Hex(body)), optionsAt("lambda", T0)), "skewed");
    }
  });

  it("accepts an X-Amz-Date 14 minutes off server time", async () => {
    const signed = await signLambda(T0 - 14 * MINUTE_MS);
    const result = await verifySigV4(asReceived(signed, sha256Hex(body)), optionsAt("lambda", T0));
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  it("refuses a body that differs from the X-Amz-Content-Sha256 the client signed", async () => {
    const signed = await signLambda(T0);
    assert.equal(signed.headers["x-amz-content-sha256"], sha256Hex(body));
    const tampered = asReceived(signed, sha256Hex('{"w":2}'));
    assertFails(await verifySigV4(tampered, optionsAt("lambda", T0)), "body-hash-mismatch");
  });

  it("refuses a body that differs from the one signed when no X-Amz-Content-Sha256 header was sent", async () => {
    const signed = await signLambda(T0, { applyChecksum: false });
    assert.equal(signed.headers["x-amz-content-sha256"], undefined);
    const genuine = await verifySigV4(asReceived(signed, sha256Hex(body)), optionsAt("lambda", T0));
    assert.equal(genuine.ok, true, JSON.stringify(genuine));
    const tampered = asReceived(signed, sha256Hex('{"w":2}'));
    assertFails(await verifySigV4(tampered, optionsAt("lambda", T0)), "mismatch");
  });
});

describe("SigV4 verification agrees with the SDK's signer", () => {
  // Deterministic pseudo-random cases: odd paths, repeated and encoded query keys, header values
  // with runs of spaces, both services.
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]) => xs[rand(xs.length)]!;
  const pieces = [
    "a",
    "Z9",
    "fn-1",
    "with space",
    "plus+sign",
    "pct%25",
    "ünï",
    "x:y",
    "~tilde",
    "(paren)",
    "star*",
  ];

  it("verifies 300 requests of every shape the signer produces, and refuses each one altered", async () => {
    for (let i = 0; i < 300; i++) {
      const service = pick(["lambda", "s3"] as const);
      const segments = Array.from({ length: 1 + rand(4) }, () => encodeURIComponent(pick(pieces)));
      const path = `/${segments.join("/")}${rand(4) === 0 ? "/" : ""}`;
      const query: Record<string, string | string[]> = {};
      for (let q = rand(4); q > 0; q--) {
        const key = pick(pieces);
        query[key] = rand(3) === 0 ? [pick(pieces), pick(pieces)] : pick(pieces);
      }
      const headers = {
        "x-custom": `  ${pick(pieces)}   ${pick(pieces)} `,
        "content-type": "application/json",
      };
      const body = JSON.stringify({ i });
      const req = new HttpRequest({
        method: pick(["GET", "POST", "PUT"]),
        hostname: "nimbus.test",
        path,
        query,
        headers: { host: "nimbus.test", ...headers },
        body,
      });
      const signed = await signer(service).sign(req, { signingDate: new Date(T0) });
      const received = asReceived(signed as Signed, sha256Hex(body));
      const ok = await verifySigV4(received, optionsAt(service, T0));
      assert.equal(
        ok.ok,
        true,
        `case ${i}: ${service} ${path} ${JSON.stringify(query)}: ${JSON.stringify(ok)}`,
      );
      const altered = { ...received, rawPath: `${received.rawPath}x` };
      assertFails(await verifySigV4(altered, optionsAt(service, T0)), "mismatch");
    }
  });
});
