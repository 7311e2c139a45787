/**
 * A bucket's CORS (`?cors`: Put, Get, Delete), S3's CORSConfiguration checked whole and kept as
 * the bucket's `cors` setting in S3's JSON form (`aws s3api put-bucket-cors`'s). From it the
 * platform answers a browser's preflight (`OPTIONS /{bucket}/{key}`, never signed: a preflight
 * carries no credentials) and adds CORS headers to the answers of requests carrying `Origin`,
 * errors included, as S3 does. A rule matches as S3 matches one: the first whose AllowedOrigin
 * takes the origin, whose AllowedMethod has the method, and (for a preflight) whose
 * AllowedHeader takes every header asked for; each pattern has at most one `*`, and compares
 * case-insensitively.
 */
import type { Context, MiddlewareHandler } from "hono";
import { malformedXml, noSuchBucket, S3Error } from "../../../services/storage/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import type { AuthPolicy } from "../../auth/principal.js";
import { principalOf, type SurfaceEnv } from "../../surface.js";
import type { Handler, S3Deps } from "./deps.js";
import { s3ErrorAnswer } from "./errors.js";
import type { Operation } from "./operations.js";
import { parseCall, type S3Call } from "./request.js";
import { readSmallBody } from "./upload.js";
import { el, listOf, node, parseXml, textOf, type XmlValue, xmlDocument, xmlResponse } from "./xml.js";

/** S3's limits: 100 rules, in a document of at most 64 KB. */
export const MAX_CORS_RULES = 100;
const MAX_CORS_BYTES = 64 * 1024;
const MAX_RULE_ID_CHARS = 255;
export const CORS_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"] as const;
export type CorsMethod = (typeof CORS_METHODS)[number];

/** One rule, as S3's JSON names it (the stored form). */
export interface CorsRule {
  readonly ID?: string;
  readonly AllowedOrigins: readonly string[];
  readonly AllowedMethods: readonly CorsMethod[];
  readonly AllowedHeaders: readonly string[];
  readonly ExposeHeaders: readonly string[];
  readonly MaxAgeSeconds?: number;
}

export interface CorsConfiguration {
  readonly CORSRules: readonly CorsRule[];
}

/** A preflight is answered whatever the bucket's policy: browsers send it without credentials. */
export const PREFLIGHT_AUTH: AuthPolicy = { kind: "anonymous" };

const ROOT = "CORSConfiguration";
const RULE = `${ROOT}.CORSRule`;
const LISTS = [
  RULE,
  `${RULE}.AllowedOrigin`,
  `${RULE}.AllowedMethod`,
  `${RULE}.AllowedHeader`,
  `${RULE}.ExposeHeader`,
];
/** What a browser's preflight (and so its cached answer) depends on. */
const VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

const invalid = (message: string) => new S3Error("InvalidRequest", 400, message);

/** A CORSConfiguration document, checked: MalformedXML for its shape, InvalidRequest for its values. */
export function parseCorsXml(body: Buffer): CorsConfiguration {
  const doc = parseXml(body, ROOT, LISTS);
  const rules = listOf(doc.CORSRule);
  if (rules.length === 0) throw malformedXml("a CORSConfiguration has at least one <CORSRule>");
  if (rules.length > MAX_CORS_RULES)
    throw invalid(`The CORS configuration has ${rules.length} rules; at most ${MAX_CORS_RULES} are allowed.`);
  return {
    CORSRules: rules.map((r, n) => {
      const id = textOf(r.ID, true);
      if (id !== undefined && id.length > MAX_RULE_ID_CHARS)
        throw invalid(
          `The ID of CORS rule ${n + 1} is ${id.length} characters; at most ${MAX_RULE_ID_CHARS}.`,
        );
      const origins = texts(r.AllowedOrigin);
      const methods = texts(r.AllowedMethod);
      if (origins.length === 0) throw malformedXml(`CORS rule ${n + 1} has no <AllowedOrigin>`);
      if (methods.length === 0) throw malformedXml(`CORS rule ${n + 1} has no <AllowedMethod>`);
      for (const m of methods)
        if (!(CORS_METHODS as readonly string[]).includes(m))
          throw invalid(
            `Found unsupported HTTP method in CORS config. Unsupported method is ${m} (allowed: ${CORS_METHODS.join(", ")}).`,
          );
      const headers = texts(r.AllowedHeader);
      for (const [what, list] of [
        ["AllowedOrigin", origins],
        ["AllowedHeader", headers],
      ] as const)
        for (const p of list)
          if (p.split("*").length > 2) throw invalid(`${what} "${p}" can not have more than one wildcard.`);
      const expose = texts(r.ExposeHeader);
      for (const h of expose)
        if (h.includes("*"))
          throw invalid(
            `ExposeHeader "${h}" contains wildcard. We currently do not support wildcard for ExposeHeader.`,
          );
      const maxAge = textOf(r.MaxAgeSeconds, true);
      if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge))
        throw malformedXml(`<MaxAgeSeconds> is a whole number of seconds, got "${maxAge}"`);
      return {
        ...(id === undefined || id === "" ? {} : { ID: id }),
        AllowedOrigins: origins,
        AllowedMethods: methods as CorsMethod[],
        AllowedHeaders: headers,
        ExposeHeaders: expose,
        ...(maxAge === undefined ? {} : { MaxAgeSeconds: Number(maxAge) }),
      };
    }),
  };
}

