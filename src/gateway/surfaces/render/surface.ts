/**
 * Image transforms on GET at Supabase Storage's render endpoint, so `@supabase/storage-js`'s
 * `getPublicUrl(path, { transform })` and `download(path, { transform })` URLs work:
 * `/storage/v1/render/image/public/{bucket}/{key}` and
 * `/storage/v1/render/image/authenticated/{bucket}/{key}`, with `width`, `height`, `resize`,
 * `quality` and `format` in the query (`services/storage/transforms.ts` does the work) and
 * Supabase's `download` (an attachment, named by its value or the key's last segment).
 *
 * Who may read is the S3 surface's rule for GetObject on the key (`s3/access.ts`): `public/`
 * serves anyone the bucket lets read without credentials (public-read, or a policy allowing
 * everyone or anonymous callers) and ignores credentials sent with it; `authenticated/` takes a
 * user's access token (`Authorization: Bearer`), held to the bucket's policy, or the platform's
 * key (HTTP Basic, or SigV4 for the service "s3"): the operator. OPTIONS needs no credentials.
 * Every answer carries CORS headers for any origin (credentials travel in Authorization, never
 * in cookies); errors are Nimbus's JSON.
 */
import { type Context, Hono } from "hono";
import { S3Error } from "../../../services/storage/errors.js";
import type { ImageTransformer } from "../../../services/storage/transforms.js";
import type { NimbusError } from "../../../shared/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import type { AuthPolicy } from "../../auth/principal.js";
import { allowAnyOrigin } from "../../cors.js";
import { principalOf, type Surface, type SurfaceEnv } from "../../surface.js";
import { type AccessDeps, authorize, userOf } from "../s3/access.js";

export const RENDER_PATH_PREFIX = "/storage/v1/render/image";

export interface RenderSurfaceDeps extends AccessDeps {
  readonly transforms: Pick<ImageTransformer, "render">;
}

const METHODS = "GET, HEAD, OPTIONS";
const EXPOSED = ["ETag", "Content-Disposition", "Content-Length", "X-Nimbus-Transform-Cache"].join(", ");

export function renderSurface(d: RenderSurfaceDeps): Surface {
  const app = new Hono<SurfaceEnv>();
  const handle = async (c: Context<SurfaceEnv>) => {
    const requestId = newRequestId();
    const raw = c.req.raw;
    try {
      return withCors(await route(c, requestId, d), raw);
    } catch (err) {
      if (err instanceof S3Error) return errorAnswer(err.status, err.code, err.message, requestId, raw);
      throw err;
    }
  };
  // Hono answers HEAD with the GET route (its answer's body dropped).
  app.on(["GET", "OPTIONS"], `${RENDER_PATH_PREFIX}/*`, handle);
  return {
    name: "render",
    reach: { pathPrefix: RENDER_PATH_PREFIX },
    auth: (request) => renderAuthPolicy(request, d),
    body: { mode: "stream" },
    renderError: (err: NimbusError, requestId: string, request: Request) =>
      errorAnswer(err.status, err.code, err.message, requestId, request),
    app,
  };
}

/** How a render request proves who it is: see the file's comment. */
export function renderAuthPolicy(
  request: Request,
  d: Pick<AccessDeps, "authMode" | "userClaims">,
): AuthPolicy {
  if (d.authMode === "off") return { kind: "platform-key", service: "s3" };
  if (request.method === "OPTIONS") return { kind: "anonymous" };
  const authorization = request.headers.get("authorization");
  if (authorization === null || accessOf(request.url) !== "authenticated") return { kind: "anonymous" };
  if (!/^bearer\s/i.test(authorization)) return { kind: "platform-key", service: "s3", basic: true };
  return { kind: "jwt", verify: (token) => userOf(token, d) };
}

