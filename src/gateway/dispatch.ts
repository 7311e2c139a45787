/**
 * One fetch handler over many surfaces: each request goes to the surface that takes it (a host
 * match first, else the first path prefix in order), whose policy authenticates it before any
 * of its routes runs, and whose renderer answers its errors. Authentication is the gateway's,
 * not each route's: a route added to a surface is as closed as the others.
 */
import { hash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Hono } from "hono";
import { NimbusError, toNimbusError } from "../shared/errors.js";
import { newRequestId } from "../shared/ids.js";
import type { Logger } from "../shared/logger.js";
import type { Authenticator } from "./auth/principal.js";
import { EMPTY_SHA256, readBody } from "./body.js";
import { nimbusErrorResponse } from "./errors.js";
import { nodeHeaders } from "./node-headers.js";
import {
  compileReach,
  type NodeAnswer,
  type ReachMatch,
  type Surface,
  type SurfaceEnv,
  shadows,
} from "./surface.js";

export interface DispatchDeps {
  readonly authenticator: Authenticator;
  readonly logger: Logger;
}

/** A fetch handler serving `surfaces`; throws if a surface's path prefix can never be reached. */
export function serveSurfaces(surfaces: readonly Surface[], d: DispatchDeps): Hono {
  for (const [n, s] of surfaces.entries()) {
    const earlier = surfaces.slice(0, n).find((e) => shadows(e.reach, s.reach));
    if (earlier)
      throw new Error(
        `surface ${s.name}: its path ${s.reach.pathPrefix} is never reached: ${earlier.name} (path ${earlier.reach.pathPrefix}) comes first and takes its paths; list the narrower prefix first`,
      );
  }
  const served = surfaces.map((s) => ({
    match: compileReach(s.reach),
    accepts: s.reach.accepts,
    app: guarded(s, d),
  }));

  // The root does no routing of its own: its fetch picks the surface and hands the request to
  // the surface's app (one router pass per request, the surface's). `request()` goes through
  // this fetch too, so tests drive the gateway in-process as a server would.
  const root = new Hono();
  root.fetch = (request: Request, env?: unknown) => {
    const { host, path } = hostAndPath(request.url);
    const chosen = choose(served, host, path, request);
    if (!chosen) {
      const err = new NimbusError("NotFound", `No API of this platform serves ${host}${path}`);
      return nimbusErrorResponse(err, newRequestId());
    }
    // Node's request travels in env: a buffered surface reads the body straight from it.
    return chosen.app.fetch(request, { ...(env as object | undefined), reach: chosen.reach });
  };
  return root;
}

/**
 * What serves a request on Node's objects before the gateway's fetch (`Surface.node`): true
 * when a surface's node path took it, false to hand it to the fetch. A request whose surface
 * cannot be told without a Web request (a shared path's `accepts`) goes to the fetch.
 */
export function serveOnNode(
  surfaces: readonly Surface[],
  d: DispatchDeps,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const last = surfaces.findLastIndex((s) => s.node);
  if (last === -1) return () => false;
  // The same choice as the fetch's over fewer surfaces: past the last one with a node path, only
  // a host match could still change it (a path match there comes too late, or is not served here).
  const served = surfaces
    .filter((s, n) => n <= last || (s.reach.hosts?.length ?? 0) > 0)
    .map((s) => ({ surface: s, match: compileReach(s.reach), accepts: s.reach.accepts }));
  return (req, res) => {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query === -1 ? url : url.slice(0, query);
    const chosen = choose(served, req.headers.host ?? "", path, undefined);
    if (chosen?.surface.node === undefined) return false;
    let answer: Promise<NodeAnswer> | undefined;
    try {
      answer = chosen.surface.node(req, chosen.reach);
    } catch {
      // The fetch meets the same failure where the gateway renders and logs it.
      return false;
    }
    if (answer === undefined) return false;
    answer
      .then((a) => {
        res.writeHead(a.status, framed(a)).end(a.body ?? undefined);
      })
      .catch((err: unknown) => nodeError(chosen.surface, d, req, res, err));
    return true;
  };
}

/**
 * A whole answer's headers with its length, as the fetch path sends it: Node's `writeHead`
 * commits to chunked framing when it is not told the length. Set on the answer's own object
 * (a spread of it cost ~4 µs a call).
 */
