/**
 * API Gateway v2's request bodies, checked for shape and turned into the service's inputs. The
 * wire's names are the service's (lower camel case, `routeKey`, `corsConfiguration`), so a
 * member of the wrong type is reported under the name the caller sent; the service judges the
 * values. Members Nimbus has no use for (`apiKeyRequired`, `requestParameters`,
 * `routeSelectionExpression`…) are accepted and ignored, so templates written for API Gateway
 * deploy unchanged.
 */

import type { ApiCors, RouteSettings } from "../../../services/http-apis/model.js";
import type {
  ApiPatch,
  ApiSpec,
  AuthorizerSpec,
  DeploymentSpec,
  IntegrationSpec,
  RouteSpec,
  StagePatch,
  StageSpec,
} from "../../../services/http-apis/specs.js";
import { invalidInput, NimbusError, type Problem } from "../../../shared/errors.js";

type Body = Record<string, unknown>;

/** Reads members of one object, collecting a problem for each of the wrong type. */
class Fields {
  readonly problems: Problem[];
  readonly #body: Body;
  readonly #prefix: string;

  constructor(body: Body, prefix = "", problems: Problem[] = []) {
    this.#body = body;
    this.#prefix = prefix;
    this.problems = problems;
  }

  #get(key: string, expected: string, ok: (v: unknown) => boolean): unknown {
    const v = this.#body[key];
    if (v === undefined || v === null) return undefined;
    if (ok(v)) return v;
    this.problems.push({ field: this.#prefix + key, value: v, rule: "type", expected });
    return undefined;
  }

  string(key: string): string | undefined {
    return this.#get(key, "be a string", (v) => typeof v === "string") as string | undefined;
  }

  boolean(key: string): boolean | undefined {
    return this.#get(key, "be true or false", (v) => typeof v === "boolean") as boolean | undefined;
  }

  number(key: string): number | undefined {
    return this.#get(key, "be a number", (v) => typeof v === "number") as number | undefined;
  }

  strings(key: string): string[] | undefined {
    return this.#get(
      key,
      "be a list of strings",
      (v) => Array.isArray(v) && v.every((s) => typeof s === "string"),
    ) as string[] | undefined;
  }

  map(key: string): Record<string, string> | undefined {
    return this.#get(
      key,
      "be an object of string values",
      (v) => isObject(v) && Object.values(v).every((s) => typeof s === "string"),
    ) as Record<string, string> | undefined;
  }

  object(key: string): Fields | undefined {
    const v = this.#get(key, "be an object", isObject) as Body | undefined;
    return v && new Fields(v, `${this.#prefix}${key}.`, this.problems);
  }

  keys(): string[] {
    return Object.keys(this.#body);
  }

  /** Throws every problem found; returns `value` when there is none. */
  done<T>(value: T): T {
    if (this.problems.length > 0) throw invalidInput(this.problems);
    return value;
  }
}

