/**
 * A connection's `AuthParameters` as CreateConnection and UpdateConnection take them, checked,
 * and as DescribeConnection shows them: secrets (passwords, key values, client secrets, header,
 * query and body values marked secret) never leave the platform. An API key named
 * `webhook-signature` holds a Standard Webhooks secret (`webhook-signature.ts`); an OAuth
 * connection's client is exchanged for tokens by `oauth-tokens.ts`.
 */
import { validation } from "./errors.js";
import type { ConnectionAuth, ConnectionAuthorizationType, HttpParameter } from "./model.js";
import { signsWebhooks, webhookKey } from "./webhook-signature.js";

type Raw = Record<string, unknown> | undefined;
type Invocation = ConnectionAuth["invocation"];

const TYPES: readonly ConnectionAuthorizationType[] = ["BASIC", "API_KEY", "OAUTH_CLIENT_CREDENTIALS"];
/** A header name: an HTTP token (what a request can carry; EventBridge's pattern allows more, which no request could send). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_PARAMETERS = 100;

export function authorizationTypeOf(v: unknown): ConnectionAuthorizationType {
  if (!TYPES.includes(v as ConnectionAuthorizationType))
    throw validation(
      `AuthorizationType must be one of ${TYPES.join(", ")}, got ${JSON.stringify(v ?? null)}.`,
    );
  return v as ConnectionAuthorizationType;
}

/**
 * The parameters of a new connection (`before` undefined) or of an update: an update changes
 * only what it names, and a new AuthorizationType needs that type's parameters whole.
 */
export function readAuth(
  type: ConnectionAuthorizationType,
  given: unknown,
  before: { type: ConnectionAuthorizationType; auth: ConnectionAuth } | undefined,
): ConnectionAuth {
  if (given !== undefined && given !== null && typeof given !== "object")
    throw validation("AuthParameters must be an object.");
  const p = (given ?? {}) as Record<string, unknown>;
  const keep = before !== undefined && before.type === type ? before.auth : undefined;
  if (before === undefined && given === undefined)
    throw validation("AuthParameters is required: the parameters of the connection's AuthorizationType.");
  const invocation = readInvocation(
    p.InvocationHttpParameters as Raw,
    keep?.invocation ?? before?.auth.invocation,
  );
  if (type === "BASIC") {
    const b = p.BasicAuthParameters as Raw;
    if (!b && !keep?.basic)
      throw validation(
        "BasicAuthParameters (Username and Password) are required for AuthorizationType BASIC.",
      );
    return {
      basic: {
        username: basicUser(text(b?.Username, "BasicAuthParameters.Username", keep?.basic?.username)),
        password: text(b?.Password, "BasicAuthParameters.Password", keep?.basic?.password),
      },
      invocation,
    };
  }
  if (type === "OAUTH_CLIENT_CREDENTIALS")
    return { oauth: readOAuth(p.OAuthParameters as Raw, keep?.oauth), invocation };
  const k = p.ApiKeyAuthParameters as Raw;
  if (!k && !keep?.apiKey)
    throw validation(
      "ApiKeyAuthParameters (ApiKeyName and ApiKeyValue) are required for AuthorizationType API_KEY.",
    );
  const name = text(k?.ApiKeyName, "ApiKeyAuthParameters.ApiKeyName", keep?.apiKey?.name).trim();
  if (!HEADER_NAME.test(name))
    throw validation(
      `ApiKeyAuthParameters.ApiKeyName ${JSON.stringify(name)} is not a header name: letters, digits and !#$%&'*+-.^_|~ only.`,
    );
  const value = text(k?.ApiKeyValue, "ApiKeyAuthParameters.ApiKeyValue", keep?.apiKey?.value);
  const problem = headerValueProblem(value);
  if (problem) throw validation(`ApiKeyAuthParameters.ApiKeyValue ${problem}.`);
  if (signsWebhooks(name))
    try {
      webhookKey(value);
    } catch (err) {
      throw validation(
        `An API key named ${name} signs each request as Standard Webhooks: ApiKeyValue must be its secret, ${(err as Error).message}.`,
      );
    }
  return { apiKey: { name, value }, invocation };
}

const OAUTH_METHODS = ["GET", "POST", "PUT"];

function readOAuth(o: Raw, before: ConnectionAuth["oauth"]): NonNullable<ConnectionAuth["oauth"]> {
  if (!o && !before)
    throw validation(
      "OAuthParameters (ClientParameters, AuthorizationEndpoint, HttpMethod) are required for AuthorizationType OAUTH_CLIENT_CREDENTIALS.",
    );
  const client = o?.ClientParameters as Raw;
  const endpoint = text(
    o?.AuthorizationEndpoint,
    "OAuthParameters.AuthorizationEndpoint",
    before?.authorizationEndpoint,
  );
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {}
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:"))
    throw validation(
      `OAuthParameters.AuthorizationEndpoint must be an http or https URL, got ${JSON.stringify(endpoint)}.`,
    );
  const method = text(o?.HttpMethod, "OAuthParameters.HttpMethod", before?.httpMethod);
  if (!OAUTH_METHODS.includes(method))
    throw validation(
      `OAuthParameters.HttpMethod must be one of ${OAUTH_METHODS.join(", ")}, got ${JSON.stringify(method)}.`,
    );
  const params = o?.OAuthHttpParameters as Raw;
  const http = params ? readInvocation(params, undefined, "OAuthParameters.OAuthHttpParameters") : before;
  return {
    authorizationEndpoint: endpoint,
    httpMethod: method,
    clientId: text(client?.ClientID, "OAuthParameters.ClientParameters.ClientID", before?.clientId),
    clientSecret: text(
      client?.ClientSecret,
      "OAuthParameters.ClientParameters.ClientSecret",
      before?.clientSecret,
    ),
    headers: http?.headers ?? [],
    queryString: http?.queryString ?? [],
    body: http?.body ?? [],
  };
}

