/**
 * Resumable uploads with tus 1.0 (https://tus.io/protocols/resumable-upload) over the storage
 * service, with no state of their own: a tus upload IS a multipart upload of the target bucket
 * and key. Its Upload-Length and the Upload-Metadata it was created with are kept in the
 * upload's user metadata under reserved names; each PATCH is streamed into the next part (any
 * size: tus has no minimum), so the offset is the sum of the parts' sizes; once it reaches the
 * length the parts complete into the object, as S3's CompleteMultipartUpload does (its event
 * included). A PATCH cut mid-body keeps the bytes that arrived, as a part of their own.
 * Uploads expire 24 h after their creation: refused with 410 until the sweep aborts them.
 * The gateway's `tus` surface speaks the wire; who may do what is decided there.
 */
import type { Clock } from "../../shared/clock.js";
import { S3Error } from "./errors.js";
import type { ContentHeaders, MultipartUploadRecord, PartRecord } from "./model.js";
import { MAX_OBJECT_BYTES, MAX_PARTS, type Multipart } from "./multipart.js";
import type { RequestOrigin } from "./notifications.js";
import { quotaOf } from "./quota.js";
import { EMPTY_HEADERS, type StorageService } from "./storage.js";

export const TUS_VERSION = "1.0.0";
export const TUS_EXTENSIONS = "creation,creation-with-upload,termination,expiration";
/** An upload not completed by then is refused (410) and later swept. */
export const TUS_EXPIRY_MS = 24 * 60 * 60 * 1000;
/** How often expired uploads are aborted (as often as the auth service tidies up). */
export const TUS_SWEEP_EVERY_MS = 10 * 60 * 1000;
/** The Upload-Metadata header a creation may carry. */
export const MAX_TUS_METADATA_BYTES = 8 * 1024;

/** The user-metadata names that mark a multipart upload as tus's and keep its state. */
const LENGTH_NAME = "nimbus-tus-length";
const METADATA_NAME = "nimbus-tus-metadata";

/** A tus protocol error: its HTTP status, a short code, and what failed. */
export class TusError extends Error {
  override readonly name = "TusError";
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** An upload as HEAD answers it. */
export interface TusUpload {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly offset: number;
  readonly length: number;
  /** Upload-Metadata as the creation sent it. */
  readonly metadata: string | undefined;
  readonly expiresAt: number;
  readonly parts: number;
}

/** Where a creation's Upload-Metadata says the object goes, and its content headers. */
export interface TusTarget {
  readonly bucket: string;
  readonly key: string;
  readonly headers: ContentHeaders;
}

export interface TusDeps {
  readonly storage: StorageService;
  readonly multipart: Multipart;
  readonly clock: Clock;
}

export class TusUploads {
  readonly #d: TusDeps;

  constructor(d: TusDeps) {
    this.#d = d;
  }

