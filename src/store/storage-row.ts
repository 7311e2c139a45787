/**
 * Object storage's rows as both stores keep them (same columns; a flag is 0/1 in SQLite and a
 * boolean in PostgreSQL) and the records they read as, and what both stores compute the same
 * way: the range of keys a listing reads. A version's headers, user metadata, tags and checksum
 * are JSON text, as are a bucket's settings (an object of each setting's own JSON text); an
 * optional field set to undefined reads back undefined, present in the record, from either store.
 * Beside its record's columns a version has the store's `seq` (its age: the higher, the newer)
 * and `is_latest` (the newest of its key, kept for the index that lists latest versions).
 *
 * Keys are compared as UTF-8 bytes (SQLite's BINARY, PostgreSQL's "C"), which is the order of
 * code points. A key may not hold NUL: PostgreSQL's text cannot, so neither store takes one.
 */
import type {
  BucketRecord,
  ChecksumAlgorithm,
  ContentHeaders,
  MultipartUploadRecord,
  ObjectEventRecord,
  ObjectVersionRecord,
  PartRecord,
  StoredChecksum,
  Versioning,
} from "../services/storage/model.js";
import type { UsageRefusal } from "../services/storage/repo.js";

const NUL = "\u0000";
/** The highest code point, and the surrogates' range, which UTF-8 cannot hold. */
const MAX_CODE_POINT = 0x10ffff;
const FIRST_SURROGATE = 0xd800;
const PAST_SURROGATES = 0xe000;

/** Every column written (`objects` and `bytes`, the usage, are the store's). */
export const BUCKET_COLUMNS = [
  "name",
  "created_at",
  "versioning",
  "public_read",
  "settings",
] as const satisfies readonly (keyof BucketRow)[];

/** The columns a listing reads: all but the inline body (`seq` and `is_latest` are the store's). */
export const LISTED_VERSION_COLUMNS = [
  "bucket",
  "key",
  "version_id",
  "is_delete_marker",
  "size",
  "etag",
  "blob_id",
  "headers",
  "user_metadata",
  "checksum",
  "parts_count",
  "tags",
  "created_at",
] as const satisfies readonly (keyof VersionRow)[];

/** Every column written. */
export const VERSION_COLUMNS = [
  ...LISTED_VERSION_COLUMNS,
  "body",
] as const satisfies readonly (keyof VersionRow)[];

/** A listing's SELECT list: no inline bodies, which only a read by key needs. */
export const LISTED_VERSION_SELECT = ["seq", "is_latest", ...LISTED_VERSION_COLUMNS].join(", ");

export const UPLOAD_COLUMNS = [
  "upload_id",
  "bucket",
  "key",
  "headers",
  "user_metadata",
  "checksum_algorithm",
  "tags",
  "created_at",
] as const satisfies readonly (keyof UploadRow)[];

export const PART_COLUMNS = [
  "upload_id",
  "part_number",
  "size",
  "etag",
  "blob_id",
  "checksum",
  "created_at",
] as const satisfies readonly (keyof PartRow)[];

/** What replacing a part writes: all but its upload and number. */
export const PART_UPDATED_COLUMNS = PART_COLUMNS.filter((c) => c !== "upload_id" && c !== "part_number");

/** Every column written (`seq`, the order of arrival, is the store's). */
export const EVENT_COLUMNS = [
  "id",
  "event_name",
  "bucket",
  "key",
  "size",
  "etag",
  "version_id",
  "sequencer",
  "source_ip",
  "request_id",
  "created_at",
  "attempts",
  "due_at",
] as const satisfies readonly (keyof EventRow)[];

/** A key the stores can keep; one holding NUL is a caller's mistake, refused. */
export function checkKey(bucket: string, key: string): string {
  if (key.includes(NUL))
    throw new Error(
      `cannot store object key ${JSON.stringify(key)} in bucket "${bucket}": it holds NUL (U+0000), which no store keeps`,
    );
  return key;
}

/** The row of `b`, `public_read` a boolean (`sqlite-storage.ts` binds it as 0/1). */
export function bucketRow(b: BucketRecord) {
  return {
    name: b.name,
    created_at: b.createdAt,
    versioning: b.versioning,
    public_read: b.publicRead,
    settings: JSON.stringify(b.settings),
  };
}

/** `public_read` reads as 0/1 from SQLite, a boolean from PostgreSQL. */
export type BucketRow = Omit<ReturnType<typeof bucketRow>, "public_read"> & { public_read: number | boolean };

