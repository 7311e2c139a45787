/**
 * An S3 request as the routes read it: the bucket (from the host's first label, or the path's
 * first segment after `/s3`), the key (the rest of the raw path, percent-decoded once: `+`
 * stays a plus, `%2B` is a plus too, `%20` a space), and the query, each parameter decoded
 * once. A path that is not valid percent-encoding of UTF-8 is refused.
 */
import type { IncomingMessage } from "node:http";
import { invalidArgument, S3Error } from "../../../services/storage/errors.js";
import type { Principal } from "../../auth/principal.js";
import type { ReachMatch } from "../../surface.js";

/** The path prefix of path-style requests: `http://host:port/s3/{bucket}/{key}`. */
export const S3_PATH_PREFIX = "/s3";
/** Virtual-host style: `http://{bucket}.s3.localhost:port/{key}`. */
export const S3_HOST_PATTERN = "{bucket}.s3.localhost";
/**
 * The service's own host, `http://s3.localhost:port/`: where virtual-host clients send
 * ListBuckets (and path-style clients given that endpoint send `/{bucket}/{key}`).
 */
export const S3_SERVICE_HOST = "s3.localhost";

export interface S3Call {
  /** GET, HEAD, PUT, POST, DELETE. */
  readonly method: string;
  /** Undefined: the service (ListBuckets). */
  readonly bucket: string | undefined;
  /** Undefined: the bucket itself. */
  readonly key: string | undefined;
  /** Each parameter's first value, decoded; a parameter without `=` is "". */
  readonly query: ReadonlyMap<string, string>;
  readonly headers: Headers;
  readonly raw: Request;
  /** Node's request when served by Node: the body is read straight from it. */
  readonly incoming: IncomingMessage | undefined;
  readonly requestId: string;
  /** Who signed it (the platform's key, or anyone with auth off). */
  readonly principal: Principal;
  /** How the bucket was addressed, for the URLs answers name (`Location`). */
  readonly style: "path" | "host";
}

/** Splits the request's raw URL into bucket, key and query. */
export function parseCall(
  raw: Request,
  reach: ReachMatch,
  o: { incoming: IncomingMessage | undefined; requestId: string; principal: Principal },
): S3Call {
  const url = raw.url;
  const afterHost = url.indexOf("/", url.indexOf("//") + 2);
  const rest = afterHost === -1 ? "/" : url.slice(afterHost);
  const q = rest.indexOf("?");
  let path = q === -1 ? rest : rest.slice(0, q);
  const rawQuery = q === -1 ? "" : rest.slice(q + 1);
  let bucket: string | undefined;
  const bucketInHost = reach.via === "host" && reach.params.bucket !== undefined;
  if (bucketInHost) {
    bucket = reach.params.bucket;
  } else {
    if (reach.via === "path") path = path.slice(S3_PATH_PREFIX.length);
    const slash = path.indexOf("/", 1);
    const segment = slash === -1 ? path.slice(1) : path.slice(1, slash);
    bucket = segment === "" ? undefined : decode(segment, "bucket name");
    path = slash === -1 ? "" : path.slice(slash);
  }
  // "/" and "" both address the bucket; "/k" the key "k".
  const key = path.length <= 1 ? undefined : decode(path.slice(1), "key");
  return {
    method: raw.method,
    bucket,
    key,
    query: parseQuery(rawQuery),
    headers: raw.headers,
    raw,
    ...o,
    style: bucketInHost ? "host" : "path",
  };
}

/** Percent-decoding once, of UTF-8 only. */
function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error(
      "InvalidURI",
      400,
      `Couldn't parse the specified URI: the ${what} is not valid percent-encoded UTF-8.`,
    );
  }
}

function parseQuery(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of raw.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decode(eq === -1 ? pair : pair.slice(0, eq), "query");
    if (!out.has(name)) out.set(name, eq === -1 ? "" : decode(pair.slice(eq + 1), "query"));
  }
  return out;
}

/** The origin the client addressed, for URLs in answers. */
export function originOf(call: S3Call): string {
  const url = call.raw.url;
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  return slash === -1 ? url : url.slice(0, slash);
}

/** An object's URL as the client addresses it (CompleteMultipartUpload's Location). */
export function objectUrl(call: S3Call, bucket: string, key: string): string {
  const encodedKey = key
    .split("/")
    .map((s) => encodeURIComponent(s))
    .join("/");
  const origin = originOf(call);
  return call.style === "host"
    ? `${origin}/${encodedKey}`
    : `${origin}${S3_PATH_PREFIX}/${bucket}/${encodedKey}`;
}

/** A query parameter that must be a non-negative integer, or its default. */
export function intParam(call: S3Call, name: string, fallback: number): number {
  const raw = call.query.get(name);
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)))
    throw new S3Error("InvalidArgument", 400, `${name} must be a non-negative integer, got "${raw}".`, {
      ArgumentName: name,
      ArgumentValue: raw,
    });
  return Number(raw);
}

/** The version id a request names (`?versionId=`), if any. */
export const versionIdOf = (call: S3Call) => {
  const v = call.query.get("versionId");
  return v === undefined || v === "" ? undefined : v;
};

/** `x-amz-copy-source`: `bucket/key` URL-encoded (a leading `/` allowed), then `?versionId=`. */
export function parseCopySource(header: string): {
  bucket: string;
  key: string;
  versionId: string | undefined;
} {
  let source = header.startsWith("/") ? header.slice(1) : header;
  let versionId: string | undefined;
  const q = source.indexOf("?");
  if (q !== -1) {
    const params = new URLSearchParams(source.slice(q + 1));
    versionId = params.get("versionId") ?? undefined;
    source = source.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(source);
  } catch {
    throw invalidArgument(
      "Invalid copy source encoding: it must be percent-encoded UTF-8.",
      "x-amz-copy-source",
      header,
    );
  }
  const slash = decoded.indexOf("/");
  if (slash <= 0 || slash === decoded.length - 1)
    throw invalidArgument(
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.",
      "x-amz-copy-source",
      header,
    );
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}
