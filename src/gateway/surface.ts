/**
 * A surface is one API the gateway serves: the Lambda API, Nimbus's own API, package links,
 * metrics; later S3, function URLs, a frontend's API. It declares how requests reach it (host,
 * path prefix), who may call it (its AuthPolicy), how its body is read, and how it renders
 * errors; the gateway does the rest for every route alike (see `serveSurfaces`).
 */
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { Context, Hono, MiddlewareHandler } from "hono";
import type { NimbusError } from "../shared/errors.js";
import type { AuthPolicy, Principal } from "./auth/principal.js";

/** What the gateway puts in a surface's context before its route runs. */
export interface SurfaceEnv {
  Variables: {
    principal: Principal;
    /** The whole body, on a surface that buffers it. */
    body: Buffer;
    /** How the request reached the surface, with the labels its host or path pattern captured. */
    reach: ReachMatch;
  };
}

/**
 * How requests reach a surface: by any of its host patterns, else by its path prefix. A
 * pattern's `{label}` captures one DNS label (`{id}.lambda-url.{region}.localhost`) or one
 * path segment (`/nimbus/v1/url/{id}`); the port does not count. A host match wins over any
 * path match: a function URL's host takes every path, `/2015-03-31/…` included.
 */
export interface Reach {
  readonly hosts?: readonly string[];
  /** Whole segments: `/nimbus` takes `/nimbus` and `/nimbus/…`, not `/nimbusx`; `/` takes all. */
  readonly pathPrefix?: string;
  /**
   * For a surface that shares its paths with a later one (SQS's JSON protocol posts to `/`, as
   * the Lambda API's catch-all takes): which of the requests its host or path reaches are its
   * own, by their headers (never the body). A surface with it never shadows another.
   */
  readonly accepts?: (request: Request) => boolean;
}

export interface ReachMatch {
  readonly via: "host" | "path";
  readonly params: Readonly<Record<string, string>>;
}

export interface BodyLimit {
  readonly bytes: number;
  /** The RequestTooLarge message, naming the limit. */
  readonly tooLarge: string;
}

/**
 * `buffered`: the gateway reads the whole body (413 past the route's limit) before
 * authentication, which checks a signature against its hash. `stream`: the route reads the
 * body itself; authentication never touches it (a signature's payload hash is taken as
 * declared: `UNSIGNED-PAYLOAD`, aws-chunked, or a hash the route checks as it reads).
 */
export type BodyMode =
  | { readonly mode: "buffered"; readonly limit: (method: string, path: string) => BodyLimit }
  | { readonly mode: "stream" };

export interface Surface {
  /** Short and unique, for logs: `lambda-api`, `metrics`. */
  readonly name: string;
  readonly reach: Reach;
  /**
   * Who may call it: one policy, or one per request where the resource reached decides (a
   * function URL is open or signed as its owner set it). The gateway asks before reading the body.
   */
  readonly auth: AuthPolicy | ((request: Request, reach: ReachMatch) => AuthPolicy);
  readonly body: BodyMode;
  /**
   * The answer for an error thrown by authentication or a route, or for no route; `request`
   * tells a surface that speaks more than one protocol which one to answer in.
   */
  renderError(err: NimbusError, requestId: string, request: Request): Response;
  /**
   * Middleware around the gateway's authentication as well as the routes: it sees every answer,
   * a refusal of the signature included (S3 puts a bucket's CORS headers on those, so a page
   * can read why). `reach` is set when it runs; `principal` and `body` are not yet.
   */
  readonly around?: MiddlewareHandler<SurfaceEnv>;
  /** Its routes, at the full paths requests arrive on. */
  readonly app: Hono<SurfaceEnv>;
  /**
   * Serves a request straight from Node's request object, ahead of the routes above, when it
   * can: the answer's promise, or undefined to leave the request to them. Nothing of the
   * gateway runs on this path (no authentication, no `around`, no body read): it may answer
   * only what the surface's policy lets anyone do, and reads the body itself. Its failures are
   * rendered by `renderError`. For the hottest open path, an open function URL, where the Web
   * request and response objects and the middleware cost ~25 µs a call.
   */
  readonly node?: (req: IncomingMessage, reach: ReachMatch) => Promise<NodeAnswer> | undefined;
}

/** An answer written to Node's response as it is. */
export interface NodeAnswer {
  readonly status: number;
  /** This answer's own object: the gateway adds `content-length` to it. */
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer | string | null;
}

/** The caller, as the surface's policy established it before the route ran. */
export function principalOf(c: Context<SurfaceEnv>): Principal {
  return c.get("principal");
}