export function toBucket(r: BucketRow): BucketRecord {
  return {
    name: r.name,
    createdAt: r.created_at,
    versioning: r.versioning as Versioning,
    publicRead: r.public_read === true || r.public_read === 1,
    settings: JSON.parse(r.settings) as BucketRecord["settings"],
  };
}

/** The headers as JSON, those unset left out. */
function headersJson(h: ContentHeaders): string {
  return JSON.stringify(h);
}

/** Every header present, unset ones undefined. */
function toHeaders(json: string): ContentHeaders {
  const h = JSON.parse(json) as Partial<ContentHeaders>;
  return {
    contentType: h.contentType,
    contentEncoding: h.contentEncoding,
    contentDisposition: h.contentDisposition,
    contentLanguage: h.contentLanguage,
    cacheControl: h.cacheControl,
    expires: h.expires,
  };
}

function toChecksum(json: string | null): StoredChecksum | undefined {
  if (json === null) return undefined;
  const c = JSON.parse(json) as StoredChecksum;
  return { algorithm: c.algorithm, value: c.value, type: c.type };
}

/** The row of `v`, `is_delete_marker` a boolean (`sqlite-storage.ts` binds it as 0/1). */
export function versionRow(v: ObjectVersionRecord) {
  return {
    bucket: v.bucket,
    key: checkKey(v.bucket, v.key),
    version_id: v.versionId,
    is_delete_marker: v.isDeleteMarker,
    size: v.size,
    etag: v.etag,
    blob_id: v.blobId ?? null,
    headers: headersJson(v.headers),
    user_metadata: JSON.stringify(v.userMetadata),
    checksum: v.checksum === undefined ? null : JSON.stringify(v.checksum),
    parts_count: v.partsCount,
    tags: JSON.stringify(v.tags),
    created_at: v.createdAt,
    body: v.body ?? null,
  };
}

/** A version as read: flags 0/1 (SQLite) or booleans (PostgreSQL), with the store's columns. */
export type VersionRow = Omit<ReturnType<typeof versionRow>, "is_delete_marker" | "body"> & {
  is_delete_marker: number | boolean;
  /** Absent from a listing's rows. */
  body?: Buffer | Uint8Array | null;
  seq: number;
  is_latest: number | boolean;
};

export function toVersion(r: VersionRow): ObjectVersionRecord {
  return {
    bucket: r.bucket,
    key: r.key,
    versionId: r.version_id,
    isDeleteMarker: r.is_delete_marker === true || r.is_delete_marker === 1,
    size: r.size,
    etag: r.etag,
    blobId: r.blob_id ?? undefined,
    headers: toHeaders(r.headers),
    userMetadata: JSON.parse(r.user_metadata) as Record<string, string>,
    checksum: toChecksum(r.checksum),
    partsCount: r.parts_count,
    tags: JSON.parse(r.tags) as Record<string, string>,
    createdAt: r.created_at,
    ...(r.body == null ? {} : { body: Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body) }),
  };
}

export function uploadRow(u: MultipartUploadRecord) {
  return {
    upload_id: u.uploadId,
    bucket: u.bucket,
    key: checkKey(u.bucket, u.key),
    headers: headersJson(u.headers),
    user_metadata: JSON.stringify(u.userMetadata),
    checksum_algorithm: u.checksumAlgorithm ?? null,
    tags: JSON.stringify(u.tags),
    created_at: u.createdAt,
  };
}

export type UploadRow = ReturnType<typeof uploadRow>;

export function toUpload(r: UploadRow): MultipartUploadRecord {
  return {
    uploadId: r.upload_id,
    bucket: r.bucket,
    key: r.key,
    headers: toHeaders(r.headers),
    userMetadata: JSON.parse(r.user_metadata) as Record<string, string>,
    checksumAlgorithm: (r.checksum_algorithm ?? undefined) as ChecksumAlgorithm | undefined,
    tags: JSON.parse(r.tags) as Record<string, string>,
    createdAt: r.created_at,
  };
}

export function partRow(p: PartRecord) {
  return {
    upload_id: p.uploadId,
    part_number: p.partNumber,
    size: p.size,
    etag: p.etag,
    blob_id: p.blobId,
    checksum: p.checksum === undefined ? null : JSON.stringify(p.checksum),
    created_at: p.createdAt,
  };
}

export type PartRow = ReturnType<typeof partRow>;

export function toPart(r: PartRow): PartRecord {
  return {
    uploadId: r.upload_id,
    partNumber: r.part_number,
    size: r.size,
    etag: r.etag,
    blobId: r.blob_id,
    checksum: toChecksum(r.checksum),
    createdAt: r.created_at,
  };
}

