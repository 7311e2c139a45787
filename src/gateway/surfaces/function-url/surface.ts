/**
 * Function URLs as a surface: a request to `{id}.lambda-url.{region}.localhost` (or
 * `/lambda-url/{id}/…`) becomes an HTTP API payload 2.0 event for the URL's function, and the
 * function's answer becomes the HTTP response by Lambda's rules. Auth is the URL's own: none,
 * or the platform's key by SigV4 (`AWS_IAM`); CORS preflights are answered here, never by the
 * function. Errors answer as a function URL does: a status and `{"Message": …}`; a function's
 * failure or a malformed answer is a 502, its reason written to the function's log.
 */
import type { IncomingMessage } from "node:http";
import { Hono } from "hono";
import type { InvokeService } from "../../../control/invoke-service.js";
import type { FunctionUrls } from "../../../control/urls/function-urls.js";
import type { FunctionUrlConfig } from "../../../control/urls/repo.js";
import { type HttpAnswer, httpEventV2, httpResponseFromV2 } from "../../../protocol/events/http.js";
import type { LogEntry } from "../../../protocol/invoke.js";
import { MAX_SYNC_REQUEST_BYTES } from "../../../protocol/limits.js";
import {
  HTTP_INTEGRATION_CONTENT_TYPE,
  PreludeError,
  splitHttpIntegrationPrelude,
} from "../../../protocol/response-stream.js";
import { stringifyClaims } from "../../../services/http-apis/jwt-authorizer.js";
import { NimbusError } from "../../../shared/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import type { AuthPolicy, Principal } from "../../auth/principal.js";
import { corsHeaders, isPreflight, preflightAnswer } from "../../cors.js";
import { headerPairs, hostnameOf, triggerPath } from "../../http-trigger.js";
import { bodyOf, type Surface, type SurfaceEnv } from "../../surface.js";
import { URL_HOST_PATTERN, URL_PATH_PREFIX } from "./address.js";

export interface FunctionUrlDeps {
  readonly urls: Pick<FunctionUrls, "byId">;
  readonly invoke: Pick<InvokeService, "invoke" | "invokeStreaming">;
  /** Where a 502's reason goes: the function's own log. */
  readonly logs: { write(entry: LogEntry): void };
  readonly arn: { readonly region: string; readonly accountId: string };
  readonly now: () => number;
  /**
   * A user's access token from the platform's auth service, verified: its claims, or undefined
   * when it is not one (an open URL still runs; its function sees no claims).
   */
  readonly userClaims?: (token: string) => Promise<Readonly<Record<string, unknown>> | undefined>;
}

const ANONYMOUS: AuthPolicy = { kind: "anonymous" };
const SIGNED: AuthPolicy = { kind: "platform-key", service: "lambda" };
const TOO_LARGE = { bytes: MAX_SYNC_REQUEST_BYTES, tooLarge: "Request Entity Too Large" };

export function functionUrlSurface(d: FunctionUrlDeps): Surface {
  return {
    name: "function-url",
    reach: { hosts: [URL_HOST_PATTERN], pathPrefix: URL_PATH_PREFIX },
    // A browser's preflight carries no credentials: it is answered whatever the URL's auth.
    auth: (request, reach) => {
      const config = d.urls.byId(reach.params.id ?? "");
      if (config?.authType !== "AWS_IAM") return ANONYMOUS;
      return config.cors && isPreflight(request.method, request.headers) ? ANONYMOUS : SIGNED;
    },
    body: { mode: "buffered", limit: () => TOO_LARGE },
    renderError: urlErrorResponse,
    app: urlApp(d),
  };
}

