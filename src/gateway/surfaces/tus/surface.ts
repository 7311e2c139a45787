/**
 * Resumable uploads with tus 1.0 (`tus-js-client`, Uppy, `@supabase/storage-js`'s documented
 * way) at `/storage/v1/upload/resumable`, Supabase Storage's path, into the S3 surface's
 * buckets (`services/storage/tus.ts` does the work). A creation names its target in
 * Upload-Metadata (`bucketName`, `objectName`, `contentType`, `cacheControl`); the upload's URL
 * is `…/resumable/<uploadId>`, the id of the multipart upload it is.
 *
 * Who may do what is the S3 surface's rule (`s3/access.ts`), per request: a user's access token
 * (`Authorization: Bearer`) and a caller without credentials are held to the bucket's policy,
 * as CreateMultipartUpload and UploadPart (`s3:PutObject` on the key) for creation, HEAD and
 * PATCH, and as AbortMultipartUpload for termination. The operator is the platform's key (HTTP
 * Basic, or SigV4 for the service "s3"); the auth service's service key is scoped to auth and
 * is no operator here (a bearer that is not a user's token is refused). OPTIONS needs no
 * credentials. Every answer carries
 * CORS headers for any origin (credentials travel in Authorization, never in cookies).
 */
import type { IncomingMessage } from "node:http";
import { type Context, Hono } from "hono";
import { S3Error } from "../../../services/storage/errors.js";
import { MAX_OBJECT_BYTES } from "../../../services/storage/multipart.js";
import type { RequestOrigin } from "../../../services/storage/notifications.js";
import {
  parseTusMetadata,
  TUS_EXTENSIONS,
  TUS_VERSION,
  TusError,
  type TusUpload,
  type TusUploads,
  tusTarget,
} from "../../../services/storage/tus.js";
import type { NimbusError } from "../../../shared/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import type { AuthPolicy, Principal } from "../../auth/principal.js";
import { allowAnyOrigin } from "../../cors.js";
import { principalOf, type Surface, type SurfaceEnv } from "../../surface.js";
import { type AccessDeps, authorize, userOf } from "../s3/access.js";
import type { Operation } from "../s3/operations.js";

export const TUS_PATH_PREFIX = "/storage/v1/upload/resumable";

export interface TusSurfaceDeps extends AccessDeps {
  readonly tus: TusUploads;
}

const OFFSET_STREAM = "application/offset+octet-stream";
const EXPOSED = [
  "Location",
  "Upload-Offset",
  "Upload-Length",
  "Upload-Metadata",
  "Upload-Expires",
  "Tus-Resumable",
  "Tus-Version",
  "Tus-Extension",
  "Tus-Max-Size",
].join(", ");
const METHODS = "POST, HEAD, PATCH, DELETE, OPTIONS";

export function tusSurface(d: TusSurfaceDeps): Surface {
  const app = new Hono<SurfaceEnv>();
  const handle = async (c: Context<SurfaceEnv>) => {
    const requestId = newRequestId();
    const raw = c.req.raw;
    try {
      return withCommon(await route(c, requestId, d), raw);
    } catch (err) {
      if (err instanceof TusError || err instanceof S3Error)
        return errorAnswer(err.status, err.code, err.message, requestId, raw);
      throw err;
    }
  };
  // Hono answers HEAD with the GET route (its answer's body dropped).
  const methods = ["GET", "POST", "PATCH", "DELETE", "OPTIONS"];
  app.on(methods, TUS_PATH_PREFIX, handle);
  app.on(methods, `${TUS_PATH_PREFIX}/*`, handle);
  return {
    name: "tus",
    reach: { pathPrefix: TUS_PATH_PREFIX },
    auth: (request) => tusAuthPolicy(request, d),
    body: { mode: "stream" },
    renderError: (err: NimbusError, requestId: string, request: Request) =>
      errorAnswer(err.status, err.code, err.message, requestId, request),
    app,
  };
}

