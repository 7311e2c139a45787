/**
 * Reads what a stack's plan compares against, through the platform's APIs: each function's
 * configuration, its AutoPublishAlias and that version's configuration, its URL; the HTTP
 * APIs tagged with the stack's name, with their routes, integrations, authorizers and stages.
 */
import type { NimbusClient } from "../client.js";
import { functionPath } from "../commands/functions.js";
import { urlPath } from "../commands/urls.js";
import type { CurrentApi, CurrentFunction, CurrentState, LambdaConfig, UrlConfig } from "./plan.js";
import type { StackSpec } from "./spec.js";

/** HTTP APIs' management API is API Gateway's, signed for its service name. */
export const APIGATEWAY = { service: "apigateway" } as const;

/** The answer's JSON, or undefined on a 404; any other failure throws the platform's message. */
export async function optional<T>(
  client: NimbusClient,
  path: string,
  opts: Parameters<NimbusClient["request"]>[2] = {},
): Promise<T | undefined> {
  const res = await client.request("GET", path, opts);
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status >= 300) return client.json<T>("GET", path, opts);
  return (await res.json()) as T;
}

/** The platform's account id, from any function's ARN; undefined while it has none. */
export async function readAccountId(client: NimbusClient): Promise<string | undefined> {
  const { Functions } = await client.json<{ Functions: Array<{ FunctionArn: string }> }>(
    "GET",
    "/2015-03-31/functions",
    { query: { MaxItems: "1" } },
  );
  return Functions[0]?.FunctionArn.split(":")[4];
}

export async function readState(
  client: NimbusClient,
  stack: StackSpec,
  region: string,
  accountId: string | undefined,
): Promise<CurrentState> {
  const functions = new Map<string, CurrentFunction>();
  for (const fn of stack.functions) {
    const config = await optional<LambdaConfig>(client, functionPath(fn.name, "configuration"));
    if (!config) continue;
    let alias: CurrentFunction["alias"];
    if (fn.alias) {
      const a = await optional<{ FunctionVersion: string }>(
        client,
        functionPath(fn.name, "aliases", fn.alias),
      );
      if (a) {
        const version = await client.json<LambdaConfig>("GET", functionPath(fn.name, "configuration"), {
          query: { Qualifier: a.FunctionVersion },
        });
        alias = { version: a.FunctionVersion, config: version };
      }
    }
    // A URL on an alias that does not exist yet cannot exist either.
    const url =
      fn.url && (!fn.alias || alias)
        ? await optional<UrlConfig>(
            client,
            urlPath(fn.name, "url"),
            fn.alias ? { query: { Qualifier: fn.alias } } : {},
          )
        : undefined;
    functions.set(fn.name, { config, alias, url });
  }
  const apis =
    stack.apis.length > 0 ? await readApis(client, stack.stackName) : new Map<string, CurrentApi>();
  return { region, accountId, functions, apis };
}

interface Page<T> {
  items?: T[];
  nextToken?: string;
}

async function all<T>(client: NimbusClient, path: string): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await client.json<Page<T>>("GET", path, {
      ...APIGATEWAY,
      ...(token ? { query: { nextToken: token } } : {}),
    });
    out.push(...(page.items ?? []));
    token = page.nextToken;
  } while (token);
  return out;
}

/** The stack's HTTP APIs by logical id: those whose tags name the stack. */
async function readApis(client: NimbusClient, stackName: string): Promise<Map<string, CurrentApi>> {
  const probe = await client.request("GET", "/v2/apis", APIGATEWAY);
  if (probe.status >= 300) {
    const text = (await probe.text()).slice(0, 300);
    throw new Error(
      `the platform does not serve HTTP APIs' management API (GET /v2/apis answered HTTP ${probe.status}: ${text}); ` +
        "a template with AWS::Serverless::HttpApi resources or HttpApi/Api events needs a platform that does",
    );
  }
  await probe.body?.cancel();
  type ApiItem = {
    apiId: string;
    name: string;
    description?: string;
    corsConfiguration?: Record<string, unknown>;
    tags?: Record<string, string>;
  };
  const apis = new Map<string, CurrentApi>();
  for (const a of await all<ApiItem>(client, "/v2/apis")) {
    const logicalId = a.tags?.["nimbus:logical-id"];
    if (a.tags?.["nimbus:stack"] !== stackName || !logicalId) continue;
    const base = `/v2/apis/${encodeURIComponent(a.apiId)}`;
    apis.set(logicalId, {
      apiId: a.apiId,
      name: a.name,
      ...(a.description === undefined ? {} : { description: a.description }),
      ...(a.corsConfiguration ? { corsConfiguration: a.corsConfiguration } : {}),
      routes: await all(client, `${base}/routes`),
      integrations: await all(client, `${base}/integrations`),
      authorizers: await all(client, `${base}/authorizers`),
      stages: await all(client, `${base}/stages`),
    });
  }
  return apis;
}
