/**
 * The service's records in API Gateway v2's wire shape (lower camel case, times as ISO 8601),
 * with the members API Gateway always answers for an HTTP API that Nimbus does not keep
 * (selection expressions, `connectionType`) filled in with the only values they can have here.
 */
import type {
  ApiAuthorizer,
  ApiDeployment,
  ApiIntegration,
  ApiRoute,
  ApiStage,
  HttpApi,
} from "../../../services/http-apis/model.js";

const iso = (ms: number) => new Date(ms).toISOString();

export function apiShape(api: HttpApi, apiEndpoint: string) {
  return {
    apiEndpoint,
    apiId: api.apiId,
    apiKeySelectionExpression: "$request.header.x-api-key",
    corsConfiguration: api.corsConfiguration,
    createdDate: iso(api.createdAt),
    description: api.description,
    disableExecuteApiEndpoint: api.disableExecuteApiEndpoint,
    name: api.name,
    protocolType: "HTTP",
    routeSelectionExpression: "$request.method $request.path",
    tags: api.tags,
    version: api.version,
  };
}

export function routeShape(r: ApiRoute) {
  return {
    apiKeyRequired: false,
    authorizationScopes: r.authorizationScopes,
    authorizationType: r.authorizationType,
    authorizerId: r.authorizerId,
    routeId: r.routeId,
    routeKey: r.routeKey,
    target: r.target,
  };
}

export function integrationShape(i: ApiIntegration) {
  return {
    connectionType: "INTERNET",
    description: i.description,
    integrationId: i.integrationId,
    integrationMethod: "POST",
    integrationType: i.integrationType,
    integrationUri: i.integrationUri,
    payloadFormatVersion: i.payloadFormatVersion,
    timeoutInMillis: i.timeoutInMillis,
  };
}

export function authorizerShape(a: ApiAuthorizer) {
  return {
    authorizerId: a.authorizerId,
    authorizerPayloadFormatVersion: a.authorizerPayloadFormatVersion,
    authorizerResultTtlInSeconds: a.authorizerResultTtlInSeconds,
    authorizerType: a.authorizerType,
    authorizerUri: a.authorizerUri,
    enableSimpleResponses: a.enableSimpleResponses,
    identitySource: a.identitySource,
    jwtConfiguration: a.jwtConfiguration,
    name: a.name,
  };
}

export function stageShape(s: ApiStage) {
  return {
    accessLogSettings: s.accessLogSettings,
    autoDeploy: s.autoDeploy,
    createdDate: iso(s.createdAt),
    defaultRouteSettings: s.defaultRouteSettings,
    deploymentId: s.deploymentId,
    description: s.description,
    lastUpdatedDate: iso(s.lastUpdatedAt),
    routeSettings: s.routeSettings,
    stageName: s.stageName,
    stageVariables: s.stageVariables,
    tags: s.tags ?? {},
  };
}

export function deploymentShape(d: ApiDeployment) {
  return {
    autoDeployed: d.autoDeployed,
    createdDate: iso(d.createdAt),
    deploymentId: d.deploymentId,
    deploymentStatus: "DEPLOYED",
    description: d.description,
  };
}

/**
 * One page of `items`: `nextToken` is the position of the next item, as the previous page
 * answered it (opaque to clients, which only hand it back).
 */
export function page<T>(items: readonly T[], maxResults: number | undefined, nextToken: string | undefined) {
  const start = nextToken === undefined || nextToken === "" ? 0 : Number.parseInt(nextToken, 10) || 0;
  const end = maxResults === undefined ? items.length : start + maxResults;
  return { items: items.slice(start, end), nextToken: end < items.length ? String(end) : undefined };
}
