/**
 * Browser form uploads (S3's POST Object) end to end: a function's `createPresignedPost`
 * (`@aws-sdk/s3-presigned-post`) signs the form's policy with the platform's key, and a plain
 * `fetch` of a `FormData` plays the browser. What it stored is read back with
 * `@aws-sdk/client-s3`; what the policy refuses answers S3's errors and stores nothing.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: S3's ${filename} is written so in a form's key, on purpose
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { crc32 } from "node:zlib";
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketPolicyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { CreateQueueCommand, type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createPresignedPost, type PresignedPostOptions } from "@aws-sdk/s3-presigned-post";
import type { NimbusClient } from "../src/cli/client.js";
import { nimbusClient } from "./helpers/auth.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { bytesOf, errorCodeOf, s3Client, s3Failure } from "./helpers/s3.js";
import { eventually } from "./helpers/wait.js";

const BUCKET = "form-uploads";
const APP = "https://app.example.com";

let t: TestPlatform;
let s3: S3Client;
let nimbus: NimbusClient;

before(async () => {
  t = await startPlatform({ poolSize: 0 });
  s3 = s3Client(t);
  nimbus = nimbusClient(t);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  s3.destroy();
  await t.close();
});

type Presigned = Awaited<ReturnType<typeof createPresignedPost>>;

/** What a function hands the page: the form's URL and signed fields, for BUCKET unless told. */
const presign = (o: Omit<PresignedPostOptions, "Bucket"> & { Bucket?: string }): Promise<Presigned> =>
  createPresignedPost(s3, { Bucket: BUCKET, Expires: 300, ...o });

