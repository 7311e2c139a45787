/**
 * What a stage serves, compiled once: the deployment's routes in a router, each route with its
 * integration's function and its authorizer resolved; the stage's throttle; its access-log
 * format; the deployment's CORS. `ServedStages` keeps the compiled form per API and stage, so a
 * request that changes nothing costs two map lookups and a comparison.
 *
 * A compiled stage is rebuilt when the stage names another deployment or is updated (its
 * variables, throttling or access log changed): stage records are never changed in place, an
 * update makes a new one, so the cache keeps the record it compiled and compares identity (a
 * timestamp would miss two updates in one millisecond). Authorizers belong to the
 * deployment, not to the stage: a JWT authorizer (with the issuer's keys it fetched) and a
 * Lambda authorizer's cache are kept across rebuilds for the same deployment, and dropped when
 * no stage serves that deployment any more.
 *
 * Nothing here invokes a function: the surface calls the authorizer and the integration.
 */
import type { Clock } from "../../shared/clock.js";
import { type AccessLogFormat, compileAccessLogFormat } from "./access-log.js";
import { JwtAuthorizer } from "./jwt-authorizer.js";
import { LambdaAuthorizerCache } from "./lambda-authorizer-cache.js";
import type { ApiAuthorizer, ApiCors, ApiDeployment, ApiIntegration, ApiStage, HttpApi } from "./model.js";
import { compileRouter, type Router } from "./route-keys.js";
import { Throttle, type ThrottleSettings } from "./throttle.js";

/** A function as an integration or a Lambda authorizer names it. */
export interface FunctionTarget {
  readonly functionName: string;
  readonly qualifier: string | undefined;
}

export type RouteAuthorization =
  | { readonly kind: "NONE" }
  | { readonly kind: "AWS_IAM" }
  | { readonly kind: "JWT"; readonly authorizer: JwtAuthorizer; readonly scopes: readonly string[] }
  | {
      readonly kind: "CUSTOM";
      readonly cache: LambdaAuthorizerCache;
      readonly config: ApiAuthorizer;
      /** Undefined when the authorizer's URI names no function: every request answers 500. */
      readonly target: FunctionTarget | undefined;
    }
  /** The route names an authorizer the deployment lacks, or one that cannot be built: a 500 for every request. */
  | { readonly kind: "BROKEN"; readonly reason: string };

/** One route as the surface serves it. */
export interface ServedRoute {
  readonly routeKey: string;
  /** Undefined when the route has no target, or a target the deployment lacks: the route answers 404. */
  readonly integration: ApiIntegration | undefined;
  /** Undefined when the integration's URI names no function: a 500. */
  readonly target: FunctionTarget | undefined;
  readonly authorization: RouteAuthorization;
}

export interface ServedStage {
  readonly apiId: string;
  readonly stageName: string;
  readonly deploymentId: string;
  readonly router: Router<ServedRoute>;
  readonly throttle: Throttle;
  /** Undefined for a stage without variables (the event then omits them). */
  readonly stageVariables: Readonly<Record<string, string>> | undefined;
  readonly accessLog: { readonly format: AccessLogFormat; readonly destination: string } | undefined;
  readonly cors: ApiCors | undefined;
}

