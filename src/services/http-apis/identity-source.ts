/**
 * The identity-source expressions an HTTP API's authorizers read: `$request.header.Authorization`,
 * `$request.querystring.token`, `$context.identity.sourceIp`, `$stageVariables.tenant`. Parsed
 * once when an authorizer is configured, evaluated per request against the request as the 2.0
 * event sees it (lower-cased header names, the query's values joined by commas).
 *
 * A missing value and an empty one are the same: API Gateway answers 401 without calling the
 * authorizer when an identity source is "missing, null, or empty".
 */
import { NimbusError } from "../../shared/errors.js";

export type IdentitySource =
  | { readonly from: "header"; readonly name: string; readonly expression: string }
  | { readonly from: "querystring"; readonly name: string; readonly expression: string }
  | { readonly from: "context"; readonly name: string; readonly expression: string }
  | { readonly from: "stageVariables"; readonly name: string; readonly expression: string };

/** The `$context` variables an identity source may name: those known before the authorizer runs. */
export const IDENTITY_CONTEXT_VARIABLES: ReadonlySet<string> = new Set([
  "accountId",
  "apiId",
  "domainName",
  "domainPrefix",
  "httpMethod",
  "identity.sourceIp",
  "identity.userAgent",
  "path",
  "protocol",
  "requestId",
  "routeKey",
  "stage",
]);

/** What the evaluator reads of one request. */
export interface IdentityRequest {
  /** Lower-case names, repeated headers joined by commas (the 2.0 event's `headers`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Decoded, repeated keys joined by commas (the 2.0 event's `queryStringParameters`). */
  readonly queryStringParameters?: Readonly<Record<string, string>> | undefined;
  /** Keyed as the expressions name them: `requestId`, `identity.sourceIp`. */
  readonly context?: Readonly<Record<string, string>> | undefined;
  readonly stageVariables?: Readonly<Record<string, string>> | undefined;
}

const NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** The parsed expression, or a sentence saying what is wrong and what is expected. */
export function checkIdentitySource(expression: string): IdentitySource | { readonly error: string } {
  const shown = `Identity source '${expression}'`;
  for (const [prefix, from] of [
    ["$request.header.", "header"],
    ["$request.querystring.", "querystring"],
    ["$context.", "context"],
    ["$stageVariables.", "stageVariables"],
  ] as const) {
    if (!expression.startsWith(prefix)) continue;
    const name = expression.slice(prefix.length);
    if (!NAME.test(name)) return { error: `${shown} names no ${from} after '${prefix}'` };
    if (from === "context" && !IDENTITY_CONTEXT_VARIABLES.has(name))
      return {
        error: `${shown} names an unknown context variable: expected one of ${[...IDENTITY_CONTEXT_VARIABLES].join(", ")}`,
      };
    return { from, name: from === "header" ? name.toLowerCase() : name, expression };
  }
  return {
    error: `${shown} must be $request.header.NAME, $request.querystring.NAME, $context.NAME or $stageVariables.NAME`,
  };
}

/** The parsed expression; an `InvalidParameter` error naming what is wrong when it is malformed. */
export function parseIdentitySource(expression: string): IdentitySource {
  const checked = checkIdentitySource(expression);
  if ("error" in checked)
    throw new NimbusError("InvalidParameter", checked.error, {}, [
      {
        field: "IdentitySource",
        value: expression,
        rule: "pattern",
        expected: "be $request.header.NAME, $request.querystring.NAME, $context.NAME or $stageVariables.NAME",
      },
    ]);
  return checked;
}

/** The value `source` reads from `req`; undefined when it is missing or empty. */
export function evaluateIdentitySource(source: IdentitySource, req: IdentityRequest): string | undefined {
  let map: Readonly<Record<string, string>> | undefined;
  switch (source.from) {
    case "header":
      map = req.headers;
      break;
    case "querystring":
      map = req.queryStringParameters;
      break;
    case "context":
      map = req.context;
      break;
    case "stageVariables":
      map = req.stageVariables;
      break;
  }
  if (map === undefined || !Object.hasOwn(map, source.name)) return undefined;
  const value = map[source.name];
  return typeof value === "string" && value !== "" ? value : undefined;
}