async function route(c: Context<SurfaceEnv>, requestId: string, d: TusSurfaceDeps): Promise<Response> {
  const raw = c.req.raw;
  const h = raw.headers;
  const override = h.get("x-http-method-override")?.toUpperCase();
  const method = raw.method === "POST" && override !== undefined ? override : raw.method;
  const id = uploadIdOf(new URL(raw.url).pathname);
  if (method === "OPTIONS") return options(raw);
  if (h.get("tus-resumable") !== TUS_VERSION)
    throw new TusError(
      412,
      "PreconditionFailed",
      `Tus-Resumable is ${JSON.stringify(h.get("tus-resumable"))}; this server speaks tus ${TUS_VERSION}`,
    );
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const origin = originOf(requestId, incoming);
  const who = { principal: principalOf(c), requestId, raw };
  if (id === undefined) {
    if (method !== "POST") throw notAllowed(method, "the endpoint takes POST (creation) and OPTIONS");
    return create(raw, who, origin, d, incoming);
  }
  switch (method) {
    case "GET":
    case "HEAD": {
      if (raw.method !== "HEAD") throw notAllowed(method, "an upload takes HEAD, PATCH and DELETE");
      const found = await d.tus.get(id);
      await allow(who, "UploadPart", found, d);
      const upload = await d.tus.head(id, origin);
      return new Response(null, { status: 200, headers: uploadHeaders(upload, true) });
    }
    case "PATCH": {
      requireOffsetStream(h);
      const offset = integerHeader(h, "upload-offset");
      if (offset === undefined) throw new TusError(400, "InvalidOffset", "PATCH needs Upload-Offset");
      const found = await d.tus.get(id);
      await allow(who, "UploadPart", found, d);
      const { upload, cut } = await d.tus.append(
        id,
        offset,
        bodyOf(raw, incoming),
        integerHeader(h, "content-length"),
        origin,
      );
      // No one reads the answer: the client went away, and will HEAD to learn what was kept.
      if (cut) throw new TusError(400, "IncompleteBody", "the body ended early: the connection closed");
      return new Response(null, { status: 204, headers: uploadHeaders(upload, false) });
    }
    case "DELETE": {
      const found = await d.tus.get(id);
      await allow(who, "AbortMultipartUpload", found, d);
      await d.tus.terminate(id);
      return new Response(null, { status: 204 });
    }
    default:
      throw notAllowed(method, "an upload takes HEAD, PATCH and DELETE");
  }
}

interface Who {
  readonly principal: Principal;
  readonly requestId: string;
  readonly raw: Request;
}

/** Creation (and creation-with-upload): 201 with the upload's Location. */
async function create(
  raw: Request,
  who: Who,
  origin: RequestOrigin,
  d: TusSurfaceDeps,
  incoming: IncomingMessage | undefined,
): Promise<Response> {
  const h = raw.headers;
  if (h.has("upload-defer-length") || h.has("upload-concat"))
    throw new TusError(
      400,
      "NotSupported",
      `this server has the extensions ${TUS_EXTENSIONS}: send Upload-Length with the creation`,
    );
  const length = integerHeader(h, "upload-length");
  if (length === undefined) throw new TusError(400, "InvalidLength", "a creation needs Upload-Length");
  const metadataHeader = h.get("upload-metadata") ?? undefined;
  const target = tusTarget(parseTusMetadata(metadataHeader));
  await allow(who, "CreateMultipartUpload", target, d);
  const overwrite = h.get("x-upsert")?.toLowerCase() !== "false";
  let upload: TusUpload = await d.tus.create(target, length, metadataHeader, { overwrite, origin });
  // creation-with-upload: the first bytes, as a PATCH sends them (any other body is not tus's).
  const withBody = h.get("content-type")?.split(";")[0]?.trim().toLowerCase() === OFFSET_STREAM;
  if (withBody && length > 0) {
    upload = (
      await d.tus.append(
        upload.uploadId,
        0,
        bodyOf(raw, incoming),
        integerHeader(h, "content-length"),
        origin,
      )
    ).upload;
  }
  const headers = uploadHeaders(upload, false);
  headers.set("location", `${new URL(raw.url).origin}${TUS_PATH_PREFIX}/${upload.uploadId}`);
  return new Response(null, { status: 201, headers });
}

/** Throws S3's AccessDenied unless the caller may make `op` on the target's key. */
async function allow(
  who: Who,
  op: Operation,
  target: { bucket: string; key: string },
  d: TusSurfaceDeps,
): Promise<void> {
  await authorize(
    {
      method: op === "AbortMultipartUpload" ? "DELETE" : "POST",
      bucket: target.bucket,
      key: target.key,
      query: new Map(),
      headers: new Headers(),
      raw: who.raw,
      incoming: undefined,
      requestId: who.requestId,
      principal: who.principal,
      style: "path",
    },
    op,
    d,
  );
}

