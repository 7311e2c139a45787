/**
 * Verification of AWS Signature Version 4 on incoming requests, in the Authorization header or
 * in a presigned URL's query, by the encoding rules of the SDK's own signer
 * (@smithy/signature-v4): its query canonicalisation and, for presigned URLs, the signer itself.
 */

import { createHmac, hash, timingSafeEqual } from "node:crypto";
import { HttpRequest } from "@smithy/protocol-http";
import { getCanonicalQuery, SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../../shared/sha256.js";

export interface SigV4Request {
  method: string;
  /** Raw path exactly as received, still percent-encoded, without the query string. */
  rawPath: string;
  /** Raw query string without the leading '?', still encoded ('' when none). */
  rawQuery: string;
  /** Header lookup by lowercase name; returns undefined when absent. */
  header(name: string): string | undefined;
  /** Hex sha256 of the body when the caller has it; verification then also checks X-Amz-Content-Sha256 matches it. */
  bodySha256Hex?: string;
}

export interface SigV4Options {
  service: string; // "lambda" | "s3"
  /** Secret for an access key id, undefined when unknown. */
  secretFor(accessKeyId: string): string | undefined;
  /** Epoch ms now (injected clock). */
  now(): number;
  maxSkewMs?: number; // default 15 minutes
}

export type SigV4Result =
  | { ok: true; accessKeyId: string; region: string }
  | { ok: false; reason: SigV4FailureReason; message: string };

export type SigV4FailureReason =
  | "missing"
  | "malformed"
  | "unknown-key"
  | "mismatch"
  | "expired"
  | "skewed"
  | "body-hash-mismatch";

const ALGORITHM = "AWS4-HMAC-SHA256";
const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGNED_EXPIRES_S = 604_800;
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
const CONTENT_SHA256 = "x-amz-content-sha256";
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

type Query = Record<string, string | string[]>;

/** What the request claims about its signature, before any of it is checked. */
interface Claim {
  accessKeyId: string;
  region: string;
  signedHeaders: string[];
  signature: string;
  signedAtMs: number;
  /** The X-Amz-Date as signed (yyyymmddThhmmssZ), checked. */
  amzDate: string;
  /** Present only for presigned (query) auth. */
  expiresS?: number;
}

/** A claim, or why the request's auth fields are malformed. */
type Parsed = Claim | string;

/** Verifies a request's SigV4 signature (header or presigned query) for opts.service. */
export async function verifySigV4(req: SigV4Request, opts: SigV4Options): Promise<SigV4Result> {
  const query = parseQuery(req.rawQuery);
  if (!query) return fail("malformed", `query string "${req.rawQuery}" is not valid percent-encoding`);
  const authorization = req.header("authorization");
  const presigned = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"].some((k) => k in query);
  if (authorization === undefined && !presigned) {
    return fail("missing", "request has no Authorization header and no X-Amz-Signature query parameter");
  }
  if (authorization !== undefined && presigned) {
    return fail("malformed", "request carries both an Authorization header and presigned query parameters");
  }
  const claim = presigned
    ? parseQueryAuth(query, opts.service)
    : parseHeaderAuth(authorization ?? "", req.header("x-amz-date"), opts.service);
  if (typeof claim === "string") return fail("malformed", claim);

  const secret = opts.secretFor(claim.accessKeyId);
  if (secret === undefined) return fail("unknown-key", `access key id "${claim.accessKeyId}" is not known`);

  const now = opts.now();
  const maxSkewMs = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  // A presigned URL may be used long after it was made, so only a future date counts as skew there.
  const skewMs = claim.expiresS === undefined ? Math.abs(now - claim.signedAtMs) : claim.signedAtMs - now;
  if (skewMs > maxSkewMs) {
    return fail(
      "skewed",
      `signed at ${iso(claim.signedAtMs)}, over ${maxSkewMs} ms from server time ${iso(now)}`,
    );
  }
  const expiresAtMs = claim.signedAtMs + (claim.expiresS ?? Number.POSITIVE_INFINITY) * 1000;
  if (now > expiresAtMs)
    return fail("expired", `presigned URL expired at ${iso(expiresAtMs)}, now is ${iso(now)}`);

  const headers: Record<string, string> = Object.create(null);
  for (const name of claim.signedHeaders) {
    const value = req.header(name);
    if (value === undefined) return fail("malformed", `signed header "${name}" is not in the request`);
    headers[name] = value;
  }
  const payloadHash = declaredPayloadHash(req, query, presigned);
  if (payloadHash === undefined) {
    return fail("malformed", `request declares no single ${CONTENT_SHA256} and the caller gave no body hash`);
  }
  // The signer reads the payload hash from this header; unsignableHeaders keeps it out of the
  // canonical headers when the client did not sign it.
  headers[CONTENT_SHA256] = payloadHash;

  const expected = await computeSignature(req, query, headers, claim, secret, opts.service);
  if (!constantTimeEqual(expected, claim.signature)) {
    return fail("mismatch", `signature does not match the request signed with key "${claim.accessKeyId}"`);
  }
  if (req.bodySha256Hex !== undefined && HEX_SHA256.test(payloadHash) && payloadHash !== req.bodySha256Hex) {
    return fail("body-hash-mismatch", `body sha256 is ${req.bodySha256Hex}, request declares ${payloadHash}`);
  }
  return { ok: true, accessKeyId: claim.accessKeyId, region: claim.region };
}

async function computeSignature(
  req: SigV4Request,
  query: Query,
  headers: Record<string, string>,
  claim: Claim,
  secret: string,
  service: string,
): Promise<string> {
  if (claim.expiresS === undefined) return headerSignature(req, query, headers, claim, secret, service);
  const signer = signerFor(service, claim.region, claim.accessKeyId, secret);
  const request = new HttpRequest({ method: req.method, hostname: "", path: req.rawPath, query, headers });
  const signableHeaders = new Set(claim.signedHeaders);
  // The signer adds these itself; they belong in the canonical headers only if the client signed them.
  const unsignableHeaders = new Set(["x-amz-date", CONTENT_SHA256]);
  // A presigned URL: the signer's own presign, with the client's date and expiry.
  const signed = await signer.presign(request, {
    signingDate: new Date(claim.signedAtMs),
    expiresIn: claim.expiresS,
    signableHeaders,
    unsignableHeaders,
    // Headers the client signed as headers must not be moved into the query.
    unhoistableHeaders: new Set([...signableHeaders, CONTENT_SHA256]),
  });
  return single(signed.query as Query, "X-Amz-Signature") ?? "";
}

/**
 * The signature of a request signed in its Authorization header, computed directly on Node's
 * crypto: the canonical request is built by the same rules as the SDK's signer (its query
 * canonicalisation is the signer's own function), the signing key is derived once per day,
 * region and service. Three times cheaper than a signer round trip, and it is on every
 * request's path. Presigned URLs go through the signer (`presign`).
 */
function headerSignature(
  req: SigV4Request,
  query: Query,
  headers: Record<string, string>,
  claim: Claim,
  secret: string,
  service: string,
): string {
  const names = [...claim.signedHeaders].sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers[n]!.trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalRequest = [
    req.method,
    service === "s3" ? req.rawPath : canonicalPath(req.rawPath),
    req.rawQuery === "" ? "" : getCanonicalQuery({ query } as Parameters<typeof getCanonicalQuery>[0]),
    canonicalHeaders,
    names.join(";"),
    headers[CONTENT_SHA256]!,
  ].join("\n");
  const longDate = claim.amzDate;
  const shortDate = longDate.slice(0, 8);
  const scope = `${shortDate}/${claim.region}/${service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${hash("sha256", canonicalRequest, "hex")}`;
  return createHmac("sha256", signingKey(secret, shortDate, claim.region, service))
    .update(stringToSign)
    .digest("hex");
}

/** Canonical forms of recent paths: a platform sees the same few invocation paths again and again. */
const canonicalPaths = new Map<string, string>();
const MAX_CANONICAL_PATHS = 1024;

/** Non-S3 services sign the path normalised and percent-encoded once more, as the SDK does. */
function canonicalPath(path: string): string {
  let canonical = canonicalPaths.get(path);
  if (canonical === undefined) {
    canonical = computeCanonicalPath(path);
    if (canonicalPaths.size >= MAX_CANONICAL_PATHS) canonicalPaths.clear();
    canonicalPaths.set(path, canonical);
  }
  return canonical;
}

function computeCanonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const normalised = `${path.startsWith("/") ? "/" : ""}${segments.join("/")}${segments.length > 0 && path.endsWith("/") ? "/" : ""}`;
  return escapeUri(normalised).replace(/%2F/g, "/");
}

