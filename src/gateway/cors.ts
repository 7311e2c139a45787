/**
 * Cross-origin rules of a function URL (and of an HTTP API, whose CORS settings have the same
 * fields): whether a request is a preflight, the answer to a preflight, and the headers an
 * actual answer carries. Pure functions over a `CorsSettings`; the surface calls them.
 *
 * The platform answers a preflight itself when the URL has a CORS configuration (the function
 * is not invoked), as an HTTP API does by its guide, and the headers here replace any CORS header
 * the function's own answer carries: Lambda's guide says the configured headers "take
 * precedence", and API Gateway ignores an integration's CORS headers. A URL without a
 * configuration passes OPTIONS to its function like any other method.
 *
 * Origins: `*`, exact origins (`https://app.example.com`, `http://localhost:5173`) compared
 * case-insensitively (scheme and host; a port is digits, so it compares exactly), and the
 * scheme wildcards `https://*` and `http://*` that HTTP APIs accept. Wildcard subdomains
 * (`https://*.example.com`) are not supported: neither Lambda's `AllowOrigins` (specific
 * origins or `*`) nor HTTP APIs' `allowOrigins` define them, so such an entry matches nothing.
 */
import type { CorsSettings } from "../protocol/cors.js";

/** What the functions need of a request's headers: `Headers` has it. */
export interface HeaderLookup {
  get(name: string): string | null;
}

/** The answer to a preflight; the status is the same whether the browser will be let through or not. */
export interface PreflightAnswer {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: [string, string][];
  /** Why the browser will refuse the request (for the URL's log); undefined when it may go ahead. */
  readonly refused?: string;
}

/**
 * The status of every preflight answer, with no body. AWS documents no status for a function
 * URL's preflight answer; Fetch asks only for an ok status (200–299), and one status for the
 * allowed and the refused keeps a refusal to the headers, where the browser reports it.
 */
export const PREFLIGHT_STATUS = 200;

/** Methods a browser sends without asking (Fetch's CORS-safelisted methods). */
const SAFELISTED_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST"]);

/** Whether a request is a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. */
export function isPreflight(method: string, headers: HeaderLookup): boolean {
  return (
    method === "OPTIONS" &&
    headers.get("origin") !== null &&
    headers.get("access-control-request-method") !== null
  );
}

/**
 * The answer to a preflight from `origin` for `requestMethod` with `requestHeaders` (the raw
 * Access-Control-Request-Headers, or null). An origin not allowed gets no allow header at all,
 * so the browser reports the origin as the cause. An allowed origin asking for a method or a
 * header not allowed gets the configured lists as they are, without what it asked for, so the
 * browser names the method or header it refused.
 */
export function preflightAnswer(
  cors: CorsSettings,
  origin: string,
  requestMethod: string,
  requestHeaders: string | null,
): PreflightAnswer {
  const headers: [string, string][] = [];
  const allowOrigin = allowedOriginValue(cors, origin);
  if (allowOrigin === undefined) {
    if (dependsOnOrigin(cors)) headers.push(["vary", "origin"]);
    return { status: PREFLIGHT_STATUS, headers, refused: `origin ${origin} is not in AllowOrigins` };
  }
  headers.push(["access-control-allow-origin", allowOrigin]);
  if (cors.allowCredentials === true) headers.push(["access-control-allow-credentials", "true"]);

  let refused: string | undefined;
  const methods = cors.allowMethods ?? [];
  if (methods.includes("*")) headers.push(["access-control-allow-methods", requestMethod]);
  else {
    if (methods.length > 0) headers.push(["access-control-allow-methods", methods.join(", ")]);
    if (!SAFELISTED_METHODS.has(requestMethod) && !methods.includes(requestMethod.toUpperCase()))
      refused = `method ${requestMethod} is not in AllowMethods`;
  }

  const asked = headerList(requestHeaders);
  const allowed = cors.allowHeaders ?? [];
  // `*` is echoed rather than sent: a browser reads `*` literally when credentials are allowed,
  // and even without them `*` never covers Authorization.
  if (allowed.includes("*")) {
    if (asked.length > 0) headers.push(["access-control-allow-headers", asked.join(", ")]);
  } else {
    if (allowed.length > 0) headers.push(["access-control-allow-headers", allowed.join(", ")]);
    const lower = allowed.map((h) => h.toLowerCase());
    const missing = asked.filter((h) => !lower.includes(h));
    if (missing.length > 0 && refused === undefined)
      refused = `request header${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not in AllowHeaders`;
  }

  if (cors.maxAge !== undefined) headers.push(["access-control-max-age", String(cors.maxAge)]);
  if (dependsOnOrigin(cors)) headers.push(["vary", "origin"]);
  return refused === undefined
    ? { status: PREFLIGHT_STATUS, headers }
    : { status: PREFLIGHT_STATUS, headers, refused };
}