function urlApp(d: FunctionUrlDeps): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();
  app.all("*", async (c) => {
    const reach = c.get("reach");
    const config = d.urls.byId(reach.params.id ?? "");
    if (!config) throw new NimbusError("NotFound", "Not Found");
    const req = c.req.raw;
    const origin = req.headers.get("origin") ?? undefined;
    if (config.cors && isPreflight(req.method, req.headers)) {
      return preflightResponse(config, origin, req.headers);
    }
    const receivedAt = d.now();
    // One id for the event's requestContext, the invocation, its logs and x-amzn-requestid.
    const requestId = newRequestId();
    const { rawPath, rawQuery } = triggerPath(req.url, reach);
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const event = httpEventV2(
      {
        method: req.method,
        rawPath,
        rawQuery,
        headers: headerPairs(incoming, req),
        body: bodyOf(c),
        sourceIp: incoming?.socket.remoteAddress ?? "127.0.0.1",
        protocol: incoming ? `HTTP/${incoming.httpVersion}` : "HTTP/1.1",
      },
      {
        accountId: d.arn.accountId,
        apiId: config.urlId,
        domainName:
          reach.via === "host" ? hostnameOf(req.url) : `${config.urlId}.lambda-url.${d.arn.region}.localhost`,
        domainPrefix: config.urlId,
        requestId,
        timeEpochMs: receivedAt,
        ...(config.authType === "NONE"
          ? await userAuthorizer(d, req)
          : authorizerOf(c.get("principal"), d.arn.accountId)),
      },
    );
    const input = {
      functionName: config.functionName,
      qualifier: config.qualifier,
      payload: Buffer.from(JSON.stringify(event)),
      builtEvent: true,
      requestId,
      clientContextBase64: undefined,
      traceId: undefined,
      receivedAt,
    };
    const cors: [string, string][] = config.cors ? corsHeaders(config.cors, origin ?? null) : [];
    if (config.invokeMode === "RESPONSE_STREAM") return streamed(d, config, input, cors);
    const out = await d.invoke.invoke({ ...input, dryRun: false });
    const base: [string, string][] = [["x-amzn-requestid", out.requestId], ...cors];
    if (out.functionError) return failure(base);
    const answer = httpResponseFromV2(out.payload);
    if ("malformed" in answer) {
      logMalformed(d, config, out.requestId, out.executedVersion, answer.reason);
      return failure(base);
    }
    return respond(answer, base, config.cors !== undefined);
  });
  return app;
}

/** The function's answer; with CORS configured, the URL's CORS headers replace the function's own. */
/**
 * A RESPONSE_STREAM URL: bytes go out as the function writes them. A function that streams
 * with `HttpResponseStream.from` sets status, headers and cookies in its prelude; one that
 * streams without it answers 200 with its content type; one that answers whole is read by the
 * buffered rules. A failure before the first byte is a 502; after it, the response is cut.
 */
async function streamed(
  d: FunctionUrlDeps,
  config: FunctionUrlConfig,
  input: Parameters<InvokeService["invokeStreaming"]>[0],
  cors: [string, string][],
): Promise<Response> {
  const out = await d.invoke.invokeStreaming(input);
  const base: [string, string][] = [["x-amzn-requestid", out.requestId], ...cors];
  const fail = (reason: string | undefined) => {
    if (reason) logMalformed(d, config, out.requestId, out.executedVersion, reason);
    return failure(base);
  };
  if (!out.streamed) {
    const bytes = Buffer.from(await new Response(out.body).arrayBuffer().catch(() => new ArrayBuffer(0)));
    const done = await out.completion;
    if (done.error) return fail(undefined);
    const answer = httpResponseFromV2(bytes);
    return "malformed" in answer ? fail(answer.reason) : respond(answer, base, config.cors !== undefined);
  }
  if (out.contentType !== HTTP_INTEGRATION_CONTENT_TYPE) {
    const headers = new Headers(base);
    headers.set("content-type", out.contentType);
    return new Response(out.body, { status: 200, headers });
  }
  let split: Awaited<ReturnType<typeof splitHttpIntegrationPrelude>>;
  try {
    split = await splitHttpIntegrationPrelude(out.body);
  } catch (err) {
    return fail(
      err instanceof PreludeError ? `the stream's HTTP prelude is malformed: ${err.message}` : undefined,
    );
  }
  const { prelude } = split;
  const status = prelude.statusCode ?? 200;
  if (!Number.isInteger(status) || status < 100 || status > 599)
    return fail(`the stream's HTTP prelude has statusCode ${status}: expected an integer from 100 to 599`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(prelude.headers ?? {})) {
    if (!config.cors || !name.toLowerCase().startsWith("access-control-")) headers.set(name, String(value));
  }
  for (const cookie of prelude.cookies ?? []) headers.append("set-cookie", cookie);
  for (const [name, value] of base) headers.set(name, value);
  const noBody = status === 204 || status === 304 || status < 200;
  return new Response(noBody ? null : split.body, { status, headers });
}