/** The body the gateway read before authentication, on a surface that buffers it. */
export function bodyOf(c: Context<SurfaceEnv>): Buffer {
  return c.get("body");
}

/** A route's own body limit: requests of `method` whose path matches `path`. */
export interface BodyLimitRule {
  readonly method: string;
  readonly path: RegExp;
  readonly limit: BodyLimit;
}

/** A surface's body limits: the first rule matching method and path, else `fallback`. */
export function bodyLimits(
  rules: readonly BodyLimitRule[],
  fallback: BodyLimit,
): (method: string, path: string) => BodyLimit {
  return (method, path) => rules.find((r) => r.method === method && r.path.test(path))?.limit ?? fallback;
}

/**
 * `reach` as a matcher of a request's host (port ignored) and path, returning what it
 * captured, its patterns split once: the gateway asks every request of every
 * surface, so a match costs a few string comparisons, no regular expression.
 */
export function compileReach(
  reach: Reach,
): (host: string, path: string, split?: SplitTarget) => ReachMatch | undefined {
  const hosts = (reach.hosts ?? []).map((h) => compilePattern(h.toLowerCase().split(".")));
  // What every host a pattern takes ends with (".localhost"), when each ends in a literal label:
  // a host without it (an address, the platform's own name) is not split at all.
  const endings = hosts.map((h) => h.parts.at(-1)).map((p) => (p && "literal" in p ? `.${p.literal}` : ""));
  const prefix = reach.pathPrefix === undefined ? undefined : compilePattern(segments(reach.pathPrefix));
  const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
  return (host, path, split = {}) => {
    if (hosts.length > 0) {
      split.hostname ??= hostnameOf(host);
      const hostname = split.hostname;
      if (endings.some((e) => hostname.endsWith(e))) {
        split.labels ??= hostname.split(".");
        for (const pattern of hosts) {
          const params = matchLabels(pattern, split.labels, "exact");
          if (params) return { via: "host", params };
        }
      }
    }
    if (!prefix) return undefined;
    // The common case, a prefix without labels: a comparison of the path's start.
    if (prefix.literal !== undefined) {
      const p = prefix.literal;
      const takes = p === "" || path === p || (path.startsWith(p) && path[p.length] === "/");
      return takes ? { via: "path", params: NO_PARAMS } : undefined;
    }
    split.segments ??= segments(path);
    const params = matchLabels(prefix, split.segments, "prefix");
    return params && { via: "path", params };
  };
}

/** A request's host labels and path segments, split once for all the surfaces that ask. */
export interface SplitTarget {
  hostname?: string;
  labels?: string[];
  segments?: string[];
}

/** The host's name, its port left out, lower case. */
function hostnameOf(host: string): string {
  const colon = host.lastIndexOf(":");
  return (colon > host.lastIndexOf("]") ? host.slice(0, colon) : host).toLowerCase();
}

interface Pattern {
  /** Each segment or label: a literal, or the name of the label it captures. */
  readonly parts: ReadonlyArray<{ readonly literal: string } | { readonly capture: string }>;
  /** A path pattern without captures, as "/a/b" ("" for "/"). */
  readonly literal: string | undefined;
}

function compilePattern(parts: readonly string[]): Pattern {
  const compiled = parts.map((p) => {
    const label = /^\{(\w+)\}$/.exec(p);
    return label ? { capture: label[1]! } : { literal: p };
  });
  const literal = compiled.every((c) => "literal" in c) ? parts.map((p) => `/${p}`).join("") : undefined;
  return { parts: compiled, literal };
}

/** Whether every request `inner` takes by path, `outer` takes first (so `inner` never sees one). */
export function shadows(outer: Reach, inner: Reach): boolean {
  if (outer.pathPrefix === undefined || inner.pathPrefix === undefined || outer.accepts) return false;
  const o = segments(outer.pathPrefix);
  const i = segments(inner.pathPrefix);
  return o.length <= i.length && o.every((s, n) => s.startsWith("{") || s === i[n]);
}

function segments(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

function matchLabels(
  pattern: Pattern,
  actual: readonly string[],
  how: "exact" | "prefix",
): Record<string, string> | undefined {
  const { parts } = pattern;
  if (how === "exact" ? actual.length !== parts.length : actual.length < parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [n, p] of parts.entries()) {
    const a = actual[n]!;
    if ("capture" in p) {
      if (a === "") return undefined;
      params[p.capture] = a;
    } else if (p.literal !== a) return undefined;
  }
  return params;
}