  /** The largest Upload-Length: S3's object maximum, or the bucket's quota when it sets a smaller one. */
  async maxSize(bucket?: string): Promise<number> {
    if (bucket === undefined) return MAX_OBJECT_BYTES;
    const quota = quotaOf(await this.#d.storage.bucket(bucket));
    return Math.min(MAX_OBJECT_BYTES, quota?.maxObjectBytes ?? Infinity, quota?.maxBytes ?? Infinity);
  }

  /** Creates the upload (a multipart upload of the target); a zero-length one completes at once. */
  async create(
    target: TusTarget,
    length: number,
    metadata: string | undefined,
    o: { overwrite: boolean; origin?: RequestOrigin | undefined },
  ): Promise<TusUpload> {
    const max = await this.maxSize(target.bucket);
    if (length > max)
      throw new TusError(
        413,
        "EntityTooLarge",
        `Upload-Length is ${length} bytes; the most bucket ${target.bucket} takes in one object is ${max} bytes`,
      );
    if (!o.overwrite && (await this.#exists(target.bucket, target.key)))
      throw new TusError(409, "Conflict", `object ${target.key} already exists in bucket ${target.bucket}`);
    const userMetadata: Record<string, string> = { [LENGTH_NAME]: String(length) };
    if (metadata !== undefined) userMetadata[METADATA_NAME] = metadata;
    const uploadId = await this.#d.multipart.create(target.bucket, target.key, {
      headers: target.headers,
      userMetadata,
      tags: {},
      checksumAlgorithm: undefined,
    });
    const upload = await this.get(uploadId);
    if (length === 0) {
      // An empty object: one empty part, completed.
      const empty = (async function* () {})();
      await this.#d.multipart.uploadPart(target.bucket, target.key, uploadId, 1, empty, 0, {});
      await this.#complete(upload, o.origin);
    }
    return upload;
  }

  /**
   * HEAD: the upload with its offset. One whose bytes are all there but whose completion a
   * crash cut (or a completion refused, such as by the bucket's quota) is completed now.
   */
  async head(uploadId: string, origin?: RequestOrigin): Promise<TusUpload> {
    const upload = await this.get(uploadId);
    if (upload.offset === upload.length && upload.parts > 0) await this.#complete(upload, origin);
    return upload;
  }

  /** The upload with its offset; 404 when there is none (completed, terminated, swept), 410 once expired. */
  async get(uploadId: string): Promise<TusUpload> {
    const record = await this.#d.storage.deps.repo.getUpload(uploadId);
    const length = record === undefined ? undefined : lengthOf(record);
    if (record === undefined || length === undefined)
      throw new TusError(
        404,
        "NotFound",
        `no upload ${uploadId}: it was completed, terminated or never created`,
      );
    const expiresAt = record.createdAt + TUS_EXPIRY_MS;
    if (this.#d.clock.now() >= expiresAt)
      throw new TusError(
        410,
        "Gone",
        `upload ${uploadId} expired at ${new Date(expiresAt).toISOString()}, 24 hours after its creation`,
      );
    const parts = await this.#parts(uploadId);
    return {
      uploadId,
      bucket: record.bucket,
      key: record.key,
      offset: parts.reduce((n, p) => n + p.size, 0),
      length,
      metadata: record.userMetadata[METADATA_NAME],
      expiresAt,
      parts: parts.length,
    };
  }

  /**
   * A PATCH: `body` streamed as the next part at `offset` (409 unless it is the upload's offset).
   * Bytes past Upload-Length are refused (413, nothing kept); a body cut by the client keeps
   * what arrived. Completes the upload when its offset reaches the length. The new offset.
   */
  async append(
    uploadId: string,
    offset: number,
    body: AsyncIterable<Uint8Array>,
    contentLength: number | undefined,
    origin?: RequestOrigin,
  ): Promise<{ upload: TusUpload; cut: boolean }> {
    const upload = await this.get(uploadId);
    if (offset !== upload.offset)
      throw new TusError(
        409,
        "Conflict",
        `Upload-Offset is ${offset}; the upload is at ${upload.offset}: send HEAD and resume from there`,
      );
    const room = upload.length - upload.offset;
    if (contentLength !== undefined && contentLength > room)
      throw new TusError(
        413,
        "EntityTooLarge",
        `the body of ${contentLength} bytes goes past Upload-Length ${upload.length} (the upload is at ${upload.offset})`,
      );
    let after = upload;
    const state = { bytes: 0, cut: false };
    if (contentLength !== 0 && room > 0) {
      const part = upload.parts + 1;
      if (part > MAX_PARTS)
        throw new TusError(
          400,
          "TooManyParts",
          `upload ${uploadId} has taken ${MAX_PARTS} PATCH requests, the most one upload takes: send larger chunks`,
        );
      try {
        await this.#d.multipart.uploadPart(
          upload.bucket,
          upload.key,
          uploadId,
          part,
          received(body, room, state),
          undefined,
          {},
        );
      } catch (err) {
        if (err instanceof S3Error && err.code === "EntityTooLarge")
          throw new TusError(413, "EntityTooLarge", err.message);
        throw err;
      }
      after = { ...upload, offset: upload.offset + state.bytes, parts: part };
    }
    if (after.offset === after.length) await this.#complete(after, origin);
    return { upload: after, cut: state.cut };
  }

  /** Termination: the upload and its parts go. */
  async terminate(uploadId: string): Promise<void> {
    const upload = await this.get(uploadId);
    await this.#d.multipart.abort(upload.bucket, upload.key, uploadId);
  }

  /** Aborts every tus upload past its expiry; how many went. */
  async sweep(): Promise<number> {
    const repo = this.#d.storage.deps.repo;
    const now = this.#d.clock.now();
    let swept = 0;
    for (const b of await repo.listBuckets()) {
      let afterKey: string | undefined;
      let afterUploadId: string | undefined;
      for (;;) {
        const page = await repo.listUploads(b.name, { prefix: "", afterKey, afterUploadId, limit: 1000 });
        for (const u of page) {
          if (lengthOf(u) === undefined || now < u.createdAt + TUS_EXPIRY_MS) continue;
          try {
            await this.#d.multipart.abort(u.bucket, u.key, u.uploadId);
            swept++;
          } catch (err) {
            // Completed or terminated meanwhile.
            if (!(err instanceof S3Error && err.code === "NoSuchUpload")) throw err;
          }
        }
        const last = page[page.length - 1];
        if (page.length < 1000 || last === undefined) break;
        afterKey = last.key;
        afterUploadId = last.uploadId;
      }
    }
    return swept;
  }

  async #complete(upload: TusUpload, origin: RequestOrigin | undefined): Promise<void> {
    const parts = await this.#parts(upload.uploadId);
    await this.#d.multipart.complete(
      upload.bucket,
      upload.key,
      upload.uploadId,
      parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
      origin,
      // tus's chunks have no minimum size, and its state is not the object's metadata.
      { anyPartSize: true, userMetadata: {} },
    );
  }