function isObject(v: unknown): v is Body {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function cors(f: Fields): ApiCors | undefined {
  const c = f.object("corsConfiguration");
  if (!c) return undefined;
  return strip({
    allowCredentials: c.boolean("allowCredentials"),
    allowHeaders: c.strings("allowHeaders"),
    allowMethods: c.strings("allowMethods"),
    allowOrigins: c.strings("allowOrigins"),
    exposeHeaders: c.strings("exposeHeaders"),
    maxAge: c.number("maxAge"),
  });
}

/** Without its undefined members: what is stored is what was given. */
function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function createApi(body: Body): ApiSpec {
  const f = new Fields(body);
  return f.done({
    name: f.string("name"),
    protocolType: f.string("protocolType"),
    description: f.string("description"),
    version: f.string("version"),
    corsConfiguration: cors(f),
    disableExecuteApiEndpoint: f.boolean("disableExecuteApiEndpoint"),
    tags: f.map("tags"),
    target: f.string("target"),
    routeKey: f.string("routeKey"),
  });
}

export function updateApi(body: Body): ApiPatch {
  const f = new Fields(body);
  for (const key of ["target", "routeKey"])
    if (body[key] !== undefined)
      throw new NimbusError(
        "InvalidParameter",
        `${key} is for quick create only (CreateApi): change the API's routes and integrations instead`,
      );
  return f.done({
    name: f.string("name"),
    description: f.string("description"),
    version: f.string("version"),
    corsConfiguration: cors(f),
    disableExecuteApiEndpoint: f.boolean("disableExecuteApiEndpoint"),
  });
}

export function route(body: Body): RouteSpec {
  const f = new Fields(body);
  return f.done({
    routeKey: f.string("routeKey"),
    target: f.string("target"),
    authorizationType: f.string("authorizationType"),
    authorizerId: f.string("authorizerId"),
    authorizationScopes: f.strings("authorizationScopes"),
  });
}

export function integration(body: Body): IntegrationSpec {
  const f = new Fields(body);
  return f.done({
    integrationType: f.string("integrationType"),
    integrationUri: f.string("integrationUri"),
    payloadFormatVersion: f.string("payloadFormatVersion"),
    timeoutInMillis: f.number("timeoutInMillis"),
    description: f.string("description"),
  });
}

export function authorizer(body: Body): AuthorizerSpec {
  const f = new Fields(body);
  const jwt = f.object("jwtConfiguration");
  const jwtConfiguration = jwt && strip({ issuer: jwt.string("issuer"), audience: jwt.strings("audience") });
  return f.done({
    name: f.string("name"),
    authorizerType: f.string("authorizerType"),
    identitySource: f.strings("identitySource"),
    jwtConfiguration: jwtConfiguration as AuthorizerSpec["jwtConfiguration"],
    authorizerUri: f.string("authorizerUri"),
    authorizerPayloadFormatVersion: f.string("authorizerPayloadFormatVersion"),
    enableSimpleResponses: f.boolean("enableSimpleResponses"),
    authorizerResultTtlInSeconds: f.number("authorizerResultTtlInSeconds"),
  });
}

function routeSettings(f: Fields | undefined): RouteSettings | undefined {
  return (
    f &&
    strip({
      throttlingBurstLimit: f.number("throttlingBurstLimit"),
      throttlingRateLimit: f.number("throttlingRateLimit"),
    })
  );
}

function stageFields(f: Fields): StagePatch {
  const perRoute = f.object("routeSettings");
  const settings =
    perRoute &&
    Object.fromEntries(perRoute.keys().map((key) => [key, routeSettings(perRoute.object(key)) ?? {}]));
  const log = f.object("accessLogSettings");
  return {
    description: f.string("description"),
    autoDeploy: f.boolean("autoDeploy"),
    deploymentId: f.string("deploymentId"),
    stageVariables: f.map("stageVariables"),
    defaultRouteSettings: routeSettings(f.object("defaultRouteSettings")),
    routeSettings: settings,
    accessLogSettings:
      log && strip({ destinationArn: log.string("destinationArn"), format: log.string("format") }),
  };
}

export function createStage(body: Body): StageSpec {
  const f = new Fields(body);
  const stageName = f.string("stageName");
  return f.done({ stageName, ...stageFields(f), tags: f.map("tags") });
}

export function updateStage(body: Body): StagePatch {
  const f = new Fields(body);
  return f.done(stageFields(f));
}

export function deployment(body: Body): DeploymentSpec {
  const f = new Fields(body);
  return f.done({ stageName: f.string("stageName"), description: f.string("description") });
}

export function updateDeployment(body: Body): { description?: string | undefined } {
  const f = new Fields(body);
  return f.done({ description: f.string("description") });
}

/** TagResource's body: `{"tags": {…}}`, the tags required. */
export function tags(body: Body): Readonly<Record<string, string>> {
  const f = new Fields(body);
  const { tags } = f.done({ tags: f.map("tags") });
  if (tags === undefined)
    throw invalidInput([
      { field: "tags", value: undefined, rule: "required", expected: "be a map of tag keys to values" },
    ]);
  return tags;
}

/** `maxResults` as API Gateway takes it: a string of an integer from 1 to 500. */
export function maxResults(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw invalidInput([
      { field: "maxResults", value: raw, rule: "range", expected: "be an integer from 1 to 500" },
    ]);
  return n;
}
