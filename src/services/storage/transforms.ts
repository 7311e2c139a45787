/**
 * Image transforms on GET: an object of a bucket whose transforms are on, resized (cover, contain,
 * fill), converted (WebP, AVIF, JPEG, PNG or its own format) and re-encoded at a quality, by
 * sharp (libvips), whose work runs on libuv's threads, off the event loop. At most `concurrency`
 * transforms run at once; the rest wait their turn, up to a bound past which a request is
 * refused (503 SlowDown) rather than queued without end. A source is checked before it is
 * decoded: its size against the bucket's `maxSourceBytes`, its first bytes against the formats
 * transforms read (JPEG, PNG, WebP, AVIF, GIF, TIFF: no SVG or other document formats), its
 * pixels against `MAX_INPUT_PIXELS` from its header (a decompression bomb is refused unread).
 * Variants are cached on disk (`transforms-cache.ts`); a variant's ETag is its cache key, known
 * before any transform, so a revalidation (If-None-Match) is answered without one.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { Sharp, SharpOptions } from "sharp";
import { S3Error } from "./errors.js";
import { evaluateConditions } from "./http-rules.js";
import type { ObjectVersionRecord } from "./model.js";
import type { StorageService } from "./storage.js";
import type { CachedVariant, Variant, VariantCache, VariantFormat } from "./transforms-cache.js";
import { transformsOf } from "./transforms-config.js";
import { canonicalParams, parseTransformParams, type TransformParams } from "./transforms-params.js";

/** 50 megapixels: a source's header naming more is refused before a pixel is decoded. */
export const MAX_INPUT_PIXELS = 50_000_000;
/** Requests waiting for a transform slot; past this, 503 SlowDown. */
export const MAX_WAITING_TRANSFORMS = 64;

type SharpFactory = (input: Buffer, options: SharpOptions) => Sharp;

export interface TransformerDeps {
  readonly storage: Pick<StorageService, "bucket" | "read" | "stream">;
  readonly cache: VariantCache;
  /** Transforms at once (the machine's cores). */
  readonly concurrency: number;
}

export interface RenderRequest {
  readonly bucket: string;
  readonly key: string;
  /** The request's query: the transform's parameters (others are ignored). */
  readonly query: URLSearchParams;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: string | undefined;
}

interface Answer {
  /** The variant's, quoted. */
  readonly etag: string;
  /** The source object's Cache-Control, if it has one. */
  readonly cacheControl: string | undefined;
  /** The source version's Last-Modified, epoch ms. */
  readonly lastModified: number;
}

export type RenderResult =
  | (Answer & { readonly kind: "not-modified" })
  | (Answer & {
      readonly kind: "image";
      readonly bytes: Buffer;
      readonly contentType: string;
      readonly cache: "hit" | "miss";
    });

export const CONTENT_TYPES: Readonly<Record<VariantFormat, string>> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
  gif: "image/gif",
  tiff: "image/tiff",
};

export class ImageTransformer {
  readonly #d: TransformerDeps;
  readonly #slots: Slots;
  #library: Promise<{ factory: SharpFactory; version: string }> | undefined;

  constructor(d: TransformerDeps) {
    this.#d = d;
    this.#slots = new Slots(Math.max(1, d.concurrency), MAX_WAITING_TRANSFORMS);
  }

  /** An object of `bucket` transformed as the query asks, or 304 when the caller's copy is current. */
  async render(r: RenderRequest): Promise<RenderResult> {
    const b = await this.#d.storage.bucket(r.bucket);
    const config = transformsOf(b);
    if (!config.enabled)
      throw new S3Error(
        "TransformsDisabled",
        403,
        `image transforms are off for bucket "${b.name}": the operator turns them on with PUT /nimbus/v1/storage/buckets/${b.name}/transforms (body {"enabled": true})`,
        { BucketName: b.name },
      );
    const params = parseTransformParams(r.query, config);
    const { version } = await this.#d.storage.read(r.bucket, r.key, { conditions: {} });
    if (version.size > config.maxSourceBytes)
      throw new S3Error(
        "ImageTooLarge",
        422,
        `object "${r.key}" is ${fmt(version.size)} bytes: bucket "${b.name}" transforms images of at most ${fmt(config.maxSourceBytes)} bytes (its maxSourceBytes)`,
        { Key: r.key },
      );
    const library = await this.#sharp();
    const key = createHash("sha256")
      .update(
        JSON.stringify([
          library.version,
          r.bucket,
          r.key,
          version.versionId,
          version.etag,
          canonicalParams(params),
        ]),
      )
      .digest("hex");
    const answer: Answer = {
      etag: `"${key.slice(0, 32)}"`,
      cacheControl: version.headers.cacheControl,
      lastModified: version.createdAt,
    };
    const conditions = { ifNoneMatch: r.ifNoneMatch, ifModifiedSince: r.ifModifiedSince };
    if (evaluateConditions(conditions, answer.etag, answer.lastModified) === "not-modified")
      return { ...answer, kind: "not-modified" };
    const made: CachedVariant = await this.#d.cache.get(key, () =>
      this.#slots.run(() => this.#transform(library.factory, version, params, config.maxSourceBytes)),
    );
    return {
      ...answer,
      kind: "image",
      bytes: made.variant.bytes,
      contentType: CONTENT_TYPES[made.variant.format],
      cache: made.hit ? "hit" : "miss",
    };
  }

  /** The image library, loaded on the first render rather than at the platform's start. */
  #sharp(): Promise<{ factory: SharpFactory; version: string }> {
    this.#library ??= loadSharp();
    return this.#library;
  }

  async #transform(
    sharp: SharpFactory,
    version: ObjectVersionRecord,
    params: TransformParams,
    maxSourceBytes: number,
  ): Promise<Variant> {
    const input = await readAll(this.#d.storage.stream(version, undefined), maxSourceBytes, version.key);
    if (sniff(input) === undefined)
      throw notAnImage(version.key, "its bytes are not a JPEG, PNG, WebP, AVIF, GIF or TIFF image");
    let image = sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, autoOrient: true });
    try {
      const meta = await image.metadata();
      const format = outputFormat(params.format, meta.format, meta.compression);
      if (params.width !== undefined || params.height !== undefined)
        image = image.resize({ width: params.width, height: params.height, fit: FIT[params.resize] });
      const bytes = await encode(image, format, params.quality).toBuffer();
      return { bytes, format };
    } catch (err) {
      if (err instanceof S3Error) throw err;
      const why = (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
      if (/pixel limit/i.test(why))
        throw new S3Error(
          "ImageTooLarge",
          422,
          `object "${version.key}" is an image of more than ${fmt(MAX_INPUT_PIXELS)} pixels, the most a transform decodes`,
          { Key: version.key },
        );
      throw notAnImage(version.key, `sharp cannot read it: ${why}`);
    }
  }
}

