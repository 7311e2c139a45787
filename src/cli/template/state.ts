/**
 * Reads what a stack's plan compares against, through the platform's APIs: each function's
 * configuration, its AutoPublishAlias and that version's configuration, its URL; every
 * function's tags (which say the stack a function belongs to, if any); the HTTP APIs tagged
 * with the stack's name, with their routes, integrations, authorizers and stages; the queues
 * and event source mappings (`queue-state.ts`); the stack's schedule group and schedules
 * (`schedule-state.ts`).
 */
import type { NimbusClient } from "../client.js";
import { functionPath } from "../commands/functions.js";
import { urlPath } from "../commands/urls.js";
import { STACK_TAG } from "./ownership.js";
import type { CurrentApi, CurrentFunction, CurrentState, LambdaConfig, UrlConfig } from "./plan.js";
import { readMappings, readQueues } from "./queue-state.js";
import { readSchedules } from "./schedule-state.js";
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

/** Where the platform is, as its ARNs say: what AWS::Region and AWS::AccountId resolve to. */
export interface PlatformPlace {
  readonly region: string;
  /** Undefined only on a platform too old to answer `GET /nimbus/v1/platform`. */
  readonly accountId: string | undefined;
  /** The platform's address as the client reaches it: queue URLs are given on it. */
  readonly endpoint: string;
}

/** The platform's region and account id, from Nimbus's API: Lambda's has no operation that tells them. */
export async function readPlatform(client: NimbusClient, fallbackRegion: string): Promise<PlatformPlace> {
  const p = await optional<{ region: string; accountId: string }>(client, "/nimbus/v1/platform");
  return { ...(p ?? { region: fallbackRegion, accountId: undefined }), endpoint: client.endpoint };
}

/** How many ListTags calls are in flight at once while reading every function's tags. */
const TAG_READS_IN_FLIGHT = 8;

/** Every function's tags, by name: Lambda's ListFunctions does not carry them, so one ListTags each. */
async function readAllTags(client: NimbusClient): Promise<Map<string, Record<string, string>>> {
  const arns: Array<[string, string]> = [];
  let marker: string | undefined;
  do {
    const page = await client.json<{
      Functions: Array<{ FunctionName: string; FunctionArn: string }>;
      NextMarker?: string;
    }>("GET", "/2015-03-31/functions", {
      query: { MaxItems: "1000", ...(marker ? { Marker: marker } : {}) },
    });
    for (const f of page.Functions) arns.push([f.FunctionName, f.FunctionArn]);
    marker = page.NextMarker;
  } while (marker);
  const tags = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += TAG_READS_IN_FLIGHT) {
    await Promise.all(
      arns.slice(i, i + TAG_READS_IN_FLIGHT).map(async ([name, arn]) => {
        // A function deleted since the listing is simply not there.
        const got = await optional<{ Tags?: Record<string, string> }>(
          client,
          `/2017-03-31/tags/${encodeURIComponent(arn)}`,
        );
        if (got) tags.set(name, got.Tags ?? {});
      }),
    );
  }
  return tags;
}

export async function readState(
  client: NimbusClient,
  stack: StackSpec,
  place: PlatformPlace,
): Promise<CurrentState> {
  const tags = await readAllTags(client);
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
    functions.set(fn.name, { config, alias, url, tags: tags.get(fn.name) ?? {} });
  }
  const apis = await readApis(client, stack.stackName, stack.apis.length > 0);
  const queues = await readQueues(client, stack, stack.queues.length > 0);
  const schedules = await readSchedules(client, stack, stack.schedules.length > 0);
  const owned = [...tags].filter(([, t]) => t[STACK_TAG] === stack.stackName).map(([name]) => name);
  return {
    region: place.region,
    accountId: place.accountId,
    functions,
    functionTags: tags,
    apis,
    queueTags: queues.tags,
    queues: queues.queues,
    mappings: await readMappings(client, owned),
    scheduleGroup: schedules.group,
    schedules: schedules.schedules,
  };
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

/**
 * The stack's HTTP APIs by logical id: those whose tags name the stack. `needed`: the template
 * declares some; a platform without HTTP APIs is then an error, else it simply has none.
 */
async function readApis(
  client: NimbusClient,
  stackName: string,
  needed: boolean,
): Promise<Map<string, CurrentApi>> {
  const probe = await client.request("GET", "/v2/apis", APIGATEWAY);
  if (probe.status >= 300 && !needed) {
    await probe.body?.cancel();
    return new Map();
  }
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
