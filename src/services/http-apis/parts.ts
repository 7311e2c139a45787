/**
 * An HTTP API's parts (routes, integrations, authorizers, stages) built from the management
 * API's inputs: each builder checks an input against the API it joins (the integration a route
 * targets, the authorizer's type, a stage's deployment) and the function it names, and returns
 * the part or throws every problem at once. Creation and update share one builder: an update is
 * the current part with the given fields laid over it, checked whole. Also the parts of a quick
 * create, and a stage's settings taken out one at a time.
 */
import { parseFunctionArn } from "../../protocol/function.js";
import { invalidInput, NimbusError } from "../../shared/errors.js";
import { partId } from "./ids.js";
import type { ApiAuthorizer, ApiIntegration, ApiRoute, ApiStage, HttpApi, RouteSettings } from "./model.js";
import { checkRouteKey, DEFAULT_ROUTE_KEY } from "./route-keys.js";
import {
  type AuthorizerSpec,
  checkAccessLog,
  checkDescription,
  checkIdentitySources,
  checkIssuer,
  checkName,
  checkRouteKeyField,
  checkRouteSettings,
  checkStageVariables,
  checkTags,
  checkTimeout,
  checkTtl,
  DEFAULT_INTEGRATION_TIMEOUT_MS,
  EXPECTED,
  type Found,
  type IntegrationSpec,
  isAuthorizationType,
  isPayloadVersion,
  isStageName,
  problem,
  type RouteSpec,
  type StageSpec,
} from "./specs.js";

/** A REQUEST authorizer's cache when identity sources are given and no TTL is (API Gateway's default). */
const DEFAULT_REQUEST_AUTHORIZER_TTL_S = 300;
const INVOCATION_URI =
  /^arn:aws[a-zA-Z-]*:apigateway:[a-z0-9-]+:lambda:path\/2015-03-31\/functions\/(.+)\/invocations$/;
const TARGET = /^integrations\/([a-z0-9]+)$/;

/** Says whether a function exists, by ARN (qualified or not) or name. */
export type FunctionExists = (functionArnOrName: string) => Promise<boolean>;

/**
 * The function ARN an integration or authorizer URI names: the ARN itself, or the one inside
 * API Gateway's `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations`.
 */
export function functionArnOf(uri: string): string | undefined {
  const arn = INVOCATION_URI.exec(uri)?.[1] ?? uri;
  return parseFunctionArn(arn) ? arn : undefined;
}

/** Whether `uri` names an existing function; pushes the problem when it does not. */
async function checkFunctionUri(
  found: Found,
  field: string,
  uri: string | undefined,
  expected: string,
  exists: FunctionExists,
): Promise<void> {
  if (uri === undefined) {
    found.push(problem(field, uri, "required", expected));
    return;
  }
  const arn = functionArnOf(uri);
  if (arn === undefined) found.push(problem(field, uri, "pattern", expected));
  else if (!(await exists(arn))) found.push(problem(field, uri, "exists", expected));
}

export function report(found: Found): void {
  if (found.length > 0) throw invalidInput(found);
}