/** Supabase's resize modes as sharp's fits: `contain` fits within the box, without bars. */
const FIT = { cover: "cover", contain: "inside", fill: "fill" } as const;

async function loadSharp(): Promise<{ factory: SharpFactory; version: string }> {
  const sharp = (await import("sharp")).default;
  return {
    factory: (input, options) => sharp(input, options),
    version: `sharp ${sharp.versions.sharp} libvips ${sharp.versions.vips}`,
  };
}

/** The format a transform writes: the one asked for, or for `origin` the source's own. */
function outputFormat(
  asked: TransformParams["format"],
  source: string,
  compression: string | undefined,
): VariantFormat {
  if (asked !== "origin") return asked;
  switch (source) {
    case "jpeg":
    case "png":
    case "webp":
    case "gif":
    case "tiff":
      return source;
    case "heif":
      if (compression === "av1") return "avif";
  }
  throw new S3Error(
    "InvalidImage",
    422,
    `the source's format (${source}) cannot be written back: ask for a format (webp, avif, jpeg or png)`,
  );
}

function encode(image: Sharp, format: VariantFormat, quality: number): Sharp {
  switch (format) {
    case "jpeg":
      return image.jpeg({ quality });
    case "webp":
      return image.webp({ quality });
    case "avif":
      return image.avif({ quality });
    case "tiff":
      return image.tiff({ quality });
    // Lossless: quality does not apply.
    case "png":
      return image.png();
    case "gif":
      return image.gif();
  }
}

/** The image format its first bytes say, among those transforms read; undefined for anything else. */
export function sniff(b: Buffer): "jpeg" | "png" | "webp" | "gif" | "tiff" | "heif" | undefined {
  const ascii = (from: number, to: number) => b.subarray(from, to).toString("latin1");
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (ascii(0, 8) === "\x89PNG\r\n\x1a\n") return "png";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  if (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a") return "gif";
  if (ascii(0, 4) === "II*\0" || ascii(0, 4) === "MM\0*") return "tiff";
  // ISO base media: an ftyp box whose major brand is AVIF's or HEIF's.
  if (ascii(4, 8) === "ftyp" && /^(avif|avis|mif1|msf1|heic|heix)$/.test(ascii(8, 12))) return "heif";
  return undefined;
}

const notAnImage = (key: string, why: string) =>
  new S3Error("InvalidImage", 422, `object "${key}" is not an image transforms can read: ${why}`, {
    Key: key,
  });

/** The stream's bytes, refused past `max` (the object grew past its record's size: never, but cheap). */
async function readAll(source: Readable, max: number, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      source.destroy();
      throw new S3Error("ImageTooLarge", 422, `object "${key}" is larger than ${fmt(max)} bytes`, {
        Key: key,
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** At most `size` tasks at once; up to `maxWaiting` more wait their turn in order, others are refused. */
export class Slots {
  #free: number;
  readonly #maxWaiting: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number, maxWaiting: number) {
    this.#free = size;
    this.#maxWaiting = maxWaiting;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else {
      if (this.#waiting.length >= this.#maxWaiting)
        throw new S3Error(
          "SlowDown",
          503,
          `${this.#maxWaiting} image transforms are already waiting: reduce your request rate and retry`,
        );
      // The slot is handed over by the task that ends, never freed in between.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

const fmt = (n: number) => n.toLocaleString("en-US");
