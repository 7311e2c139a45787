/**
 * Image transforms end to end: buckets made with `@aws-sdk/client-s3`, their transforms turned
 * on with Nimbus's API, and images read through Supabase Storage's render endpoint with plain
 * fetch at the URLs `@supabase/storage-js` builds (`getPublicUrl(path, { transform })` and
 * `download(path, { transform })`: the path through `encodeURI`, the parameters in its order).
 * Each answer is read back with sharp: its format and size, the cache's hits and misses, an
 * overwrite's fresh variant, 304s, the refusals (parameters, limits, broken images, transforms
 * off), and who may read (anyone from a public-read bucket, a user as the bucket's policy says,
 * the operator).
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import sharp from "sharp";
import type { NimbusClient } from "../src/cli/client.js";
import { authClient, authKeys, nimbusClient } from "./helpers/auth.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { s3Client } from "./helpers/s3.js";

const PASSWORD = "correct horse battery staple";
/** Public-read, transforms on. */
const PUBLIC = "render-public";
/** Users read their own folder by the policy; transforms on. */
const PRIVATE = "render-private";
/** Public-read, transforms never turned on. */
const OFF = "render-off";

let t: TestPlatform;
let s3: S3Client;
let nimbus: NimbusClient;
let alice: { id: string; token: string };

const transformsPath = (bucket: string) => `/nimbus/v1/storage/buckets/${bucket}/transforms`;

/** The URL storage-js makes: `${url}/render/image/{public|authenticated}/${bucket}/${path}?…`, through encodeURI. */
function renderUrl(
  access: "public" | "authenticated",
  bucket: string,
  key: string,
  t2: { width?: number; height?: number; resize?: string; format?: string; quality?: number } = {},
  extra = "",
): string {
  const params = [
    t2.width && `width=${t2.width}`,
    t2.height && `height=${t2.height}`,
    t2.resize && `resize=${t2.resize}`,
    t2.format && `format=${t2.format}`,
    t2.quality && `quality=${t2.quality}`,
    extra,
  ].filter(Boolean);
  const query = params.length > 0 ? `?${params.join("&")}` : "";
  return encodeURI(`${t.url}/storage/v1/render/image/${access}/${bucket}/${key}${query}`);
}

const image = (width: number, height: number, format: "png" | "jpeg" = "png") =>
  sharp({ create: { width, height, channels: 3, background: "#2b6cb0" } })
    .toFormat(format)
    .toBuffer();

const put = (bucket: string, key: string, body: Buffer, more: { CacheControl?: string } = {}) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "image/png", ...more }));

async function imageOf(res: Response) {
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, bytes.toString());
  const meta = await sharp(bytes).metadata();
  return {
    bytes,
    format: meta.format,
    compression: meta.compression,
    width: meta.width,
    height: meta.height,
  };
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const { error } = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, code: error.code, message: error.message };
}