function framed(a: NodeAnswer): NodeAnswer["headers"] {
  if (a.status === 204 || a.status === 304 || a.headers["content-length"] !== undefined) return a.headers;
  a.headers["content-length"] =
    a.body === null ? 0 : typeof a.body === "string" ? Buffer.byteLength(a.body) : a.body.length;
  return a.headers;
}

/**
 * The surface a request reaches: a host match first, else the first path match in order;
 * undefined when none does. `request` answers a surface's `accepts`; without it, a surface
 * that would be asked makes the choice `undefined` too.
 */
function choose<
  T extends {
    match: ReturnType<typeof compileReach>;
    accepts?: ((r: Request) => boolean) | undefined;
  },
>(
  served: readonly T[],
  host: string,
  path: string,
  request: Request | undefined,
): (T & { reach: ReachMatch }) | undefined {
  let chosen: (T & { reach: ReachMatch }) | undefined;
  const split = {};
  for (const s of served) {
    const reach = s.match(host, path, split);
    // A later path match never wins over an earlier one: only a host match is still worth
    // looking for, so a surface's `accepts` is not asked (a function URL's path form passes
    // SQS's and EventBridge's `/` on every call).
    if (!reach || (reach.via === "path" && chosen)) continue;
    if (s.accepts) {
      if (request === undefined) return undefined;
      if (!s.accepts(request)) continue;
    }
    chosen = { ...s, reach };
    if (reach.via === "host") break;
  }
  return chosen;
}

/** A node path's failure, answered as the surface renders errors (and logged when unexpected). */
async function nodeError(
  s: Surface,
  d: DispatchDeps,
  req: IncomingMessage,
  res: ServerResponse,
  err: unknown,
) {
  const requestId = newRequestId();
  if (!(err instanceof NimbusError))
    d.logger.error("unexpected error", { requestId, surface: s.name, path: req.url, err });
  try {
    if (res.headersSent) return void res.destroy();
    const answer = s.renderError(toNimbusError(err), requestId, webRequestOf(req));
    res.writeHead(answer.status, nodeHeaders(answer.headers)).end(Buffer.from(await answer.arrayBuffer()));
  } catch (failure) {
    d.logger.error("could not answer a failed request", { requestId, surface: s.name, err: failure });
    res.destroy();
  }
}

/** A Web request of Node's method and address, for a renderer that asks which protocol to answer in. */
function webRequestOf(req: IncomingMessage): Request {
  try {
    return new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, { method: req.method });
  } catch {
    // A method a Web request refuses (CONNECT, TRACE) or an address it cannot parse.
    return new Request("http://localhost/");
  }
}

/** The surface's routes behind its authentication, its not-found and its error renderer. */
function guarded(s: Surface, d: DispatchDeps): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();
  app.use("*", async (c, next) => {
    c.set("reach", (c.env as { reach: ReachMatch }).reach);
    await next();
  });
  if (s.around) app.use("*", s.around);
  app.use("*", async (c, next) => {
    const reach = c.get("reach");
    const policy = typeof s.auth === "function" ? s.auth(c.req.raw, reach) : s.auth;
    let bodySha256: string | undefined;
    if (s.body.mode === "buffered") {
      // Read before authentication, which checks a signature against the body's hash.
      const limit = s.body.limit(c.req.method, c.req.path);
      const body = await readBody(c, limit.bytes, limit.tooLarge);
      c.set("body", body);
      if (policy.kind === "platform-key")
        bodySha256 = body.length === 0 ? EMPTY_SHA256 : hash("sha256", body, "hex");
    }
    c.set(
      "principal",
      await d.authenticator.authenticate(policy, { raw: c.req.raw, url: c.req.url, bodySha256 }),
    );
    await next();
  });
  app.route("/", s.app);
  app.notFound((c) => {
    const err = new NimbusError("NotFound", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`);
    return s.renderError(err, newRequestId(), c.req.raw);
  });
  app.onError((err, c) => {
    const requestId = newRequestId();
    if (!(err instanceof NimbusError))
      d.logger.error("unexpected error", { requestId, surface: s.name, path: c.req.path, err });
    return s.renderError(toNimbusError(err), requestId, c.req.raw);
  });
  return app;
}

/** The host (and port) and the path (without its query) of an absolute URL, without parsing the rest. */
function hostAndPath(url: string): { host: string; path: string } {
  const start = url.indexOf("//") + 2;
  let slash = url.indexOf("/", start);
  if (slash === -1) slash = url.length;
  const query = url.indexOf("?", slash);
  return { host: url.slice(start, slash), path: url.slice(slash, query === -1 ? url.length : query) || "/" };
}