/** Why a header could not carry `value` (a line break, NUL, a character past Latin-1), if it could not. */
export function headerValueProblem(value: string): string | undefined {
  for (const c of value) {
    const code = c.codePointAt(0)!;
    if (code === 10 || code === 13 || code === 0)
      return "must not hold a line break or NUL: a header could not carry it";
    if (code > 255) return `must be Latin-1 text: a header could not carry ${JSON.stringify(c)}`;
  }
  return undefined;
}

/** RFC 7617: the user name of Basic authorization cannot hold a colon, which ends it. */
function basicUser(name: string): string {
  if (name.includes(":"))
    throw validation(
      "BasicAuthParameters.Username must not hold ':' (it separates the user from the password).",
    );
  return name;
}

function text(v: unknown, field: string, before: string | undefined): string {
  if (v === undefined || v === null) {
    if (before !== undefined) return before;
    throw validation(`${field} is required.`);
  }
  if (typeof v !== "string" || v.length < 1 || v.length > 512)
    throw validation(`${field} must be a string of 1 to 512 characters.`);
  return v;
}

function readInvocation(
  raw: Raw,
  before: Invocation | undefined,
  where = "InvocationHttpParameters",
): Invocation {
  if (raw === undefined || raw === null) return before ?? { headers: [], queryString: [], body: [] };
  return {
    headers: parameters(raw.HeaderParameters, `${where}.HeaderParameters`, true),
    queryString: parameters(raw.QueryStringParameters, `${where}.QueryStringParameters`, false),
    body: parameters(raw.BodyParameters, `${where}.BodyParameters`, false),
  };
}

function parameters(v: unknown, field: string, header: boolean): HttpParameter[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_PARAMETERS)
    throw validation(`${field} must be a list of at most ${MAX_PARAMETERS} {Key, Value, IsValueSecret}.`);
  return v.map((p: Record<string, unknown> | null, i) => {
    const where = `${field}[${i}]`;
    if (
      typeof p?.Key !== "string" ||
      p.Key.length === 0 ||
      p.Key.length > 512 ||
      (header && !HEADER_NAME.test(p.Key))
    )
      throw validation(
        `${where}.Key must be ${header ? "a header name" : "a string"} of 1 to 512 characters.`,
      );
    if (typeof p.Value !== "string" || p.Value.length > 512)
      throw validation(`${where}.Value must be a string of at most 512 characters.`);
    const problem = header ? headerValueProblem(p.Value) : undefined;
    if (problem) throw validation(`${where}.Value ${problem}.`);
    if (p.IsValueSecret !== undefined && typeof p.IsValueSecret !== "boolean")
      throw validation(`${where}.IsValueSecret must be true or false.`);
    return { key: p.Key, value: p.Value, secret: p.IsValueSecret === true };
  });
}

/** AuthParameters as DescribeConnection shows them: no secret. */
export function renderAuth(auth: ConnectionAuth): Record<string, unknown> {
  const list = (ps: readonly HttpParameter[]) =>
    ps.map((p) => ({ Key: p.key, ...(p.secret ? {} : { Value: p.value }), IsValueSecret: p.secret }));
  const inv = auth.invocation;
  const hasInvocation = inv.headers.length + inv.queryString.length + inv.body.length > 0;
  return {
    ...(auth.basic ? { BasicAuthParameters: { Username: auth.basic.username } } : {}),
    ...(auth.apiKey ? { ApiKeyAuthParameters: { ApiKeyName: auth.apiKey.name } } : {}),
    ...(auth.oauth
      ? {
          OAuthParameters: {
            ClientParameters: { ClientID: auth.oauth.clientId },
            AuthorizationEndpoint: auth.oauth.authorizationEndpoint,
            HttpMethod: auth.oauth.httpMethod,
            OAuthHttpParameters: {
              HeaderParameters: list(auth.oauth.headers),
              QueryStringParameters: list(auth.oauth.queryString),
              BodyParameters: list(auth.oauth.body),
            },
          },
        }
      : {}),
    ...(hasInvocation
      ? {
          InvocationHttpParameters: {
            HeaderParameters: list(inv.headers),
            QueryStringParameters: list(inv.queryString),
            BodyParameters: list(inv.body),
          },
        }
      : {}),
  };
}