/** How a tus request proves who it is: see the file's comment. */
export function tusAuthPolicy(request: Request, d: TusSurfaceDeps): AuthPolicy {
  if (d.authMode === "off") return { kind: "platform-key", service: "s3" };
  if (request.method === "OPTIONS") return { kind: "anonymous" };
  const authorization = request.headers.get("authorization");
  if (authorization === null) return { kind: "anonymous" };
  const bearer = /^bearer\s+(\S+)$/i.exec(authorization)?.[1];
  if (bearer === undefined) return { kind: "platform-key", service: "s3", basic: true };
  return { kind: "jwt", verify: (token) => userOf(token, d) };
}

/** OPTIONS: a browser's preflight, or tus's discovery of the server's abilities. */
function options(raw: Request): Response {
  const h = raw.headers;
  const headers = new Headers({
    "tus-version": TUS_VERSION,
    "tus-extension": TUS_EXTENSIONS,
    "tus-max-size": String(MAX_OBJECT_BYTES),
  });
  if (h.get("origin") !== null && h.get("access-control-request-method") !== null) {
    headers.set("access-control-allow-methods", METHODS);
    const asked = h.get("access-control-request-headers");
    // Any header: credentials travel in Authorization, which a browser sends only when allowed by name.
    if (asked !== null) headers.set("access-control-allow-headers", asked);
    headers.set("access-control-max-age", "86400");
  }
  return new Response(null, { status: 204, headers });
}

/** Tus-Resumable and CORS, on every answer. */
function withCommon(res: Response, raw: Request): Response {
  if (raw.method !== "OPTIONS" || raw.headers.get("access-control-request-method") === null)
    res.headers.set("tus-resumable", TUS_VERSION);
  return allowAnyOrigin(res, raw.headers.get("origin"), EXPOSED);
}

/** `{ "error": { "code", "message", "requestId" } }`, with Tus-Resumable and CORS. */
function errorAnswer(
  status: number,
  code: string,
  message: string,
  requestId: string,
  raw: Request,
): Response {
  const res = Response.json({ error: { code, message, requestId } }, { status });
  if (status === 412) res.headers.set("tus-version", TUS_VERSION);
  if (status === 405) res.headers.set("allow", METHODS);
  return withCommon(res, raw);
}

function uploadHeaders(u: TusUpload, head: boolean): Headers {
  const headers = new Headers({
    "upload-offset": String(u.offset),
    "upload-expires": new Date(u.expiresAt).toUTCString(),
    "cache-control": "no-store",
  });
  if (head) {
    headers.set("upload-length", String(u.length));
    if (u.metadata !== undefined) headers.set("upload-metadata", u.metadata);
  }
  return headers;
}

/** The upload id of `…/resumable/<id>`; undefined for the endpoint itself. */
function uploadIdOf(path: string): string | undefined {
  const rest = path.slice(TUS_PATH_PREFIX.length).replace(/^\/+|\/+$/g, "");
  if (rest === "") return undefined;
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(rest)) throw new TusError(404, "NotFound", `no upload ${rest}`);
  return rest;
}

function requireOffsetStream(h: Headers): void {
  const type = h.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== OFFSET_STREAM)
    throw new TusError(
      415,
      "UnsupportedMediaType",
      `a body of a tus upload is Content-Type: ${OFFSET_STREAM}, not ${JSON.stringify(type ?? null)}`,
    );
}

function integerHeader(h: Headers, name: string): number | undefined {
  const v = h.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,16}$/.test(v.trim()) || !Number.isSafeInteger(Number(v)))
    throw new TusError(
      400,
      "InvalidHeader",
      `${name} is ${JSON.stringify(v)}: expected a non-negative integer`,
    );
  return Number(v);
}

function notAllowed(method: string, what: string): TusError {
  return new TusError(405, "MethodNotAllowed", `${method} is not allowed here: ${what}`);
}

/** The request's bytes as they arrive (Node's request when served by Node). */
function bodyOf(raw: Request, incoming: IncomingMessage | undefined): AsyncIterable<Uint8Array> {
  if (incoming) return incoming;
  return (raw.body as AsyncIterable<Uint8Array> | null) ?? (async function* () {})();
}

function originOf(requestId: string, incoming: IncomingMessage | undefined): RequestOrigin {
  const address = incoming?.socket.remoteAddress ?? "127.0.0.1";
  return { requestId, sourceIp: address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "") };
}