/** The page's upload: the fields, then the file, posted as multipart/form-data; `after` follows the file. */
function post(
  url: string,
  fields: Record<string, string>,
  file: Buffer | string,
  o: { filename?: string; after?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", new Blob([file]), o.filename ?? "upload.bin");
  for (const [name, value] of Object.entries(o.after ?? {})) form.append(name, value);
  return fetch(url, {
    method: "POST",
    body: form,
    redirect: "manual",
    ...(o.headers ? { headers: o.headers } : {}),
  });
}

/** An S3 error answer's code, status and message. */
async function failure(
  res: Response,
): Promise<{ code: string | undefined; status: number; message: string }> {
  const xml = await res.text();
  return {
    code: errorCodeOf(xml),
    status: res.status,
    message: (/<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? "").replace(
      /&(quot|apos|lt|gt|amp);/g,
      (_, e: string) => ({ quot: '"', apos: "'", lt: "<", gt: ">", amp: "&" })[e] ?? "",
    ),
  };
}

/** Whether the key is absent, as HeadObject sees it. */
async function absent(key: string, bucket = BUCKET): Promise<boolean> {
  const r = await s3Failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  return r.name === "NotFound";
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("a form signed by createPresignedPost", () => {
  test("uploads the file with its content type and metadata: 204, and GET reads back the same bytes", async () => {
    const { url, fields } = await presign({
      Key: "notes/hello.txt",
      Conditions: [
        ["starts-with", "$Content-Type", "text/"],
        ["content-length-range", 1, 1024],
      ],
      Fields: {
        "Content-Type": "text/plain; charset=utf-8",
        "x-amz-meta-owner": "alice",
        "Cache-Control": "max-age=60",
      },
    });
    assert.equal(url, `${t.url}/s3/${BUCKET}`);
    const res = await post(url, fields, "hello from a form");
    assert.equal(res.status, 204, await res.clone().text());
    const etag = res.headers.get("etag");
    assert.equal(etag, `"${createHash("md5").update("hello from a form").digest("hex")}"`);
    assert.equal(res.headers.get("location"), `${t.url}/s3/${BUCKET}/notes/hello.txt`);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "notes/hello.txt" }));
    assert.equal((await bytesOf(got.Body)).toString(), "hello from a form");
    assert.deepEqual(
      [got.ContentType, got.Metadata, got.CacheControl, got.ETag],
      ["text/plain; charset=utf-8", { owner: "alice" }, "max-age=60", etag],
    );
  });

  test("success_action_status 201 answers S3's PostResponse document", async () => {
    const { url, fields } = await presign({
      Key: "docs/report.csv",
      Fields: { success_action_status: "201" },
    });
    const res = await post(url, fields, "a,b\n1,2\n");
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("content-type"), "application/xml");
    const xml = await res.text();
    const etag = createHash("md5").update("a,b\n1,2\n").digest("hex");
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<PostResponse>/);
    assert.match(xml, new RegExp(`<Location>${t.url}/s3/${BUCKET}/docs/report.csv</Location>`));
    assert.match(
      xml,
      new RegExp(`<Bucket>${BUCKET}</Bucket><Key>docs/report.csv</Key><ETag>&quot;${etag}&quot;</ETag>`),
    );
  });

  test("success_action_redirect answers 303 to the page with bucket, key and ETag in its query", async () => {
    const { url, fields } = await presign({
      Key: "done/a.txt",
      Fields: { success_action_redirect: `${APP}/uploaded?from=form` },
    });
    const res = await post(url, fields, "redirected");
    assert.equal(res.status, 303);
    const to = new URL(res.headers.get("location") ?? "");
    assert.equal(`${to.origin}${to.pathname}`, `${APP}/uploaded`);
    assert.deepEqual(Object.fromEntries(to.searchParams), {
      from: "form",
      bucket: BUCKET,
      key: "done/a.txt",
      etag: `"${createHash("md5").update("redirected").digest("hex")}"`,
    });
  });

  test("${filename} in the key is the file's name, under the prefix the policy allows", async () => {
    const { url, fields } = await presign({ Key: "uploads/${filename}" });
    const res = await post(url, fields, "png bytes", { filename: "cat photo.png" });
    assert.equal(res.status, 204, await res.clone().text());
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "uploads/cat photo.png" }));
    assert.equal((await bytesOf(got.Body)).toString(), "png bytes");
  });

  test("tagging and fields after the file: the tags are stored, what follows the file is ignored", async () => {
    const tagging = "<Tagging><TagSet><Tag><Key>kind</Key><Value>note</Value></Tag></TagSet></Tagging>";
    const { url, fields } = await presign({ Key: "tagged.txt", Fields: { tagging } });
    const res = await post(url, fields, "tagged", {
      after: { "x-amz-meta-late": "ignored", "not-in-policy": "1" },
    });
    assert.equal(res.status, 204, await res.clone().text());
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: "tagged.txt" }));
    assert.deepEqual(tags.TagSet, [{ Key: "kind", Value: "note" }]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "tagged.txt" }));
    assert.deepEqual(head.Metadata, {});
  });

  test("a checksum field is checked against the file: stored and echoed when it matches, BadDigest when not", async () => {
    const crc = (text: string) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32(text));
      return b.toString("base64");
    };
    const { url, fields } = await presign({
      Key: "summed.txt",
      Fields: { "x-amz-checksum-crc32": crc("summed") },
    });
    const wrong = await failure(await post(url, fields, "not what was summed"));
    assert.deepEqual([wrong.code, wrong.status], ["BadDigest", 400]);
    assert.ok(await absent("summed.txt"));
    const res = await post(url, fields, "summed");
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("x-amz-checksum-crc32"), crc("summed"));
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: "summed.txt", ChecksumMode: "ENABLED" }),
    );
    assert.equal(head.ChecksumCRC32, crc("summed"));
  });

  test("a 10 MB file streams in and reads back byte for byte", async () => {
    const big = randomBytes(10 * 1024 * 1024);
    const { url, fields } = await presign({
      Key: "big/random.bin",
      Conditions: [["content-length-range", 0, 20 * 1024 * 1024]],
    });
    const res = await post(url, fields, big);
    assert.equal(res.status, 204, await res.clone().text());
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big/random.bin" }));
    const back = await bytesOf(got.Body);
    assert.equal(back.length, big.length);
    assert.equal(sha256(back), sha256(big));
  });

  test("virtual-host style: POST / at {bucket}.s3.localhost", async () => {
    const { fields } = await presign({ Key: "vhost.txt" });
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append("file", new Blob(["by host"]), "vhost.txt");
    const encoded = new Response(form);
    const body = Buffer.from(await encoded.arrayBuffer());
    const { port } = new URL(t.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/",
          headers: {
            host: `${BUCKET}.s3.localhost:${port}`,
            "content-type": encoded.headers.get("content-type") ?? "",
            "content-length": body.length,
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    assert.equal(status, 204);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "vhost.txt" }));
    assert.equal((await bytesOf(got.Body)).toString(), "by host");
  });
});