async function route(c: Context<SurfaceEnv>, requestId: string, d: RenderSurfaceDeps): Promise<Response> {
  const raw = c.req.raw;
  if (raw.method === "OPTIONS") return preflight(raw);
  const { bucket, key, query } = target(raw.url);
  const principal = principalOf(c);
  await authorize(
    {
      method: "GET",
      bucket,
      key,
      query: new Map(),
      headers: new Headers(),
      raw,
      incoming: undefined,
      requestId,
      principal,
      style: "path",
    },
    "GetObject",
    d,
  );
  const h = raw.headers;
  const result = await d.transforms.render({
    bucket,
    key,
    query,
    ifNoneMatch: h.get("if-none-match") ?? undefined,
    ifModifiedSince: h.get("if-modified-since") ?? undefined,
  });
  const headers = new Headers({
    etag: result.etag,
    "last-modified": new Date(result.lastModified).toUTCString(),
  });
  if (result.cacheControl !== undefined) headers.set("cache-control", result.cacheControl);
  if (result.kind === "not-modified") return new Response(null, { status: 304, headers });
  headers.set("content-type", result.contentType);
  headers.set("content-length", String(result.bytes.length));
  headers.set("x-nimbus-transform-cache", result.cache);
  const download = query.get("download");
  if (download !== null) headers.set("content-disposition", attachment(download || lastSegment(key)));
  return new Response(result.bytes, { status: 200, headers });
}

/** `public` or `authenticated`, as the path names it (undefined for anything else). */
function accessOf(url: string): string | undefined {
  const path = pathOf(url);
  const access = path.slice(RENDER_PATH_PREFIX.length + 1).split("/", 1)[0];
  return access === "public" || access === "authenticated" ? access : undefined;
}

/** The raw path (still percent-encoded) and query. */
function pathOf(url: string): string {
  const afterHost = url.indexOf("/", url.indexOf("//") + 2);
  const rest = afterHost === -1 ? "/" : url.slice(afterHost);
  const q = rest.search(/[?#]/);
  return q === -1 ? rest : rest.slice(0, q);
}

/** Bucket, key (percent-decoded once) and query of `…/{public|authenticated}/{bucket}/{key}`. */
function target(url: string): { bucket: string; key: string; query: URLSearchParams } {
  const path = pathOf(url);
  const query = new URL(url).searchParams;
  const [access, bucket, ...rest] = path.slice(RENDER_PATH_PREFIX.length + 1).split("/");
  if (access === "sign")
    throw new S3Error(
      "NotImplemented",
      501,
      "signed render URLs (createSignedUrl with a transform) are not implemented: use …/render/image/authenticated/ with the user's access token, or …/public/ for a bucket anyone may read",
    );
  if (access !== "public" && access !== "authenticated")
    throw new S3Error(
      "NotFound",
      404,
      `no render route ${JSON.stringify(path)}: the render endpoint is ${RENDER_PATH_PREFIX}/public/{bucket}/{key} or ${RENDER_PATH_PREFIX}/authenticated/{bucket}/{key}`,
    );
  const rawKey = rest.join("/");
  if (bucket === undefined || bucket === "" || rawKey === "")
    throw new S3Error(
      "InvalidURI",
      400,
      `the path names no ${bucket ? "key" : "bucket"}: expected ${RENDER_PATH_PREFIX}/${access}/{bucket}/{key}`,
    );
  try {
    return { bucket: decodeURIComponent(bucket), key: decodeURIComponent(rawKey), query };
  } catch {
    throw new S3Error("InvalidURI", 400, `the path ${JSON.stringify(path)} is not percent-encoded UTF-8`);
  }
}

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1) || key;
}

/** `attachment; filename="a.webp"; filename*=UTF-8''…` (RFC 6266), the name's quotes and controls dropped. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** A browser's preflight: any origin, the headers it asks for. */
function preflight(raw: Request): Response {
  const headers = new Headers({ "access-control-allow-methods": METHODS, "access-control-max-age": "86400" });
  const asked = raw.headers.get("access-control-request-headers");
  // Any header: credentials travel in Authorization, which a browser sends only when allowed by name.
  if (asked !== null) headers.set("access-control-allow-headers", asked);
  return new Response(null, { status: 204, headers });
}

function withCors(res: Response, raw: Request): Response {
  return allowAnyOrigin(res, raw.headers.get("origin"), EXPOSED);
}

/** `{ "error": { "code", "message", "requestId" } }`, with CORS. */
function errorAnswer(
  status: number,
  code: string,
  message: string,
  requestId: string,
  raw: Request,
): Response {
  const res = Response.json({ error: { code, message, requestId } }, { status });
  if (status === 405) res.headers.set("allow", METHODS);
  return withCors(res, raw);
}
