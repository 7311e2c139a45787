/**
 * What the management API asks of an HTTP API, in the service's own typed inputs (camel case,
 * as API Gateway v2's wire names them), and the rules each input is checked against. A check
 * returns every problem it finds (field, value, what is expected); the service throws them all
 * at once, so a caller learns everything wrong with a request in one answer. Rules that need
 * the API's other parts (a route's integration, an authorizer's type) are the service's.
 */

import { isHeaderName } from "../../protocol/header-name.js";
import type { Problem, ProblemRule } from "../../shared/errors.js";
import { compileAccessLogFormat } from "./access-log.js";
import { checkIdentitySource } from "./identity-source.js";
import { MAX_AUTHORIZER_TTL_SECONDS } from "./lambda-authorizer-cache.js";
import type { ApiCors, AuthorizationType, RouteSettings } from "./model.js";
import { checkRouteKey } from "./route-keys.js";

export const MIN_INTEGRATION_TIMEOUT_MS = 50;
export const MAX_INTEGRATION_TIMEOUT_MS = 30_000;
export const DEFAULT_INTEGRATION_TIMEOUT_MS = 30_000;
export const MAX_STAGE_VARIABLE_VALUE_LENGTH = 2_048;
const MAX_NAME_LENGTH = 128;
const MAX_DESCRIPTION_LENGTH = 1_024;
const MAX_VERSION_LENGTH = 64;
const MAX_TAG_KEY_LENGTH = 128;
const MAX_TAG_VALUE_LENGTH = 256;
const MAX_CORS_AGE_S = 86_400;
const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const STAGE_VARIABLE_NAME = /^[A-Za-z0-9_]+$/;
const CORS_METHOD = /^([A-Z]{1,16}|\*)$/;
const CORS_ORIGIN = /^(\*|https?:\/\/[^\s/?#]+)$/;
const AUTHORIZATION_TYPES: readonly AuthorizationType[] = ["NONE", "JWT", "AWS_IAM", "CUSTOM"];
const PAYLOAD_VERSIONS = ["1.0", "2.0"] as const;
export type PayloadFormatVersion = (typeof PAYLOAD_VERSIONS)[number];

/** What each rule expects, completing "must …". */
export const EXPECTED = {
  name: `be 1 to ${MAX_NAME_LENGTH} characters`,
  protocolType: "be HTTP: Nimbus serves HTTP APIs (WEBSOCKET APIs are not supported)",
  description: `be at most ${MAX_DESCRIPTION_LENGTH} characters`,
  version: `be at most ${MAX_VERSION_LENGTH} characters`,
  tagKey: `be 1 to ${MAX_TAG_KEY_LENGTH} characters, not starting with aws:`,
  tagValue: `be at most ${MAX_TAG_VALUE_LENGTH} characters`,
  allowOrigins: "be origins such as https://example.com or http://localhost:5173, or *",
  allowMethods: "be upper-case HTTP methods (GET, POST, …) or *",
  headers: "be header names",
  maxAge: `be an integer from -1 to ${MAX_CORS_AGE_S} (seconds)`,
  allowCredentials: "be false when allowOrigins is *: list the origins that may send credentials",
  target: "be integrations/{integrationId}, naming an integration of this API",
  quickTarget:
    "be a function ARN (arn:aws:lambda:{region}:{account}:function:{name}) of an existing function",
  authorizationType: `be one of ${AUTHORIZATION_TYPES.join(", ")}`,
  integrationType:
    "be AWS_PROXY: Nimbus integrates functions only (HTTP_PROXY, HTTP, MOCK and AWS integrations are not supported)",
  integrationUri:
    "be a function ARN, or arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations, of an existing function",
  payloadFormatVersion: `be one of ${PAYLOAD_VERSIONS.join(", ")}`,
  timeoutInMillis: `be an integer from ${MIN_INTEGRATION_TIMEOUT_MS} to ${MAX_INTEGRATION_TIMEOUT_MS} (ms)`,
  authorizerType: "be JWT or REQUEST",
  issuer: "be an https:// or http:// URL (the tokens' iss)",
  audience: "be a non-empty list of the audiences (aud or client_id) a token must carry one of",
  jwtIdentitySource: "be exactly one $request.header.NAME (the header carrying the token)",
  authorizerUri:
    "be a function ARN, or arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations, of an existing function",
  ttl: `be an integer from 0 to ${MAX_AUTHORIZER_TTL_SECONDS} (seconds)`,
  stageName: "be $default, or 1 to 128 letters, digits, hyphens and underscores",
  stageVariableName: "be letters, digits and underscores",
  stageVariableValue: `be at most ${MAX_STAGE_VARIABLE_VALUE_LENGTH} characters`,
  burstLimit: "be an integer greater than or equal to 0",
  rateLimit: "be a number greater than or equal to 0",
  destinationArn: "be a non-empty string (the name access-log lines are written under)",
  format: "be a format of $context variables that includes $context.requestId",
} as const;

// ── Inputs ──────────────────────────────────────────────────────────────────

/** CreateApi. `target` makes a quick-create API: an integration, a route and a `$default` stage. */
export interface ApiSpec {
  readonly name?: string | undefined;
  readonly protocolType?: string | undefined;
  readonly description?: string | undefined;
  readonly version?: string | undefined;
  readonly corsConfiguration?: ApiCors | undefined;
  readonly disableExecuteApiEndpoint?: boolean | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  readonly target?: string | undefined;
  readonly routeKey?: string | undefined;
}

/** UpdateApi: what is given changes, the rest stays. */
export interface ApiPatch {
  readonly name?: string | undefined;
  readonly description?: string | undefined;
  readonly version?: string | undefined;
  readonly corsConfiguration?: ApiCors | undefined;
  readonly disableExecuteApiEndpoint?: boolean | undefined;
}

export interface RouteSpec {
  readonly routeKey?: string | undefined;
  readonly target?: string | undefined;
  readonly authorizationType?: string | undefined;
  readonly authorizerId?: string | undefined;
  readonly authorizationScopes?: readonly string[] | undefined;
}

export interface IntegrationSpec {
  readonly integrationType?: string | undefined;
  readonly integrationUri?: string | undefined;
  readonly payloadFormatVersion?: string | undefined;
  readonly timeoutInMillis?: number | undefined;
  readonly description?: string | undefined;
}

export interface AuthorizerSpec {
  readonly name?: string | undefined;
  readonly authorizerType?: string | undefined;
  readonly identitySource?: readonly string[] | undefined;
  readonly jwtConfiguration?: { readonly issuer?: string; readonly audience?: readonly string[] } | undefined;
  readonly authorizerUri?: string | undefined;
  readonly authorizerPayloadFormatVersion?: string | undefined;
  readonly enableSimpleResponses?: boolean | undefined;
  readonly authorizerResultTtlInSeconds?: number | undefined;
}

export interface StageSpec {
  readonly stageName?: string | undefined;
  readonly description?: string | undefined;
  readonly autoDeploy?: boolean | undefined;
  readonly deploymentId?: string | undefined;
  readonly stageVariables?: Readonly<Record<string, string>> | undefined;
  readonly defaultRouteSettings?: RouteSettings | undefined;
  readonly routeSettings?: Readonly<Record<string, RouteSettings>> | undefined;
  readonly accessLogSettings?: { readonly destinationArn?: string; readonly format?: string } | undefined;
  /** CreateStage only; later through TagResource on the stage's ARN. */
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

/** UpdateStage: a stage is renamed by no one (the name is its id), nor tagged (TagResource is). */
export type StagePatch = Omit<StageSpec, "stageName" | "tags">;

export interface DeploymentSpec {
  readonly stageName?: string | undefined;
  readonly description?: string | undefined;
}

// ── Rules ───────────────────────────────────────────────────────────────────

export function problem(field: string, value: unknown, rule: ProblemRule, expected: string): Problem {
  return { field, value, rule, expected };
}

/** Problems, in order; a check pushes what it finds. */
export type Found = Problem[];

export function checkName(found: Found, field: string, v: string | undefined, required = true): void {
  if (v === undefined) {
    if (required) found.push(problem(field, v, "required", EXPECTED.name));
  } else if (v.length === 0 || v.length > MAX_NAME_LENGTH)
    found.push(problem(field, v, "length", EXPECTED.name));
}

export function checkDescription(found: Found, v: string | undefined): void {
  if (v !== undefined && v.length > MAX_DESCRIPTION_LENGTH)
    found.push(problem("description", v, "length", EXPECTED.description));
}

export function checkVersion(found: Found, v: string | undefined): void {
  if (v !== undefined && v.length > MAX_VERSION_LENGTH)
    found.push(problem("version", v, "length", EXPECTED.version));
}

export function checkTags(found: Found, tags: Readonly<Record<string, string>> | undefined): void {
  for (const [k, v] of Object.entries(tags ?? {})) {
    if (k.length === 0 || k.length > MAX_TAG_KEY_LENGTH || k.startsWith("aws:"))
      found.push(problem("tags", k, "key", EXPECTED.tagKey));
    else if (v.length > MAX_TAG_VALUE_LENGTH)
      found.push(problem(`tags.${k}`, v, "length", EXPECTED.tagValue));
  }
}

export function checkCors(found: Found, cors: ApiCors | undefined): void {
  if (cors === undefined) return;
  const f = "corsConfiguration";
  const origins = cors.allowOrigins ?? [];
  const badOrigin = origins.find((o) => !CORS_ORIGIN.test(o));
  if (badOrigin !== undefined)
    found.push(problem(`${f}.allowOrigins`, badOrigin, "pattern", EXPECTED.allowOrigins));
  const badMethod = (cors.allowMethods ?? []).find((m) => !CORS_METHOD.test(m));
  if (badMethod !== undefined)
    found.push(problem(`${f}.allowMethods`, badMethod, "pattern", EXPECTED.allowMethods));
  for (const key of ["allowHeaders", "exposeHeaders"] as const) {
    // Each goes out in an answer's access-control-* header, so each must be a header name.
    const bad = (cors[key] ?? []).find((h) => !isHeaderName(h));
    if (bad !== undefined) found.push(problem(`${f}.${key}`, bad, "pattern", EXPECTED.headers));
  }
  const age = cors.maxAge;
  if (age !== undefined && (!Number.isInteger(age) || age < -1 || age > MAX_CORS_AGE_S))
    found.push(problem(`${f}.maxAge`, age, "range", EXPECTED.maxAge));
  // Browsers refuse credentials with a wildcard origin: refused here, where it can be fixed.
  if (cors.allowCredentials === true && origins.includes("*"))
    found.push(problem(`${f}.allowCredentials`, true, "consistent", EXPECTED.allowCredentials));
}

/** The route key's problem, in route-keys.ts's words. */
export function checkRouteKeyField(found: Found, field: string, routeKey: string | undefined): void {
  if (routeKey === undefined) {
    found.push(problem(field, routeKey, "required", "be '$default' or 'METHOD /path'"));
    return;
  }
  const checked = checkRouteKey(routeKey);
  if ("error" in checked)
    found.push(problem(field, routeKey, "pattern", `be '$default' or 'METHOD /path' (${checked.error})`));
}

export function isAuthorizationType(v: string): v is AuthorizationType {
  return (AUTHORIZATION_TYPES as readonly string[]).includes(v);
}

export function isPayloadVersion(v: string | undefined): v is PayloadFormatVersion {
  return v !== undefined && (PAYLOAD_VERSIONS as readonly string[]).includes(v);
}

export function checkTimeout(found: Found, v: number | undefined): void {
  if (
    v !== undefined &&
    (!Number.isInteger(v) || v < MIN_INTEGRATION_TIMEOUT_MS || v > MAX_INTEGRATION_TIMEOUT_MS)
  )
    found.push(problem("timeoutInMillis", v, "range", EXPECTED.timeoutInMillis));
}

export function checkIssuer(found: Found, issuer: string | undefined): void {
  let ok = false;
  if (issuer !== undefined) {
    try {
      const u = new URL(issuer);
      ok = (u.protocol === "https:" || u.protocol === "http:") && u.hostname !== "";
    } catch {
      ok = false;
    }
  }
  if (!ok)
    found.push(
      problem(
        "jwtConfiguration.issuer",
        issuer,
        issuer === undefined ? "required" : "pattern",
        EXPECTED.issuer,
      ),
    );
}

/** Each expression by identity-source.ts's rules. */
export function checkIdentitySources(found: Found, sources: readonly string[]): void {
  for (const s of sources) {
    const checked = checkIdentitySource(s);
    if ("error" in checked)
      found.push(problem("identitySource", s, "pattern", `be a valid identity source (${checked.error})`));
  }
}

export function checkTtl(found: Found, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > MAX_AUTHORIZER_TTL_SECONDS))
    found.push(problem("authorizerResultTtlInSeconds", v, "range", EXPECTED.ttl));
}

export function isStageName(v: string): boolean {
  return v === "$default" || STAGE_NAME.test(v);
}

export function checkStageVariables(found: Found, vars: Readonly<Record<string, string>> | undefined): void {
  for (const [k, v] of Object.entries(vars ?? {})) {
    if (!STAGE_VARIABLE_NAME.test(k))
      found.push(problem("stageVariables", k, "key", EXPECTED.stageVariableName));
    else if (v.length > MAX_STAGE_VARIABLE_VALUE_LENGTH)
      found.push(problem(`stageVariables.${k}`, v, "length", EXPECTED.stageVariableValue));
  }
}

export function checkRouteSettings(found: Found, field: string, s: RouteSettings | undefined): void {
  if (s === undefined) return;
  const burst = s.throttlingBurstLimit;
  if (burst !== undefined && (!Number.isInteger(burst) || burst < 0))
    found.push(problem(`${field}.throttlingBurstLimit`, burst, "range", EXPECTED.burstLimit));
  const rate = s.throttlingRateLimit;
  if (rate !== undefined && (!Number.isFinite(rate) || rate < 0))
    found.push(problem(`${field}.throttlingRateLimit`, rate, "range", EXPECTED.rateLimit));
}

export function checkAccessLog(found: Found, s: StageSpec["accessLogSettings"]): void {
  if (s === undefined) return;
  if (s.destinationArn === undefined || s.destinationArn === "")
    found.push(
      problem("accessLogSettings.destinationArn", s.destinationArn, "required", EXPECTED.destinationArn),
    );
  // API Gateway asks for the request id in every line, so a line can be traced to its request.
  if (s.format === undefined || !/\$context\.(requestId|extendedRequestId)\b/.test(s.format))
    found.push(problem("accessLogSettings.format", s.format, "pattern", EXPECTED.format));
  else compileAccessLogFormat(s.format);
}