async function signedIn(email: string) {
  const { serviceKey } = await authKeys(t);
  const admin = authClient(t, { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` }).admin;
  const made = await admin.createUser({ email, password: PASSWORD, email_confirm: true });
  assert.equal(made.error, null);
  const { data, error } = await authClient(t).signInWithPassword({ email, password: PASSWORD });
  assert.equal(error, null);
  return { id: data.user?.id ?? "", token: data.session?.access_token ?? "" };
}

before(async () => {
  t = await startPlatform({ poolSize: 0 });
  s3 = s3Client(t);
  nimbus = nimbusClient(t);
  alice = await signedIn("alice@example.com");
  for (const bucket of [PUBLIC, PRIVATE, OFF]) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const bucket of [PUBLIC, OFF])
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: "public-read" }));
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: PRIVATE,
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "own-folder",
            Effect: "Allow",
            Principal: { Nimbus: ["authenticated"] },
            Action: "s3:GetObject",
            Resource: `arn:aws:s3:::${PRIVATE}/users/\${auth.sub}/*`,
          },
        ],
      }),
    }),
  );
  for (const bucket of [PUBLIC, PRIVATE]) await nimbus.call("PUT", transformsPath(bucket), { body: "{}" });
});
after(async () => {
  s3.destroy();
  await t.close();
});

describe("the transforms setting", () => {
  test("PUT sets it, GET answers it with every default filled in, DELETE turns transforms off", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "render-settings" }));
    const none = await nimbus.json<{ transforms: { enabled: boolean } }>(
      "GET",
      transformsPath("render-settings"),
    );
    assert.equal(none.transforms.enabled, false);
    const set = await nimbus.json("PUT", transformsPath("render-settings"), {
      body: JSON.stringify({ maxWidth: 800, formats: ["webp", "jpeg"] }),
    });
    const expected = {
      bucket: "render-settings",
      transforms: {
        enabled: true,
        maxWidth: 800,
        maxHeight: 2500,
        maxSourceBytes: 26214400,
        formats: ["webp", "jpeg"],
      },
    };
    assert.deepEqual(set, expected);
    assert.deepEqual(await nimbus.json("GET", transformsPath("render-settings")), expected);
    const removed = await nimbus.request("DELETE", transformsPath("render-settings"));
    assert.equal(removed.status, 204);
    const off = await nimbus.json<{ transforms: { enabled: boolean } }>(
      "GET",
      transformsPath("render-settings"),
    );
    assert.equal(off.transforms.enabled, false);
  });

  test("a body with problems is refused with each named; an unknown bucket is 404", async () => {
    const bad = await nimbus.request("PUT", transformsPath(PUBLIC), {
      body: JSON.stringify({ enabled: "yes", maxWidth: 0, formats: ["gif"] }),
    });
    const err = await errorOf(bad);
    assert.equal(err.status, 400);
    assert.match(err.message, /enabled is "yes": it must be true or false/);
    assert.match(err.message, /maxWidth is 0: it must be an integer from 1 to 8192/);
    assert.match(err.message, /formats\.0 is "gif": it must be one of webp, avif, jpeg, png/);
    const missing = await nimbus.request("PUT", transformsPath("no-such-bucket"), { body: "{}" });
    assert.equal(missing.status, 404);
  });
});

describe("rendering a public image", () => {
  before(async () => {
    await put(PUBLIC, "albums/summer day.png", await image(600, 400), { CacheControl: "max-age=3600" });
  });

  test("cover crops to exactly the size asked, in the format asked, with the object's Cache-Control", async () => {
    const res = await fetch(
      renderUrl("public", PUBLIC, "albums/summer day.png", { width: 120, height: 120, format: "webp" }),
    );
    assert.equal(res.headers.get("content-type"), "image/webp");
    assert.equal(res.headers.get("cache-control"), "max-age=3600");
    assert.match(res.headers.get("etag") ?? "", /^"[0-9a-f]{32}"$/);
    const got = await imageOf(res);
    assert.deepEqual([got.format, got.width, got.height], ["webp", 120, 120]);
  });

  test("contain fits within the box, keeping the aspect; fill stretches; avif and jpeg are what they say", async () => {
    const contain = await imageOf(
      await fetch(
        renderUrl("public", PUBLIC, "albums/summer day.png", { width: 120, height: 120, resize: "contain" }),
      ),
    );
    assert.deepEqual([contain.format, contain.width, contain.height], ["png", 120, 80]);
    const fill = await imageOf(
      await fetch(
        renderUrl("public", PUBLIC, "albums/summer day.png", { width: 50, height: 100, resize: "fill" }),
      ),
    );
    assert.deepEqual([fill.width, fill.height], [50, 100]);
    const avifRes = await fetch(
      renderUrl("public", PUBLIC, "albums/summer day.png", { width: 60, format: "avif" }),
    );
    assert.equal(avifRes.headers.get("content-type"), "image/avif");
    const avif = await imageOf(avifRes);
    assert.deepEqual([avif.format, avif.compression, avif.width, avif.height], ["heif", "av1", 60, 40]);
    const jpeg = await imageOf(
      await fetch(
        renderUrl("public", PUBLIC, "albums/summer day.png", { height: 20, format: "jpeg", quality: 30 }),
      ),
    );
    assert.deepEqual([jpeg.format, jpeg.width, jpeg.height], ["jpeg", 30, 20]);
  });

  test("the second identical request is a hit, byte for byte; the variant is on disk", async () => {
    const url = renderUrl("public", PUBLIC, "albums/summer day.png", {
      width: 90,
      height: 45,
      format: "png",
    });
    const first = await fetch(url);
    const second = await fetch(url);
    assert.equal(first.headers.get("x-nimbus-transform-cache"), "miss");
    assert.equal(second.headers.get("x-nimbus-transform-cache"), "hit");
    assert.equal(first.headers.get("etag"), second.headers.get("etag"));
    const [a, b] = [await imageOf(first), await imageOf(second)];
    assert.ok(a.bytes.equals(b.bytes));
    const shards = await readdir(join(t.dataDir, "transforms"));
    assert.ok(shards.length > 0);
  });

  test("two identical requests at once transform once", async () => {
    const url = renderUrl("public", PUBLIC, "albums/summer day.png", { width: 77, format: "webp" });
    const answers = await Promise.all([fetch(url), fetch(url)]);
    assert.deepEqual(answers.map((r) => r.headers.get("x-nimbus-transform-cache")).sort(), ["hit", "miss"]);
    const [a, b] = await Promise.all(answers.map(imageOf));
    assert.ok(a!.bytes.equals(b!.bytes));
  });

  test("If-None-Match with the variant's ETag is 304; HEAD answers the headers alone", async () => {
    const url = renderUrl("public", PUBLIC, "albums/summer day.png", { width: 40 });
    const first = await fetch(url);
    await first.arrayBuffer();
    const etag = first.headers.get("etag") ?? "";
    const again = await fetch(url, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get("etag"), etag);
    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-type"), "image/png");
    assert.equal(head.headers.get("content-length"), first.headers.get("content-length"));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  test("an overwritten object gets a fresh variant, never the old one", async () => {
    await put(PUBLIC, "swap.png", await image(200, 100));
    const url = renderUrl("public", PUBLIC, "swap.png", { width: 100 });
    const before = await fetch(url);
    assert.equal((await imageOf(before)).height, 50);
    await put(PUBLIC, "swap.png", await image(200, 200));
    const after = await fetch(url);
    assert.equal(after.headers.get("x-nimbus-transform-cache"), "miss");
    assert.notEqual(after.headers.get("etag"), before.headers.get("etag"));
    assert.equal((await imageOf(after)).height, 100);
  });

  test("download names the attachment", async () => {
    const res = await fetch(
      renderUrl("public", PUBLIC, "albums/summer day.png", { width: 10 }, "download=small.png"),
    );
    assert.equal(
      res.headers.get("content-disposition"),
      `attachment; filename="small.png"; filename*=UTF-8''small.png`,
    );
    await res.arrayBuffer();
  });
});

describe("refusals", () => {
  test("each bad parameter is 400 naming it and what it takes", async () => {
    await put(PUBLIC, "p.png", await image(50, 50));
    const cases: [string, RegExp][] = [
      ["width=0", /^width is "0": expected an integer from 1 to 2500 \(this bucket's maxWidth\)$/],
      ["width=-3", /^width is "-3": expected an integer from 1 to 2500/],
      ["width=2.5", /^width is "2\.5": expected an integer/],
      ["height=2501", /^height is "2501": expected an integer from 1 to 2500 \(this bucket's maxHeight\)$/],
      ["quality=10", /^quality is "10": expected an integer from 20 to 100$/],
      ["quality=101", /^quality is "101": expected an integer from 20 to 100$/],
      ["resize=crop", /^resize is "crop": expected one of cover, contain, fill$/],
      ["format=gif", /^format is "gif": expected one of origin, webp, avif, jpeg, png$/],
    ];
    for (const [query, message] of cases) {
      const err = await errorOf(await fetch(`${renderUrl("public", PUBLIC, "p.png")}?${query}`));
      assert.equal(err.status, 400, query);
      assert.equal(err.code, "InvalidArgument", query);
      assert.match(err.message, message, query);
    }
  });

  test("a bucket with transforms off says so, and how to turn them on", async () => {
    await put(OFF, "p.png", await image(50, 50));
    const err = await errorOf(await fetch(renderUrl("public", OFF, "p.png", { width: 10 })));
    assert.deepEqual([err.status, err.code], [403, "TransformsDisabled"]);
    assert.match(
      err.message,
      /^image transforms are off for bucket "render-off": the operator turns them on with PUT \/nimbus\/v1\/storage\/buckets\/render-off\/transforms/,
    );
  });

  test("a source over the bucket's maxSourceBytes is 422 before it is read; a broken image is 422", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "render-small" }));
    await s3.send(new PutBucketAclCommand({ Bucket: "render-small", ACL: "public-read" }));
    await nimbus.call("PUT", transformsPath("render-small"), {
      body: JSON.stringify({ maxSourceBytes: 2048 }),
    });
    await put(
      "render-small",
      "big.png",
      await sharp({
        create: {
          width: 64,
          height: 64,
          channels: 3,
          background: "#000",
          noise: { type: "gaussian", mean: 128, sigma: 40 },
        },
      })
        .png()
        .toBuffer(),
    );
    const big = await errorOf(await fetch(renderUrl("public", "render-small", "big.png", { width: 10 })));
    assert.deepEqual([big.status, big.code], [422, "ImageTooLarge"]);
    assert.match(big.message, /transforms images of at most 2,048 bytes \(its maxSourceBytes\)/);

    const jpeg = await image(100, 100, "jpeg");
    await put(PUBLIC, "broken.jpg", jpeg.subarray(0, 150));
    const broken = await errorOf(await fetch(renderUrl("public", PUBLIC, "broken.jpg", { width: 10 })));
    assert.deepEqual([broken.status, broken.code], [422, "InvalidImage"]);
    assert.match(broken.message, /^object "broken\.jpg" is not an image transforms can read/);
    await put(PUBLIC, "notes.txt", Buffer.from("plain text"));
    assert.equal((await fetch(renderUrl("public", PUBLIC, "notes.txt", { width: 10 }))).status, 422);
  });

  test("a missing object is 404", async () => {
    const err = await errorOf(await fetch(renderUrl("public", PUBLIC, "nothing.png", { width: 10 })));
    assert.deepEqual([err.status, err.code], [404, "NoSuchKey"]);
  });
});

describe("who may read", () => {
  let own: string;
  before(async () => {
    own = `users/${alice.id}/avatar.png`;
    await put(PRIVATE, own, await image(100, 100));
    await put(PRIVATE, "users/someone-else/avatar.png", await image(100, 100));
  });

  test("anyone without credentials is denied a private bucket's image, at either path", async () => {
    for (const access of ["public", "authenticated"] as const) {
      const err = await errorOf(await fetch(renderUrl(access, PRIVATE, own, { width: 10 })));
      assert.deepEqual([err.status, err.code], [403, "AccessDenied"], access);
    }
    // A token sent to the public path does not count: it is the anonymous caller's path.
    const withToken = await fetch(renderUrl("public", PRIVATE, own, { width: 10 }), {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    assert.equal(withToken.status, 403);
  });

  test("a signed-in user reads what the policy allows them, as storage-js's download sends it, and nothing else", async () => {
    const headers = { authorization: `Bearer ${alice.token}` };
    const got = await imageOf(
      await fetch(renderUrl("authenticated", PRIVATE, own, { width: 30, format: "webp" }), { headers }),
    );
    assert.deepEqual([got.format, got.width, got.height], ["webp", 30, 30]);
    const other = await fetch(
      renderUrl("authenticated", PRIVATE, "users/someone-else/avatar.png", { width: 30 }),
      {
        headers,
      },
    );
    assert.equal((await errorOf(other)).code, "AccessDenied");
    const forged = await fetch(renderUrl("authenticated", PRIVATE, own, { width: 30 }), {
      headers: { authorization: "Bearer not-a-token" },
    });
    assert.equal(forged.status, 403);
  });

  test("the operator's key (HTTP Basic) reads anything", async () => {
    const { accessKeyId, secretAccessKey } = t.platform.credentials;
    const basic = `Basic ${Buffer.from(`${accessKeyId}:${secretAccessKey}`).toString("base64")}`;
    const got = await imageOf(
      await fetch(renderUrl("authenticated", PRIVATE, "users/someone-else/avatar.png", { width: 20 }), {
        headers: { authorization: basic },
      }),
    );
    assert.equal(got.width, 20);
  });

  test("a browser's preflight is answered without credentials, and answers carry CORS headers", async () => {
    const url = renderUrl("authenticated", PRIVATE, own, { width: 10 });
    const preflight = await fetch(url, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-headers"), "authorization");
    const res = await fetch(url, {
      headers: { origin: "http://localhost:5173", authorization: `Bearer ${alice.token}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /X-Nimbus-Transform-Cache/);
    await res.arrayBuffer();
  });
});