/** A route as `spec` lays it over `current` (none: a new route with `routeId`). */
export function buildRoute(api: HttpApi, routeId: string, spec: RouteSpec, current?: ApiRoute): ApiRoute {
  const found: Found = [];
  const routeKey = spec.routeKey ?? current?.routeKey;
  checkRouteKeyField(found, "routeKey", routeKey);
  const target = spec.target ?? current?.target;
  if (target !== undefined && target !== "") {
    const id = TARGET.exec(target)?.[1];
    if (id === undefined || !api.integrations.some((i) => i.integrationId === id))
      found.push(problem("target", target, id === undefined ? "pattern" : "exists", EXPECTED.target));
  }
  const typeRaw = spec.authorizationType ?? current?.authorizationType ?? "NONE";
  // Without an authorizer the ones given for the old type go: NONE needs no authorizer id.
  const clearing = spec.authorizationType !== undefined && spec.authorizerId === undefined;
  const authorizerId = spec.authorizerId ?? (clearing ? undefined : current?.authorizerId);
  const scopes = spec.authorizationScopes ?? (clearing ? undefined : current?.authorizationScopes);
  if (!isAuthorizationType(typeRaw)) {
    found.push(problem("authorizationType", typeRaw, "oneOf", EXPECTED.authorizationType));
  } else if (typeRaw === "JWT" || typeRaw === "CUSTOM") {
    const wanted = typeRaw === "JWT" ? "JWT" : "REQUEST";
    const expected = `name a ${wanted} authorizer of this API (authorizationType ${typeRaw})`;
    const authorizer = api.authorizers.find((a) => a.authorizerId === authorizerId);
    if (authorizerId === undefined) found.push(problem("authorizerId", authorizerId, "required", expected));
    else if (!authorizer) found.push(problem("authorizerId", authorizerId, "exists", expected));
    else if (authorizer.authorizerType !== wanted)
      found.push(problem("authorizerId", authorizerId, "consistent", expected));
  } else if (authorizerId !== undefined) {
    found.push(
      problem(
        "authorizerId",
        authorizerId,
        "consistent",
        `be given only with authorizationType JWT or CUSTOM`,
      ),
    );
  }
  if (scopes !== undefined && scopes.length > 0 && typeRaw !== "JWT")
    found.push(
      problem("authorizationScopes", scopes, "consistent", "be given only with authorizationType JWT"),
    );
  report(found);
  return {
    routeId,
    routeKey: routeKey!,
    target: target === "" ? undefined : target,
    authorizationType: typeRaw as ApiRoute["authorizationType"],
    authorizerId,
    authorizationScopes: scopes !== undefined && scopes.length > 0 ? [...scopes] : undefined,
  };
}

export async function buildIntegration(
  integrationId: string,
  spec: IntegrationSpec,
  exists: FunctionExists,
  current?: ApiIntegration,
): Promise<ApiIntegration> {
  const found: Found = [];
  const type = spec.integrationType ?? current?.integrationType;
  if (type !== "AWS_PROXY")
    found.push(
      problem("integrationType", type, type === undefined ? "required" : "oneOf", EXPECTED.integrationType),
    );
  const uri = spec.integrationUri ?? current?.integrationUri;
  // An unchanged URI is not judged again: its function may be gone, and the route answers 500.
  if (spec.integrationUri !== undefined || current === undefined)
    await checkFunctionUri(found, "integrationUri", uri, EXPECTED.integrationUri, exists);
  const version = spec.payloadFormatVersion ?? current?.payloadFormatVersion;
  if (!isPayloadVersion(version))
    found.push(
      problem(
        "payloadFormatVersion",
        version,
        version === undefined ? "required" : "oneOf",
        EXPECTED.payloadFormatVersion,
      ),
    );
  checkTimeout(found, spec.timeoutInMillis);
  checkDescription(found, spec.description);
  report(found);
  return {
    integrationId,
    integrationType: "AWS_PROXY",
    integrationUri: uri!,
    payloadFormatVersion: version as ApiIntegration["payloadFormatVersion"],
    timeoutInMillis: spec.timeoutInMillis ?? current?.timeoutInMillis ?? DEFAULT_INTEGRATION_TIMEOUT_MS,
    description: spec.description ?? current?.description,
  };
}

