/**
 * What a function URL call does whichever way it came in (the gateway's routes, `surface.ts`,
 * or Node's request straight, `node.ts`): the payload 2.0 event it makes, and a BUFFERED URL's
 * answer by Lambda's rules.
 */
import type { FunctionUrlConfig } from "../../../control/urls/repo.js";
import { type HttpAnswer, httpEventV2, httpResponseFromV2 } from "../../../protocol/events/http.js";
import { stringifyClaims } from "../../../services/http-apis/jwt-authorizer.js";
import { newRequestId } from "../../../shared/ids.js";
import { hostnameOf, type RequestFacts, triggerPath } from "../../http-trigger.js";
import type { ReachMatch } from "../../surface.js";
import type { FunctionUrlDeps } from "./surface.js";

/** An answer, as either path writes it. */
export interface UrlAnswer {
  readonly status: number;
  readonly headers: Record<string, string> | Headers;
  readonly body: Buffer | string | null;
}

/** The invocation a call makes: its event, and one id for the event, the invocation, its logs and x-amzn-requestid. */
export function urlInvocation(
  d: FunctionUrlDeps,
  config: FunctionUrlConfig,
  r: RequestFacts,
  reach: ReachMatch,
  authorizer: { authorizer?: Readonly<Record<string, unknown>> },
) {
  const receivedAt = d.now();
  const requestId = newRequestId();
  const { rawPath, rawQuery } = triggerPath(r.url, reach);
  const event = httpEventV2(
    {
      method: r.method,
      rawPath,
      rawQuery,
      headers: r.headers,
      body: r.body,
      sourceIp: r.sourceIp,
      protocol: r.protocol,
    },
    {
      accountId: d.arn.accountId,
      apiId: config.urlId,
      domainName:
        reach.via === "host" ? hostnameOf(r.url) : `${config.urlId}.lambda-url.${d.arn.region}.localhost`,
      domainPrefix: config.urlId,
      requestId,
      timeEpochMs: receivedAt,
      ...authorizer,
    },
  );
  return {
    functionName: config.functionName,
    qualifier: config.qualifier,
    payload: Buffer.from(JSON.stringify(event)),
    builtEvent: true,
    requestId,
    clientContextBase64: undefined,
    traceId: undefined,
    receivedAt,
  };
}

/** A BUFFERED URL's answer: the function's by Lambda's rules, or a 502 whose reason goes to the function's log. */
export async function bufferedAnswer(
  d: FunctionUrlDeps,
  config: FunctionUrlConfig,
  input: ReturnType<typeof urlInvocation>,
  cors: [string, string][],
): Promise<UrlAnswer> {
  const out = await d.invoke.invoke({ ...input, dryRun: false });
  const base: [string, string][] = [["x-amzn-requestid", out.requestId], ...cors];
  if (out.functionError) return failure(base);
  const answer = httpResponseFromV2(out.payload);
  if ("malformed" in answer) {
    logMalformed(d, config, out.requestId, out.executedVersion, answer.reason);
    return failure(base);
  }
  return answerOf(answer, base, config.cors !== undefined);
}

export function logMalformed(
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

/** The function's answer; with CORS configured, the URL's CORS headers replace the function's own. */
export function answerOf(answer: HttpAnswer, extra: [string, string][], cors: boolean): UrlAnswer {
  // A 204 or 304 cannot carry a body (a 1xx is refused as malformed before this).
  const body = answer.status === 204 || answer.status === 304 ? null : answer.body;
  return { status: answer.status, headers: answerHeaders(answer, extra, cors), body };
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

export function failure(extra: [string, string][]): UrlAnswer {
  const headers: Record<string, string> = Object.create(null);
  for (const [name, value] of extra) headers[name] = value;
  headers["content-type"] = "application/json";
  return { status: 502, headers, body: JSON.stringify({ Message: "Internal Server Error" }) };
}

/**
 * On an open URL, a bearer token the platform's auth service issued: its verified claims as an
 * HTTP API's JWT authorizer hands them (`requestContext.authorizer.jwt`), so a function reads
 * its caller the same way behind either. No token, or one that does not verify: no claims.
 */
export async function userAuthorizer(d: FunctionUrlDeps, authorization: string | null | undefined) {
  const token = authorization ? /^bearer\s+(\S+)$/i.exec(authorization)?.[1] : undefined;
  if (token === undefined || d.userClaims === undefined) return {};
  const claims = await d.userClaims(token).catch(() => undefined);
  if (claims === undefined) return {};
  return { authorizer: { jwt: { claims: stringifyClaims(claims), scopes: null } } };
}