function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const signingKeys = new Map<string, Buffer>();

/**
 * The SigV4 signing key of a day (yyyymmdd), region and service, cached: what a streaming
 * upload's chunk signatures are checked with. Shared between callers: do not modify it.
 */
export function signingKey(secret: string, shortDate: string, region: string, service: string): Buffer {
  const cacheKey = `${shortDate}\u0000${region}\u0000${service}\u0000${secret}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    key = Buffer.from(`AWS4${secret}`);
    for (const part of [shortDate, region, service, "aws4_request"])
      key = createHmac("sha256", key).update(part).digest();
    if (signingKeys.size >= MAX_SIGNERS) signingKeys.delete(signingKeys.keys().next().value!);
    signingKeys.set(cacheKey, key);
  }
  return key;
}

/**
 * Signers are kept per key, region and service: a signer caches the day's derived signing key,
 * which otherwise costs four HMACs on every request.
 */
const signers = new Map<string, SignatureV4>();
const MAX_SIGNERS = 64;

function signerFor(service: string, region: string, accessKeyId: string, secret: string): SignatureV4 {
  const key = `${service}\u0000${region}\u0000${accessKeyId}\u0000${secret}`;
  let signer = signers.get(key);
  if (!signer) {
    if (signers.size >= MAX_SIGNERS) signers.delete(signers.keys().next().value!);
    signer = new SignatureV4({
      service,
      region,
      credentials: { accessKeyId, secretAccessKey: secret },
      sha256: Sha256,
      // Non-S3 services sign the already-encoded path encoded once more; S3 signs it as sent.
      uriEscapePath: service !== "s3",
      applyChecksum: false,
    });
    signers.set(key, signer);
  }
  return signer;
}

/** The payload hash the client signed: declared in a header or query parameter, else the body's own. */
function declaredPayloadHash(req: SigV4Request, query: Query, presigned: boolean): string | undefined {
  if (!presigned) return req.header(CONTENT_SHA256) ?? req.bodySha256Hex;
  // Presigners differ in the case of this parameter's name (S3's spells it X-Amz-Content-Sha256).
  const param = Object.keys(query).find((k) => k.toLowerCase() === CONTENT_SHA256);
  return param === undefined ? UNSIGNED_PAYLOAD : single(query, param);
}

const CREDENTIAL_FIELD = /(?:^|,)\s*Credential=([^,]*)/;
const SIGNED_HEADERS_FIELD = /(?:^|,)\s*SignedHeaders=([^,]*)/;
const SIGNATURE_FIELD = /(?:^|,)\s*Signature=([^,]*)/;

function parseHeaderAuth(authorization: string, amzDate: string | undefined, service: string): Parsed {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(authorization.trim());
  if (!match) return `Authorization must start with "${ALGORITHM} ", got "${authorization.slice(0, 40)}"`;
  const rest = match[1] ?? "";
  const field = (re: RegExp) => re.exec(rest)?.[1]?.trim();
  return buildClaim(
    service,
    field(CREDENTIAL_FIELD),
    field(SIGNED_HEADERS_FIELD),
    field(SIGNATURE_FIELD),
    amzDate,
  );
}

function parseQueryAuth(query: Query, service: string): Parsed {
  const p = (name: string) => single(query, `X-Amz-${name}`);
  if (p("Algorithm") !== ALGORITHM)
    return `X-Amz-Algorithm must be "${ALGORITHM}", got "${p("Algorithm") ?? ""}"`;
  const expires = p("Expires") ?? "";
  if (!/^\d+$/.test(expires) || Number(expires) > MAX_PRESIGNED_EXPIRES_S) {
    return `X-Amz-Expires must be a number of seconds up to ${MAX_PRESIGNED_EXPIRES_S}, got "${expires}"`;
  }
  const claim = buildClaim(service, p("Credential"), p("SignedHeaders"), p("Signature"), p("Date"));
  return typeof claim === "string" ? claim : { ...claim, expiresS: Number(expires) };
}

/** Epoch ms of an X-Amz-Date (`20261124T120000Z`), undefined unless it is one and a real time. */
function timeOf(amzDate: string): number | undefined {
  const m = AMZ_DATE.exec(amzDate);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls a 31st of April over into May: a date that does not round-trip is not one.
  const t = new Date(ms);
  const real =
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === s;
  return real ? ms : undefined;
}

/** Checks the claimed fields; a field that is absent or given twice arrives as undefined. */
function buildClaim(service: string, credential = "", headerList = "", signature = "", amzDate = ""): Parsed {
  const scope = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(credential);
  if (!scope)
    return `credential "${credential}" must be {access key}/{yyyymmdd}/{region}/{service}/aws4_request`;
  const [, accessKeyId = "", scopeDate, region = "", scopeService] = scope;
  const signedAtMs = timeOf(amzDate);
  if (signedAtMs === undefined) return `X-Amz-Date "${amzDate}" must be like 20261124T120000Z`;
  if (scopeDate !== amzDate.slice(0, 8))
    return `credential date ${scopeDate} is not the X-Amz-Date day ${amzDate}`;
  if (scopeService !== service) return `credential is for service "${scopeService}", expected "${service}"`;
  if (!HEX_SHA256.test(signature)) return `signature "${signature}" must be 64 lowercase hex characters`;
  const signedHeaders = headerList.split(";");
  if (!signedHeaders.includes("host") || signedHeaders.some((n) => n === "" || n !== n.toLowerCase())) {
    return `signed headers "${headerList}" must be lowercase names separated by ";" and include host`;
  }
  return { accessKeyId, region, signedHeaders, signature, signedAtMs, amzDate };
}

/** Decodes the raw query into the shape HttpRequest.query expects; the signer re-encodes it per RFC 3986. */
function parseQuery(raw: string): Query | undefined {
  const query: Query = Object.create(null);
  try {
    for (const pair of raw.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
      const prior = query[key];
      query[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
    }
  } catch {
    return undefined;
  }
  return query;
}

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  return typeof value === "string" ? value : undefined;
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function fail(reason: SigV4FailureReason, message: string): SigV4Result {
  return { ok: false, reason, message };
}