  async #exists(bucket: string, key: string): Promise<boolean> {
    const v = await this.#d.storage.deps.repo.getVersion(bucket, key);
    return v !== undefined && !v.isDeleteMarker;
  }

  async #parts(uploadId: string): Promise<PartRecord[]> {
    const out: PartRecord[] = [];
    for (let after = 0; ; ) {
      const page = await this.#d.storage.deps.repo.listParts(uploadId, { after, limit: 1000 });
      out.push(...page);
      const last = page[page.length - 1];
      if (page.length < 1000 || last === undefined) return out;
      after = last.partNumber;
    }
  }
}

/** The Upload-Length of a tus upload; undefined for an upload S3's API created. */
function lengthOf(u: MultipartUploadRecord): number | undefined {
  const raw = u.userMetadata[LENGTH_NAME];
  return raw === undefined || !/^\d+$/.test(raw) ? undefined : Number(raw);
}

/**
 * The body's bytes up to `limit` (more is refused, nothing kept); a body the client cut ends
 * where it was cut, so that what arrived is kept (`state.cut`).
 */
async function* received(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  state: { bytes: number; cut: boolean },
): AsyncIterable<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await it.next();
    } catch {
      state.cut = true;
      return;
    }
    if (next.done) return;
    state.bytes += next.value.byteLength;
    if (state.bytes > limit) {
      await it.return?.();
      throw new TusError(
        413,
        "EntityTooLarge",
        `the body goes past Upload-Length: at most ${limit} more bytes`,
      );
    }
    yield next.value;
  }
}

/**
 * Upload-Metadata: comma-separated `key base64value` pairs (a key alone has no value). Throws
 * 400 on a malformed header or a key given twice.
 */
export function parseTusMetadata(header: string | undefined): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  if (header === undefined || header.trim() === "") return out;
  if (Buffer.byteLength(header) > MAX_TUS_METADATA_BYTES)
    throw new TusError(
      400,
      "InvalidMetadata",
      `Upload-Metadata is ${Buffer.byteLength(header)} bytes; at most ${MAX_TUS_METADATA_BYTES}`,
    );
  for (const pair of header.split(",")) {
    const m = /^\s*([^\s,]+)(?:\s+([A-Za-z0-9+/]+={0,2}))?\s*$/.exec(pair);
    if (!m)
      throw new TusError(
        400,
        "InvalidMetadata",
        `Upload-Metadata has ${JSON.stringify(pair)}: expected "key base64value"`,
      );
    const key = m[1]!;
    if (out.has(key)) throw new TusError(400, "InvalidMetadata", `Upload-Metadata names ${key} twice`);
    out.set(key, m[2] === undefined ? undefined : Buffer.from(m[2], "base64").toString("utf8"));
  }
  return out;
}

/**
 * The object a creation targets, from Supabase's metadata names: `bucketName`, `objectName`,
 * `contentType` (else `filetype`, as Uppy sends) and `cacheControl` (seconds, as
 * `@supabase/storage-js` sends it, become `max-age=<seconds>`).
 */
export function tusTarget(metadata: ReadonlyMap<string, string | undefined>): TusTarget {
  const bucket = metadata.get("bucketName");
  const key = metadata.get("objectName");
  if (!bucket || !key)
    throw new TusError(
      400,
      "InvalidMetadata",
      `Upload-Metadata must name the target as bucketName and objectName (base64); it has ${[...metadata.keys()].join(", ") || "nothing"}`,
    );
  const contentType = headerValue(metadata, "contentType") ?? headerValue(metadata, "filetype");
  const cache = headerValue(metadata, "cacheControl");
  return {
    bucket,
    key,
    headers: {
      ...EMPTY_HEADERS,
      contentType,
      cacheControl: cache !== undefined && /^\d+$/.test(cache) ? `max-age=${cache}` : cache,
    },
  };
}

/** A metadata value that becomes a response header: printable, one line. */
function headerValue(metadata: ReadonlyMap<string, string | undefined>, name: string): string | undefined {
  const v = metadata.get(name);
  if (v === undefined || v === "") return undefined;
  if (!/^[\x20-\x7e]+$/.test(v))
    throw new TusError(
      400,
      "InvalidMetadata",
      `Upload-Metadata ${name} is ${JSON.stringify(v)}: expected printable ASCII`,
    );
  return v;
}
