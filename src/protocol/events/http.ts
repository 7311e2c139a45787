/**
 * The events an HTTP trigger (a function URL, an HTTP API route) hands a function: API Gateway's
 * payload format 2.0, which function URLs share, and the REST-style 1.0 an HTTP API integration
 * may ask for instead. The request arrives as plain facts (`HttpRequestFacts`), so the builders
 * run without a server; they sit on every HTTP call's path, so each walks the headers and the
 * query once, with no regular expression and no copy of the body beyond its one encoding.
 * What a function answers is read back in `http-answer.ts`.
 */
import { isUtf8 } from "node:buffer";

export type { HttpAnswer, MalformedAnswer } from "./http-answer.js";
export {
  finalStatusProblem,
  headerProblem,
  httpResponseFromV1,
  httpResponseFromV2,
  isFramingHeader,
} from "./http-answer.js";

/** One HTTP request as it reached the gateway. */
export interface HttpRequestFacts {
  /** Upper-case, as sent: `GET`, `POST`. */
  readonly method: string;
  /** The path as received, percent-encoding kept: `/my/path`. */
  readonly rawPath: string;
  /** The query as received, without `?`; `""` when there is none. */
  readonly rawQuery: string;
  /** Every header line in arrival order, names as sent. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  /** The address of the TCP peer. */
  readonly sourceIp: string;
  /** `HTTP/1.1`, `HTTP/2.0`. */
  readonly protocol: string;
}

/** What the trigger knows about where the request arrived: the URL or API, the route, the stage. */
export interface HttpEventContext {
  readonly accountId: string;
  /** A function URL's id, or an HTTP API's id. */
  readonly apiId: string;
  /** The host the request was addressed to: `{id}.lambda-url.{region}.localhost`. */
  readonly domainName: string;
  /** The first label of `domainName`. */
  readonly domainPrefix: string;
  readonly requestId: string;
  /** When the request arrived, epoch ms. */
  readonly timeEpochMs: number;
  /** `$default` (a function URL, or an HTTP API's catch-all route) or `GET /items/{id}`. Default `$default`. */
  readonly routeKey?: string;
  /** Default `$default`. */
  readonly stage?: string;
  /** `{ iam: {…} }` for a function URL with AWS_IAM, `{ jwt: {…} }` or `{ lambda: {…} }` behind an authorizer. */
  readonly authorizer?: Readonly<Record<string, unknown>>;
  /** The values a route's `{name}` segments captured; none for a function URL. */
  readonly pathParameters?: Readonly<Record<string, string>>;
  /** The stage's variables; none for a function URL. */
  readonly stageVariables?: Readonly<Record<string, string>>;
  /** Payload 1.0's `resource`: the route's path template (`/items/{id}`). Default: the request's path. */
  readonly resource?: string;
}

/** Payload format 2.0, as function URLs and HTTP APIs send it. */
export interface HttpEventV2 {
  version: "2.0";
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    authorizer?: Readonly<Record<string, unknown>>;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
  };
  body?: string;
  pathParameters?: Readonly<Record<string, string>>;
  isBase64Encoded: boolean;
  stageVariables?: Readonly<Record<string, string>>;
}

/** Payload format 1.0, as an HTTP API sends it to an integration configured for it. */
export interface HttpEventV1 {
  version: "1.0";
  resource: string;
  path: string;
  httpMethod: string;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
  requestContext: {
    accountId: string;
    apiId: string;
    authorizer: Readonly<Record<string, unknown>> | undefined;
    domainName: string;
    domainPrefix: string;
    extendedRequestId: string;
    httpMethod: string;
    identity: V1Identity;
    path: string;
    protocol: string;
    requestId: string;
    requestTime: string;
    requestTimeEpoch: number;
    resourceId: null;
    resourcePath: string;
    stage: string;
  };
  pathParameters: Readonly<Record<string, string>> | null;
  stageVariables: Readonly<Record<string, string>> | null;
  body: string | null;
  isBase64Encoded: boolean;
}

/** The caller as 1.0 describes it: an HTTP API fills in only the address and the agent. */
interface V1Identity {
  accessKey: null;
  accountId: null;
  caller: null;
  cognitoAuthenticationProvider: null;
  cognitoAuthenticationType: null;
  cognitoIdentityId: null;
  cognitoIdentityPoolId: null;
  principalOrgId: null;
  sourceIp: string;
  user: null;
  userAgent: string;
  userArn: null;
}

const DEFAULT_ROUTE = "$default";

