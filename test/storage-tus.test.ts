/**
 * Resumable uploads end to end: `tus-js-client` in Node sends files to
 * `/storage/v1/upload/resumable` as Supabase's client does (the target in Upload-Metadata), in
 * chunks, cut and resumed; the objects are read back through the S3 API. The protocol's
 * refusals (offset, version, expiry) and who may upload (the service key, a user's token as far
 * as the bucket's policy goes, nobody without credentials) are checked with plain fetch.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketPolicyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import * as tus from "tus-js-client";
import { FakeClock } from "../src/shared/clock.js";
import { authClient, authKeys } from "./helpers/auth.js";
import { signAsOf } from "./helpers/clock-sync.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { bytesOf, s3Client } from "./helpers/s3.js";

/** The platform's clock: `advance` moves it and fires its timers; `jump` sets it ahead at once, as after a machine slept. */
class JumpClock extends FakeClock {
  #ahead = 0;
  override now(): number {
    return super.now() + this.#ahead;
  }
  jump(ms: number): void {
    this.#ahead += ms;
  }
}

const MiB = 1024 * 1024;
const HOUR_MS = 60 * 60 * 1000;
const BUCKET = "tus-uploads";
const PASSWORD = "correct horse battery staple";
const clock = new JumpClock(Date.now());
let t: TestPlatform;
let s3: S3Client;
let serviceKey: string;
let alice: { id: string; token: string };

type UploadOptions = ConstructorParameters<typeof tus.Upload>[1];

const endpoint = () => `${t.url}/storage/v1/upload/resumable`;
const b64 = (s: string) => Buffer.from(s).toString("base64");
/** The operator: the platform's key as HTTP Basic. */
const operator = () =>
  `Basic ${b64(`${t.platform.credentials.accessKeyId}:${t.platform.credentials.secretAccessKey}`)}`;
const metadataOf = (key: string) => `bucketName ${b64(BUCKET)},objectName ${b64(key)}`;

/** Sends `data` with tus-js-client to `key` with `authorization`; resolves with the upload's URL once it succeeded. */
function send(
  data: Buffer,
  key: string,
  authorization: string,
  options: UploadOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload: tus.Upload = new tus.Upload(data, {
      endpoint: endpoint(),
      metadata: { bucketName: BUCKET, objectName: key, contentType: "application/octet-stream" },
      headers: { authorization },
      chunkSize: 5 * MiB,
      retryDelays: null,
      onSuccess: () => resolve(upload.url ?? ""),
      onError: reject,
      ...options,
    });
    upload.start();
  });
}

async function objectBytes(key: string): Promise<Buffer> {
  return bytesOf((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body);
}

/** A tus request with fetch: the operator's key (HTTP Basic) and `Tus-Resumable: 1.0.0` unless `headers` say otherwise. */
function call(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer) {
  return fetch(url, {
    method,
    headers: { authorization: operator(), "tus-resumable": "1.0.0", ...headers },
    ...(body === undefined ? {} : { body }),
  });
}

/** Creates an upload of `length` bytes at `key`: its URL. */
async function created(key: string, length: number, headers: Record<string, string> = {}): Promise<string> {
  const res = await call("POST", endpoint(), {
    "upload-length": String(length),
    "upload-metadata": metadataOf(key),
    ...headers,
  });
  assert.equal(res.status, 201, await res.text());
  return res.headers.get("location") ?? "";
}

const patch = (url: string, offset: number, body: Buffer, headers: Record<string, string> = {}) =>
  call(
    "PATCH",
    url,
    { "upload-offset": String(offset), "content-type": "application/offset+octet-stream", ...headers },
    body,
  );

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const { error } = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, code: error.code, message: error.message };
}

