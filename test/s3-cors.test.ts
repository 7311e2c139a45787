/**
 * Bucket CORS end to end: the operator sets a bucket's rules with `@aws-sdk/client-s3`
 * (PutBucketCors), and plain `fetch` plays the browser of a page on another origin: its
 * preflight (OPTIONS, no credentials) is answered from the rules, path and host style, and the
 * actual request, a PUT to a presigned URL, carries the rule's CORS headers on its answer, as an
 * error does, a signature the gateway refuses included. An origin, method or header no rule allows, and a bucket without rules, are
 * refused at the preflight.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { bytesOf, errorCodeOf, s3Client, s3Failure } from "./helpers/s3.js";

const BUCKET = "web-uploads";
const APP = "https://app.example.com";
const RULES = [
  {
    ID: "app",
    AllowedOrigins: [APP, "http://localhost:*"],
    AllowedMethods: ["GET", "PUT", "HEAD"],
    AllowedHeaders: ["content-type", "authorization", "x-amz-*"],
    ExposeHeaders: ["ETag", "x-amz-version-id"],
    MaxAgeSeconds: 600,
  },
  { AllowedOrigins: ["*"], AllowedMethods: ["GET"] },
];

let t: TestPlatform;
let s3: S3Client;

before(async () => {
  t = await startPlatform({ poolSize: 0 });
  s3 = s3Client(t);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new CreateBucketCommand({ Bucket: "no-cors" }));
});
after(async () => {
  s3.destroy();
  await t.close();
});

/** A browser's preflight for `method` (and `headers`) on an object, path style. */
function preflight(bucket: string, key: string, origin: string, method: string, headers?: string) {
  return preflightOf(`${t.url}/s3/${bucket}/${key}`, origin, method, headers);
}

function preflightOf(url: string, origin: string, method: string, headers?: string) {
  return fetch(url, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      ...(headers === undefined ? {} : { "access-control-request-headers": headers }),
    },
  });
}

/** A URL a function would hand the page: a PUT of photos/cat.json as JSON. */
const presignedPut = () =>
  getSignedUrl(
    s3,
    new PutObjectCommand({ Bucket: BUCKET, Key: "photos/cat.json", ContentType: "application/json" }),
    { expiresIn: 300 },
  );

