/**
 * Calling an HTTP API's Lambda (REQUEST) authorizer: its event in the authorizer's payload
 * format (2.0 by default, or 1.0), the invocation through the invoke service with a timeout,
 * and its answer read as a simple response. An answer in the IAM-policy shape (what 1.0
 * authorizers and 2.0 ones without simple responses return) is read as allowed when a statement
 * allows and none denies; its `context` is kept. Whatever goes wrong throws: the authorizer
 * cache turns that into a 500 that is not cached.
 */
import {
  type HttpEventContext,
  type HttpEventV2,
  type HttpRequestFacts,
  httpEventV1,
} from "../../../protocol/events/http.js";
import {
  evaluateIdentitySource,
  type IdentityRequest,
  parseIdentitySource,
} from "../../../services/http-apis/identity-source.js";
import type { ApiAuthorizer } from "../../../services/http-apis/model.js";
import type { FunctionTarget } from "../../../services/http-apis/serve.js";
import type { ExecuteApiDeps } from "./surface.js";

/**
 * How long an authorizer function may take before the request answers 500: "Timeout for Lambda
 * authorizer response", 10,000 ms, in "Quotas for configuring and running an HTTP API in API
 * Gateway".
 */
export const AUTHORIZER_TIMEOUT_MS = 10_000;

/** The authorizer's answer as a simple response (`{ isAuthorized, context }`); throws when it fails or answers nonsense. */
export async function callLambdaAuthorizer(
  d: ExecuteApiDeps,
  config: ApiAuthorizer,
  target: FunctionTarget,
  identity: IdentityRequest,
  event: HttpEventV2,
  facts: HttpRequestFacts,
  ctx: HttpEventContext,
): Promise<unknown> {
  const values = config.identitySource.map(
    (expr) => evaluateIdentitySource(parseIdentitySource(expr), identity) ?? "",
  );
  const path = event.rawPath;
  const routeArn = `arn:aws:execute-api:${d.arn.region}:${d.arn.accountId}:${ctx.apiId}/${ctx.stage ?? "$default"}/${facts.method}${path}`;
  let authEvent: unknown;
  if (config.authorizerPayloadFormatVersion === "1.0") {
    const { body: _body, isBase64Encoded: _b64, ...rest } = httpEventV1(facts, ctx);
    authEvent = { ...rest, type: "REQUEST", methodArn: routeArn, identitySource: values.join(",") };
  } else {
    const { body: _body, isBase64Encoded: _b64, ...rest } = event;
    authEvent = { ...rest, type: "REQUEST", routeArn, identitySource: values };
  }
  const out = await withTimeout(
    d,
    d.invoke.invoke({
      functionName: target.functionName,
      qualifier: target.qualifier,
      payload: Buffer.from(JSON.stringify(authEvent)),
      builtEvent: true,
      clientContextBase64: undefined,
      dryRun: false,
      traceId: undefined,
      receivedAt: ctx.timeEpochMs,
    }),
    AUTHORIZER_TIMEOUT_MS,
  );
  if (out === "timeout")
    throw new Error(
      `the authorizer function ${target.functionName} took more than ${AUTHORIZER_TIMEOUT_MS} ms`,
    );
  if (out.functionError)
    throw new Error(
      `the authorizer function ${target.functionName} failed: ${out.payload.toString("utf8").slice(0, 500)}`,
    );
  let answer: unknown;
  try {
    answer = JSON.parse(out.payload.toString("utf8"));
  } catch {
    throw new Error(
      `the authorizer function ${target.functionName} answered something that is not JSON: expected { "isAuthorized": true or false }`,
    );
  }
  return fromPolicy(answer) ?? answer;
}

/** An IAM-policy answer (`{ principalId, policyDocument, context }`) as a simple response; undefined for any other shape. */
function fromPolicy(answer: unknown): { isAuthorized: boolean; context?: unknown } | undefined {
  if (answer === null || typeof answer !== "object") return undefined;
  const a = answer as { policyDocument?: { Statement?: unknown }; context?: unknown; isAuthorized?: unknown };
  if (a.isAuthorized !== undefined || a.policyDocument === undefined) return undefined;
  const raw = a.policyDocument.Statement;
  const statements = (Array.isArray(raw) ? raw : [raw]) as { Effect?: unknown }[];
  const allows = statements.some((s) => s?.Effect === "Allow");
  const denies = statements.some((s) => s?.Effect === "Deny");
  return { isAuthorized: allows && !denies, ...(a.context === undefined ? {} : { context: a.context }) };
}

/** The invocation's outcome, or "timeout" once `ms` pass first (the invocation runs on, its answer dropped). */
export function withTimeout<T>(
  d: Pick<ExecuteApiDeps, "clock">,
  work: Promise<T>,
  ms: number,
): Promise<T | "timeout"> {
  let timer: { cancel(): void } | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = d.clock.setTimeout(() => resolve("timeout"), ms);
  });
  // A failure after the timeout has nobody to tell.
  work.catch(() => {});
  return Promise.race([work, expired]).finally(() => timer?.cancel());
}
