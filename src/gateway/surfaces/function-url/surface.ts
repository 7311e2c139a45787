import { Hono } from "hono";
import type { InvokeService } from "../../../control/invoke-service.js";
import type { FunctionUrls } from "../../../control/urls/function-urls.js";
import type { FunctionUrlConfig } from "../../../control/urls/repo.js";
import {
  finalStatusProblem,
  headerProblem,
  httpResponseFromV2,
  isFramingHeader,
} from "../../../protocol/events/http.js";
import type { LogEntry } from "../../../protocol/invoke.js";
import { MAX_SYNC_REQUEST_BYTES } from "../../../protocol/limits.js";
import {
  HTTP_INTEGRATION_CONTENT_TYPE,
  PreludeError,
  splitHttpIntegrationPrelude,
} from "../../../protocol/response-stream.js";
import { NimbusError } from "../../../shared/errors.js";
import type { AuthPolicy, Principal } from "../../auth/principal.js";
import { corsHeaders, isPreflight, preflightAnswer } from "../../cors.js";
import { routedRequestFacts } from "../../http-trigger.js";
import type { Surface, SurfaceEnv } from "../../surface.js";
import { URL_HOST_PATTERN, URL_PATH_PREFIX } from "./address.js";
import {
  answerOf,
  bufferedAnswer,
  failure,
  logMalformed,
  type UrlAnswer,
  urlInvocation,
  userAuthorizer,
} from "./call.js";
import { urlOnNode } from "./node.js";

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
    node: urlOnNode(d, TOO_LARGE.tooLarge),
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
    const input = urlInvocation(
      d,
      config,
      routedRequestFacts(c),
      reach,
      config.authType === "NONE"
        ? await userAuthorizer(d, req.headers.get("authorization"))
        : authorizerOf(c.get("principal"), d.arn.accountId),
    );
    const cors: [string, string][] = config.cors ? corsHeaders(config.cors, origin ?? null) : [];
    if (config.invokeMode === "RESPONSE_STREAM") return streamed(d, config, input, cors);
    return toResponse(await bufferedAnswer(d, config, input, cors));
  });
  return app;
}

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
    return toResponse(failure(base));
  };
  if (!out.streamed) {
    const bytes = Buffer.from(await new Response(out.body).arrayBuffer().catch(() => new ArrayBuffer(0)));
    const done = await out.completion;
    if (done.error) return fail(undefined);
    const answer = httpResponseFromV2(bytes);
    return "malformed" in answer
      ? fail(answer.reason)
      : toResponse(answerOf(answer, base, config.cors !== undefined));
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
  const badStatus = finalStatusProblem(status);
  if (badStatus !== undefined) return fail(`the stream's HTTP prelude is malformed: ${badStatus}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(prelude.headers ?? {})) {
    const problem = headerProblem(name, value);
    if (problem !== undefined) return fail(`the stream's HTTP prelude is malformed: ${problem}`);
    const lower = name.toLowerCase();
    // The server frames the stream (chunked): a function's content-length or connection would cut it.
    if (isFramingHeader(lower)) continue;
    if (!config.cors || !lower.startsWith("access-control-")) headers.set(name, value);
  }
  for (const cookie of prelude.cookies ?? []) {
    const problem = headerProblem("set-cookie", cookie);
    if (problem !== undefined) return fail(`the stream's HTTP prelude is malformed: cookie ${problem}`);
    headers.append("set-cookie", cookie);
  }
  for (const [name, value] of base) headers.set(name, value);
  const noBody = status === 204 || status === 304;
  return new Response(noBody ? null : split.body, { status, headers });
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

function toResponse(a: UrlAnswer): Response {
  return new Response(a.body, { status: a.status, headers: a.headers });
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
