/**
 * What S3 reads from request headers (content headers, `x-amz-meta-*`, `x-amz-tagging`, the
 * conditional headers) and what it writes back on GET and HEAD (the same, with ETag,
 * Last-Modified, the version id and, when asked, the object's checksum).
 */
import { CHECKSUM_HEADERS } from "../../../services/storage/checksums.js";
import { invalidArgument, S3Error } from "../../../services/storage/errors.js";
import type { Conditions } from "../../../services/storage/http-rules.js";
import type { ContentHeaders, ObjectVersionRecord } from "../../../services/storage/model.js";
import type { S3Call } from "./request.js";

/** S3's limit on user metadata: names and values together, in bytes. */
export const MAX_METADATA_BYTES = 2 * 1024;
export const MAX_TAGS = 10;
const MAX_TAG_KEY_CHARS = 128;
const MAX_TAG_VALUE_CHARS = 256;
/** What S3 answers for an object stored without a Content-Type. */
const DEFAULT_CONTENT_TYPE = "binary/octet-stream";

/** The content headers a PUT (or CreateMultipartUpload, or a REPLACE copy) stores. */
export function contentHeadersOf(h: Headers): ContentHeaders {
  // aws-chunked is how the body travelled, not what it is: it is not stored.
  const encoding = (h.get("content-encoding") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "" && s.toLowerCase() !== "aws-chunked")
    .join(", ");
  return {
    contentType: h.get("content-type") ?? undefined,
    contentEncoding: encoding === "" ? undefined : encoding,
    contentDisposition: h.get("content-disposition") ?? undefined,
    contentLanguage: h.get("content-language") ?? undefined,
    cacheControl: h.get("cache-control") ?? undefined,
    expires: h.get("expires") ?? undefined,
  };
}

/** `x-amz-meta-*`, by name without the prefix (lower-case, as headers arrive). */
export function userMetadataOf(h: Headers): Record<string, string> {
  return metadataOf(h, "metadata headers");
}

/**
 * The `x-amz-meta-*` of lower-case name/value pairs (headers, a form's fields), by name without
 * the prefix, at most S3's 2 KB in all; `what` names them in the error.
 */
export function metadataOf(pairs: Iterable<[string, string]>, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of pairs) {
    if (!name.startsWith("x-amz-meta-")) continue;
    const short = name.slice("x-amz-meta-".length);
    out[short] = value;
    bytes += Buffer.byteLength(short) + Buffer.byteLength(value);
  }
  if (bytes > MAX_METADATA_BYTES)
    throw new S3Error(
      "MetadataTooLarge",
      400,
      `Your ${what} are ${bytes} bytes; they may be at most ${MAX_METADATA_BYTES}.`,
      { Size: String(bytes), MaxSizeAllowed: String(MAX_METADATA_BYTES) },
    );
  return out;
}

/** The tags of `x-amz-tagging` (`k1=v1&k2=v2`, form-encoded); none without the header. */
export function taggingHeaderOf(h: Headers): Record<string, string> {
  const header = h.get("x-amz-tagging");
  if (header === null || header === "") return {};
  return checkTags([...new URLSearchParams(header)]);
}

/** Tags as S3 accepts them: at most 10, keys unique, 1–128 characters, values up to 256. */
export function checkTags(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  if (pairs.length > MAX_TAGS)
    throw invalidTag(`an object may have at most ${MAX_TAGS} tags; ${pairs.length} were given`);
  for (const [key, value] of pairs) {
    if (key.length === 0 || key.length > MAX_TAG_KEY_CHARS)
      throw invalidTag(
        `the tag key "${key}" is ${key.length} characters; a key has 1 to ${MAX_TAG_KEY_CHARS}`,
      );
    if (value.length > MAX_TAG_VALUE_CHARS)
      throw invalidTag(
        `the value of tag "${key}" is ${value.length} characters; a value has at most ${MAX_TAG_VALUE_CHARS}`,
      );
    if (Object.hasOwn(out, key)) throw invalidTag(`the tag key "${key}" is given twice; keys must be unique`);
    out[key] = value;
  }
  return out;
}

const invalidTag = (why: string) =>
  new S3Error("InvalidTag", 400, `The tag provided was not a valid tag: ${why}.`);

/** The conditional headers, plain (`if-match`) or of a copy's source (`x-amz-copy-source-if-match`). */
export function conditionsOf(h: Headers, prefix = ""): Conditions {
  const get = (name: string) => h.get(`${prefix}${name}`) ?? undefined;
  return {
    ifMatch: get("if-match"),
    ifNoneMatch: get("if-none-match"),
    ifModifiedSince: get("if-modified-since"),
    ifUnmodifiedSince: get("if-unmodified-since"),
  };
}

/**
 * Refuses a value that could not go back out as a header on GET or HEAD: a line break or other
 * control character, or a character past U+00FF (a PUT's headers never hold one; a form's fields
 * or a query can). Stored, such a value made every read of the object fail.
 */
export function checkHeaderValue(value: string, argument: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) {
      const code = `U+${value.codePointAt(i)!.toString(16).toUpperCase().padStart(4, "0")}`;
      throw invalidArgument(
        `${argument} must be a value an HTTP header can carry: no line breaks or control characters, nothing past U+00FF (character ${i} is ${code}).`,
        argument,
        value,
      );
    }
  }
}

/** GetObject's `response-*` parameters, each replacing the header it names. */
const OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  ["response-content-type", "content-type"],
  ["response-content-language", "content-language"],
  ["response-expires", "expires"],
  ["response-cache-control", "cache-control"],
  ["response-content-disposition", "content-disposition"],
  ["response-content-encoding", "content-encoding"],
];

/**
 * The headers of a GET or HEAD of `v` (its length and range are the caller's): ETag,
 * Last-Modified, content headers, metadata, version id, tag count, and the full-object checksum
 * when the client asked for it (`x-amz-checksum-mode: ENABLED`) and reads the whole object.
 */
export function objectHeaders(call: S3Call, v: ObjectVersionRecord, whole: boolean): Record<string, string> {
  const out: Record<string, string> = {
    "accept-ranges": "bytes",
    etag: v.etag,
    "last-modified": new Date(v.createdAt).toUTCString(),
    "content-type": v.headers.contentType ?? DEFAULT_CONTENT_TYPE,
  };
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) out[name] = value;
  };
  set("content-encoding", v.headers.contentEncoding);
  set("content-disposition", v.headers.contentDisposition);
  set("content-language", v.headers.contentLanguage);
  set("cache-control", v.headers.cacheControl);
  set("expires", v.headers.expires);
  for (const [name, value] of Object.entries(v.userMetadata)) out[`x-amz-meta-${name}`] = value;
  if (v.versionId !== "null") out["x-amz-version-id"] = v.versionId;
  const tags = Object.keys(v.tags).length;
  if (tags > 0) out["x-amz-tagging-count"] = String(tags);
  if (v.partsCount > 0) out["x-amz-mp-parts-count"] = String(v.partsCount);
  const mode = call.headers.get("x-amz-checksum-mode") ?? call.query.get("x-amz-checksum-mode");
  if (whole && mode?.toUpperCase() === "ENABLED" && v.checksum?.type === "FULL_OBJECT") {
    out[CHECKSUM_HEADERS[v.checksum.algorithm]] = v.checksum.value;
    out["x-amz-checksum-type"] = "FULL_OBJECT";
  }
  for (const [param, header] of OVERRIDES) {
    const value = call.query.get(param) ?? undefined;
    if (value !== undefined) checkHeaderValue(value, param);
    set(header, value);
  }
  return out;
}