export async function buildAuthorizer(
  api: HttpApi,
  authorizerId: string,
  spec: AuthorizerSpec,
  exists: FunctionExists,
  current?: ApiAuthorizer,
): Promise<ApiAuthorizer> {
  const found: Found = [];
  const name = spec.name ?? current?.name;
  checkName(found, "name", name);
  const type = spec.authorizerType ?? current?.authorizerType;
  const identitySource = spec.identitySource ?? current?.identitySource ?? [];
  checkIdentitySources(found, identitySource);
  if (type === "JWT") {
    const jwt = spec.jwtConfiguration ?? current?.jwtConfiguration;
    checkIssuer(found, jwt?.issuer);
    const audience = jwt?.audience ?? [];
    if (audience.length === 0 || audience.some((a) => a === ""))
      found.push(
        problem(
          "jwtConfiguration.audience",
          jwt?.audience,
          jwt?.audience === undefined ? "required" : "entries",
          EXPECTED.audience,
        ),
      );
    if (identitySource.length !== 1 || !identitySource[0]!.startsWith("$request.header."))
      found.push(problem("identitySource", identitySource, "pattern", EXPECTED.jwtIdentitySource));
    keepType(found, api, authorizerId, current, "JWT");
    for (const field of ["authorizerUri", "authorizerPayloadFormatVersion", "enableSimpleResponses"] as const)
      if (spec[field] !== undefined)
        found.push(problem(field, spec[field], "consistent", "be given only for REQUEST authorizers"));
    report(found);
    return {
      authorizerId,
      name: name!,
      authorizerType: "JWT",
      identitySource: [...identitySource],
      jwtConfiguration: { issuer: jwt!.issuer!, audience: [...audience] },
    };
  }
  if (type !== "REQUEST") {
    found.push(
      problem("authorizerType", type, type === undefined ? "required" : "oneOf", EXPECTED.authorizerType),
    );
    report(found);
  }
  if (spec.jwtConfiguration !== undefined)
    found.push(
      problem("jwtConfiguration", spec.jwtConfiguration, "consistent", "be given only for JWT authorizers"),
    );
  const uri = spec.authorizerUri ?? current?.authorizerUri;
  if (spec.authorizerUri !== undefined || current?.authorizerUri === undefined)
    await checkFunctionUri(found, "authorizerUri", uri, EXPECTED.authorizerUri, exists);
  const version = spec.authorizerPayloadFormatVersion ?? current?.authorizerPayloadFormatVersion;
  if (!isPayloadVersion(version))
    found.push(
      problem(
        "authorizerPayloadFormatVersion",
        version,
        version === undefined ? "required" : "oneOf",
        EXPECTED.payloadFormatVersion,
      ),
    );
  const simple = spec.enableSimpleResponses ?? current?.enableSimpleResponses ?? false;
  if (simple && version === "1.0")
    found.push(
      problem(
        "enableSimpleResponses",
        true,
        "consistent",
        "be false with authorizerPayloadFormatVersion 1.0",
      ),
    );
  checkTtl(found, spec.authorizerResultTtlInSeconds);
  const ttl =
    spec.authorizerResultTtlInSeconds ??
    current?.authorizerResultTtlInSeconds ??
    (identitySource.length > 0 ? DEFAULT_REQUEST_AUTHORIZER_TTL_S : 0);
  // The cache is keyed by the identity sources' values: without any, nothing can be cached.
  if (ttl > 0 && identitySource.length === 0)
    found.push(
      problem(
        "identitySource",
        identitySource,
        "required",
        "name at least one identity source when authorizerResultTtlInSeconds is above 0 (the cache's key)",
      ),
    );
  keepType(found, api, authorizerId, current, "REQUEST");
  report(found);
  return {
    authorizerId,
    name: name!,
    authorizerType: "REQUEST",
    identitySource: [...identitySource],
    authorizerUri: uri!,
    authorizerPayloadFormatVersion: version as ApiAuthorizer["authorizerPayloadFormatVersion"],
    enableSimpleResponses: simple,
    authorizerResultTtlInSeconds: ttl,
  };
}

/** A route must not be left naming an authorizer of the other type than its authorizationType wants. */
function keepType(
  found: Found,
  api: HttpApi,
  authorizerId: string,
  current: ApiAuthorizer | undefined,
  type: "JWT" | "REQUEST",
): void {
  if (current === undefined || current.authorizerType === type) return;
  const using = api.routes.find((r) => r.authorizerId === authorizerId);
  if (using)
    found.push(
      problem(
        "authorizerType",
        type,
        "consistent",
        `stay ${current.authorizerType}: route '${using.routeKey}' uses it as one`,
      ),
    );
}

