/**
 * One request to an HTTP API, once its stage is known: CORS preflight, route, throttle,
 * authorizer, integration, answer, access log, in API Gateway's order. Every refusal and every
 * failure of a function is an answer here, never an exception: a function that throws, times
 * out or answers nonsense costs its caller a 5xx and nothing else.
 *
 * The integration's timeout: the invoke service runs a function to its own timeout, so when the
 * integration's `timeoutInMillis` passes first the caller gets API Gateway's 503
 * `{"message":"Service Unavailable"}` and the function runs on to its end, its answer dropped.
 * An HTTP API answers 503 here, where a REST API answers 504: AWS's knowledge-center article
 * "How do I troubleshoot HTTP 504 errors in API Gateway?" speaks of 504 for every kind of API,
 * but the HTTP API responses users record (Serverless Framework's "HTTP API (API Gateway v2)"
 * page; cortexlabs/cortex issue 1225, "Mention API Gateway's timeout to docs", whose answer
 * carries `apigw-requestid`, an HTTP API's header) are 503 with this body, so Nimbus keeps it.
 * The ceiling of `timeoutInMillis` (30 s) and the 10 MB payload limit are from "Quotas for
 * configuring and running an HTTP API in API Gateway".
 *
 * A function error or a malformed answer is 500 `{"message":"Internal Server Error"}`, as
 * "Troubleshooting issues with HTTP API Lambda integrations" describes it for HTTP APIs, and as
 * the access log in middyjs/middy issue 1005 shows for a malformed one (status 500, a 35-byte
 * body: this one); the 502 of the Lambda guide's "Handling Lambda errors with an API Gateway
 * API" is a REST API's.
 */

import type { SyncInvokeOutput } from "../../../control/invoke-service.js";
import {
  type HttpEventContext,
  type HttpEventV2,
  type HttpRequestFacts,
  httpEventV1,
  httpEventV2,
  httpResponseFromV1,
  httpResponseFromV2,
} from "../../../protocol/events/http.js";
import { MAX_SYNC_REQUEST_BYTES } from "../../../protocol/limits.js";
import type { AccessLogContext } from "../../../services/http-apis/access-log.js";
import { INTERNAL_ERROR_BODY, NOT_FOUND_BODY } from "../../../services/http-apis/answers.js";
import type { IdentityRequest } from "../../../services/http-apis/identity-source.js";
import type { FunctionTarget, ServedRoute } from "../../../services/http-apis/serve.js";
import { NimbusError } from "../../../shared/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import type { Principal } from "../../auth/principal.js";
import { corsHeaders, isPreflight, preflightAnswer } from "../../cors.js";
import { hostnameOf, type RequestFacts } from "../../http-trigger.js";
import { apiDomainName } from "./address.js";
import { callLambdaAuthorizer, withTimeout } from "./authorizer.js";
import type { ExecuteApiDeps, Located } from "./surface.js";

const SERVICE_UNAVAILABLE_BODY = '{"message":"Service Unavailable"}';
const TOO_LARGE_BODY = '{"message":"Request Entity Too Large"}';

/** What the access log and the answer's headers need, filled in as the request goes. */
/** A request to an HTTP API, as either path reads it (the gateway's route, or Node's request: `surface.ts`). */
export interface ApiCall extends RequestFacts {
  readonly via: "host" | "path";
  /** A header's value by lower-case name; null when absent. */
  get(name: string): string | null;
  /** Who the gateway authenticated; undefined where it did not run (only open routes are served so). */
  readonly principal: Principal | undefined;
}

/** The API's answer, as either path writes it. */
export interface ApiAnswer {
  readonly status: number;
  readonly headers: [string, string][] | Headers;
  readonly body: string | Buffer | null;
}

/** An authorizer's refusal: the answer to send instead of the integration's. */
class Refused {
  constructor(readonly answer: ApiAnswer) {}
}

interface Progress {
  readonly requestId: string;
  readonly receivedAt: number;
  readonly startedAt: number;
  routeKey?: string;
  authorizer?: NonNullable<AccessLogContext["authorizer"]>;
  integrationLatency?: number;
  integrationStatus?: number;
  integrationErrorMessage?: string;
  error?: string;
  /** The stage has a CORS configuration: its headers (these) replace the function's. */
  corsConfigured: boolean;
  cors: [string, string][];
}