/** A repeated element's texts, trimmed; an empty one is refused. */
function texts(value: XmlValue | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => {
    const text = textOf(v, true);
    if (text === undefined || text === "") throw malformedXml("an element of a CORS rule is empty");
    return text;
  });
}

/** A configuration as GetBucketCors answers it. */
export function corsXml(config: CorsConfiguration): string {
  return xmlDocument(
    ROOT,
    config.CORSRules.map((r) =>
      node(
        "CORSRule",
        el("ID", r.ID) +
          r.AllowedHeaders.map((h) => el("AllowedHeader", h)).join("") +
          r.AllowedMethods.map((m) => el("AllowedMethod", m)).join("") +
          r.AllowedOrigins.map((o) => el("AllowedOrigin", o)).join("") +
          r.ExposeHeaders.map((h) => el("ExposeHeader", h)).join("") +
          el("MaxAgeSeconds", r.MaxAgeSeconds),
      ),
    ).join(""),
  );
}

/** Whether `value` is what `pattern` (with at most one `*`) describes, case aside. */
export function wildcardMatches(pattern: string, value: string): boolean {
  const p = pattern.toLowerCase();
  const v = value.toLowerCase();
  const star = p.indexOf("*");
  if (star === -1) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

/** The first rule taking `origin` and `method` and, when given, every one of `headers` (S3's order). */
export function matchRule(
  config: CorsConfiguration,
  origin: string,
  method: string,
  headers: readonly string[] = [],
): CorsRule | undefined {
  return config.CORSRules.find(
    (r) =>
      r.AllowedOrigins.some((o) => wildcardMatches(o, origin)) &&
      (r.AllowedMethods as readonly string[]).includes(method) &&
      headers.every((h) => r.AllowedHeaders.some((a) => wildcardMatches(a, h))),
  );
}

/** `X-Custom, content-type` → `["X-Custom", "content-type"]`. */
export function requestedHeaders(raw: string | null): string[] {
  return (raw ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
}

/**
 * The CORS headers of an answer by `rule` to `origin`. A rule for any origin (`*`) answers `*`
 * unless the request carries credentials, which a browser refuses `*` for; every other answer
 * echoes the origin and allows credentials, as S3's do. `asked`: a preflight's requested
 * headers, echoed as allowed.
 */
export function corsHeadersOf(
  rule: CorsRule,
  origin: string,
  o: { credentialed: boolean; asked?: readonly string[] },
): [string, string][] {
  const any = rule.AllowedOrigins.includes("*") && !o.credentialed;
  const out: [string, string][] = any
    ? [["access-control-allow-origin", "*"]]
    : [
        ["access-control-allow-origin", origin],
        ["access-control-allow-credentials", "true"],
      ];
  out.push(["access-control-allow-methods", rule.AllowedMethods.join(", ")]);
  if (o.asked !== undefined && o.asked.length > 0)
    out.push(["access-control-allow-headers", o.asked.join(", ")]);
  if (rule.ExposeHeaders.length > 0)
    out.push(["access-control-expose-headers", rule.ExposeHeaders.join(", ")]);
  if (rule.MaxAgeSeconds !== undefined) out.push(["access-control-max-age", String(rule.MaxAgeSeconds)]);
  out.push(["vary", VARY]);
  return out;
}

/** The bucket's CORS configuration, or undefined when it has none. */
async function corsOf(d: S3Deps, bucket: string): Promise<CorsConfiguration | undefined> {
  const text = (await d.storage.bucket(bucket)).settings.cors;
  return text === undefined ? undefined : (JSON.parse(text) as CorsConfiguration);
}

const bucketOf = (call: S3Call) => call.bucket ?? "";

const getBucketCors: Handler = async (call, d) => {
  const config = await corsOf(d, bucketOf(call));
  if (config === undefined)
    throw new S3Error("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist", {
      BucketName: bucketOf(call),
    });
  return xmlResponse(corsXml(config));
};

const putBucketCors: Handler = async (call, d) => {
  const bucket = bucketOf(call);
  await d.storage.bucket(bucket);
  const config = parseCorsXml(await readSmallBody(call, d, MAX_CORS_BYTES));
  if (!(await d.storage.deps.repo.putSetting(bucket, "cors", JSON.stringify(config))))
    throw noSuchBucket(bucket);
  return new Response(null, { status: 200 });
};

const deleteBucketCors: Handler = async (call, d) => {
  const bucket = bucketOf(call);
  if (!(await d.storage.deps.repo.putSetting(bucket, "cors", undefined))) throw noSuchBucket(bucket);
  return new Response(null, { status: 204 });
};

/** The handlers of the operations above, for the surface's table. */
export const CORS_HANDLERS = {
  GetBucketCors: getBucketCors,
  PutBucketCors: putBucketCors,
  DeleteBucketCors: deleteBucketCors,
} as const satisfies Partial<Record<Operation, Handler>>;

const corsRefused = (message: string, method: string, call: S3Call) =>
  new S3Error("CORSResponse", 403, message, {
    Method: method,
    ResourceType: call.key === undefined ? "BUCKET" : "OBJECT",
  });

/** The route of `OPTIONS /{bucket}[/{key}]`: the preflight's answer from the bucket's rules. */
export function preflightRoute(d: S3Deps): (c: Context<SurfaceEnv>) => Promise<Response> {
  return async (c) => {
    const requestId = newRequestId();
    const ids = { "x-amz-request-id": requestId, "x-amz-id-2": requestId };
    try {
      const call = parseCall(c.req.raw, c.get("reach"), {
        incoming: undefined,
        requestId,
        principal: principalOf(c),
      });
      if (call.bucket === undefined)
        throw new S3Error(
          "MethodNotAllowed",
          405,
          "The specified method is not allowed against this resource.",
          {
            Method: "OPTIONS",
            ResourceType: "SERVICE",
          },
        );
      const origin = call.headers.get("origin");
      if (origin === null)
        throw new S3Error("BadRequest", 400, "Insufficient information. Origin request header needed.");
      const method = call.headers.get("access-control-request-method");
      if (method === null)
        throw new S3Error("BadRequest", 400, "Invalid Access-Control-Request-Method: null");
      const config = await corsOf(d, call.bucket);
      if (config === undefined)
        throw corsRefused("CORSResponse: CORS is not enabled for this bucket.", method, call);
      const asked = requestedHeaders(call.headers.get("access-control-request-headers"));
      const rule = matchRule(config, origin, method, asked);
      if (rule === undefined)
        throw corsRefused(
          "CORSResponse: This CORS request is not allowed. This is usually because the evaluation of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
          method,
          call,
        );
      const headers = new Headers(ids);
      for (const [name, value] of corsHeadersOf(rule, origin, { credentialed: false, asked }))
        headers.set(name, value);
      return new Response(null, { status: 200, headers });
    } catch (err) {
      if (err instanceof S3Error) return s3ErrorAnswer(err, requestId, "OPTIONS");
      throw err;
    }
  };
}

/** A query that signs the request: the browser sends a presigned URL as it would any. */
const SIGNED_QUERY = /[?&]X-Amz-Signature=/i;

/**
 * Middleware: the CORS headers of the bucket's matching rule on the answer to a request that
 * carries `Origin`, whatever the answer (S3 sends them on errors too, so a page can read them):
 * it runs around the gateway's authentication (`Surface.around`), so a request refused there (a
 * bad signature, an expired link) carries them as well.
 */
export function corsOnAnswers(d: S3Deps): MiddlewareHandler<SurfaceEnv> {
  return async (c, next) => {
    const req = c.req.raw;
    const origin = req.headers.get("origin");
    if (origin === null || req.method === "OPTIONS") return next();
    let rule: CorsRule | undefined;
    let configured = false;
    try {
      // Before authentication: who asks does not matter for which bucket it is.
      const call = parseCall(req, c.get("reach"), {
        incoming: undefined,
        requestId: "",
        principal: { kind: "anonymous" },
      });
      const config = call.bucket === undefined ? undefined : await corsOf(d, call.bucket);
      configured = config !== undefined;
      rule = config === undefined ? undefined : matchRule(config, origin, req.method);
    } catch (err) {
      // No bucket, or a path the route refuses: its own answer says so, without CORS headers.
      if (!(err instanceof S3Error)) d.logger.warn("s3: reading the bucket's CORS failed", { err });
    }
    await next();
    if (!configured) return;
    const credentialed =
      req.headers.has("authorization") || req.headers.has("cookie") || SIGNED_QUERY.test(req.url);
    const headers =
      rule === undefined
        ? [["vary", VARY] as [string, string]]
        : corsHeadersOf(rule, origin, { credentialed });
    try {
      for (const [name, value] of headers) c.res.headers.set(name, value);
    } catch {
      // An answer whose headers are immutable (one fetched from elsewhere) is copied to add them.
      const copy = new Response(c.res.body, c.res);
      for (const [name, value] of headers) copy.headers.set(name, value);
      c.res = copy;
    }
  };
}