/** A stage as `spec` lays it over `current`; `deployments` are the API's deployment ids. */
export function buildStage(
  api: HttpApi,
  spec: StageSpec,
  deployments: ReadonlySet<string>,
  now: number,
  current?: ApiStage,
): ApiStage {
  const found: Found = [];
  const stageName = current?.stageName ?? spec.stageName;
  if (stageName === undefined || !isStageName(stageName))
    found.push(
      problem("stageName", stageName, stageName === undefined ? "required" : "pattern", EXPECTED.stageName),
    );
  checkDescription(found, spec.description);
  const autoDeploy = spec.autoDeploy ?? current?.autoDeploy ?? false;
  if (spec.deploymentId !== undefined) {
    if (autoDeploy)
      found.push(
        problem(
          "deploymentId",
          spec.deploymentId,
          "consistent",
          "not be set on a stage with autoDeploy: it deploys itself",
        ),
      );
    else if (!deployments.has(spec.deploymentId))
      found.push(problem("deploymentId", spec.deploymentId, "exists", "name a deployment of this API"));
  }
  checkStageVariables(found, spec.stageVariables);
  checkRouteSettings(found, "defaultRouteSettings", spec.defaultRouteSettings);
  for (const [key, settings] of Object.entries(spec.routeSettings ?? {})) {
    if ("error" in checkRouteKey(key) || !api.routes.some((r) => r.routeKey === key))
      found.push(problem("routeSettings", key, "key", "be the route keys of this API's routes"));
    else checkRouteSettings(found, `routeSettings.${key}`, settings);
  }
  checkAccessLog(found, spec.accessLogSettings);
  const tags = "tags" in spec ? spec.tags : undefined;
  checkTags(found, tags);
  report(found);
  const log = spec.accessLogSettings;
  return {
    stageName: stageName!,
    description: spec.description ?? current?.description,
    autoDeploy,
    deploymentId: spec.deploymentId ?? current?.deploymentId,
    stageVariables: { ...(spec.stageVariables ?? current?.stageVariables ?? {}) },
    defaultRouteSettings: settingsOf(spec.defaultRouteSettings) ?? current?.defaultRouteSettings,
    routeSettings: spec.routeSettings
      ? Object.fromEntries(Object.entries(spec.routeSettings).map(([k, s]) => [k, settingsOf(s) ?? {}]))
      : (current?.routeSettings ?? {}),
    accessLogSettings: log
      ? { destinationArn: log.destinationArn!, format: log.format! }
      : current?.accessLogSettings,
    tags: { ...(current?.tags ?? tags ?? {}) },
    createdAt: current?.createdAt ?? now,
    lastUpdatedAt: now,
  };
}

function settingsOf(s: RouteSettings | undefined): RouteSettings | undefined {
  if (s === undefined) return undefined;
  return {
    ...(s.throttlingBurstLimit === undefined ? {} : { throttlingBurstLimit: s.throttlingBurstLimit }),
    ...(s.throttlingRateLimit === undefined ? {} : { throttlingRateLimit: s.throttlingRateLimit }),
  };
}

/** The integration and route of API Gateway's quick create: `target` on `routeKey` (default `$default`). */
export function quickParts(
  target: string,
  routeKey: string | undefined,
): Pick<HttpApi, "routes" | "integrations"> {
  const integrationId = partId([]);
  const integration: ApiIntegration = {
    integrationId,
    integrationType: "AWS_PROXY",
    integrationUri: target,
    payloadFormatVersion: "2.0",
    timeoutInMillis: DEFAULT_INTEGRATION_TIMEOUT_MS,
  };
  const route: ApiRoute = {
    routeId: partId([integrationId]),
    routeKey: routeKey ?? DEFAULT_ROUTE_KEY,
    target: `integrations/${integrationId}`,
    authorizationType: "NONE",
  };
  return { routes: [route], integrations: [integration] };
}

/** Quick create's `$default` stage, auto-deployed, serving `deploymentId`. */
export function quickStage(deploymentId: string, now: number): ApiStage {
  return {
    stageName: "$default",
    autoDeploy: true,
    deploymentId,
    stageVariables: {},
    routeSettings: {},
    createdAt: now,
    lastUpdatedAt: now,
  };
}

/** `stage` without the route settings of `routeKey`; NotFound when it has none. */
export function withoutRouteSettings(
  apiId: string,
  stage: ApiStage,
  routeKey: string,
  now: number,
): ApiStage {
  if (!(routeKey in stage.routeSettings))
    throw new NimbusError(
      "NotFound",
      `Invalid route settings identifier specified ${apiId}:${stage.stageName}:${routeKey}: the stage has no settings for that route key`,
    );
  const { [routeKey]: _gone, ...rest } = stage.routeSettings;
  return { ...stage, routeSettings: rest, lastUpdatedAt: now };
}