export async function handleApiRequest(d: ExecuteApiDeps, call: ApiCall, at: Located): Promise<ApiAnswer> {
  const p: Progress = {
    requestId: newRequestId(),
    receivedAt: d.clock.now(),
    startedAt: d.clock.monotonic(),
    corsConfigured: false,
    cors: [],
  };
  if (at.kind === "not-found") return plain(404, NOT_FOUND_BODY, p);
  if (at.kind === "broken") {
    d.logger.error("an HTTP API stage cannot be served", {
      apiId: at.api.apiId,
      stage: at.stage.stageName,
      reason: at.reason,
    });
    return plain(500, INTERNAL_ERROR_BODY, p);
  }
  const res = await serve(d, call, at, p);
  writeAccessLog(d, call, at, p, res);
  return res;
}

async function serve(
  d: ExecuteApiDeps,
  call: ApiCall,
  at: Extract<Located, { kind: "stage" }>,
  p: Progress,
): Promise<ApiAnswer> {
  const { served } = at;
  const origin = call.get("origin");
  if (served.cors !== undefined) {
    if (isPreflight(call.method, call)) {
      const answer = preflightAnswer(
        served.cors,
        origin ?? "",
        call.get("access-control-request-method") ?? "",
        call.get("access-control-request-headers"),
      );
      return { status: answer.status, headers: withIds(answer.headers, p), body: null };
    }
    p.corsConfigured = true;
    p.cors = corsHeaders(served.cors, origin);
  }

  const match = served.router.match(call.method, at.routePath);
  if (match === undefined || match.target.integration === undefined) return plain(404, NOT_FOUND_BODY, p);
  p.routeKey = match.routeKey;
  const throttled = served.throttle.take(match.routeKey);
  if (throttled.kind === "throttled") return plain(429, throttled.body, p);

  const facts: HttpRequestFacts = {
    method: call.method,
    rawPath: at.rawPath,
    rawQuery: at.rawQuery,
    headers: call.headers,
    body: call.body,
    sourceIp: call.sourceIp,
    protocol: call.protocol,
  };
  const ctx: HttpEventContext = {
    accountId: d.arn.accountId,
    apiId: at.api.apiId,
    domainName: hostOf(call.url, call.via, at.api.apiId),
    domainPrefix: at.api.apiId,
    requestId: p.requestId,
    timeEpochMs: p.receivedAt,
    routeKey: match.routeKey,
    stage: at.stage.stageName,
    resource: match.resource,
    ...(match.pathParameters === undefined ? {} : { pathParameters: match.pathParameters }),
    ...(served.stageVariables === undefined ? {} : { stageVariables: served.stageVariables }),
  };
  // Built before authorization: the authorizers read the request as the 2.0 event shows it.
  const event = httpEventV2(facts, ctx);

  const authorized = await authorize(d, call, match.target, event, facts, ctx, p);
  if (authorized instanceof Refused) return authorized.answer;
  if (authorized !== undefined) event.requestContext.authorizer = authorized;
  return integrate(
    d,
    match.target,
    event,
    facts,
    { ...ctx, ...(authorized ? { authorizer: authorized } : {}) },
    p,
  );
}