/** What the SDK read, without the members it leaves undefined. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

async function refused(res: Response, message: RegExp): Promise<void> {
  const body = await res.text();
  assert.equal(res.status, 403, body);
  assert.equal(errorCodeOf(body), "CORSResponse");
  assert.match(body, message);
  assert.equal(res.headers.get("access-control-allow-origin"), null);
}

describe("configuration", () => {
  test("a bucket without rules answers NoSuchCORSConfiguration; the rules set are read back", async () => {
    const none = await s3Failure(s3.send(new GetBucketCorsCommand({ Bucket: BUCKET })));
    assert.deepEqual([none.name, none.status], ["NoSuchCORSConfiguration", 404]);
    await s3.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }));
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: BUCKET }));
    assert.deepEqual(plain(got.CORSRules), RULES);
  });

  test("a rule S3 would refuse is refused, naming what is wrong, and the rules stay as they were", async () => {
    const patch = await s3Failure(
      s3.send(
        new PutBucketCorsCommand({
          Bucket: BUCKET,
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: [APP], AllowedMethods: ["PATCH"] }] },
        }),
      ),
    );
    assert.deepEqual([patch.name, patch.status], ["InvalidRequest", 400]);
    assert.match(patch.message, /Unsupported method is PATCH/);
    const wildcards = await s3Failure(
      s3.send(
        new PutBucketCorsCommand({
          Bucket: BUCKET,
          CORSConfiguration: {
            CORSRules: [{ AllowedOrigins: ["https://*.*.example"], AllowedMethods: ["GET"] }],
          },
        }),
      ),
    );
    assert.equal(wildcards.name, "InvalidRequest");
    const many = await s3Failure(
      s3.send(
        new PutBucketCorsCommand({
          Bucket: BUCKET,
          CORSConfiguration: { CORSRules: Array.from({ length: 101 }, () => RULES[1]!) },
        }),
      ),
    );
    assert.equal(many.name, "InvalidRequest");
    assert.deepEqual(plain((await s3.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules), RULES);
  });

  test("only the operator sets a bucket's rules", async () => {
    const res = await fetch(`${t.url}/s3/${BUCKET}?cors`, { method: "DELETE", headers: { origin: APP } });
    assert.equal(res.status, 403);
    assert.equal(errorCodeOf(await res.text()), "AccessDenied");
  });
});

describe("a browser on another origin", () => {
  test("its preflight for a PUT with a content type is answered without credentials", async () => {
    // The browser asks at the presigned URL itself: the signature there is for the PUT, not this.
    const res = await preflightOf(await presignedPut(), APP, "PUT", "content-type");
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get("access-control-allow-origin"), APP);
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    assert.equal(res.headers.get("access-control-allow-methods"), "GET, PUT, HEAD");
    assert.equal(res.headers.get("access-control-allow-headers"), "content-type");
    assert.equal(res.headers.get("access-control-expose-headers"), "ETag, x-amz-version-id");
    assert.equal(res.headers.get("access-control-max-age"), "600");
    assert.match(res.headers.get("vary") ?? "", /\bOrigin\b/);
    assert.ok(res.headers.get("x-amz-request-id"));
  });

  test("then its PUT to a presigned URL stores the object, and the page may read the ETag", async () => {
    const put = await fetch(await presignedPut(), {
      method: "PUT",
      headers: { origin: APP, "content-type": "application/json" },
      body: '{"cat":true}',
    });
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal(put.headers.get("access-control-allow-origin"), APP);
    assert.equal(put.headers.get("access-control-expose-headers"), "ETag, x-amz-version-id");
    assert.match(put.headers.get("etag") ?? "", /^"[0-9a-f]{32}"$/);
    assert.match(put.headers.get("vary") ?? "", /\bOrigin\b/);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "photos/cat.json" }));
    assert.equal((await bytesOf(got.Body)).toString(), '{"cat":true}');
  });

  test("an error carries the CORS headers too, so the page can read it", async () => {
    // Anyone's GET is allowed by CORS (the second rule), not by the bucket's policy: 403.
    const res = await fetch(`${t.url}/s3/${BUCKET}/photos/cat.json`, {
      headers: { origin: "https://elsewhere.example" },
    });
    assert.equal(res.status, 403);
    assert.equal(errorCodeOf(await res.text()), "AccessDenied");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
  });

  test("a signature the gateway refuses carries the CORS headers too, so the page can read why", async () => {
    const url = new URL(await presignedPut());
    url.searchParams.set("X-Amz-Signature", "0".repeat(64));
    const res = await fetch(url, {
      method: "PUT",
      headers: { origin: APP, "content-type": "application/json" },
      body: '{"cat":false}',
    });
    assert.equal(res.status, 403);
    assert.equal(errorCodeOf(await res.text()), "SignatureDoesNotMatch");
    assert.equal(res.headers.get("access-control-allow-origin"), APP);
    assert.equal(res.headers.get("access-control-expose-headers"), "ETag, x-amz-version-id");
    // Not stored.
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "photos/cat.json" }));
    assert.equal((await bytesOf(got.Body)).toString(), '{"cat":true}');
  });

  test("a request without Origin gets no CORS headers", async () => {
    const res = await fetch(`${t.url}/s3/${BUCKET}/photos/cat.json`);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  });

  test("its preflight reaches a bucket addressed by host too", async () => {
    const port = Number(new URL(t.url).port);
    const answer = await new Promise<{ status: number; headers: Record<string, unknown> }>(
      (resolve, reject) => {
        const req = httpRequest(
          {
            host: "127.0.0.1",
            port,
            method: "OPTIONS",
            path: "/photos/cat.json",
            headers: {
              host: `${BUCKET}.s3.localhost:${port}`,
              origin: "http://localhost:5173",
              "access-control-request-method": "GET",
            },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
          },
        );
        req.on("error", reject);
        req.end();
      },
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["access-control-allow-origin"], "http://localhost:5173");
  });

  test("an origin, a method or a header no rule allows is refused at the preflight", async () => {
    const notAllowed = /This CORS request is not allowed/;
    await refused(
      await preflight(BUCKET, "photos/cat.json", "https://evil.example", "PUT", "content-type"),
      notAllowed,
    );
    await refused(await preflight(BUCKET, "photos/cat.json", APP, "DELETE"), notAllowed);
    await refused(
      await preflight(BUCKET, "photos/cat.json", APP, "PUT", "content-type, x-custom"),
      notAllowed,
    );
    // Anyone may GET, but with no headers beyond the safelisted ones.
    assert.equal(
      (await preflight(BUCKET, "a", "https://evil.example", "GET")).headers.get(
        "access-control-allow-origin",
      ),
      "*",
    );
    await refused(await preflight(BUCKET, "a", "https://evil.example", "GET", "x-amz-date"), notAllowed);
  });

  test("a bucket without rules refuses every preflight, and so does one whose rules were deleted", async () => {
    await refused(await preflight("no-cors", "a.txt", APP, "GET"), /CORS is not enabled for this bucket/);
    await s3.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }));
    const none = await s3Failure(s3.send(new GetBucketCorsCommand({ Bucket: BUCKET })));
    assert.equal(none.name, "NoSuchCORSConfiguration");
    await refused(
      await preflight(BUCKET, "photos/cat.json", APP, "PUT"),
      /CORS is not enabled for this bucket/,
    );
    const missing = await preflight("no-such-bucket", "a.txt", APP, "GET");
    assert.equal(missing.status, 404);
    assert.equal(errorCodeOf(await missing.text()), "NoSuchBucket");
  });
});
