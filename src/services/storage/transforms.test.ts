import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import sharp from "sharp";
import { storageOnSqlite } from "../../../test/helpers/storage-service.js";
import { S3Error } from "./errors.js";
import { EMPTY_HEADERS } from "./storage.js";
import { ImageTransformer, type RenderRequest, type RenderResult, Slots, sniff } from "./transforms.js";
import { VariantCache } from "./transforms-cache.js";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

/** `"off"`: a bucket without the setting. */
async function setup(transforms: Record<string, unknown> | "off" = {}) {
  const { storage, repo, dir } = await storageOnSqlite({ name: "transforms", cleanups });
  await storage.createBucket("photos");
  if (transforms !== "off")
    await repo.putSetting("photos", "transforms", JSON.stringify({ enabled: true, ...transforms }));
  const cache = new VariantCache({ dir: join(dir, "transforms"), maxBytes: 10 * 1024 * 1024, log: () => {} });
  const put = (key: string, bytes: Buffer, cacheControl?: string) =>
    storage.putObject("photos", key, {
      body: (async function* () {
        yield bytes;
      })(),
      size: bytes.length,
      headers: { ...EMPTY_HEADERS, contentType: "image/png", cacheControl },
      userMetadata: {},
      tags: {},
      checks: {},
    });
  return { storage, put, transformer: new ImageTransformer({ storage, cache, concurrency: 2 }) };
}

const image = (width: number, height: number, format: "png" | "jpeg" = "png") =>
  sharp({ create: { width, height, channels: 3, background: "#3a7" } })
    .toFormat(format)
    .toBuffer();

const render = (t: ImageTransformer, key: string, query: string, more: Partial<RenderRequest> = {}) =>
  t.render({ bucket: "photos", key, query: new URLSearchParams(query), ...more });

function imageOf(r: RenderResult) {
  assert.equal(r.kind, "image");
  return r as Extract<RenderResult, { kind: "image" }>;
}

async function refusal(p: Promise<unknown>): Promise<S3Error> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
  throw new Error("it was not refused");
}

