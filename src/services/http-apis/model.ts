/**
 * HTTP APIs as the platform keeps them: one document per API (its routes, integrations,
 * authorizers and stages), and deployments, each a frozen copy of what a stage serves. The
 * management API and templates change the document; a deployment (made by hand, or after every
 * change on a stage with auto-deploy) is what requests are served from, so a half-made change
 * is never live. Field names follow API Gateway v2's model in camel case; times are epoch ms.
 */
import type { CorsSettings } from "../../protocol/cors.js";

/** CORS of an API, answered by the platform for every route (API Gateway's `CorsConfiguration`). */
export type ApiCors = CorsSettings;

export type AuthorizationType = "NONE" | "JWT" | "AWS_IAM" | "CUSTOM";

export interface ApiRoute {
  readonly routeId: string;
  /** `$default`, or `METHOD /path` (`GET /items/{id}`, `ANY /{proxy+}`). */
  readonly routeKey: string;
  /** `integrations/{integrationId}`; none: the route answers 404 as if absent. */
  readonly target?: string | undefined;
  readonly authorizationType: AuthorizationType;
  readonly authorizerId?: string | undefined;
  /** Scopes a JWT must carry one of (JWT routes only). */
  readonly authorizationScopes?: readonly string[] | undefined;
}

export interface ApiIntegration {
  readonly integrationId: string;
  /** Functions only: the function is invoked with the request as its event. */
  readonly integrationType: "AWS_PROXY";
  /** A function ARN (qualified or not), or API Gateway's `arn:aws:apigateway:…/functions/{arn}/invocations`. */
  readonly integrationUri: string;
  readonly payloadFormatVersion: "1.0" | "2.0";
  /** 50 to 30,000 ms; the function's own timeout still applies. */
  readonly timeoutInMillis: number;
  readonly description?: string | undefined;
}

export interface ApiAuthorizer {
  readonly authorizerId: string;
  readonly name: string;
  readonly authorizerType: "JWT" | "REQUEST";
  /** Identity source expressions: `$request.header.Authorization`, `$request.querystring.token`. */
  readonly identitySource: readonly string[];
  /** JWT authorizers. */
  readonly jwtConfiguration?: { readonly issuer: string; readonly audience: readonly string[] } | undefined;
  /** REQUEST (Lambda) authorizers: the function's ARN, or API Gateway's invocation URI of it. */
  readonly authorizerUri?: string | undefined;
  readonly authorizerPayloadFormatVersion?: "1.0" | "2.0" | undefined;
  readonly enableSimpleResponses?: boolean | undefined;
  /** 0 to 3,600 s; 0 disables the cache. */
  readonly authorizerResultTtlInSeconds?: number | undefined;
}

export interface RouteSettings {
  readonly throttlingBurstLimit?: number | undefined;
  readonly throttlingRateLimit?: number | undefined;
}

export interface ApiStage {
  /** `$default` serves at the API's root; any other name serves under `/{stageName}/`. */
  readonly stageName: string;
  readonly description?: string | undefined;
  readonly autoDeploy: boolean;
  /** The deployment it serves; none: it serves nothing yet (404). */
  readonly deploymentId?: string | undefined;
  readonly stageVariables: Readonly<Record<string, string>>;
  readonly defaultRouteSettings?: RouteSettings | undefined;
  /** By route key. */
  readonly routeSettings: Readonly<Record<string, RouteSettings>>;
  /** Access logs: a format of `$context` variables, written to the platform's log under `destination`. */
  readonly accessLogSettings?: { readonly destinationArn: string; readonly format: string } | undefined;
  /** Its own tags (absent in stages stored before stages had any: none). */
  readonly tags?: Readonly<Record<string, string>> | undefined;
  readonly createdAt: number;
  readonly lastUpdatedAt: number;
}

export interface HttpApi {
  /** 10 lower-case letters and digits: the first label of `{apiId}.execute-api.localhost`. */
  readonly apiId: string;
  readonly name: string;
  readonly description?: string | undefined;
  readonly version?: string | undefined;
  readonly corsConfiguration?: ApiCors | undefined;
  readonly disableExecuteApiEndpoint: boolean;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly routes: readonly ApiRoute[];
  readonly integrations: readonly ApiIntegration[];
  readonly authorizers: readonly ApiAuthorizer[];
  readonly stages: readonly ApiStage[];
}

/** What a stage serves: the routes, integrations, authorizers and CORS as they were deployed. */
export interface ApiDeployment {
  readonly apiId: string;
  readonly deploymentId: string;
  readonly description?: string | undefined;
  /** Made by a stage's auto-deploy rather than by CreateDeployment. */
  readonly autoDeployed: boolean;
  readonly createdAt: number;
  readonly routes: readonly ApiRoute[];
  readonly integrations: readonly ApiIntegration[];
  readonly authorizers: readonly ApiAuthorizer[];
  readonly corsConfiguration?: ApiCors | undefined;
}

/**
 * What the serving surface reads on every request, from memory: the API and the deployment a
 * stage names. The service keeps both current; the surface compiles a deployment once (router,
 * authorizers, throttles) and keeps the compiled form while the deployment id stays the same.
 */
export interface HttpApiReader {
  api(apiId: string): HttpApi | undefined;
  deployment(apiId: string, deploymentId: string): ApiDeployment | undefined;
  /** How many times ResetAuthorizersCache was called on the stage: a change clears its Lambda authorizers' caches. */
  authorizersReset(apiId: string, stageName: string): number;
}