/**
 * The 2.0 event for `req`. Empty fields are left out as API Gateway leaves them out: `cookies`
 * without a Cookie header, `queryStringParameters` without a query, `body` without a body.
 * `pathParameters` and `stageVariables` appear only when given: an HTTP API omits them for a
 * route without `{params}` and a stage without variables, and Lambda's function URL guide says
 * a function URL "sets this to null or excludes this from the JSON"; Nimbus excludes them, the
 * shape `@types/aws-lambda` declares (optional, never null).
 */
export function httpEventV2(req: HttpRequestFacts, ctx: HttpEventContext): HttpEventV2 {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [rawName, value] of req.headers) {
    const name = rawName.toLowerCase();
    if (name === "cookie") {
      cookies = splitCookies(value, cookies);
      continue;
    }
    // Own values are strings; an inherited name (`constructor`) reads as a function, so this
    // test also keeps a header named after an Object.prototype member from joining onto it.
    const earlier = headers[name];
    if (typeof earlier === "string") headers[name] = `${earlier},${value}`;
    else setOwn(headers, name, value);
  }
  const routeKey = ctx.routeKey ?? DEFAULT_ROUTE;
  const requestContext: HttpEventV2["requestContext"] = {
    accountId: ctx.accountId,
    apiId: ctx.apiId,
    domainName: ctx.domainName,
    domainPrefix: ctx.domainPrefix,
    http: {
      method: req.method,
      path: req.rawPath,
      protocol: req.protocol,
      sourceIp: req.sourceIp,
      userAgent: headers["user-agent"] ?? "",
    },
    requestId: ctx.requestId,
    routeKey,
    stage: ctx.stage ?? DEFAULT_ROUTE,
    time: clfTime(ctx.timeEpochMs),
    timeEpoch: ctx.timeEpochMs,
  };
  if (ctx.authorizer !== undefined) requestContext.authorizer = ctx.authorizer;

  const event: HttpEventV2 = {
    version: "2.0",
    routeKey,
    rawPath: req.rawPath,
    rawQueryString: req.rawQuery,
    headers,
    requestContext,
    isBase64Encoded: false,
  };
  if (cookies !== undefined && cookies.length > 0) event.cookies = cookies;
  const query = parseQuery(req.rawQuery, joinWithComma);
  if (query !== undefined) event.queryStringParameters = query;
  if (req.body.length > 0) {
    const asText = isTextBody(req.body, headers["content-type"]);
    event.body = req.body.toString(asText ? "utf8" : "base64");
    event.isBase64Encoded = !asText;
  }
  if (ctx.pathParameters !== undefined) event.pathParameters = ctx.pathParameters;
  if (ctx.stageVariables !== undefined) event.stageVariables = ctx.stageVariables;
  return event;
}

/**
 * The 1.0 event for `req`, as an HTTP API sends it: names lower-cased (HTTP APIs lower-case
 * them in both formats), a repeated header or query key's last value in the single-value maps
 * and all of them in the multi-value ones, and null (not absent) for what is empty, as REST
 * APIs always did. The Cookie header stays a header: 1.0 has no `cookies`.
 */
export function httpEventV1(req: HttpRequestFacts, ctx: HttpEventContext): HttpEventV1 {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [rawName, value] of req.headers) {
    const name = rawName.toLowerCase();
    setOwn(headers, name, value);
    const earlier = multiValueHeaders[name];
    if (Array.isArray(earlier)) earlier.push(value);
    else setOwn(multiValueHeaders, name, [value]);
  }
  const multiQuery = parseQuery(req.rawQuery, appendToList);
  let query: Record<string, string> | null = null;
  if (multiQuery !== undefined) {
    query = {};
    for (const key of Object.keys(multiQuery)) setOwn(query, key, multiQuery[key]!.at(-1)!);
  }
  let body: string | null = null;
  let isBase64Encoded = false;
  if (req.body.length > 0) {
    const asText = isTextBody(req.body, headers["content-type"]);
    body = req.body.toString(asText ? "utf8" : "base64");
    isBase64Encoded = !asText;
  }
  const resource = ctx.resource ?? req.rawPath;
  return {
    version: "1.0",
    resource,
    path: req.rawPath,
    httpMethod: req.method,
    headers,
    multiValueHeaders,
    queryStringParameters: query,
    multiValueQueryStringParameters: multiQuery ?? null,
    requestContext: {
      accountId: ctx.accountId,
      apiId: ctx.apiId,
      authorizer: ctx.authorizer,
      domainName: ctx.domainName,
      domainPrefix: ctx.domainPrefix,
      extendedRequestId: ctx.requestId,
      httpMethod: req.method,
      identity: {
        accessKey: null,
        accountId: null,
        caller: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.sourceIp,
        user: null,
        userAgent: headers["user-agent"] ?? "",
        userArn: null,
      },
      path: req.rawPath,
      protocol: req.protocol,
      requestId: ctx.requestId,
      requestTime: clfTime(ctx.timeEpochMs),
      requestTimeEpoch: ctx.timeEpochMs,
      // An HTTP API has no REST resources: its 1.0 events carry null here.
      resourceId: null,
      resourcePath: resource,
      stage: ctx.stage ?? DEFAULT_ROUTE,
    },
    pathParameters: ctx.pathParameters ?? null,
    stageVariables: ctx.stageVariables ?? null,
    body,
    isBase64Encoded,
  };
}

