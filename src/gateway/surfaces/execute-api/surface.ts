/**
 * HTTP APIs as a surface: a request to `{apiId}.execute-api.localhost` (or
 * `/execute-api/{apiId}/…`) picks the API's stage, then one of the stage's routes, passes its
 * throttle and its authorizer, and becomes a payload 2.0 (or 1.0) event for the route's
 * function, whose answer becomes the HTTP response. The platform's own refusals speak API
 * Gateway's words (`{"message":"Not Found"}`, …); the pipeline is in `request.ts`.
 *
 * Stage selection happens before authentication: an AWS_IAM route is signed with the
 * platform's key (service `execute-api`), every other route is open to the gateway and
 * guarded, if at all, by its own authorizer.
 */

import type { IncomingMessage } from "node:http";
import { Hono } from "hono";
import type { InvokeService } from "../../../control/invoke-service.js";
import type { LogEntry } from "../../../protocol/invoke.js";
import { NOT_FOUND_BODY } from "../../../services/http-apis/answers.js";
import type { ApiStage, HttpApi, HttpApiReader } from "../../../services/http-apis/model.js";
import { type ServedStage, ServedStages } from "../../../services/http-apis/serve.js";
import type { Clock } from "../../../shared/clock.js";
import { type ErrorCode, NimbusError } from "../../../shared/errors.js";
import type { Logger } from "../../../shared/logger.js";
import type { AuthPolicy } from "../../auth/principal.js";
import { readNodeBody } from "../../body.js";
import { isPreflight } from "../../cors.js";
import { nodeRequestFacts, nodeUrl, routedRequestFacts, triggerPath } from "../../http-trigger.js";
import { nodeHeaders } from "../../node-headers.js";
import type { NodeAnswer, ReachMatch, Surface, SurfaceEnv } from "../../surface.js";
import { API_HOST_PATTERNS, API_PATH_PREFIX } from "./address.js";
import { type ApiCall, handleApiRequest } from "./request.js";

export interface ExecuteApiDeps {
  /** The APIs and their deployments, read on every request (the HTTP API service keeps them in memory). */
  readonly httpApis: HttpApiReader;
  readonly invoke: Pick<InvokeService, "invoke">;
  /** Function logs: where a 500's reason goes (the function's log) and where access logs go. */
  readonly logs: { write(entry: LogEntry): void };
  readonly arn: { readonly region: string; readonly accountId: string };
  /** Timers (integration and authorizer timeouts), throttling and token expiry. */
  readonly clock: Clock;
  readonly logger: Logger;
  /** For JWT authorizers' discovery and key sets; default the global fetch. */
  readonly fetch?: typeof fetch;
}

/**
 * API Gateway's HTTP API payload limit (10 MB). A function's own invoke limit (6 MB for the
 * whole event) is checked once the event is built, and answers 413 too.
 */
export const MAX_API_REQUEST_BYTES = 10_485_760;
const TOO_LARGE = { bytes: MAX_API_REQUEST_BYTES, tooLarge: "Request Entity Too Large" };

const AUTH_FAILURES: ReadonlySet<ErrorCode> = new Set([
  "MissingAuthenticationToken",
  "InvalidSignature",
  "UnrecognizedClient",
  "RequestExpired",
  "IncompleteSignature",
]);

const ANONYMOUS: AuthPolicy = { kind: "anonymous" };
const SIGNED: AuthPolicy = { kind: "platform-key", service: "execute-api" };

/** Where a request landed: the API, its stage and what the stage serves, and the paths as the function and the router see them. */
export type Located =
  | { readonly kind: "not-found" }
  /** The stage's deployment cannot be compiled: a 500. */
  | { readonly kind: "broken"; readonly api: HttpApi; readonly stage: ApiStage; readonly reason: string }
  | {
      readonly kind: "stage";
      readonly api: HttpApi;
      readonly stage: ApiStage;
      readonly served: ServedStage;
      /** The path the caller sent after the API's prefix, the stage segment included (as API Gateway's `rawPath`). */
      readonly rawPath: string;
      readonly rawQuery: string;
      /** The path after the stage: what routes are matched against. */
      readonly routePath: string;
    };

export function executeApiSurface(d: ExecuteApiDeps): Surface {
  // Built on the first request: a surface is listed before its dependencies are used.
  let stages: ServedStages | undefined;
  const servedStages = () =>
    (stages ??= new ServedStages({ clock: d.clock, ...(d.fetch === undefined ? {} : { fetch: d.fetch }) }));
  // Auth and the route see one request: it is located once.
  const located = new WeakMap<Request, Located>();
  const locate = (request: Request, reach: ReachMatch): Located => {
    let found = located.get(request);
    if (found === undefined) {
      found = locateRequest(d.httpApis, servedStages(), request.url, reach);
      located.set(request, found);
    }
    return found;
  };
  return {
    name: "execute-api",
    reach: { hosts: API_HOST_PATTERNS, pathPrefix: API_PATH_PREFIX },
    auth: (request, reach) => {
      const at = locate(request, reach);
      if (at.kind !== "stage") return ANONYMOUS;
      // A browser's preflight carries no credentials: it is answered whatever the route's auth.
      if (at.served.cors !== undefined && isPreflight(request.method, request.headers)) return ANONYMOUS;
      const route = at.served.router.match(request.method, at.routePath);
      return route?.target.authorization.kind === "AWS_IAM" ? SIGNED : ANONYMOUS;
    },
    body: { mode: "buffered", limit: () => TOO_LARGE },
    renderError: apiErrorResponse,
    app: apiApp(d, locate),
    // Straight from Node's request: every request but an AWS_IAM route's (the gateway's
    // authentication signs those), located the same way.
    node: (req, reach) => {
      const url = nodeUrl(req);
      const at = locateRequest(d.httpApis, servedStages(), url, reach);
      if (at.kind === "stage") {
        const route = at.served.router.match(req.method ?? "GET", at.routePath);
        if (route?.target.authorization.kind === "AWS_IAM") return undefined;
      }
      return serveNode(d, req, url, reach, at);
    },
  };
}