export interface ServeDeps {
  readonly clock: Clock;
  /** For JWT authorizers' discovery and key sets; default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** The authorizers of one deployment, kept while a stage serves it. */
interface DeploymentAuthorizers {
  readonly jwt: Map<string, JwtAuthorizer>;
  readonly lambda: Map<string, LambdaAuthorizerCache>;
}

/**
 * Compiles what `stage` serves from `deployment`. Throws (`InvalidParameter`) when the routes
 * cannot form a router or a stage setting is invalid; a route whose authorizer is broken
 * compiles to a route that answers 500, so one bad authorizer does not take down the stage.
 */
export function compileDeployment(
  api: HttpApi,
  deployment: ApiDeployment,
  stage: ApiStage,
  deps: ServeDeps,
  authorizers: DeploymentAuthorizers = { jwt: new Map(), lambda: new Map() },
): ServedStage {
  const integrations = new Map(deployment.integrations.map((i) => [i.integrationId, i]));
  const configs = new Map(deployment.authorizers.map((a) => [a.authorizerId, a]));
  const routes = deployment.routes.map((route) => {
    const integrationId = route.target?.startsWith("integrations/")
      ? route.target.slice("integrations/".length)
      : undefined;
    const integration = integrationId === undefined ? undefined : integrations.get(integrationId);
    const served: ServedRoute = {
      routeKey: route.routeKey,
      integration,
      target: integration === undefined ? undefined : parseFunctionUri(integration.integrationUri),
      authorization: authorizationOf(route.authorizationType, route.authorizerId, route.authorizationScopes),
    };
    return { routeKey: route.routeKey, target: served };
  });

  function authorizationOf(
    type: string,
    authorizerId: string | undefined,
    scopes: readonly string[] | undefined,
  ): RouteAuthorization {
    if (type === "NONE" || type === "AWS_IAM") return { kind: type };
    const config = authorizerId === undefined ? undefined : configs.get(authorizerId);
    if (config === undefined)
      return { kind: "BROKEN", reason: `the route's authorizer ${authorizerId ?? "(none)"} is not deployed` };
    try {
      if (type === "JWT") {
        if (config.jwtConfiguration === undefined)
          return { kind: "BROKEN", reason: `authorizer ${config.authorizerId} has no jwtConfiguration` };
        let jwt = authorizers.jwt.get(config.authorizerId);
        if (jwt === undefined) {
          jwt = new JwtAuthorizer(
            {
              issuer: config.jwtConfiguration.issuer,
              audience: config.jwtConfiguration.audience,
              ...(config.identitySource[0] === undefined ? {} : { identitySource: config.identitySource[0] }),
            },
            { clock: deps.clock, ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }) },
          );
          authorizers.jwt.set(config.authorizerId, jwt);
        }
        return { kind: "JWT", authorizer: jwt, scopes: scopes ?? [] };
      }
      let cache = authorizers.lambda.get(config.authorizerId);
      if (cache === undefined) {
        cache = new LambdaAuthorizerCache(
          {
            identitySources: config.identitySource,
            ...(config.authorizerResultTtlInSeconds === undefined
              ? {}
              : { ttlSeconds: config.authorizerResultTtlInSeconds }),
          },
          deps.clock,
        );
        authorizers.lambda.set(config.authorizerId, cache);
      }
      const target = config.authorizerUri === undefined ? undefined : parseFunctionUri(config.authorizerUri);
      return { kind: "CUSTOM", cache, config, target };
    } catch (err) {
      return {
        kind: "BROKEN",
        reason: `authorizer ${config.authorizerId}: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }

  const variables = Object.keys(stage.stageVariables).length > 0 ? stage.stageVariables : undefined;
  return {
    apiId: api.apiId,
    stageName: stage.stageName,
    deploymentId: deployment.deploymentId,
    router: compileRouter(routes),
    throttle: new Throttle(
      {
        ...(stage.defaultRouteSettings === undefined
          ? {}
          : { defaultRouteSettings: throttleOf(stage.defaultRouteSettings) }),
        routeSettings: Object.fromEntries(
          Object.entries(stage.routeSettings).map(([key, s]) => [key, throttleOf(s)]),
        ),
      },
      deps.clock,
    ),
    stageVariables: variables,
    accessLog:
      stage.accessLogSettings === undefined
        ? undefined
        : {
            format: compileAccessLogFormat(stage.accessLogSettings.format),
            destination: logNameOf(stage.accessLogSettings.destinationArn, api.apiId, stage.stageName),
          },
    cors: deployment.corsConfiguration,
  };
}

function throttleOf(s: {
  throttlingBurstLimit?: number | undefined;
  throttlingRateLimit?: number | undefined;
}) {
  const out: { -readonly [K in keyof ThrottleSettings]: ThrottleSettings[K] } = {};
  if (s.throttlingBurstLimit !== undefined) out.burstLimit = s.throttlingBurstLimit;
  if (s.throttlingRateLimit !== undefined) out.rateLimit = s.throttlingRateLimit;
  return out;
}

/**
 * The platform log an access log goes to: the log group a CloudWatch Logs ARN names
 * (`arn:aws:logs:{region}:{account}:log-group:{name}[:*]`), any other destination as written,
 * and `api:{apiId}/{stage}` for an empty one.
 */
export function logNameOf(destinationArn: string, apiId: string, stageName: string): string {
  const group = /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:([^:]+)(?::\*)?$/.exec(destinationArn);
  if (group !== null) return group[1]!;
  return destinationArn === "" ? `api:${apiId}/${stageName}` : destinationArn;
}

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,140}$/;
const QUALIFIER = /^(\$LATEST|[A-Za-z0-9_-]{1,128})$/;

/**
 * The function an integration or authorizer URI names: a function ARN, qualified or not
 * (`arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]`), that ARN inside API
 * Gateway's invocation URI (`arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations`),
 * or a bare `name[:qualifier]`. Undefined for anything else. Region and account are not
 * compared: one platform is one account.
 */
export function parseFunctionUri(uri: string): FunctionTarget | undefined {
  let arn = uri;
  const invocation =
    /^arn:[^:]+:apigateway:[^:]*:lambda:path\/2015-03-31\/functions\/(.+)\/invocations$/.exec(uri);
  if (invocation !== null) arn = invocation[1]!;
  let name: string | undefined;
  let qualifier: string | undefined;
  if (arn.startsWith("arn:")) {
    const parts = arn.split(":");
    if (parts.length < 7 || parts.length > 8 || parts[2] !== "lambda" || parts[5] !== "function")
      return undefined;
    name = parts[6];
    qualifier = parts[7];
  } else {
    const parts = arn.split(":");
    if (parts.length > 2) return undefined;
    [name, qualifier] = parts;
  }
  if (name === undefined || !FUNCTION_NAME.test(name)) return undefined;
  if (qualifier !== undefined && !QUALIFIER.test(qualifier)) return undefined;
  return { functionName: name, qualifier };
}

interface CachedStage {
  readonly deploymentId: string;
  /** The stage record compiled: an update replaces the record, never changes it. */
  readonly stage: ApiStage;
  /** The stage's ResetAuthorizersCache count its Lambda authorizers' caches were last cleared for. */
  readonly resets: number;
  readonly served: ServedStage | { readonly error: string };
}

/** Compiled stages by API and stage, kept while their deployment and settings stay the same. */
export class ServedStages {
  readonly #deps: ServeDeps;
  readonly #stages = new Map<string, Map<string, CachedStage>>();
  readonly #authorizers = new Map<string, Map<string, DeploymentAuthorizers>>();

  constructor(deps: ServeDeps) {
    this.#deps = deps;
  }

  /**
   * What `stage` serves from `deployment`, compiled on the first request after a change; an
   * `{ error }` (cached the same way) when the deployment cannot be compiled. When `resets` (the
   * stage's ResetAuthorizersCache count) moved, the deployment's Lambda authorizer caches are
   * cleared first.
   */
  get(
    api: HttpApi,
    stage: ApiStage,
    deployment: ApiDeployment,
    resets = 0,
  ): ServedStage | { readonly error: string } {
    let stages = this.#stages.get(api.apiId);
    const hit = stages?.get(stage.stageName);
    if ((hit?.resets ?? 0) !== resets) {
      for (const cache of this.#authorizers.get(api.apiId)?.get(deployment.deploymentId)?.lambda.values() ??
        [])
        cache.clear();
      if (hit !== undefined) stages!.set(stage.stageName, { ...hit, resets });
    }
    if (hit !== undefined && hit.deploymentId === deployment.deploymentId && hit.stage === stage)
      return hit.served;

    let byDeployment = this.#authorizers.get(api.apiId);
    if (byDeployment === undefined) {
      byDeployment = new Map();
      this.#authorizers.set(api.apiId, byDeployment);
    }
    let authorizers = byDeployment.get(deployment.deploymentId);
    if (authorizers === undefined) {
      authorizers = { jwt: new Map(), lambda: new Map() };
      byDeployment.set(deployment.deploymentId, authorizers);
    }
    let served: CachedStage["served"];
    try {
      served = compileDeployment(api, deployment, stage, this.#deps, authorizers);
    } catch (err) {
      served = { error: err instanceof Error ? err.message : String(err) };
    }
    if (stages === undefined) {
      stages = new Map();
      this.#stages.set(api.apiId, stages);
    }
    stages.set(stage.stageName, {
      deploymentId: deployment.deploymentId,
      stage,
      resets,
      served,
    });
    if (hit !== undefined && hit.deploymentId !== deployment.deploymentId) {
      const stillServed = [...stages.values()].some((s) => s.deploymentId === hit.deploymentId);
      if (!stillServed) byDeployment.delete(hit.deploymentId);
    }
    return served;
  }

  /** Forgets an API that is gone (its compiled stages and authorizers). */
  forget(apiId: string): void {
    this.#stages.delete(apiId);
    this.#authorizers.delete(apiId);
  }
}