before(async () => {
  t = await startPlatform({ poolSize: 0 }, clock);
  s3 = signAsOf(s3Client(t), clock);
  ({ serviceKey } = await authKeys(t, () => clock.now()));
  const admin = authClient(t, { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` }).admin;
  assert.equal(
    (await admin.createUser({ email: "alice@example.com", password: PASSWORD, email_confirm: true })).error,
    null,
  );
  const { data } = await authClient(t).signInWithPassword({ email: "alice@example.com", password: PASSWORD });
  alice = { id: data.user?.id ?? "", token: data.session?.access_token ?? "" };
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: BUCKET,
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "own-folder",
            Effect: "Allow",
            Principal: { Nimbus: ["authenticated"] },
            Action: ["s3:GetObject", "s3:PutObject"],
            Resource: `arn:aws:s3:::${BUCKET}/users/\${auth.sub}/*`,
          },
        ],
      }),
    }),
  );
});
after(async () => {
  s3.destroy();
  await t.close();
});

describe("tus-js-client", () => {
  test("a 12 MB file sent in 5 MB chunks lands as the object, byte for byte", async () => {
    const data = randomBytes(12 * MiB);
    const url = await send(data, "big/file.bin", operator());
    assert.match(url, /\/storage\/v1\/upload\/resumable\/[\w-]+$/);
    assert.ok((await objectBytes("big/file.bin")).equals(data));
    const head = await call("HEAD", url);
    assert.equal(head.status, 404, "a completed upload is gone");
  });

  test("an upload cut after its first chunk resumes from the server's offset with its URL, and completes", async () => {
    const data = randomBytes(11 * MiB);
    const url = await new Promise<string>((resolve, reject) => {
      const upload: tus.Upload = new tus.Upload(data, {
        endpoint: endpoint(),
        metadata: { bucketName: BUCKET, objectName: "resumed.bin" },
        headers: { authorization: operator() },
        chunkSize: 5 * MiB,
        retryDelays: null,
        onChunkComplete: () => {
          void upload.abort().then(() => resolve(upload.url ?? ""));
        },
        onSuccess: () => reject(new Error("the upload was not cut")),
        onError: reject,
      });
      upload.start();
    });
    const head = await call("HEAD", url);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("upload-offset"), String(5 * MiB));
    assert.equal(head.headers.get("upload-length"), String(11 * MiB));
    assert.equal(head.headers.get("cache-control"), "no-store");
    let resumedFrom = -1;
    await send(data, "resumed.bin", operator(), {
      endpoint: null,
      uploadUrl: url,
      onProgress: (sent) => {
        if (resumedFrom === -1) resumedFrom = sent;
      },
    });
    assert.ok(resumedFrom >= 5 * MiB, `it resumed from ${resumedFrom}`);
    assert.ok((await objectBytes("resumed.bin")).equals(data));
  });

  test("termination removes the upload and its parts", async () => {
    const url = await created("terminated.bin", 10);
    assert.equal((await patch(url, 0, Buffer.from("abc"))).status, 204);
    await tus.Upload.terminate(url, { headers: { authorization: operator() } });
    assert.equal((await call("HEAD", url)).status, 404);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "terminated" }));
    assert.equal(uploads.Uploads?.length ?? 0, 0);
  });
});

describe("the protocol", () => {
  test("OPTIONS answers the server's version, extensions and largest upload, and a browser's preflight", async () => {
    const res = await fetch(endpoint(), { method: "OPTIONS" });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("tus-version"), "1.0.0");
    assert.equal(res.headers.get("tus-extension"), "creation,creation-with-upload,termination,expiration");
    assert.equal(res.headers.get("tus-max-size"), String(5 * 1024 ** 4));
    const preflight = await fetch(`${endpoint()}/some-id`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "PATCH",
        "access-control-request-headers": "authorization, tus-resumable, upload-offset, content-type",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "http://localhost:5173");
    assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /PATCH/);
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /authorization/);
  });

  test("a creation with its first bytes, then PATCHes: a wrong offset is 409, a wrong version 412, and every answer has CORS", async () => {
    const res = await call(
      "POST",
      endpoint(),
      {
        "upload-length": "6",
        "upload-metadata": `${metadataOf("small.txt")},contentType ${b64("text/plain")}`,
        "content-type": "application/offset+octet-stream",
        origin: "http://localhost:5173",
      },
      Buffer.from("abc"),
    );
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("upload-offset"), "3");
    assert.equal(res.headers.get("tus-resumable"), "1.0.0");
    assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
    assert.match(
      res.headers.get("access-control-expose-headers") ?? "",
      /Upload-Offset.*Location|Location.*Upload-Offset/,
    );
    assert.ok(res.headers.get("upload-expires"));
    const url = res.headers.get("location") ?? "";

    const conflict = await patch(url, 1, Buffer.from("def"));
    assert.equal(conflict.status, 409);
    const version = await patch(url, 3, Buffer.from("def"), { "tus-resumable": "0.2.2" });
    assert.deepEqual([version.status, version.headers.get("tus-version")], [412, "1.0.0"]);
    const type = await patch(url, 3, Buffer.from("def"), { "content-type": "application/octet-stream" });
    assert.equal(type.status, 415);
    const tooLong = await patch(url, 3, Buffer.from("defg"));
    assert.equal(tooLong.status, 413);

    const head = await call("HEAD", url);
    assert.equal(head.headers.get("upload-offset"), "3");
    assert.match(head.headers.get("upload-metadata") ?? "", /contentType dGV4dC9wbGFpbg==/);
    const done = await patch(url, 3, Buffer.from("def"));
    assert.deepEqual([done.status, done.headers.get("upload-offset")], [204, "6"]);
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "small.txt" }));
    assert.equal(object.ContentType, "text/plain");
    assert.equal((await bytesOf(object.Body)).toString(), "abcdef");
    assert.deepEqual(object.Metadata, {});
  });

  test("a PATCH cut mid-body keeps the bytes that arrived; the client resumes after them", async () => {
    const data = randomBytes(2 * MiB);
    const url = await created("cut.bin", data.length);
    const { pathname } = new URL(url);
    const req = httpRequest(`${t.url}${pathname}`, {
      method: "PATCH",
      headers: {
        authorization: operator(),
        "tus-resumable": "1.0.0",
        "upload-offset": "0",
        "content-type": "application/offset+octet-stream",
        "content-length": String(data.length),
      },
    });
    req.on("error", () => undefined);
    req.write(data.subarray(0, MiB));
    await new Promise((r) => setTimeout(r, 300));
    req.destroy();
    let offset = 0;
    for (const deadline = Date.now() + 10_000; offset === 0 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      offset = Number((await call("HEAD", url)).headers.get("upload-offset"));
    }
    assert.ok(offset > 0 && offset <= MiB, `the upload is at ${offset}`);
    assert.equal((await patch(url, offset, data.subarray(offset))).status, 204);
    assert.ok((await objectBytes("cut.bin")).equals(data));
  });
});

describe("who may upload", () => {
  test("a request without credentials is refused", async () => {
    const res = await fetch(endpoint(), {
      method: "POST",
      headers: { "tus-resumable": "1.0.0", "upload-length": "3", "upload-metadata": metadataOf("anon.txt") },
    });
    assert.equal(res.status, 403);
    assert.equal((await errorOf(res)).code, "AccessDenied");
    const url = await created("someone.txt", 3);
    const head = await fetch(url, { method: "HEAD", headers: { "tus-resumable": "1.0.0" } });
    assert.equal(head.status, 403);
  });

  test("a wrong platform key, or the auth service's service key (scoped to auth), is refused", async () => {
    const service = await call("POST", endpoint(), {
      authorization: `Bearer ${serviceKey}`,
      "upload-length": "3",
      "upload-metadata": metadataOf("x.txt"),
    });
    assert.equal(service.status, 403);
    const res = await call("POST", endpoint(), {
      authorization: `Basic ${b64(`${t.platform.credentials.accessKeyId}:not-the-secret`)}`,
      "upload-length": "3",
      "upload-metadata": metadataOf("x.txt"),
    });
    assert.equal(res.status, 403);
  });

  test("a user's token uploads under the prefix the bucket's policy grants, and nowhere else", async () => {
    const data = randomBytes(6 * MiB);
    const key = `users/${alice.id}/avatar.bin`;
    await send(data, key, `Bearer ${alice.token}`);
    assert.ok((await objectBytes(key)).equals(data));
    const elsewhere = await call("POST", endpoint(), {
      authorization: `Bearer ${alice.token}`,
      "upload-length": "3",
      "upload-metadata": metadataOf("users/someone-else/a.txt"),
    });
    assert.equal(elsewhere.status, 403);
    // An upload the operator made elsewhere is not hers to continue.
    const url = await created("shared/x.txt", 3);
    const taken = await call("PATCH", url, {
      authorization: `Bearer ${alice.token}`,
      "upload-offset": "0",
      "content-type": "application/offset+octet-stream",
    });
    assert.equal(taken.status, 403);
  });
});

describe("expiry", () => {
  test("an upload not finished 24 hours after its creation is 410, then swept", async () => {
    const url = await created("late.bin", 10);
    assert.equal((await patch(url, 0, Buffer.from("abc"))).status, 204);
    clock.jump(24 * HOUR_MS);
    const head = await call("HEAD", url);
    assert.equal(head.status, 410);
    assert.equal((await patch(url, 3, Buffer.from("def"))).status, 410);
    // The sweep runs every 10 minutes of the platform's clock.
    clock.advance(HOUR_MS / 6);
    await clock.settle();
    assert.equal((await call("HEAD", url)).status, 404);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "late" }));
    assert.equal(uploads.Uploads?.length ?? 0, 0);
  });
});
