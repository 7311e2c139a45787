/**
 * S3's reading of HTTP's `Range` and conditional headers (RFC 9110, as S3 applies them):
 * one byte range (`bytes=a-b`, `a-`, `-n`); a syntax S3 does not read is ignored (the whole
 * object is served), a range that starts past the end is 416. If-Match / If-Unmodified-Since
 * failing is 412; If-None-Match matching or If-Modified-Since not met is 304 on GET and HEAD.
 */
import { invalidRange, preconditionFailed } from "./errors.js";

export interface ByteRange {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
}

/** The range to serve of an object of `size` bytes; undefined: the whole object. */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) throw invalidRange(size);
    return size === 0 ? undefined : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return undefined;
  if (start >= size) throw invalidRange(size);
  return { start, end };
}

export interface Conditions {
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: string | undefined;
  readonly ifUnmodifiedSince?: string | undefined;
}

/** Strong comparison of an entity tag list (`"a", "b"` or `*`) with an ETag. */
function etagMatches(list: string, etag: string): boolean {
  return list
    .split(",")
    .map((s) => s.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === etag || `"${t}"` === etag);
}

/** HTTP dates have second precision: a version modified within the same second is not "after". */
const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * What the conditions make of a read of a version with `etag` modified at `lastModified`:
 * `ok`, or `not-modified` (304). Throws PreconditionFailed (412).
 */
export function evaluateConditions(c: Conditions, etag: string, lastModified: number): "ok" | "not-modified" {
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, etag)) throw preconditionFailed("If-Match");
  } else if (c.ifUnmodifiedSince !== undefined) {
    const at = Date.parse(c.ifUnmodifiedSince);
    if (!Number.isNaN(at) && seconds(lastModified) > seconds(at))
      throw preconditionFailed("If-Unmodified-Since");
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, etag)) return "not-modified";
  } else if (c.ifModifiedSince !== undefined) {
    const at = Date.parse(c.ifModifiedSince);
    if (!Number.isNaN(at) && seconds(lastModified) <= seconds(at)) return "not-modified";
  }
  return "ok";
}