/** The authorizer's context for the event, undefined for none, or the refusal to send. */
async function authorize(
  d: ExecuteApiDeps,
  call: ApiCall,
  route: ServedRoute,
  event: HttpEventV2,
  facts: HttpRequestFacts,
  ctx: HttpEventContext,
  p: Progress,
): Promise<Readonly<Record<string, unknown>> | undefined | Refused> {
  const auth = route.authorization;
  const started = d.clock.monotonic();
  const identity: IdentityRequest = {
    headers: event.headers,
    queryStringParameters: event.queryStringParameters,
    stageVariables: event.stageVariables,
    context: identityContext(event),
  };
  switch (auth.kind) {
    case "NONE":
      return undefined;
    case "AWS_IAM": {
      // The gateway checked the signature with the platform's key before this route ran.
      const principal = call.principal;
      if (principal?.kind !== "platform") return new Refused(plain(403, '{"message":"Forbidden"}', p));
      const account = d.arn.accountId;
      return {
        iam: {
          accessKey: principal.accessKeyId,
          accountId: account,
          callerId: account,
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: `arn:aws:iam::${account}:root`,
          userId: account,
        },
      };
    }
    case "BROKEN":
      p.authorizer = { error: auth.reason, status: 500 };
      d.logger.error("an HTTP API route's authorizer cannot run", { apiId: ctx.apiId, reason: auth.reason });
      return new Refused(plain(500, INTERNAL_ERROR_BODY, p));
    case "JWT": {
      const decision = await auth.authorizer.authorize(identity, auth.scopes);
      const latency = Math.round(d.clock.monotonic() - started);
      if (decision.kind === "deny") {
        p.authorizer = { error: decision.reason, status: decision.status, latency };
        return new Refused(plain(decision.status, decision.body, p));
      }
      p.authorizer = { claims: decision.authorizer.jwt.claims, latency, status: 200 };
      return { jwt: decision.authorizer.jwt };
    }
    case "CUSTOM": {
      const target = auth.target;
      const decision = await auth.cache.authorize(identity, () => {
        if (target === undefined)
          throw new Error(`the authorizer URI ${auth.config.authorizerUri ?? "(none)"} names no function`);
        return callLambdaAuthorizer(d, auth.config, target, identity, event, facts, ctx);
      });
      const latency = Math.round(d.clock.monotonic() - started);
      if (decision.kind === "deny") {
        p.authorizer = { error: decision.reason, status: decision.status, latency };
        if (decision.status === 500)
          d.logger.warn("an HTTP API's Lambda authorizer failed", {
            apiId: ctx.apiId,
            authorizer: auth.config.authorizerId,
            reason: decision.reason,
          });
        return new Refused(plain(decision.status, decision.body, p));
      }
      p.authorizer = { context: decision.authorizer.lambda, latency, status: 200 };
      return decision.authorizer;
    }
  }
}

async function integrate(
  d: ExecuteApiDeps,
  route: ServedRoute,
  event2: HttpEventV2,
  facts: HttpRequestFacts,
  ctx: HttpEventContext,
  p: Progress,
): Promise<ApiAnswer> {
  const integration = route.integration!;
  const target = route.target;
  if (target === undefined) {
    p.integrationErrorMessage = `the integration URI ${integration.integrationUri} names no function`;
    d.logger.error("an HTTP API route's integration names no function", {
      apiId: ctx.apiId,
      routeKey: route.routeKey,
      integrationUri: integration.integrationUri,
    });
    return plain(500, INTERNAL_ERROR_BODY, p);
  }
  const v1 = integration.payloadFormatVersion === "1.0";
  const payload = Buffer.from(JSON.stringify(v1 ? httpEventV1(facts, ctx) : event2));
  if (payload.length > MAX_SYNC_REQUEST_BYTES) {
    p.integrationErrorMessage = `the event is ${payload.length} bytes; a function's invoke limit is ${MAX_SYNC_REQUEST_BYTES}`;
    return plain(413, TOO_LARGE_BODY, p);
  }
  const started = d.clock.monotonic();
  let out: SyncInvokeOutput | "timeout";
  try {
    out = await withTimeout(d, invokeTarget(d, target, payload, p.receivedAt), integration.timeoutInMillis);
  } catch (err) {
    p.integrationLatency = Math.round(d.clock.monotonic() - started);
    p.integrationErrorMessage = err instanceof Error ? err.message : String(err);
    if (err instanceof NimbusError && err.code === "RequestTooLarge") return plain(413, TOO_LARGE_BODY, p);
    d.logger.warn("an HTTP API's integration could not be invoked", {
      apiId: ctx.apiId,
      routeKey: route.routeKey,
      function: target.functionName,
      reason: p.integrationErrorMessage,
    });
    return plain(500, INTERNAL_ERROR_BODY, p);
  }
  p.integrationLatency = Math.round(d.clock.monotonic() - started);
  if (out === "timeout") {
    p.integrationErrorMessage = `the integration timed out after ${integration.timeoutInMillis} ms`;
    return plain(503, SERVICE_UNAVAILABLE_BODY, p);
  }
  p.integrationStatus = out.functionError ? 500 : 200;
  if (out.functionError) {
    p.integrationErrorMessage = "the function failed";
    return plain(500, INTERNAL_ERROR_BODY, p);
  }
  const answer = v1 ? httpResponseFromV1(out.payload) : httpResponseFromV2(out.payload);
  if ("malformed" in answer) {
    p.integrationErrorMessage = `malformed response: ${answer.reason}`;
    d.logs.write({
      functionName: target.functionName,
      version: out.executedVersion,
      instanceId: "execute-api",
      requestId: out.requestId,
      timestamp: d.clock.now(),
      message: `[nimbus] The HTTP API ${ctx.apiId} answered 500 for ${route.routeKey}: the function's response is malformed: ${answer.reason}`,
    });
    return plain(500, INTERNAL_ERROR_BODY, p);
  }
  const headers = new Headers();
  for (const [name, value] of answer.headers)
    if (!p.corsConfigured || !name.startsWith("access-control-")) headers.append(name, value);
  for (const [name, value] of withIds(p.cors, p)) headers.set(name, value);
  // A 204 or 304 cannot carry a body (a 1xx is refused as malformed before this).
  const noBody = answer.status === 204 || answer.status === 304;
  return { status: answer.status, headers, body: noBody ? null : answer.body };
}