describe("what the policy refuses stores nothing", () => {
  test("content-length-range: a file too small is EntityTooSmall, too large EntityTooLarge", async () => {
    const { url, fields } = await presign({
      Key: "sized.bin",
      Conditions: [["content-length-range", 10, 20]],
    });
    const small = await failure(await post(url, fields, Buffer.alloc(5)));
    assert.deepEqual([small.code, small.status], ["EntityTooSmall", 400]);
    assert.match(small.message, /it is 5 bytes, the policy's content-length-range asks for at least 10/);
    const large = await failure(await post(url, fields, Buffer.alloc(30)));
    assert.deepEqual([large.code, large.status], ["EntityTooLarge", 400]);
    assert.match(large.message, /at most 20 bytes/);
    assert.ok(await absent("sized.bin"));
    assert.equal((await post(url, fields, Buffer.alloc(15))).status, 204, "within the range it is taken");
  });

  test("an expired policy is AccessDenied: Policy expired", async () => {
    const { url, fields } = await presign({ Key: "late.txt", Expires: -60 });
    const r = await failure(await post(url, fields, "late"));
    assert.deepEqual(
      [r.code, r.status, r.message],
      ["AccessDenied", 403, "Invalid according to Policy: Policy expired."],
    );
    assert.ok(await absent("late.txt"));
  });

  test("a policy changed after signing is SignatureDoesNotMatch; a key changed fails the policy's condition", async () => {
    const { url, fields } = await presign({
      Key: "exact.txt",
      Conditions: [["content-length-range", 0, 10]],
    });
    const policyField = Object.keys(fields).find((k) => k.toLowerCase() === "policy") ?? "";
    const doc = JSON.parse(Buffer.from(fields[policyField] ?? "", "base64").toString()) as {
      conditions: unknown[];
    };
    doc.conditions = doc.conditions.map((c) =>
      Array.isArray(c) && c[0] === "content-length-range" ? ["content-length-range", 0, 1e9] : c,
    );
    const tampered = { ...fields, [policyField]: Buffer.from(JSON.stringify(doc)).toString("base64") };
    const bad = await failure(await post(url, tampered, "x".repeat(100)));
    assert.deepEqual([bad.code, bad.status], ["SignatureDoesNotMatch", 403]);
    const otherKey = await failure(await post(url, { ...fields, key: "elsewhere.txt" }, "x"));
    assert.deepEqual(
      [otherKey.code, otherKey.status, otherKey.message],
      [
        "AccessDenied",
        403,
        'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "exact.txt"]',
      ],
    );
    assert.ok((await absent("exact.txt")) && (await absent("elsewhere.txt")));
  });

  test("a field the policy does not name is an extra input field", async () => {
    const { url, fields } = await presign({ Key: "extra.txt" });
    const r = await failure(await post(url, { ...fields, "x-amz-meta-Sneaky": "1" }, "x"));
    assert.deepEqual(
      [r.code, r.status, r.message],
      ["AccessDenied", 403, "Invalid according to Policy: Extra input fields: x-amz-meta-Sneaky"],
    );
    assert.ok(await absent("extra.txt"));
  });

  test("a key outside the starts-with prefix the policy allows is refused", async () => {
    const { url, fields } = await presign({ Key: "users/u1/${filename}" });
    const r = await failure(
      await post(url, { ...fields, key: "users/u2/${filename}" }, "x", { filename: "a.txt" }),
    );
    assert.deepEqual(
      [r.code, r.message],
      [
        "AccessDenied",
        'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "users/u1/"]',
      ],
    );
    assert.ok(await absent("users/u2/a.txt"));
  });

  test("a key over 1,024 bytes, an ACL Nimbus has not, a body that is no form, no file, too many fields", async () => {
    const long = await presign({ Key: "k".repeat(1025) });
    const tooLong = await failure(await post(long.url, long.fields, "x"));
    assert.deepEqual([tooLong.code, tooLong.status], ["KeyTooLongError", 400]);
    const acl = await presign({ Key: "acl.txt", Fields: { acl: "public-read" } });
    const publicRead = await failure(await post(acl.url, acl.fields, "x"));
    assert.deepEqual([publicRead.code, publicRead.status], ["NotImplemented", 501]);
    const privateAcl = await presign({ Key: "acl.txt", Fields: { acl: "private" } });
    assert.equal((await post(privateAcl.url, privateAcl.fields, "x")).status, 204);
    const url = `${t.url}/s3/${BUCKET}`;
    const json = await failure(
      await fetch(url, { method: "POST", body: "{}", headers: { "content-type": "application/json" } }),
    );
    assert.deepEqual([json.code, json.status], ["PreconditionFailed", 412]);
    const noFile = new FormData();
    noFile.append("key", "nofile.txt");
    const missing = await failure(await fetch(url, { method: "POST", body: noFile }));
    assert.deepEqual(
      [missing.code, missing.message],
      ["InvalidArgument", "POST requires exactly one file upload per request."],
    );
    const huge = await failure(
      await post(url, { key: "huge.txt", "x-ignore-pad": "p".repeat(25 * 1024) }, "x"),
    );
    assert.deepEqual([huge.code, huge.status], ["MaxPostPreDataLengthExceeded", 400]);
  });

  test("a body that ends inside the file is MalformedPOSTRequest, and the platform goes on", async () => {
    const { url, fields } = await presign({ Key: "cut.bin" });
    const b = "cut-boundary";
    let head = "";
    for (const [name, value] of Object.entries(fields))
      head += `--${b}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    head += `--${b}\r\nContent-Disposition: form-data; name="file"; filename="c"\r\n\r\n`;
    const res = await fetch(url, {
      method: "POST",
      body: Buffer.concat([Buffer.from(head), Buffer.alloc(1000, 3)]),
      headers: { "content-type": `multipart/form-data; boundary=${b}` },
    });
    const r = await failure(res);
    assert.deepEqual([r.code, r.status], ["MalformedPOSTRequest", 400]);
    assert.ok(await absent("cut.bin"));
    assert.equal((await post(url, fields, "whole")).status, 204);
  });

  test("over the bucket's quota is the quota's error, as a PUT gets it", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "form-quota" }));
    await nimbus.json("PUT", "/nimbus/v1/storage/buckets/form-quota/quota", {
      body: JSON.stringify({ maxBytes: 100_000, maxObjectBytes: 70_000 }),
    });
    const one = await presign({ Bucket: "form-quota", Key: "one.bin" });
    const tooBig = await failure(await post(one.url, one.fields, Buffer.alloc(80_000)));
    assert.deepEqual([tooBig.code, tooBig.status], ["EntityTooLarge", 400]);
    assert.equal((await post(one.url, one.fields, Buffer.alloc(60_000))).status, 204);
    const two = await presign({ Bucket: "form-quota", Key: "two.bin" });
    const full = await failure(await post(two.url, two.fields, Buffer.alloc(60_000)));
    assert.deepEqual([full.code, full.status], ["QuotaExceeded", 403]);
    assert.ok(await absent("two.bin", "form-quota"));
  });
});

describe("a form without a signature", () => {
  test("is held to the bucket's policy: allowed where it lets anyone write, AccessDenied elsewhere", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "form-public" }));
    const url = `${t.url}/s3/form-public`;
    const before = await failure(await post(url, { key: "drop/a.txt" }, "x"));
    assert.deepEqual([before.code, before.status], ["AccessDenied", 403]);
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: "form-public",
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: "*",
              Action: "s3:PutObject",
              Resource: "arn:aws:s3:::form-public/drop/*",
            },
          ],
        }),
      }),
    );
    const res = await post(url, { key: "drop/${filename}", "Content-Type": "text/plain" }, "anonymous", {
      filename: "b.txt",
    });
    assert.equal(res.status, 204, await res.clone().text());
    const got = await s3.send(new GetObjectCommand({ Bucket: "form-public", Key: "drop/b.txt" }));
    assert.deepEqual([(await bytesOf(got.Body)).toString(), got.ContentType], ["anonymous", "text/plain"]);
    const outside = await failure(await post(url, { key: "private/c.txt" }, "x"));
    assert.deepEqual([outside.code, outside.status], ["AccessDenied", 403]);
    assert.ok(await absent("private/c.txt", "form-public"));
  });
});

describe("what a page and the bucket's destinations see", () => {
  test("the answer carries the bucket's CORS headers, errors included", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "form-cors" }));
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: "form-cors",
        CORSConfiguration: {
          CORSRules: [
            { AllowedOrigins: [APP], AllowedMethods: ["POST"], ExposeHeaders: ["ETag", "Location"] },
          ],
        },
      }),
    );
    const { url, fields } = await presign({ Bucket: "form-cors", Key: "from-page.txt" });
    const ok = await post(url, fields, "from the page", { headers: { origin: APP } });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), APP);
    assert.equal(ok.headers.get("access-control-expose-headers"), "ETag, Location");
    const refused = await post(url, { ...fields, key: "other.txt" }, "x", { headers: { origin: APP } });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get("access-control-allow-origin"), APP);
  });

  test("a destination of s3:ObjectCreated:Post gets S3's record of the upload", async () => {
    const sqs = new SQSClient({
      endpoint: t.url,
      region: "us-east-1",
      credentials: t.platform.credentials,
      maxAttempts: 1,
    });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: "form-events" }));
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "form-posts" }));
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: "form-events",
          NotificationConfiguration: {
            QueueConfigurations: [
              {
                Id: "posts",
                QueueArn: "arn:aws:sqs:us-east-1:000000000000:form-posts",
                Events: ["s3:ObjectCreated:Post"],
              },
            ],
          },
        }),
      );
      const { url, fields } = await presign({ Bucket: "form-events", Key: "in/a.txt" });
      assert.equal((await post(url, fields, "event me")).status, 204);
      const got: Message[] = [];
      const records = () =>
        got.flatMap(
          (m) => (JSON.parse(m.Body ?? "{}") as { Records?: Record<string, unknown>[] }).Records ?? [],
        );
      await eventually(
        async () => {
          const out = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
          );
          got.push(...(out.Messages ?? []));
          return records().length;
        },
        (n) => n >= 1,
        { what: "the ObjectCreated:Post record", timeoutMs: 10_000 },
      );
      const record = records()[0] as { eventName: string; s3: { object: { key: string; size: number } } };
      assert.deepEqual(
        [record.eventName, record.s3.object.key, record.s3.object.size],
        ["ObjectCreated:Post", "in/a.txt", 8],
      );
    } finally {
      sqs.destroy();
    }
  });
});
