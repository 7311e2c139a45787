/**
 * The HTTP APIs service: every operation of API Gateway v2's management API on HTTP APIs, their
 * rules, and the reads the serving surface makes on each request (`HttpApiReader`). Memory,
 * the store and the order of writes are `writes.ts`'s: an operation here reads the current
 * document and says what the next one is.
 */
import type { Clock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import { newApiId, partId } from "./ids.js";
import type {
  ApiAuthorizer,
  ApiDeployment,
  ApiIntegration,
  ApiRoute,
  ApiStage,
  HttpApi,
  HttpApiReader,
} from "./model.js";
import {
  buildAuthorizer,
  buildIntegration,
  buildRoute,
  buildStage,
  type FunctionExists,
  functionArnOf,
  quickParts,
  quickStage,
  report,
  withoutRouteSettings,
} from "./parts.js";
import type { HttpApisRepo } from "./repo.js";
import {
  type ApiPatch,
  type ApiSpec,
  type AuthorizerSpec,
  checkCors,
  checkDescription,
  checkName,
  checkRouteKeyField,
  checkTags,
  checkVersion,
  type DeploymentSpec,
  EXPECTED,
  type Found,
  type IntegrationSpec,
  problem,
  type RouteSpec,
  type StagePatch,
  type StageSpec,
} from "./specs.js";
import { taggedOfArn, tagsOf, withoutTags, withTags } from "./tags.js";
import { ApiWrites, autoDeploy, findPart, withoutPart, withPart } from "./writes.js";

export interface HttpApisDeps {
  readonly store: HttpApisRepo;
  readonly clock: Clock;
  /** Whether a function exists, by ARN (qualified or not) or name: the registry's, from the composition root. */
  readonly functionExists: FunctionExists;
  readonly region: string;
  readonly accountId: string;
}

export class HttpApis implements HttpApiReader {
  readonly #clock: Clock;
  readonly #exists: FunctionExists;
  readonly #w: ApiWrites;
  /** ResetAuthorizersCache calls by `{apiId}/{stageName}`: memory only, as the caches are. */
  readonly #resets = new Map<string, number>();

  constructor(deps: HttpApisDeps) {
    this.#clock = deps.clock;
    this.#exists = deps.functionExists;
    const accountId = deps.accountId;
    this.#w = new ApiWrites({
      store: deps.store,
      clock: deps.clock,
      notFound: (apiId) =>
        new NimbusError("NotFound", `Invalid API identifier specified ${accountId}:${apiId}`),
    });
  }

  /** Loads every API and its deployments: before the gateway serves any. */
  start(): Promise<void> {
    return this.#w.load();
  }

  // ── HttpApiReader ──────────────────────────────────────────────────────────

  api(apiId: string): HttpApi | undefined {
    return this.#w.api(apiId);
  }

  deployment(apiId: string, deploymentId: string): ApiDeployment | undefined {
    return this.#w.deployment(apiId, deploymentId);
  }

  authorizersReset(apiId: string, stageName: string): number {
    return this.#resets.get(`${apiId}/${stageName}`) ?? 0;
  }

  // ── APIs ───────────────────────────────────────────────────────────────────

  /** CreateApi; with `target`, API Gateway's quick create: integration, route and `$default` stage. */
  async createApi(spec: ApiSpec): Promise<HttpApi> {
    const found: Found = [];
    checkName(found, "name", spec.name);
    if (spec.protocolType !== "HTTP")
      found.push(
        problem(
          "protocolType",
          spec.protocolType,
          spec.protocolType === undefined ? "required" : "oneOf",
          EXPECTED.protocolType,
        ),
      );
    checkDescription(found, spec.description);
    checkVersion(found, spec.version);
    checkTags(found, spec.tags);
    checkCors(found, spec.corsConfiguration);
    if (spec.target === undefined) {
      if (spec.routeKey !== undefined)
        found.push(
          problem("routeKey", spec.routeKey, "consistent", "be given only with target (quick create)"),
        );
    } else {
      const arn = functionArnOf(spec.target);
      if (arn === undefined || !(await this.#exists(arn)))
        found.push(
          problem("target", spec.target, arn === undefined ? "pattern" : "exists", EXPECTED.quickTarget),
        );
      if (spec.routeKey !== undefined) checkRouteKeyField(found, "routeKey", spec.routeKey);
    }
    report(found);

    const now = this.#clock.now();
    const apiId = newApiId((id) => this.#w.api(id) !== undefined);
    let api: HttpApi = {
      apiId,
      name: spec.name!,
      description: spec.description,
      version: spec.version,
      corsConfiguration: spec.corsConfiguration && { ...spec.corsConfiguration },
      disableExecuteApiEndpoint: spec.disableExecuteApiEndpoint ?? false,
      tags: { ...(spec.tags ?? {}) },
      createdAt: now,
      routes: [],
      integrations: [],
      authorizers: [],
      stages: [],
    };
    let deployment: ApiDeployment | undefined;
    if (spec.target !== undefined) {
      api = { ...api, ...quickParts(spec.target, spec.routeKey) };
      deployment = this.#w.snapshot(api, true, undefined);
      api = { ...api, stages: [quickStage(deployment.deploymentId, now)] };
    }
    await this.#w.create(api, deployment);
    return api;
  }

  getApi(apiId: string): HttpApi {
    return this.#w.existing(apiId);
  }

  /** Every API, in byte order of their ids. */
  listApis(): HttpApi[] {
    return [...this.#w.apis()].sort((a, b) => (a.apiId < b.apiId ? -1 : a.apiId > b.apiId ? 1 : 0));
  }

  async updateApi(apiId: string, patch: ApiPatch): Promise<HttpApi> {
    const found: Found = [];
    if (patch.name !== undefined) checkName(found, "name", patch.name);
    checkDescription(found, patch.description);
    checkVersion(found, patch.version);
    checkCors(found, patch.corsConfiguration);
    report(found);
    return this.#w.change(apiId, (api) => {
      const next: HttpApi = {
        ...api,
        name: patch.name ?? api.name,
        description: patch.description ?? api.description,
        version: patch.version ?? api.version,
        corsConfiguration: patch.corsConfiguration ? { ...patch.corsConfiguration } : api.corsConfiguration,
        disableExecuteApiEndpoint: patch.disableExecuteApiEndpoint ?? api.disableExecuteApiEndpoint,
      };
      return { next, ...autoDeploy(next, patch.corsConfiguration !== undefined), answer: (a) => a };
    });
  }

  /** DeleteCorsConfiguration: the API answers no preflight and adds no CORS headers. */
  async deleteCors(apiId: string): Promise<void> {
    await this.#w.change(apiId, (api) => {
      const next: HttpApi = { ...api, corsConfiguration: undefined };
      return {
        next,
        ...autoDeploy(next, api.corsConfiguration !== undefined),
        answer: () => undefined,
      };
    });
  }

  deleteApi(apiId: string): Promise<void> {
    return this.#w.remove(apiId);
  }

  // ── Routes, integrations, authorizers ──────────────────────────────────────

  createRoute(apiId: string, spec: RouteSpec): Promise<ApiRoute> {
    return this.#w.change(apiId, (api) => {
      const route = buildRoute(api, partId(api.routes.map((r) => r.routeId)), spec);
      this.#uniqueRouteKey(api, route);
      return withPart(api, "routes", route, route.routeId);
    });
  }

  getRoute(apiId: string, routeId: string): ApiRoute {
    return findPart(this.getApi(apiId), "routes", routeId);
  }

  listRoutes(apiId: string): readonly ApiRoute[] {
    return this.getApi(apiId).routes;
  }

  updateRoute(apiId: string, routeId: string, patch: RouteSpec): Promise<ApiRoute> {
    return this.#w.change(apiId, (api) => {
      const route = buildRoute(api, routeId, patch, findPart(api, "routes", routeId));
      this.#uniqueRouteKey(api, route);
      return withPart(api, "routes", route, routeId);
    });
  }

  deleteRoute(apiId: string, routeId: string): Promise<void> {
    return this.#w.change(apiId, (api) => withoutPart(api, "routes", routeId));
  }

  createIntegration(apiId: string, spec: IntegrationSpec): Promise<ApiIntegration> {
    return this.#w.change(apiId, async (api) => {
      const ids = api.integrations.map((i) => i.integrationId);
      const integration = await buildIntegration(partId(ids), spec, this.#exists);
      return withPart(api, "integrations", integration, integration.integrationId);
    });
  }

  getIntegration(apiId: string, integrationId: string): ApiIntegration {
    return findPart(this.getApi(apiId), "integrations", integrationId);
  }

  listIntegrations(apiId: string): readonly ApiIntegration[] {
    return this.getApi(apiId).integrations;
  }

  updateIntegration(apiId: string, integrationId: string, patch: IntegrationSpec): Promise<ApiIntegration> {
    return this.#w.change(apiId, async (api) => {
      const current = findPart(api, "integrations", integrationId);
      const integration = await buildIntegration(integrationId, patch, this.#exists, current);
      return withPart(api, "integrations", integration, integrationId);
    });
  }

  /** A Conflict while a route targets it. */
  deleteIntegration(apiId: string, integrationId: string): Promise<void> {
    return this.#w.change(apiId, (a) =>
      withoutPart(a, "integrations", integrationId, (api) => {
        const route = api.routes.find((r) => r.target === `integrations/${integrationId}`);
        return (
          route &&
          `Integration ${integrationId} is the target of route '${route.routeKey}' (${route.routeId}): change the route's target or delete the route first`
        );
      }),
    );
  }

  createAuthorizer(apiId: string, spec: AuthorizerSpec): Promise<ApiAuthorizer> {
    return this.#w.change(apiId, async (api) => {
      const id = partId(api.authorizers.map((a) => a.authorizerId));
      const authorizer = await buildAuthorizer(api, id, spec, this.#exists);
      return withPart(api, "authorizers", authorizer, id);
    });
  }

  getAuthorizer(apiId: string, authorizerId: string): ApiAuthorizer {
    return findPart(this.getApi(apiId), "authorizers", authorizerId);
  }

  listAuthorizers(apiId: string): readonly ApiAuthorizer[] {
    return this.getApi(apiId).authorizers;
  }

  updateAuthorizer(apiId: string, authorizerId: string, patch: AuthorizerSpec): Promise<ApiAuthorizer> {
    return this.#w.change(apiId, async (api) => {
      const current = findPart(api, "authorizers", authorizerId);
      const authorizer = await buildAuthorizer(api, authorizerId, patch, this.#exists, current);
      return withPart(api, "authorizers", authorizer, authorizerId);
    });
  }

  /** A Conflict while a route uses it. */
  deleteAuthorizer(apiId: string, authorizerId: string): Promise<void> {
    return this.#w.change(apiId, (a) =>
      withoutPart(a, "authorizers", authorizerId, (api) => {
        const route = api.routes.find((r) => r.authorizerId === authorizerId);
        return (
          route &&
          `Authorizer ${authorizerId} is used by route '${route.routeKey}' (${route.routeId}): change the route's authorization or delete the route first`
        );
      }),
    );
  }

  // ── Stages ─────────────────────────────────────────────────────────────────

  /** With autoDeploy, the stage is deployed at once, as API Gateway does. */
  createStage(apiId: string, spec: StageSpec): Promise<ApiStage> {
    return this.#w.change(apiId, (api) => {
      const stage = buildStage(api, spec, this.#w.deploymentIds(apiId), this.#clock.now());
      if (api.stages.some((s) => s.stageName === stage.stageName))
        throw new NimbusError("Conflict", `Stage ${stage.stageName} already exists in API ${apiId}`);
      const next = { ...api, stages: [...api.stages, stage] };
      return {
        next,
        ...(stage.autoDeploy ? { deploy: { stages: [stage.stageName], auto: true } } : {}),
        answer: (a) => this.#stage(a, stage.stageName),
      };
    });
  }

  getStage(apiId: string, stageName: string): ApiStage {
    return this.#stage(this.getApi(apiId), stageName);
  }

  listStages(apiId: string): readonly ApiStage[] {
    return this.getApi(apiId).stages;
  }

  /** Turning autoDeploy on deploys the stage at once. */
  updateStage(apiId: string, stageName: string, patch: StagePatch): Promise<ApiStage> {
    return this.#w.change(apiId, (api) => {
      const current = this.#stage(api, stageName);
      const stage = buildStage(api, patch, this.#w.deploymentIds(apiId), this.#clock.now(), current);
      const next = { ...api, stages: api.stages.map((s) => (s.stageName === stageName ? stage : s)) };
      const deploy = stage.autoDeploy && !current.autoDeploy;
      return {
        next,
        ...(deploy ? { deploy: { stages: [stageName], auto: true } } : {}),
        answer: (a) => this.#stage(a, stageName),
      };
    });
  }

  deleteStage(apiId: string, stageName: string): Promise<void> {
    return this.#w.change(apiId, (api) => {
      this.#stage(api, stageName);
      const next = { ...api, stages: api.stages.filter((s) => s.stageName !== stageName) };
      return { next, answer: () => undefined };
    });
  }

  /** DeleteAccessLogSettings: the stage writes no access log any more. */
  deleteAccessLogSettings(apiId: string, stageName: string): Promise<void> {
    return this.#editStage(apiId, stageName, (s, now) => ({
      ...s,
      accessLogSettings: undefined,
      lastUpdatedAt: now,
    }));
  }

  /** DeleteRouteSettings: the route falls back to the stage's default throttle. */
  deleteRouteSettings(apiId: string, stageName: string, routeKey: string): Promise<void> {
    return this.#editStage(apiId, stageName, (s, now) => withoutRouteSettings(apiId, s, routeKey, now));
  }

  /**
   * ResetAuthorizersCache: the Lambda authorizers' cached answers for the stage are forgotten on
   * its next request. A cache belongs to the deployment, so other stages serving the same one
   * lose theirs too; that costs them a call to the authorizer, never a wrong answer.
   */
  resetAuthorizersCache(apiId: string, stageName: string): void {
    this.getStage(apiId, stageName);
    const key = `${apiId}/${stageName}`;
    this.#resets.set(key, (this.#resets.get(key) ?? 0) + 1);
  }

  // ── Tags, by an API's or a stage's ARN ─────────────────────────────────────

  getTags(resourceArn: string): Record<string, string> {
    const at = taggedOfArn(resourceArn);
    return tagsOf(this.getApi(at.apiId), at);
  }

  tagResource(resourceArn: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const at = taggedOfArn(resourceArn);
    const found: Found = [];
    checkTags(found, tags);
    report(found);
    return this.#w.change(at.apiId, (api) => ({ next: withTags(api, at, tags), answer: () => undefined }));
  }

  untagResource(resourceArn: string, tagKeys: readonly string[]): Promise<void> {
    const at = taggedOfArn(resourceArn);
    const untagged = (api: HttpApi) => withoutTags(api, at, tagKeys);
    return this.#w.change(at.apiId, (api) => ({ next: untagged(api), answer: () => undefined }));
  }

  // ── Deployments ────────────────────────────────────────────────────────────

  /** A snapshot of what the API serves now; with `stageName`, that stage serves it. */
  createDeployment(apiId: string, spec: DeploymentSpec): Promise<ApiDeployment> {
    const found: Found = [];
    checkDescription(found, spec.description);
    report(found);
    return this.#w.change(apiId, (api) => {
      const name = spec.stageName;
      if (name !== undefined) {
        const stage = api.stages.find((s) => s.stageName === name);
        if (!stage) report([problem("stageName", name, "exists", "name a stage of this API")]);
        else if (stage.autoDeploy)
          report([
            problem(
              "stageName",
              name,
              "consistent",
              "name a stage without autoDeploy: that one deploys itself after every change",
            ),
          ]);
      }
      return {
        next: api,
        deploy: { stages: name === undefined ? [] : [name], auto: false, description: spec.description },
        answer: (_a, d) => d!,
      };
    });
  }

  getDeployment(apiId: string, deploymentId: string): ApiDeployment {
    return this.#w.existingDeployment(apiId, deploymentId);
  }

  /** Oldest first. */
  listDeployments(apiId: string): ApiDeployment[] {
    this.getApi(apiId);
    return [...this.#w.deployments(apiId)].sort((a, b) => a.createdAt - b.createdAt);
  }

  updateDeployment(
    apiId: string,
    deploymentId: string,
    patch: { description?: string | undefined },
  ): Promise<ApiDeployment> {
    const found: Found = [];
    checkDescription(found, patch.description);
    report(found);
    return this.#w.changeDeployment(apiId, deploymentId, (current) => ({
      ...current,
      description: patch.description ?? current.description,
    }));
  }

  /** Refused while a stage serves it. */
  deleteDeployment(apiId: string, deploymentId: string): Promise<void> {
    return this.#w.removeDeployment(apiId, deploymentId, (_current, api) => {
      const stage = api.stages.find((s) => s.deploymentId === deploymentId);
      if (stage)
        report([
          problem(
            "deploymentId",
            deploymentId,
            "consistent",
            `not be served by a stage: stage ${stage.stageName} serves it; point the stage at another deployment or delete it first`,
          ),
        ]);
    });
  }

  /** A change to one stage's settings: what it serves stays, nothing is deployed. */
  #editStage(apiId: string, stageName: string, edit: (s: ApiStage, now: number) => ApiStage): Promise<void> {
    return this.#w.change(apiId, (api) => {
      const stage = edit(this.#stage(api, stageName), this.#clock.now());
      const next = { ...api, stages: api.stages.map((s) => (s.stageName === stageName ? stage : s)) };
      return { next, answer: () => undefined };
    });
  }

  #stage(api: HttpApi, stageName: string): ApiStage {
    const stage = api.stages.find((s) => s.stageName === stageName);
    if (!stage)
      throw new NimbusError("NotFound", `Invalid stage identifier specified ${api.apiId}:${stageName}`);
    return stage;
  }

  #uniqueRouteKey(api: HttpApi, route: ApiRoute): void {
    const other = api.routes.find((r) => r.routeKey === route.routeKey && r.routeId !== route.routeId);
    if (other)
      throw new NimbusError(
        "Conflict",
        `Route with key ${route.routeKey} already exists for this API (route ${other.routeId})`,
      );
  }
}