/**
 * The CORS headers of an actual (not preflight) answer to a request from `origin` (null when
 * the request had no Origin header: no CORS headers then, as API Gateway sends none). `vary:
 * origin` goes on every answer whose headers depend on the origin, the refused and the
 * origin-less included, so a shared cache never hands one origin's answer to another.
 */
export function corsHeaders(cors: CorsSettings, origin: string | null): [string, string][] {
  const headers: [string, string][] = [];
  const allowOrigin = origin === null ? undefined : allowedOriginValue(cors, origin);
  if (allowOrigin !== undefined) {
    headers.push(["access-control-allow-origin", allowOrigin]);
    if (cors.allowCredentials === true) headers.push(["access-control-allow-credentials", "true"]);
    const expose = cors.exposeHeaders ?? [];
    if (expose.length > 0) headers.push(["access-control-expose-headers", expose.join(", ")]);
  }
  if (dependsOnOrigin(cors)) headers.push(["vary", "origin"]);
  return headers;
}

/**
 * The Access-Control-Allow-Origin value for `origin`, or undefined when it is not allowed.
 * `*` is sent as `*` unless credentials are allowed: a browser refuses `*` on a credentialed
 * request, so the origin is echoed instead. Every other match echoes the origin as sent.
 */
function allowedOriginValue(cors: CorsSettings, origin: string): string | undefined {
  const allowed = cors.allowOrigins ?? [];
  if (allowed.includes("*")) return cors.allowCredentials === true ? origin : "*";
  const lower = origin.toLowerCase();
  for (const entry of allowed) if (originMatches(entry, lower)) return origin;
  return undefined;
}

/** Whether a configured origin (`https://a.example`, `https://*`) takes the lower-cased `origin`. */
function originMatches(entry: string, origin: string): boolean {
  const e = entry.endsWith("/") ? entry.slice(0, -1).toLowerCase() : entry.toLowerCase();
  if (e === "https://*" || e === "http://*")
    return origin.startsWith(e.slice(0, -1)) && origin.length > e.length - 1;
  return e === origin;
}

/** Whether the answer's CORS headers change with the request's origin. */
function dependsOnOrigin(cors: CorsSettings): boolean {
  const allowed = cors.allowOrigins ?? [];
  return !(allowed.includes("*") && cors.allowCredentials !== true);
}

/** `X-Custom, content-type` → `["x-custom", "content-type"]`. */
function headerList(raw: string | null): string[] {
  if (raw === null) return [];
  const out: string[] = [];
  for (const part of raw.split(",")) {
    const name = part.trim().toLowerCase();
    if (name !== "") out.push(name);
  }
  return out;
}

/**
 * Lets any origin read `res`, for surfaces whose credentials travel in Authorization, never in
 * cookies (resumable uploads, image transforms): the request's Origin echoed, `exposed` named.
 */
export function allowAnyOrigin(res: Response, origin: string | null, exposed: string): Response {
  if (origin !== null) {
    res.headers.set("access-control-allow-origin", origin);
    res.headers.set("access-control-expose-headers", exposed);
    res.headers.append("vary", "Origin");
  }
  return res;
}
