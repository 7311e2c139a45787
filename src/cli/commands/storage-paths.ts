/**
 * How `nimbus storage` names things: `s3://bucket/key` (and `bucket/prefix` for `ls`), the path
 * and query a request carries under `/s3` (percent-encoded as SigV4 for S3 signs them), the key
 * an upload writes and the file a download writes, and a content type guessed from a name.
 */
import { basename, extname, isAbsolute, join, normalize, sep } from "node:path";
import { UsageError } from "../usage-error.js";

export const S3_SCHEME = "s3://";

/** A bucket and a key in it; the key is "" for the bucket itself. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

export const isS3Url = (text: string): boolean => text.startsWith(S3_SCHEME);

/** `s3://bucket/key` (the key may be empty), or `bucket/key` as well when `bare` (what `ls` takes). */
export function parseS3Url(text: string, bare = false): S3Location {
  let rest: string;
  if (isS3Url(text)) rest = text.slice(S3_SCHEME.length);
  else if (bare) rest = text;
  else throw new UsageError(`expected s3://BUCKET/KEY, got "${text}"`);
  const slash = rest.indexOf("/");
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (bucket === "") throw new UsageError(`"${text}" names no bucket: expected s3://BUCKET/KEY`);
  return { bucket, key: slash === -1 ? "" : rest.slice(slash + 1) };
}

/** `s3://bucket/key`, as messages name an object. */
export const s3Url = (l: S3Location): string => `${S3_SCHEME}${l.bucket}/${l.key}`;

/** Percent-encoding of RFC 3986: every byte but letters, digits and `-._~`. */
export function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The path of a bucket, or of a key in it, below the S3 endpoint: `/bucket/key` with each
 * character but `/` percent-encoded once. S3's signature covers the path as sent, so it is
 * sent as it was signed.
 */
export function objectPath(bucket: string, key?: string): string {
  const encodedKey = key === undefined ? "" : `/${rfc3986(key).replaceAll("%2F", "/")}`;
  return `/${rfc3986(bucket)}${encodedKey}`;
}

/** A query string, its names and values percent-encoded by RFC 3986 (a value "" is `name=`). */
export function queryString(query: Readonly<Record<string, string>>): string {
  return Object.entries(query)
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .join("&");
}

/** What a `--recursive` operation on `key` covers: `photos` means `photos/…`, as a directory would. */
export function directoryPrefix(key: string): string {
  return key === "" || key.endsWith("/") ? key : `${key}/`;
}

/** The key an upload of the file `localPath` to `dst` writes: dst's key, or the file's name under it when it ends with `/`. */
export function uploadKey(dst: S3Location, localPath: string): string {
  if (dst.key !== "" && !dst.key.endsWith("/")) return dst.key;
  if (localPath === "-")
    throw new UsageError(`"${s3Url(dst)}" names no key: standard input needs s3://BUCKET/KEY`);
  return dst.key + basename(localPath);
}

/**
 * The file a download of `key` writes given the destination the user named: the path itself,
 * or the key's last segment inside it when it is a directory (or ends with a separator).
 */
export function downloadPath(dst: string, key: string, dstIsDirectory: boolean): string {
  const name = key.split("/").pop() ?? "";
  if (!dstIsDirectory && !dst.endsWith("/") && !dst.endsWith(sep)) return dst;
  if (name === "" || name === "." || name === "..")
    throw new UsageError(`the key "${key}" has no file name to write in ${dst}: name the file`);
  return join(dst, name);
}

/**
 * Where a recursive download writes `key` found under `prefix`: its rest as a path in `dir`;
 * undefined for a key that would land outside it (`../x`) or that names a directory (ends
 * with `/`).
 */
export function localPathUnder(dir: string, prefix: string, key: string): string | undefined {
  const rest = key.slice(prefix.length);
  if (rest === "" || rest.endsWith("/")) return undefined;
  // A key's leading slashes are not the root: `/etc/x` lands in dir/etc/x.
  const relative = normalize(rest.replace(/^\/+/, "").split("/").join(sep));
  if (isAbsolute(relative) || relative === ".." || relative.startsWith(`..${sep}`)) return undefined;
  return join(dir, relative);
}

/** A file's path inside a directory walked for a recursive upload, as the rest of a key (`/` separated). */
export function keySuffix(relativePath: string): string {
  return relativePath.split(sep).join("/");
}

/** Types of the common extensions; anything else is sent without one (S3 then says binary/octet-stream). */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".json": "application/json",
  ".xml": "application/xml",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".mp3": "audio/mpeg",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
};

/** The content type of a file or key by its extension (any case), or undefined when it is not a common one. */
export function contentTypeOf(name: string): string | undefined {
  return CONTENT_TYPES[extname(name).toLowerCase()];
}