/**
 * Application types whose bodies are text. Any other `application/…` (octet-stream, pdf, zip,
 * protobuf, msgpack) and every image, audio, video, font and multipart body travels as base64,
 * even when its bytes happen to be valid UTF-8: a form upload must reach the function byte for
 * byte, and a text decoding would be lossy for it.
 */
const TEXT_APPLICATION_TYPES: ReadonlySet<string> = new Set([
  "json",
  "xml",
  "x-www-form-urlencoded",
  "javascript",
  "x-javascript",
  "ecmascript",
  "graphql",
  "yaml",
  "x-yaml",
  "x-ndjson",
  "ndjson",
  "csv",
  "sql",
]);

/**
 * Whether a body goes to the function as text: valid UTF-8 and a textual content type
 * (`text/*`, the types above, `application/*+json`, `application/*+xml`), or valid UTF-8 and
 * no content type at all (curl's `-d` sends one; a bare client that sends none sends text).
 */
export function isTextBody(body: Buffer, contentType: string | undefined): boolean {
  return (contentType === undefined || isTextualType(contentType)) && isUtf8(body);
}

/** Whether `contentType` (parameters and case allowed) names a textual media type. */
export function isTextualType(contentType: string): boolean {
  const semicolon = contentType.indexOf(";");
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (type === "") return true;
  if (type.startsWith("text/")) return true;
  if (!type.startsWith("application/")) return false;
  const sub = type.slice("application/".length);
  return TEXT_APPLICATION_TYPES.has(sub) || sub.endsWith("+json") || sub.endsWith("+xml");
}

/** `a=1; b=2` → its entries appended to `into` (created on the first Cookie header). */
function splitCookies(header: string, into: string[] | undefined): string[] {
  const out = into ?? [];
  for (const part of header.split("; ")) if (part !== "") out.push(part);
  return out;
}

/**
 * The query's keys and values, URL-decoded (`+` is a space, as API Gateway decodes it), a
 * repeated key's values combined by `combine`; undefined when the query holds no key.
 */
function parseQuery<V>(
  raw: string,
  combine: (earlier: V | undefined, value: string) => V,
): Record<string, V> | undefined {
  if (raw === "") return undefined;
  let out: Record<string, V> | undefined;
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf("&", start);
    if (end === -1) end = raw.length;
    if (end > start) {
      const eq = raw.indexOf("=", start);
      const hasValue = eq !== -1 && eq < end;
      const key = decodeQueryPart(raw.slice(start, hasValue ? eq : end));
      if (key !== "") {
        const value = hasValue ? decodeQueryPart(raw.slice(eq + 1, end)) : "";
        out ??= {};
        const earlier = Object.hasOwn(out, key) ? out[key] : undefined;
        setOwn(out, key, combine(earlier, value));
      }
    }
    start = end + 1;
  }
  return out;
}

function joinWithComma(earlier: string | undefined, value: string): string {
  return earlier === undefined ? value : `${earlier},${value}`;
}

function appendToList(earlier: string[] | undefined, value: string): string[] {
  if (earlier === undefined) return [value];
  earlier.push(value);
  return earlier;
}

/** A query key or value decoded; kept as sent when its percent-encoding is broken (`%zz`). */
function decodeQueryPart(part: string): string {
  if (part.indexOf("%") === -1 && part.indexOf("+") === -1) return part;
  const spaced = part.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** `o[key] = value`, also for `__proto__`, which an assignment would take as the prototype. */
function setOwn<V>(o: Record<string, V>, key: string, value: V): void {
  if (key === "__proto__")
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `24/Nov/2026:15:51:06 +0000`: the common-log time API Gateway writes in `time`, in UTC. */
export function clfTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second === lastClf.second) return lastClf.text;
  const d = new Date(epochMs);
  const text = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
  lastClf = { second, text };
  return text;
}

/** The last second clfTime wrote: requests in the same second share its text. */
let lastClf = { second: Number.NaN, text: "" };

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
