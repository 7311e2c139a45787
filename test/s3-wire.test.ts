/**
 * End to end, by hand-made requests: what S3 clients other than client-s3 send (chunks signed
 * one by one), what a broken or hostile client sends (a wrong trailer checksum, a body that is
 * not the one signed, a path that is not UTF-8, a stale clock), and how S3's errors look on
 * the wire (HEAD without a body, 501 and 405 naming what is missing).
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { crc32 } from "node:zlib";
import { CreateBucketCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { EMPTY_SHA256, errorCodeOf, s3Client, s3Failure, signedFetch, signRequest } from "./helpers/s3.js";

let t: TestPlatform;
let s3: S3Client;

before(async () => {
  t = await startPlatform();
  s3 = s3Client(t);
  await s3.send(new CreateBucketCommand({ Bucket: "wire" }));
});
after(async () => {
  s3.destroy();
  await t.close();
});

async function stored(key: string): Promise<boolean> {
  const r = await s3.send(new HeadObjectCommand({ Bucket: "wire", Key: key })).catch((err: unknown) => err);
  return !(r instanceof Error);
}

/** The SigV4 key for a day, as the signer derives it. */
function signingKey(secret: string, day: string): Buffer {
  let key = Buffer.from(`AWS4${secret}`);
  for (const part of [day, "us-east-1", "s3", "aws4_request"])
    key = createHmac("sha256", key).update(part).digest();
  return key;
}

/** `pieces` framed as STREAMING-AWS4-HMAC-SHA256-PAYLOAD, each chunk's signature chained from `seed`. */
function signedChunks(pieces: Buffer[], seed: string, amzDate: string, tamper = false): Buffer {
  const day = amzDate.slice(0, 8);
  const key = signingKey(t.platform.credentials.secretAccessKey, day);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  let previous = seed;
  const out: Buffer[] = [];
  for (const piece of [...pieces, Buffer.alloc(0)]) {
    const hash = createHash("sha256").update(piece).digest("hex");
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previous}\n${EMPTY_SHA256}\n${hash}`;
    previous = createHmac("sha256", key).update(toSign).digest("hex");
    const data = tamper && piece.length > 0 ? Buffer.from(piece.toString().toUpperCase()) : piece;
    out.push(
      Buffer.from(`${piece.length.toString(16)};chunk-signature=${previous}\r\n`),
      data,
      Buffer.from("\r\n"),
    );
  }
  return Buffer.concat(out);
}

describe("aws-chunked bodies", () => {
  test("chunks signed one by one are checked and stored decoded; a tampered chunk is SignatureDoesNotMatch", async () => {
    const pieces = [Buffer.from("first chunk, "), Buffer.from("second chunk")];
    const headers = {
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(pieces[0]!.length + pieces[1]!.length),
    };
    const date = new Date();
    const amzDate = date.toISOString().replace(/[-:]|\.\d{3}/g, "");
    for (const tamper of [false, true]) {
      const key = tamper ? "signed-tampered" : "signed-chunks";
      // The first chunk's signature chains from the request's own, in its Authorization header.
      const { signature: seed } = await signRequest(t, "PUT", `/s3/wire/${key}`, {
        headers,
        signingDate: date,
      });
      const res = await signedFetch(t, "PUT", `/s3/wire/${key}`, {
        headers,
        signingDate: date,
        body: signedChunks(pieces, seed, amzDate, tamper),
      });
      const text = await res.text();
      if (tamper) {
        assert.equal(res.status, 403, text);
        assert.equal(errorCodeOf(text), "SignatureDoesNotMatch");
        assert.equal(await stored(key), false);
        continue;
      }
      assert.equal(res.status, 200, text);
      assert.equal(
        res.headers.get("etag"),
        `"${createHash("md5").update(Buffer.concat(pieces)).digest("hex")}"`,
      );
      const got = await signedFetch(t, "GET", `/s3/wire/${key}`);
      assert.equal(await got.text(), "first chunk, second chunk");
    }
  });

  test("a trailer checksum that does not match the bytes is BadDigest, and nothing is stored", async () => {
    const data = Buffer.from("bytes whose checksum is wrong");
    const wrong = Buffer.alloc(4);
    wrong.writeUInt32BE(crc32(Buffer.from("other bytes")));
    const body = Buffer.concat([
      Buffer.from(`${data.length.toString(16)}\r\n`),
      data,
      Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${wrong.toString("base64")}\r\n\r\n`),
    ]);
    const res = await signedFetch(t, "PUT", "/s3/wire/bad-trailer", {
      headers: {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": String(data.length),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
      },
      body,
    });
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.equal(errorCodeOf(text), "BadDigest");
    assert.equal(await stored("bad-trailer"), false);
  });
});

describe("refusals on the wire", () => {
  test("a body that is not the one whose hash was signed is XAmzContentSHA256Mismatch, and nothing is stored", async () => {
    const res = await signedFetch(t, "PUT", "/s3/wire/mismatch", {
      headers: { "x-amz-content-sha256": createHash("sha256").update("what was signed").digest("hex") },
      body: Buffer.from("what was sent"),
    });
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.equal(errorCodeOf(text), "XAmzContentSHA256Mismatch");
    assert.equal(await stored("mismatch"), false);
  });

  test("a key that is not percent-encoded UTF-8 is refused", async () => {
    const res = await signedFetch(t, "PUT", "/s3/wire/bad%FFkey", { body: Buffer.from("x") });
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.equal(errorCodeOf(text), "InvalidURI");
  });

  test("a request signed 20 minutes ago is RequestTimeTooSkewed", async () => {
    const skewed = s3Client(t, { systemClockOffset: -20 * 60_000 });
    const failed = await s3Failure(skewed.send(new HeadObjectCommand({ Bucket: "wire", Key: "any" })));
    assert.equal(failed.status, 403);
    skewed.destroy();
    const res = await signedFetch(t, "GET", "/s3/wire/any", {
      signingDate: new Date(Date.now() - 20 * 60_000),
    });
    assert.equal(errorCodeOf(await res.text()), "RequestTimeTooSkewed");
  });

  test("a HEAD's error has no body, but its request id", async () => {
    const res = await signedFetch(t, "HEAD", "/s3/wire/no-such-key");
    assert.equal(res.status, 404);
    assert.ok(res.headers.get("x-amz-request-id"));
    assert.equal(await res.text(), "");
  });

  test("an operation not implemented is 501 naming it; a method S3 has not is 405", async () => {
    const acl = await signedFetch(t, "GET", "/s3/wire?acl");
    const text = await acl.text();
    assert.equal(acl.status, 501);
    assert.equal(errorCodeOf(text), "NotImplemented");
    assert.match(text, /GetBucketAcl/);
    const patch = await signedFetch(t, "PATCH", "/s3/wire/x");
    assert.equal(patch.status, 405);
    assert.equal(errorCodeOf(await patch.text()), "MethodNotAllowed");
  });
});