function logMalformed(
  d: FunctionUrlDeps,
  config: FunctionUrlConfig,
  requestId: string,
  version: string,
  reason: string,
) {
  d.logs.write({
    functionName: config.functionName,
    version,
    instanceId: "function-url",
    requestId,
    timestamp: d.now(),
    message: `[nimbus] The function URL answered 502: the function's response is malformed: ${reason}`,
  });
}

function respond(answer: HttpAnswer, extra: [string, string][], cors: boolean): Response {
  // A 1xx, 204 or 304 cannot carry a body.
  const body = answer.status === 204 || answer.status === 304 || answer.status < 200 ? null : answer.body;
  return new Response(body, { status: answer.status, headers: answerHeaders(answer, extra, cors) });
}

/**
 * The answer's headers (without its own CORS headers when the URL sets them), `extra` over
 * them. A plain record when no name repeats: the Node adapter writes one as it is, where a
 * Headers object is copied and sorted first (~5 µs of a warm call). Repeated names (cookies)
 * need the Headers object's `append`.
 */
function answerHeaders(
  answer: HttpAnswer,
  extra: [string, string][],
  cors: boolean,
): Record<string, string> | Headers {
  const kept = cors ? answer.headers.filter(([name]) => !name.startsWith("access-control-")) : answer.headers;
  const record: Record<string, string> = Object.create(null);
  for (const [name, value] of kept) {
    if (name in record) {
      const headers = new Headers();
      for (const [n, v] of kept) headers.append(n, v);
      for (const [n, v] of extra) headers.set(n, v);
      return headers;
    }
    record[name] = value;
  }
  for (const [name, value] of extra) record[name] = value;
  return record;
}

function failure(extra: [string, string][]): Response {
  const headers = new Headers(extra);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify({ Message: "Internal Server Error" }), { status: 502, headers });
}

function preflightResponse(config: FunctionUrlConfig, origin: string | undefined, h: Headers): Response {
  const answer = preflightAnswer(
    config.cors!,
    origin ?? "",
    h.get("access-control-request-method") ?? "",
    h.get("access-control-request-headers"),
  );
  return new Response(null, { status: answer.status, headers: answer.headers });
}

/** A function URL's error: its status and `{"Message": …}`, with the request id to look it up. */
export function urlErrorResponse(err: NimbusError, requestId: string): Response {
  const message =
    err.status === 403 ? "Forbidden" : err.status >= 500 ? "Internal Server Error" : err.message || "Error";
  return new Response(JSON.stringify({ Message: message }), {
    status: err.status,
    headers: { "content-type": "application/json", "x-amzn-requestid": requestId },
  });
}

/** `requestContext.authorizer.iam`, present on calls an AWS_IAM URL authenticated. */
/**
 * On an open URL, a bearer token the platform's auth service issued: its verified claims as an
 * HTTP API's JWT authorizer hands them (`requestContext.authorizer.jwt`), so a function reads
 * its caller the same way behind either. No token, or one that does not verify: no claims.
 */
async function userAuthorizer(d: FunctionUrlDeps, req: Request) {
  const token = /^bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  if (token === undefined || d.userClaims === undefined) return {};
  const claims = await d.userClaims(token).catch(() => undefined);
  if (claims === undefined) return {};
  return { authorizer: { jwt: { claims: stringifyClaims(claims), scopes: null } } };
}

function authorizerOf(p: Principal, accountId: string) {
  if (p.kind !== "platform") return {};
  return {
    authorizer: {
      iam: {
        accessKey: p.accessKeyId,
        accountId,
        callerId: accountId,
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: `arn:aws:iam::${accountId}:root`,
        userId: accountId,
      },
    },
  };
}