function apiApp(d: ExecuteApiDeps, locate: (r: Request, reach: ReachMatch) => Located): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();
  app.all("*", async (c) => {
    const req = c.req.raw;
    const reach = c.get("reach");
    const call: ApiCall = {
      ...routedRequestFacts(c),
      via: reach.via,
      get: (name) => req.headers.get(name),
      principal: c.get("principal"),
    };
    const a = await handleApiRequest(d, call, locate(req, reach));
    return new Response(a.body, { status: a.status, headers: a.headers });
  });
  return app;
}

async function serveNode(
  d: ExecuteApiDeps,
  req: IncomingMessage,
  url: string,
  reach: ReachMatch,
  at: Located,
): Promise<NodeAnswer> {
  const call: ApiCall = {
    ...nodeRequestFacts(req, url, await readNodeBody(req, TOO_LARGE.bytes, TOO_LARGE.tooLarge)),
    via: reach.via,
    get: (name) => {
      const value = req.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
    principal: undefined,
  };
  const a = await handleApiRequest(d, call, at);
  return { status: a.status, headers: nodeHeaders(a.headers), body: a.body };
}

/**
 * The API's answer for a refusal of the gateway's (authentication, body size): API Gateway's
 * `{"message"}`. Every way an AWS_IAM route's signature can fail (missing, wrong, expired,
 * malformed or scoped to another service) is the one 403 `{"message":"Forbidden"}` the route
 * promises, rather than the 400 the management APIs give a malformed signature.
 */
export function apiErrorResponse(refusal: NimbusError, requestId: string): Response {
  const err = AUTH_FAILURES.has(refusal.code) ? new NimbusError("InvalidSignature", "Forbidden") : refusal;
  const message =
    err.status === 404
      ? "Not Found"
      : err.status === 403
        ? "Forbidden"
        : err.status === 413
          ? "Request Entity Too Large"
          : err.status >= 500
            ? "Internal Server Error"
            : err.message || "Error";
  return new Response(err.status === 404 ? NOT_FOUND_BODY : JSON.stringify({ message }), {
    status: err.status,
    headers: {
      "content-type": "application/json",
      "apigw-requestid": requestId,
      "x-amzn-requestid": requestId,
    },
  });
}

/**
 * The API, stage and compiled deployment a request names. As API Gateway: a first path segment
 * naming a stage other than `$default` selects it (and is stripped for routing, kept in
 * `rawPath`: on the execute-api endpoint the stage segment is part of the path the function
 * sees, as serverless-http's pull request 143 and aws-lambda-rust-runtime's 453 record, and
 * "Create AWS Lambda proxy integrations for HTTP APIs in API Gateway" notes that only a custom
 * domain's API mapping is left out of `rawPath`); anything else goes to the `$default` stage
 * when there is one. No API, an API
 * whose execute-api endpoint is disabled, no stage, or a stage without a deployment: not found.
 */
export function locateRequest(
  reader: HttpApiReader,
  stages: ServedStages,
  url: string,
  reach: ReachMatch,
): Located {
  const apiId = reach.params.id ?? "";
  const api = reader.api(apiId);
  if (api === undefined) {
    stages.forget(apiId);
    return { kind: "not-found" };
  }
  if (api.disableExecuteApiEndpoint) return { kind: "not-found" };
  const { rawPath, rawQuery } = triggerPath(url, reach);
  const end = rawPath.indexOf("/", 1);
  const first = end === -1 ? rawPath.slice(1) : rawPath.slice(1, end);
  let stage =
    first === "" || first === "$default" ? undefined : api.stages.find((s) => s.stageName === first);
  let routePath = rawPath;
  if (stage !== undefined) routePath = end === -1 ? "/" : rawPath.slice(end);
  else stage = api.stages.find((s) => s.stageName === "$default");
  if (stage?.deploymentId === undefined) return { kind: "not-found" };
  const deployment = reader.deployment(apiId, stage.deploymentId);
  if (deployment === undefined) return { kind: "not-found" };
  const served = stages.get(api, stage, deployment, reader.authorizersReset(apiId, stage.stageName));
  if ("error" in served) return { kind: "broken", api, stage, reason: served.error };
  return { kind: "stage", api, stage, served, rawPath, rawQuery, routePath };
}