function invokeTarget(
  d: ExecuteApiDeps,
  target: FunctionTarget,
  payload: Buffer,
  receivedAt: number,
): Promise<SyncInvokeOutput> {
  return d.invoke.invoke({
    functionName: target.functionName,
    qualifier: target.qualifier,
    payload,
    builtEvent: true,
    clientContextBase64: undefined,
    dryRun: false,
    traceId: undefined,
    receivedAt,
  });
}

/** `$context` variables an identity source may read, from the 2.0 event. */
function identityContext(e: HttpEventV2): Record<string, string> {
  const r = e.requestContext;
  return {
    accountId: r.accountId,
    apiId: r.apiId,
    domainName: r.domainName,
    domainPrefix: r.domainPrefix,
    httpMethod: r.http.method,
    "identity.sourceIp": r.http.sourceIp,
    "identity.userAgent": r.http.userAgent,
    path: r.http.path,
    protocol: r.http.protocol,
    requestId: r.requestId,
    routeKey: r.routeKey,
    stage: r.stage,
  };
}

/** One of the API's own answers: a JSON body in API Gateway's words, with the request ids and CORS headers. */
function plain(status: number, body: string, p: Progress): ApiAnswer {
  p.error = body;
  return { status, headers: withIds([["content-type", "application/json"], ...p.cors], p), body };
}

function withIds(headers: [string, string][], p: Progress): [string, string][] {
  return [...headers, ["apigw-requestid", p.requestId], ["x-amzn-requestid", p.requestId]];
}

function writeAccessLog(
  d: ExecuteApiDeps,
  call: ApiCall,
  at: Extract<Located, { kind: "stage" }>,
  p: Progress,
  res: ApiAnswer,
): void {
  const log = at.served.accessLog;
  if (log === undefined) return;
  // The body's own length: a function's content-length header never reaches the client.
  const length =
    res.body === null ? 0 : typeof res.body === "string" ? Buffer.byteLength(res.body) : res.body.length;
  const userAgent = call.get("user-agent");
  const error = p.error === undefined ? undefined : messageOf(p.error);
  const line = log.format.render({
    requestId: p.requestId,
    accountId: d.arn.accountId,
    apiId: at.api.apiId,
    domainName: hostOf(call.url, call.via, at.api.apiId),
    domainPrefix: at.api.apiId,
    stage: at.stage.stageName,
    ...(p.routeKey === undefined ? {} : { routeKey: p.routeKey }),
    httpMethod: call.method,
    path: at.rawPath,
    protocol: "HTTP/1.1",
    sourceIp: call.sourceIp,
    ...(userAgent === null ? {} : { userAgent }),
    requestTimeEpochMs: p.receivedAt,
    status: res.status,
    responseLength: length,
    responseLatency: Math.round(d.clock.monotonic() - p.startedAt),
    ...(p.integrationLatency === undefined ? {} : { integrationLatency: p.integrationLatency }),
    ...(p.integrationStatus === undefined ? {} : { integrationStatus: p.integrationStatus }),
    ...(p.integrationErrorMessage === undefined
      ? {}
      : { integrationErrorMessage: p.integrationErrorMessage }),
    ...(p.authorizer === undefined ? {} : { authorizer: p.authorizer }),
    ...(error === undefined ? {} : { error: { message: error } }),
  });
  d.logs.write({
    functionName: log.destination,
    version: at.served.deploymentId,
    instanceId: "execute-api",
    requestId: p.requestId,
    timestamp: d.clock.now(),
    message: line,
  });
}

function messageOf(body: string): string | undefined {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === "string" ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The host the caller addressed (port aside) on the host form; the API's own host on the path form. */
function hostOf(url: string, via: "host" | "path", apiId: string): string {
  if (via === "path") return apiDomainName(apiId);
  return hostnameOf(url);
}