export function eventRow(e: ObjectEventRecord) {
  return {
    id: e.id,
    event_name: e.eventName,
    bucket: e.bucket,
    key: checkKey(e.bucket, e.key),
    size: e.size,
    etag: e.etag,
    version_id: e.versionId ?? null,
    sequencer: e.sequencer,
    source_ip: e.sourceIp,
    request_id: e.requestId,
    created_at: e.createdAt,
    attempts: e.attempts,
    due_at: e.dueAt,
  };
}

export type EventRow = ReturnType<typeof eventRow>;

export function toEvent(r: EventRow): ObjectEventRecord {
  return {
    id: r.id,
    eventName: r.event_name,
    bucket: r.bucket,
    key: r.key,
    size: r.size,
    etag: r.etag,
    versionId: r.version_id ?? undefined,
    sequencer: r.sequencer,
    sourceIp: r.source_ip,
    requestId: r.request_id,
    createdAt: r.created_at,
    attempts: r.attempts,
    dueAt: r.due_at,
  };
}

/** A completion stores the upload's own object; another bucket or key is a caller's mistake, refused. */
export function checkUploadTarget(
  upload: { upload_id: string; bucket: string; key: string },
  v: ObjectVersionRecord,
) {
  if (upload.bucket !== v.bucket || upload.key !== v.key)
    throw new Error(
      `cannot complete upload "${upload.upload_id}" of ${JSON.stringify(`${upload.bucket}/${upload.key}`)} as an object of ${JSON.stringify(`${v.bucket}/${v.key}`)}`,
    );
}

/** How a usage moves: objects and bytes added (negative: removed). */
export interface UsageDelta {
  objects: number;
  bytes: number;
}

/**
 * Thrown inside a guarded write's transaction when its guard refuses it, to undo it whole (a
 * savepoint of a shared transaction alone); the repository's method answers the refusal it
 * carries (`orRefusal`).
 */
export class GuardRefused extends Error {
  readonly refusal: UsageRefusal;

  constructor(refusal: UsageRefusal) {
    super(`bucket "${refusal.bucket}" has no room: the write would pass its ${refusal.refused} limit`);
    this.refusal = refusal;
  }
}

/** What `write` answers, or the refusal of a guard that undid it. */
export async function orRefusal<T>(write: () => T | Promise<T>): Promise<T | UsageRefusal> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof GuardRefused) return err.refusal;
    throw err;
  }
}

/** Byte order of UTF-8, the stores' order of keys. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * The least string above every string starting with `prefix` (in byte order), or undefined when
 * none is (an empty prefix, or one of U+10FFFF only): its last code point below U+10FFFF, one up.
 */
export function prefixEnd(prefix: string): string | undefined {
  // As the stores will see it: a lone surrogate is U+FFFD in UTF-8.
  const points = Array.from(Buffer.from(prefix, "utf8").toString("utf8"), (c) => c.codePointAt(0) ?? 0);
  while (points.length > 0 && points.at(-1) === MAX_CODE_POINT) points.pop();
  const last = points.pop();
  if (last === undefined) return undefined;
  const next = last + 1 === FIRST_SURROGATE ? PAST_SURROGATES : last + 1;
  return String.fromCodePoint(...points, next);
}

/** The keys a listing reads: from `from` (inclusive or not), below `to` (none: to the end). */
export interface KeyRange {
  readonly from: string;
  readonly inclusive: boolean;
  readonly to: string | undefined;
}

/**
 * The keys starting with `prefix` and after `after` (exclusive), as one range of the index;
 * undefined when none can be (the prefix holds NUL, which no key does). A marker holding NUL
 * is passed, among keys without one, by its text before the NUL followed by U+0001.
 */
export function keyRange(prefix: string, after: string | undefined): KeyRange | undefined {
  if (prefix.includes(NUL)) return undefined;
  const to = prefixEnd(prefix);
  if (after === undefined) return { from: prefix, inclusive: true, to };
  const nul = after.indexOf(NUL);
  const marker =
    nul < 0 ? { from: after, inclusive: false } : { from: `${after.slice(0, nul)}\u0001`, inclusive: true };
  const order = compareKeys(marker.from, prefix);
  const past = order > 0 || (order === 0 && !marker.inclusive);
  return past ? { ...marker, to } : { from: prefix, inclusive: true, to };
}

/** Whether the versions (or uploads) of `key` itself are in the listing of `prefix`. */
export function inPrefix(key: string, prefix: string): boolean {
  return !key.includes(NUL) && key.startsWith(prefix);
}
