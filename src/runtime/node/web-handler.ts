// Web-standard handlers: a handler export that is an object with `fetch(request, env, ctx)`
// (the shape of a Workers module or a Hono app). Owns the conversions between Lambda's HTTP
// events (API Gateway payload 2.0, as function URLs and HTTP APIs send it, and 1.0) and the
// Web Request and Response, and the wrapper that serves such an object as a Lambda handler.
// Node's own Request, Response and Headers only: nothing is loaded until the first invocation.
import { LambdaError } from "./runtime-api-client.js";
import { copyEnv } from "./trace-env.js";

/** What `ctx` offers a fetch handler: Workers' execution context, and Lambda's context as `lambda`. */
export interface FetchContext {
  waitUntil(promise: unknown): void;
  passThroughOnException(): void;
  readonly lambda: unknown;
}

export interface FetchTarget {
  fetch(request: Request, env: Record<string, string | undefined>, ctx: FetchContext): unknown;
}

export type PayloadVersion = "1.0" | "2.0";

/** The answer to a 2.0 event: what function URLs and HTTP APIs turn into the HTTP response. */
export interface HttpResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: string;
  isBase64Encoded: boolean;
}

/** The answer to a 1.0 event; Set-Cookie, which cannot be comma-joined, goes in `multiValueHeaders`. */
export interface HttpResultV1 {
  statusCode: number;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

type Json = Record<string, unknown>;

/** Whether a handler export is served as a web handler: an object (not a function) with a `fetch` method. */
export function isFetchTarget(value: unknown): value is FetchTarget {
  return typeof value === "object" && value !== null && typeof (value as Json).fetch === "function";
}

/**
 * The Lambda handler that serves `target`: the event becomes a Request, `fetch` answers, the
 * Response becomes the event version's answer. The invocation ends only once every promise given
 * to `ctx.waitUntil` has settled, as Lambda may freeze the instance as soon as it answers.
 */
export function fetchHandler(target: FetchTarget): (event: unknown, context: unknown) => Promise<unknown> {
  return async (event, context) => {
    const { request, version } = requestFromEvent(event);
    const pending: Promise<unknown>[] = [];
    const ctx: FetchContext = {
      waitUntil(promise) {
        // Caught at once: a rejection left unhandled while fetch runs would crash the instance.
        pending.push(
          Promise.resolve(promise).catch((err: unknown) =>
            console.error("ctx.waitUntil promise rejected:", err),
          ),
        );
      },
      // Nothing stands behind the function to pass the request to: an exception is the answer.
      passThroughOnException() {},
      lambda: context,
    };
    try {
      const response = await target.fetch(request, copyEnv(), ctx);
      return await resultFromResponse(response, version);
    } finally {
      // A waitUntil promise may itself call waitUntil.
      while (pending.length > 0) await Promise.all(pending.splice(0));
    }
  };
}

/** The Request an HTTP event stands for, and which answer it expects; Runtime.InvalidEvent for any other event. */
export function requestFromEvent(event: unknown): { request: Request; version: PayloadVersion } {
  const e: Json = isRecord(event) ? event : {};
  const context = isRecord(e.requestContext) ? e.requestContext : undefined;
  const http = isRecord(context?.http) ? context.http : undefined;
  let version: PayloadVersion;
  let method: string;
  if (e.version === "2.0" && typeof http?.method === "string") {
    version = "2.0";
    method = http.method;
  } else if (typeof e.httpMethod === "string") {
    version = "1.0";
    method = e.httpMethod;
  } else {
    throw new LambdaError(
      "Runtime.InvalidEvent",
      `a fetch handler needs an HTTP event (a function URL or an HTTP API request, payload 2.0 or 1.0); got ${describe(event)}`,
    );
  }
  try {
    const headers = new Headers();
    const target = version === "2.0" ? readV2(e, http, headers) : readV1(e, headers);
    const bodyless = method.toUpperCase() === "GET" || method.toUpperCase() === "HEAD";
    const body =
      bodyless || typeof e.body !== "string"
        ? null
        : e.isBase64Encoded === true
          ? Buffer.from(e.body, "base64")
          : e.body;
    const url = `${origin(context?.domainName, headers)}${target.startsWith("/") ? "" : "/"}${target}`;
    return { request: new Request(url, { method, headers, body }), version };
  } catch (err) {
    throw new LambdaError(
      "Runtime.InvalidEvent",
      `cannot make a Request of the HTTP event: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** Adds a 2.0 event's headers and cookies to `headers`; returns its path and query. */
function readV2(e: Json, http: Json | undefined, headers: Headers): string {
  for (const [name, value] of entries(e.headers)) if (isScalar(value)) headers.append(name, String(value));
  const cookies = Array.isArray(e.cookies) ? e.cookies.filter((c) => typeof c === "string") : [];
  if (cookies.length > 0) headers.set("cookie", cookies.join("; "));
  const path = stringOr(e.rawPath, stringOr(http?.path, "/"));
  // rawQueryString is the query as sent; the parsed parameters are only a fallback.
  const query =
    typeof e.rawQueryString === "string" ? e.rawQueryString : queryString(e.queryStringParameters, false);
  return withQuery(path, query);
}

/** Adds a 1.0 event's headers to `headers`; returns its path and query. */
function readV1(e: Json, headers: Headers): string {
  // The multi-value maps hold every value; the single-value ones only the last of each.
  const multi = entries(e.multiValueHeaders);
  if (multi.length > 0) {
    for (const [name, values] of multi)
      for (const value of Array.isArray(values) ? values : [])
        if (isScalar(value)) headers.append(name, String(value));
  } else {
    for (const [name, value] of entries(e.headers)) if (isScalar(value)) headers.append(name, String(value));
  }
  const query =
    entries(e.multiValueQueryStringParameters).length > 0
      ? queryString(e.multiValueQueryStringParameters, true)
      : queryString(e.queryStringParameters, false);
  return withQuery(stringOr(e.path, "/"), query);
}

/**
 * `scheme://host` of the request. The host is the event's domain, with the port the Host header
 * adds to it (a local gateway listens on one; AWS's domains carry none). The scheme is the
 * gateway's X-Forwarded-Proto, else http for localhost names (Nimbus serves those) and https
 * for any other (AWS serves only https).
 */
function origin(domainName: unknown, headers: Headers): string {
  const hostHeader = headers.get("host") ?? undefined;
  const domain = typeof domainName === "string" && domainName !== "" ? domainName : undefined;
  let host = domain ?? hostHeader ?? "localhost";
  if (domain !== undefined && hostHeader !== undefined && hostname(hostHeader) === domain.toLowerCase())
    host = hostHeader;
  const forwarded = headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  const scheme =
    forwarded === "http" || forwarded === "https" ? forwarded : isLocal(hostname(host)) ? "http" : "https";
  return `${scheme}://${host}`;
}

function hostname(host: string): string {
  return host.replace(/:\d*$/, "").toLowerCase();
}

const LOOPBACK_V4 = /^127\.\d+\.\d+\.\d+$/;

function isLocal(name: string): boolean {
  return name === "localhost" || name.endsWith(".localhost") || name === "[::1]" || LOOPBACK_V4.test(name);
}

/** The answer to the event `version` for `response`: body as text when textual and UTF-8, base64 otherwise. */
export async function resultFromResponse(
  response: unknown,
  version: PayloadVersion,
): Promise<HttpResultV1 | HttpResultV2> {
  if (!isResponse(response))
    throw new TypeError(
      `a fetch handler must answer with a Response; it answered with ${describe(response)}`,
    );
  const headers: Record<string, string> = {};
  // Headers iterate with repeated names comma-joined, except Set-Cookie, given once per cookie.
  for (const [name, value] of response.headers) if (name !== "set-cookie") headers[name] = value;
  const cookies = response.headers.getSetCookie();
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = isTextual(headers["content-type"]) ? utf8(bytes) : bytes.length === 0 ? "" : undefined;
  const body = text ?? bytes.toString("base64");
  const isBase64Encoded = text === undefined;
  if (version === "2.0") return { statusCode: response.status, headers, cookies, body, isBase64Encoded };
  const multiValueHeaders: Record<string, string[]> = cookies.length > 0 ? { "set-cookie": cookies } : {};
  return { statusCode: response.status, headers, multiValueHeaders, body, isBase64Encoded };
}

// Any Response will do, not only this realm's (a bundled fetch library may bring its own).
function isResponse(value: unknown): value is Response {
  if (!isRecord(value)) return false;
  const headers = value.headers as Json | undefined;
  return (
    typeof value.status === "number" &&
    typeof value.arrayBuffer === "function" &&
    isRecord(headers) &&
    typeof headers.getSetCookie === "function" &&
    typeof (headers as Partial<Iterable<unknown>>)[Symbol.iterator] === "function"
  );
}

const TEXT_TYPES = new Set([
  "application/json",
  "application/xml",
  "application/javascript",
  "application/ecmascript",
  "application/x-www-form-urlencoded",
  "application/graphql",
  "application/x-ndjson",
]);

function isTextual(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return type.startsWith("text/") || TEXT_TYPES.has(type) || type.endsWith("+json") || type.endsWith("+xml");
}

/** The bytes as text if they are valid UTF-8, byte for byte (a BOM is kept). */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function queryString(params: unknown, multi: boolean): string {
  const search = new URLSearchParams();
  for (const [name, value] of entries(params))
    for (const v of multi && Array.isArray(value) ? value : [value])
      if (isScalar(v)) search.append(name, String(v));
  return search.toString();
}

function withQuery(path: string, query: string): string {
  return query === "" ? path : `${path}?${query}`;
}

function entries(value: unknown): [string, unknown][] {
  return isRecord(value) ? Object.entries(value) : [];
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What an event or a result is, for a message: `an object with keys "Records"`. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "string") return `a string ${JSON.stringify(value.slice(0, 60))}`;
  if (typeof value === "number" || typeof value === "boolean") return `the ${typeof value} ${value}`;
  if (typeof value !== "object") return `a ${typeof value}`;
  const keys = Object.keys(value);
  if (keys.length === 0) return "an empty object";
  const shown = keys.slice(0, 6).map((k) => JSON.stringify(k));
  return `an object with keys ${shown.join(", ")}${keys.length > shown.length ? ", …" : ""}`;
}