describe("image transforms", () => {
  test("cover crops to exactly the box, contain fits within it, fill stretches to it", async () => {
    const { put, transformer } = await setup();
    await put("cat.png", await image(400, 200));
    const sizes: Record<string, [number, number]> = {
      cover: [100, 100],
      contain: [100, 50],
      fill: [100, 100],
    };
    for (const [resize, [w, h]] of Object.entries(sizes)) {
      const r = imageOf(
        await render(transformer, "cat.png", `width=100&height=100&resize=${resize}&format=webp`),
      );
      const meta = await sharp(r.bytes).metadata();
      assert.deepEqual(
        [meta.format, meta.width, meta.height, r.contentType],
        ["webp", w, h, "image/webp"],
        resize,
      );
    }
    const wide = imageOf(await render(transformer, "cat.png", "width=200"));
    const meta = await sharp(wide.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["png", 200, 100]);
  });

  test("origin keeps a JPEG a JPEG; avif is AVIF", async () => {
    const { put, transformer } = await setup();
    await put("a.jpg", await image(64, 64, "jpeg"));
    const jpeg = imageOf(await render(transformer, "a.jpg", "width=32&quality=50"));
    assert.equal(jpeg.contentType, "image/jpeg");
    assert.equal((await sharp(jpeg.bytes).metadata()).format, "jpeg");
    const avif = imageOf(await render(transformer, "a.jpg", "width=32&format=avif"));
    assert.equal(avif.contentType, "image/avif");
    const meta = await sharp(avif.bytes).metadata();
    assert.deepEqual([meta.format, meta.compression, meta.width], ["heif", "av1", 32]);
  });

  test("the second request is a hit with the same bytes and ETag; an overwrite makes a fresh variant", async () => {
    const { put, transformer } = await setup();
    await put("cat.png", await image(300, 300), "max-age=60");
    const first = imageOf(await render(transformer, "cat.png", "width=50"));
    const second = imageOf(await render(transformer, "cat.png", "quality=80&width=50"));
    assert.deepEqual([first.cache, second.cache], ["miss", "hit"]);
    assert.ok(first.bytes.equals(second.bytes));
    assert.equal(first.etag, second.etag);
    assert.equal(first.cacheControl, "max-age=60");
    await put("cat.png", await image(300, 150));
    const fresh = imageOf(await render(transformer, "cat.png", "width=50"));
    assert.equal(fresh.cache, "miss");
    assert.notEqual(fresh.etag, first.etag);
    assert.equal((await sharp(fresh.bytes).metadata()).height, 25);
  });

  test("If-None-Match with the variant's ETag is not-modified, without a transform", async () => {
    const { put, transformer } = await setup();
    await put("cat.png", await image(100, 100));
    const { etag } = imageOf(await render(transformer, "cat.png", "width=10"));
    const again = await render(transformer, "cat.png", "width=10", { ifNoneMatch: etag });
    assert.deepEqual([again.kind, again.etag], ["not-modified", etag]);
    // Another transform of the same object has another ETag.
    const other = await render(transformer, "cat.png", "width=11", { ifNoneMatch: etag });
    assert.equal(other.kind, "image");
  });

  test("a bucket without transforms on is refused, saying how to turn them on", async () => {
    const { put, transformer } = await setup("off");
    await put("cat.png", await image(10, 10));
    const err = await refusal(render(transformer, "cat.png", "width=5"));
    assert.deepEqual([err.status, err.code], [403, "TransformsDisabled"]);
    assert.match(
      err.message,
      /image transforms are off for bucket "photos".*PUT \/nimbus\/v1\/storage\/buckets\/photos\/transforms/,
    );
  });

  test("a source over the bucket's maxSourceBytes, or over 50 megapixels, is refused before it is decoded", async () => {
    const { put, transformer } = await setup({ maxSourceBytes: 1000 });
    const big = await image(200, 200);
    assert.ok(big.length > 1000);
    await put("big.png", big);
    const err = await refusal(render(transformer, "big.png", "width=5"));
    assert.deepEqual([err.status, err.code], [422, "ImageTooLarge"]);
    assert.match(err.message, /is [\d,]+ bytes: bucket "photos" transforms images of at most 1,000 bytes/);

    const bomb = await setup();
    await bomb.put(
      "bomb.png",
      await sharp({ create: { width: 8000, height: 7000, channels: 3, background: "#fff" } })
        .png({ compressionLevel: 9 })
        .toBuffer(),
    );
    const pixels = await refusal(render(bomb.transformer, "bomb.png", "width=5"));
    assert.deepEqual([pixels.status, pixels.code], [422, "ImageTooLarge"]);
    assert.match(pixels.message, /more than 50,000,000 pixels/);
  });

  test("what is not an image, or a broken one, is 422 InvalidImage", async () => {
    const { put, transformer } = await setup();
    await put("note.txt", Buffer.from("hello, not an image"));
    const text = await refusal(render(transformer, "note.txt", "width=5"));
    assert.deepEqual([text.status, text.code], [422, "InvalidImage"]);
    assert.match(text.message, /not a JPEG, PNG, WebP, AVIF, GIF or TIFF image/);
    await put("logo.svg", Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'));
    assert.equal((await refusal(render(transformer, "logo.svg", ""))).code, "InvalidImage");
    const jpeg = await image(100, 100, "jpeg");
    await put("cut.jpg", jpeg.subarray(0, 120));
    const cut = await refusal(render(transformer, "cut.jpg", "width=5"));
    assert.deepEqual([cut.status, cut.code], [422, "InvalidImage"]);
    assert.match(cut.message, /sharp cannot read it/);
  });

  test("a missing key is NoSuchKey; a bad parameter is refused before the object is read", async () => {
    const { transformer } = await setup();
    assert.equal((await refusal(render(transformer, "none.png", ""))).code, "NoSuchKey");
    assert.equal((await refusal(render(transformer, "none.png", "width=0"))).code, "InvalidArgument");
  });
});

describe("the first bytes of an image", () => {
  test("name the formats transforms read, and nothing else", async () => {
    assert.equal(sniff(await image(2, 2)), "png");
    assert.equal(sniff(await image(2, 2, "jpeg")), "jpeg");
    assert.equal(
      sniff(
        await sharp(await image(2, 2))
          .webp()
          .toBuffer(),
      ),
      "webp",
    );
    assert.equal(
      sniff(
        await sharp(await image(2, 2))
          .avif()
          .toBuffer(),
      ),
      "heif",
    );
    assert.equal(
      sniff(
        await sharp(await image(2, 2))
          .gif()
          .toBuffer(),
      ),
      "gif",
    );
    assert.equal(
      sniff(
        await sharp(await image(2, 2))
          .tiff()
          .toBuffer(),
      ),
      "tiff",
    );
    assert.equal(sniff(Buffer.from("<svg/>")), undefined);
    assert.equal(sniff(Buffer.from("%PDF-1.7")), undefined);
    assert.equal(sniff(Buffer.alloc(0)), undefined);
  });
});

describe("transform slots", () => {
  test("run at most their size at once, the rest in order, and refuse past the waiting bound", async () => {
    const slots = new Slots(2, 2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const task = (n: number) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => gates.push(r));
      order.push(n);
      running--;
      return n;
    };
    const runs = [1, 2, 3, 4].map((n) => slots.run(task(n)));
    const refused = await slots.run(task(5)).catch((err: unknown) => err);
    assert.ok(refused instanceof S3Error && refused.code === "SlowDown" && refused.status === 503);
    while (order.length < 4) {
      await new Promise((r) => setImmediate(r));
      gates.shift()?.();
    }
    assert.deepEqual(await Promise.all(runs), [1, 2, 3, 4]);
    assert.deepEqual([most, order], [2, [1, 2, 3, 4]]);
  });
});
