/** The S3 surface's reading of requests and its errors, without a platform (end to end: test/s3*.test.ts). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { S3Error } from "../../../services/storage/errors.js";
import { NimbusError } from "../../../shared/errors.js";
import { silentLogger } from "../../../shared/logger.js";
import type { Principal } from "../../auth/principal.js";
import type { ReachMatch } from "../../surface.js";
import { authorize, s3AuthPolicy } from "./access.js";
import { s3ErrorAnswer, toS3Error } from "./errors.js";
import { s3UrlEncode } from "./listing-routes.js";
import { resolveOperation } from "./operations.js";
import { parseCall, parseCopySource, type S3Call } from "./request.js";
import { checksumDeclared } from "./upload.js";
import { parseXml } from "./xml.js";

const PATH: ReachMatch = { via: "path", params: {} };
const principal = { kind: "anonymous" } as const;

function call(url: string, init: RequestInit = {}, reach: ReachMatch = PATH): S3Call {
  return parseCall(new Request(url, init), reach, { incoming: undefined, requestId: "r", principal });
}

function caught(f: () => unknown): S3Error {
  try {
    f();
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
  throw new Error("expected an S3Error");
}

describe("reading an S3 request", () => {
  test("path style: the bucket is the first segment after /s3, the key the rest decoded once", () => {
    const c = call("http://h/s3/photos/dir/with%20space+plus%2Bencoded%25pct/%C3%BCn.txt?x-id=GetObject");
    assert.equal(c.bucket, "photos");
    assert.equal(c.key, "dir/with space+plus+encoded%pct/ün.txt");
    assert.equal(c.query.get("x-id"), "GetObject");
  });

  test("the service, a bucket with or without a trailing slash, and a key ending in a slash", () => {
    assert.deepEqual([call("http://h/s3").bucket, call("http://h/s3/").bucket], [undefined, undefined]);
    assert.deepEqual([call("http://h/s3/b").bucket, call("http://h/s3/b").key], ["b", undefined]);
    assert.equal(call("http://h/s3/b/").key, undefined);
    assert.equal(call("http://h/s3/b/dir/").key, "dir/");
    assert.equal(call("http://h/s3/b//lead").key, "/lead");
  });

  test("virtual-host style: the bucket is the host's label, the whole path the key", () => {
    const reach: ReachMatch = { via: "host", params: { bucket: "photos" } };
    const c = call("http://photos.s3.localhost:9000/s3/a%2Fb", {}, reach);
    assert.deepEqual([c.bucket, c.key, c.style], ["photos", "s3/a/b", "host"]);
    assert.equal(call("http://photos.s3.localhost/", {}, reach).key, undefined);
  });

  test("a path that is not percent-encoded UTF-8 is InvalidURI", () => {
    for (const url of ["http://h/s3/b/%FF", "http://h/s3/b/%E2%82", "http://h/s3/b/%zz"])
      assert.equal(caught(() => call(url)).code, "InvalidURI", url);
  });

  test("query values are decoded once, a plus kept", () => {
    const c = call("http://h/s3/b?prefix=a+b%2Bc%20d&delimiter=%2F&uploads");
    assert.deepEqual(
      [c.query.get("prefix"), c.query.get("delimiter"), c.query.get("uploads")],
      ["a+b+c d", "/", ""],
    );
  });
});

describe("which operation a request is", () => {
  const op = (method: string, url: string, headers: Record<string, string> = {}) => {
    const r = resolveOperation(call(url, { method, headers }));
    return "op" in r ? r.op : `unsupported: ${r.unsupported}`;
  };

  test("by method, bucket, key and subresource", () => {
    assert.equal(op("GET", "http://h/s3"), "ListBuckets");
    assert.equal(op("PUT", "http://h/s3/b"), "CreateBucket");
    assert.equal(op("HEAD", "http://h/s3/b"), "HeadBucket");
    assert.equal(op("GET", "http://h/s3/b?list-type=2&prefix=x"), "ListObjectsV2");
    assert.equal(op("GET", "http://h/s3/b?prefix=x"), "ListObjects");
    assert.equal(op("GET", "http://h/s3/b?versions"), "ListObjectVersions");
    assert.equal(op("GET", "http://h/s3/b?uploads"), "ListMultipartUploads");
    assert.equal(op("POST", "http://h/s3/b?delete"), "DeleteObjects");
    assert.equal(op("PUT", "http://h/s3/b/k"), "PutObject");
    assert.equal(op("PUT", "http://h/s3/b/k", { "x-amz-copy-source": "b/j" }), "CopyObject");
    assert.equal(op("PUT", "http://h/s3/b/k?partNumber=1&uploadId=u"), "UploadPart");
    assert.equal(op("POST", "http://h/s3/b/k?uploads"), "CreateMultipartUpload");
    assert.equal(op("POST", "http://h/s3/b/k?uploadId=u"), "CompleteMultipartUpload");
    assert.equal(op("DELETE", "http://h/s3/b/k?uploadId=u"), "AbortMultipartUpload");
    assert.equal(op("GET", "http://h/s3/b/k?uploadId=u"), "ListParts");
    assert.equal(op("PUT", "http://h/s3/b/k?tagging"), "PutObjectTagging");
    assert.equal(op("PUT", "http://h/s3/b?policy"), "PutBucketPolicy");
    assert.equal(op("GET", "http://h/s3/b?policy"), "GetBucketPolicy");
    assert.equal(op("DELETE", "http://h/s3/b?policy"), "DeleteBucketPolicy");
    assert.equal(op("PUT", "http://h/s3/b?acl", { "x-amz-acl": "public-read" }), "PutBucketAcl");
    assert.equal(op("GET", "http://h/s3/b?policyStatus"), "GetBucketPolicyStatus");
    assert.equal(op("PUT", "http://h/s3/b?cors"), "PutBucketCors");
    assert.equal(op("GET", "http://h/s3/b?cors"), "GetBucketCors");
    assert.equal(op("DELETE", "http://h/s3/b?cors"), "DeleteBucketCors");
    assert.equal(op("PUT", "http://h/s3/b?lifecycle"), "PutBucketLifecycleConfiguration");
    assert.equal(op("GET", "http://h/s3/b?lifecycle"), "GetBucketLifecycleConfiguration");
    assert.equal(op("DELETE", "http://h/s3/b?lifecycle"), "DeleteBucketLifecycle");
    assert.equal(
      op("PUT", "http://h/s3/b/k?partNumber=1&uploadId=u", { "x-amz-copy-source": "b/j" }),
      "UploadPartCopy",
    );
  });

  test("an operation S3 has and Nimbus does not is named", () => {
    assert.equal(op("GET", "http://h/s3/b?website"), "unsupported: GetBucketWebsite");
    assert.equal(op("PUT", "http://h/s3/b?replication"), "unsupported: PutBucketReplication");
    assert.equal(op("DELETE", "http://h/s3/b?encryption"), "unsupported: DeleteBucketEncryption");
    assert.equal(op("GET", "http://h/s3/b?acl"), "unsupported: GetBucketAcl");
    assert.equal(op("GET", "http://h/s3/b/k?acl"), "unsupported: GetObjectAcl");
    assert.equal(op("POST", "http://h/s3/b/k?restore"), "unsupported: RestoreObject");
  });
});

describe("how a request proves who it is", () => {
  const deps = { storage: { bucket: async () => Promise.reject(new Error("unused")) }, logger: silentLogger };
  const kind = (url: string, headers: Record<string, string> = {}, authMode?: "off") =>
    s3AuthPolicy(new Request(url, { headers }), { ...deps, ...(authMode ? { authMode } : {}) }).kind;

  test("a bearer token is a user's; a signature, in headers or query, the platform key's; nothing, anonymous", () => {
    assert.equal(kind("http://h/s3/b/k", { authorization: "Bearer eyJ.x.y" }), "jwt");
    assert.equal(
      kind("http://h/s3/b/k", {
        authorization: "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/s3/aws4_request",
      }),
      "platform-key",
    );
    assert.equal(kind("http://h/s3/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=x"), "platform-key");
    // SigV2 goes to the platform key's check, which refuses it by name.
    assert.equal(kind("http://h/s3/b/k", { authorization: "AWS AKID:sig" }), "platform-key");
    assert.equal(kind("http://h/s3/b/k?AWSAccessKeyId=AKID&Expires=1&Signature=x"), "platform-key");
    assert.equal(kind("http://h/s3/b/k?prefix=Signature"), "anonymous");
    assert.equal(kind("http://h/s3/b/a&Signature=x"), "anonymous");
    assert.equal(kind("http://h/s3/b/k"), "anonymous");
  });

  test("with auth off, every request is the operator's", () => {
    assert.equal(kind("http://h/s3/b/k", {}, "off"), "platform-key");
    assert.equal(kind("http://h/s3/b/k", { authorization: "Bearer t" }, "off"), "platform-key");
  });

  test("a denial is S3's plain AccessDenied; its reason goes to the log with the request id", async () => {
    const warned: (Record<string, unknown> | undefined)[] = [];
    const logger = {
      ...silentLogger,
      warn: (_: string, fields?: Record<string, unknown>) => void warned.push(fields),
    };
    const policy = {
      Version: "2012-10-17",
      Statement: {
        Effect: "Allow",
        Principal: "*",
        Action: "s3:*",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a policy variable, as policies write it
        Resource: "arn:aws:s3:::b/users/${auth.sub}/*",
      },
    };
    const bucket = {
      name: "b",
      createdAt: 0,
      versioning: "Unversioned",
      publicRead: false,
      settings: { policy: JSON.stringify(policy) },
    } as const;
    const user = { kind: "user", userId: "u-1", claims: { sub: "u-1" } } as const;
    const put = (key: string, p: Principal = user) =>
      parseCall(new Request(`http://h/s3/b/${key}`, { method: "PUT" }), PATH, {
        incoming: undefined,
        requestId: "req-1",
        principal: p,
      });
    const d = { storage: { bucket: async () => bucket }, logger };
    await authorize(put("users/u-1/a.png"), "PutObject", d);
    const err = await authorize(put("users/u-2/a.png"), "PutObject", d).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof S3Error);
    assert.deepEqual([err.code, err.status, err.message], ["AccessDenied", 403, "Access Denied"]);
    assert.equal(warned[0]?.requestId, "req-1");
    assert.match(
      String(warned[0]?.reason),
      /for user u-1 \(Statement\[0\] allows only arn:aws:s3:::b\/users\/u-1\/\*\)$/,
    );
    // The operator is not evaluated: no bucket is read.
    const operator = { kind: "platform", accessKeyId: "AKID", via: "sigv4" } as const;
    const unread = { storage: { bucket: () => Promise.reject(new Error("read")) }, logger };
    await authorize(put("users/u-2/a.png", operator), "PutObject", unread);
  });
});

describe("what a request declares", () => {
  test("a copy source: bucket and key decoded once, a version id, a leading slash allowed", () => {
    assert.deepEqual(parseCopySource("/src/dir/a%20b%2Bc?versionId=v1"), {
      bucket: "src",
      key: "dir/a b+c",
      versionId: "v1",
    });
    assert.equal(caught(() => parseCopySource("no-key")).code, "InvalidArgument");
  });

  test("checksums: the algorithm asked for, a value in a header, or a trailer to come", () => {
    const crc = "x-amz-checksum-crc32";
    assert.deepEqual(
      checksumDeclared(new Headers({ "x-amz-sdk-checksum-algorithm": "CRC32", [crc]: "AAAAAA==" })),
      {
        algorithm: "CRC32",
        value: "AAAAAA==",
        trailer: undefined,
      },
    );
    assert.deepEqual(checksumDeclared(new Headers({ "x-amz-trailer": crc })), {
      algorithm: "CRC32",
      value: undefined,
      trailer: "CRC32",
    });
    assert.equal(
      caught(() => checksumDeclared(new Headers({ [crc]: "not base64 of 4" }))).code,
      "InvalidRequest",
    );
    assert.equal(
      caught(() => checksumDeclared(new Headers({ [crc]: "AAAAAA==", "x-amz-checksum-sha1": "x" }))).code,
      "InvalidRequest",
    );
    assert.equal(
      caught(() =>
        checksumDeclared(new Headers({ "x-amz-sdk-checksum-algorithm": "SHA256", [crc]: "AAAAAA==" })),
      ).code,
      "InvalidRequest",
    );
  });

  test("XML bodies: values stay text; a DTD or another root is MalformedXML", () => {
    const doc = parseXml(Buffer.from("<Delete><Object><Key> 0123 &amp; </Key></Object></Delete>"), "Delete", [
      "Delete.Object",
    ]);
    assert.deepEqual(doc.Object, [{ Key: " 0123 & " }]);
    assert.equal(caught(() => parseXml(Buffer.from("<Other/>"), "Delete", [])).code, "MalformedXML");
    assert.equal(caught(() => parseXml(Buffer.from("<Delete><Object>"), "Delete", [])).code, "MalformedXML");
    const dtd = '<!DOCTYPE d [<!ENTITY e "x">]><Delete><Quiet>&e;</Quiet></Delete>';
    assert.equal(caught(() => parseXml(Buffer.from(dtd), "Delete", [])).code, "MalformedXML");
  });
});

describe("S3's errors", () => {
  test("S3's XML with the request id; a HEAD's without a body", async () => {
    const err = new S3Error("NoSuchKey", 404, "The specified key does not exist.", { Key: "a<b" });
    const res = s3ErrorAnswer(err, "req-1", "GET");
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "application/xml");
    assert.equal(res.headers.get("x-amz-request-id"), "req-1");
    assert.match(
      await res.text(),
      /<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist\.<\/Message><Key>a&lt;b<\/Key><RequestId>req-1<\/RequestId>/,
    );
    const head = s3ErrorAnswer(err, "req-1", "HEAD");
    assert.equal(head.status, 404);
    assert.equal(await head.text(), "");
  });

  test("the gateway's authentication errors under S3's codes", () => {
    const signed = new Request("http://h/s3/b", {
      headers: { authorization: "AWS4-HMAC-SHA256 Credential=AKID/x" },
    });
    const presigned = new Request("http://h/s3/b/k?X-Amz-Credential=AKID%2F2026&X-Amz-Signature=x");
    const code = (code: NimbusError["code"], message: string, req: Request) => {
      const e = toS3Error(new NimbusError(code, message), req);
      return [e.code, e.status];
    };
    assert.deepEqual(code("InvalidSignature", "m", signed), ["SignatureDoesNotMatch", 403]);
    assert.deepEqual(code("UnrecognizedClient", "m", signed), ["InvalidAccessKeyId", 403]);
    assert.deepEqual(code("MissingAuthenticationToken", "m", new Request("http://h/s3")), [
      "AccessDenied",
      403,
    ]);
    assert.deepEqual(code("RequestExpired", "Signature expired: signed at …", signed), [
      "RequestTimeTooSkewed",
      403,
    ]);
    assert.deepEqual(code("RequestExpired", "Signature expired: presigned URL expired at …", presigned), [
      "AccessDenied",
      403,
    ]);
    assert.deepEqual(code("IncompleteSignature", "m", presigned), ["AuthorizationQueryParametersError", 400]);
    assert.deepEqual(code("IncompleteSignature", "m", signed), ["MissingSecurityHeader", 400]);
    const hashed = new Request("http://h/s3/b", {
      headers: { authorization: "AWS4-HMAC-SHA256 x", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    });
    assert.deepEqual(code("IncompleteSignature", "m", hashed), ["AuthorizationHeaderMalformed", 400]);
    assert.deepEqual(code("Internal", "m", signed), ["InternalError", 500]);
    const v2 = new Request("http://h/s3/b/k?AWSAccessKeyId=AKID&Expires=1&Signature=x");
    assert.deepEqual(code("MissingAuthenticationToken", "m", v2), ["InvalidRequest", 400]);
  });

  test("encoding-type=url: a space is +, a plus %2B, slashes kept, UTF-8 by bytes", () => {
    assert.equal(s3UrlEncode("dir/a b+c%d~é*"), "dir/a+b%2Bc%25d%7E%C3%A9*");
  });
});
