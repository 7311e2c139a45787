/**
 * The HTTP APIs service: every API's document and deployments, kept in memory (the serving
 * surface reads them on each request through `HttpApiReader`) and written through to the
 * store before an operation answers. This platform is the store's only writer, so memory
 * stays exact. Writes to one API are serialized (a promise chain per API): two changes never
 * read the same document and lose one another.
 *
 * Auto-deploy: a change to what a stage serves (routes, integrations, authorizers, CORS) makes
 * one new deployment, in the same write, and points every auto-deploy stage at it; nothing is
 * debounced. An auto-made deployment no stage serves any more is deleted, so an API changed a
 * thousand times does not keep a thousand copies (deployments made by CreateDeployment stay).
 */
import { randomInt } from "node:crypto";
import type { Clock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
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
  report,
} from "./parts.js";
import type { HttpApisRepo } from "./repo.js";
import { DEFAULT_ROUTE_KEY } from "./route-keys.js";
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
  DEFAULT_INTEGRATION_TIMEOUT_MS,
  type DeploymentSpec,
  EXPECTED,
  type Found,
  type IntegrationSpec,
  problem,
  type RouteSpec,
  type StagePatch,
  type StageSpec,
} from "./specs.js";

export interface HttpApisDeps {
  readonly store: HttpApisRepo;
  readonly clock: Clock;
  /** Whether a function exists, by ARN (qualified or not) or name: the registry's, from the composition root. */
  readonly functionExists: FunctionExists;
  readonly region: string;
  readonly accountId: string;
}

/** API ids are a host's first label: 10 lower-case letters and digits. Parts' ids: 7, as API Gateway's. */
const API_ID_LENGTH = 10;
const PART_ID_LENGTH = 7;
const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A change to one API: its next document, and a deployment to make onto some stages. */
interface Edit<T> {
  readonly next: HttpApi;
  readonly deploy?: {
    readonly stages: readonly string[];
    readonly auto: boolean;
    readonly description?: string;
  };
  readonly answer: (api: HttpApi, deployment: ApiDeployment | undefined) => T;
}

type Part = "routes" | "integrations" | "authorizers";

export class HttpApis implements HttpApiReader {
  readonly #store: HttpApisRepo;
  readonly #clock: Clock;
  readonly #exists: FunctionExists;
  readonly #accountId: string;
  readonly #apis = new Map<string, HttpApi>();
  readonly #deployments = new Map<string, Map<string, ApiDeployment>>();
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(deps: HttpApisDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#exists = deps.functionExists;
    this.#accountId = deps.accountId;
  }

  /** Loads every API and its deployments: before the gateway serves any. */
  async start(): Promise<void> {
    this.#apis.clear();
    this.#deployments.clear();
    for (const api of await this.#store.listHttpApis()) {
      this.#apis.set(api.apiId, api);
      const deployments = await this.#store.listDeployments(api.apiId);
      this.#deployments.set(api.apiId, new Map(deployments.map((d) => [d.deploymentId, d])));
    }
  }

  // ── HttpApiReader ──────────────────────────────────────────────────────────

  api(apiId: string): HttpApi | undefined {
    return this.#apis.get(apiId);
  }

  deployment(apiId: string, deploymentId: string): ApiDeployment | undefined {
    return this.#deployments.get(apiId)?.get(deploymentId);
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
    const apiId = this.#newApiId();
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
      const integrationId = partId([]);
      const integration: ApiIntegration = {
        integrationId,
        integrationType: "AWS_PROXY",
        integrationUri: spec.target,
        payloadFormatVersion: "2.0",
        timeoutInMillis: DEFAULT_INTEGRATION_TIMEOUT_MS,
      };
      const route: ApiRoute = {
        routeId: partId([integrationId]),
        routeKey: spec.routeKey ?? DEFAULT_ROUTE_KEY,
        target: `integrations/${integrationId}`,
        authorizationType: "NONE",
      };
      api = { ...api, routes: [route], integrations: [integration] };
      deployment = this.#snapshot(api, true, undefined);
      const stage: ApiStage = {
        stageName: "$default",
        autoDeploy: true,
        deploymentId: deployment.deploymentId,
        stageVariables: {},
        routeSettings: {},
        createdAt: now,
        lastUpdatedAt: now,
      };
      // The API without its stage first (a deployment belongs to a stored API), then the
      // deployment, then the stage naming it: a stored stage never names one that is not there.
      await this.#store.putHttpApi(api);
      await this.#store.putDeployment(deployment);
      api = { ...api, stages: [stage] };
    }
    await this.#store.putHttpApi(api);
    this.#apis.set(apiId, api);
    this.#deployments.set(apiId, new Map(deployment ? [[deployment.deploymentId, deployment]] : []));
    return api;
  }

  getApi(apiId: string): HttpApi {
    const api = this.#apis.get(apiId);
    if (!api) throw this.#apiNotFound(apiId);
    return api;
  }

  /** Every API, in byte order of their ids. */
  listApis(): HttpApi[] {
    return [...this.#apis.values()].sort((a, b) => (a.apiId < b.apiId ? -1 : a.apiId > b.apiId ? 1 : 0));
  }

  async updateApi(apiId: string, patch: ApiPatch): Promise<HttpApi> {
    const found: Found = [];
    if (patch.name !== undefined) checkName(found, "name", patch.name);
    checkDescription(found, patch.description);
    checkVersion(found, patch.version);
    checkCors(found, patch.corsConfiguration);
    report(found);
    return this.#change(apiId, (api) => {
      const next: HttpApi = {
        ...api,
        name: patch.name ?? api.name,
        description: patch.description ?? api.description,
        version: patch.version ?? api.version,
        corsConfiguration: patch.corsConfiguration ? { ...patch.corsConfiguration } : api.corsConfiguration,
        disableExecuteApiEndpoint: patch.disableExecuteApiEndpoint ?? api.disableExecuteApiEndpoint,
      };
      return { next, ...this.#autoDeploy(next, patch.corsConfiguration !== undefined), answer: (a) => a };
    });
  }

  /** DeleteCorsConfiguration: the API answers no preflight and adds no CORS headers. */
  async deleteCors(apiId: string): Promise<void> {
    await this.#change(apiId, (api) => {
      const next: HttpApi = { ...api, corsConfiguration: undefined };
      return {
        next,
        ...this.#autoDeploy(next, api.corsConfiguration !== undefined),
        answer: () => undefined,
      };
    });
  }

  async deleteApi(apiId: string): Promise<void> {
    await this.#serial(apiId, async () => {
      if (!this.#apis.has(apiId)) throw this.#apiNotFound(apiId);
      await this.#store.deleteHttpApi(apiId);
      this.#apis.delete(apiId);
      this.#deployments.delete(apiId);
    });
  }

  // ── Routes, integrations, authorizers ──────────────────────────────────────

  createRoute(apiId: string, spec: RouteSpec): Promise<ApiRoute> {
    return this.#change(apiId, (api) => {
      const route = buildRoute(api, partId(api.routes.map((r) => r.routeId)), spec);
      this.#uniqueRouteKey(api, route);
      return this.#withPart(api, "routes", route, route.routeId);
    });
  }

  getRoute(apiId: string, routeId: string): ApiRoute {
    return this.#part(this.getApi(apiId), "routes", routeId);
  }

  listRoutes(apiId: string): readonly ApiRoute[] {
    return this.getApi(apiId).routes;
  }

  updateRoute(apiId: string, routeId: string, patch: RouteSpec): Promise<ApiRoute> {
    return this.#change(apiId, (api) => {
      const route = buildRoute(api, routeId, patch, this.#part(api, "routes", routeId));
      this.#uniqueRouteKey(api, route);
      return this.#withPart(api, "routes", route, routeId);
    });
  }

  deleteRoute(apiId: string, routeId: string): Promise<void> {
    return this.#deletePart(apiId, "routes", routeId, () => undefined);
  }

  createIntegration(apiId: string, spec: IntegrationSpec): Promise<ApiIntegration> {
    return this.#change(apiId, async (api) => {
      const ids = api.integrations.map((i) => i.integrationId);
      const integration = await buildIntegration(partId(ids), spec, this.#exists);
      return this.#withPart(api, "integrations", integration, integration.integrationId);
    });
  }

  getIntegration(apiId: string, integrationId: string): ApiIntegration {
    return this.#part(this.getApi(apiId), "integrations", integrationId);
  }

  listIntegrations(apiId: string): readonly ApiIntegration[] {
    return this.getApi(apiId).integrations;
  }

  updateIntegration(apiId: string, integrationId: string, patch: IntegrationSpec): Promise<ApiIntegration> {
    return this.#change(apiId, async (api) => {
      const current = this.#part(api, "integrations", integrationId);
      const integration = await buildIntegration(integrationId, patch, this.#exists, current);
      return this.#withPart(api, "integrations", integration, integrationId);
    });
  }

  /** A Conflict while a route targets it. */
  deleteIntegration(apiId: string, integrationId: string): Promise<void> {
    return this.#deletePart(apiId, "integrations", integrationId, (api) => {
      const route = api.routes.find((r) => r.target === `integrations/${integrationId}`);
      return (
        route &&
        `Integration ${integrationId} is the target of route '${route.routeKey}' (${route.routeId}): change the route's target or delete the route first`
      );
    });
  }

  createAuthorizer(apiId: string, spec: AuthorizerSpec): Promise<ApiAuthorizer> {
    return this.#change(apiId, async (api) => {
      const id = partId(api.authorizers.map((a) => a.authorizerId));
      const authorizer = await buildAuthorizer(api, id, spec, this.#exists);
      return this.#withPart(api, "authorizers", authorizer, id);
    });
  }

  getAuthorizer(apiId: string, authorizerId: string): ApiAuthorizer {
    return this.#part(this.getApi(apiId), "authorizers", authorizerId);
  }

  listAuthorizers(apiId: string): readonly ApiAuthorizer[] {
    return this.getApi(apiId).authorizers;
  }

  updateAuthorizer(apiId: string, authorizerId: string, patch: AuthorizerSpec): Promise<ApiAuthorizer> {
    return this.#change(apiId, async (api) => {
      const current = this.#part(api, "authorizers", authorizerId);
      const authorizer = await buildAuthorizer(api, authorizerId, patch, this.#exists, current);
      return this.#withPart(api, "authorizers", authorizer, authorizerId);
    });
  }

  /** A Conflict while a route uses it. */
  deleteAuthorizer(apiId: string, authorizerId: string): Promise<void> {
    return this.#deletePart(apiId, "authorizers", authorizerId, (api) => {
      const route = api.routes.find((r) => r.authorizerId === authorizerId);
      return (
        route &&
        `Authorizer ${authorizerId} is used by route '${route.routeKey}' (${route.routeId}): change the route's authorization or delete the route first`
      );
    });
  }

  // ── Stages ─────────────────────────────────────────────────────────────────

  /** With autoDeploy, the stage is deployed at once, as API Gateway does. */
  createStage(apiId: string, spec: StageSpec): Promise<ApiStage> {
    return this.#change(apiId, (api) => {
      const stage = buildStage(api, spec, this.#deploymentIds(apiId), this.#clock.now());
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
    return this.#change(apiId, (api) => {
      const current = this.#stage(api, stageName);
      const stage = buildStage(api, patch, this.#deploymentIds(apiId), this.#clock.now(), current);
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
    return this.#change(apiId, (api) => {
      this.#stage(api, stageName);
      const next = { ...api, stages: api.stages.filter((s) => s.stageName !== stageName) };
      return { next, answer: () => undefined };
    });
  }

  // ── Deployments ────────────────────────────────────────────────────────────

  /** A snapshot of what the API serves now; with `stageName`, that stage serves it. */
  createDeployment(apiId: string, spec: DeploymentSpec): Promise<ApiDeployment> {
    const found: Found = [];
    checkDescription(found, spec.description);
    report(found);
    return this.#change(apiId, (api) => {
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
    this.getApi(apiId);
    const d = this.deployment(apiId, deploymentId);
    if (!d)
      throw new NimbusError("NotFound", `Invalid Deployment identifier specified ${apiId}:${deploymentId}`);
    return d;
  }

  /** Oldest first. */
  listDeployments(apiId: string): ApiDeployment[] {
    this.getApi(apiId);
    return [...(this.#deployments.get(apiId)?.values() ?? [])].sort((a, b) => a.createdAt - b.createdAt);
  }

  updateDeployment(
    apiId: string,
    deploymentId: string,
    patch: { description?: string | undefined },
  ): Promise<ApiDeployment> {
    const found: Found = [];
    checkDescription(found, patch.description);
    report(found);
    return this.#serial(apiId, async () => {
      const current = this.getDeployment(apiId, deploymentId);
      const next: ApiDeployment = { ...current, description: patch.description ?? current.description };
      await this.#store.putDeployment(next);
      this.#deployments.get(apiId)?.set(deploymentId, next);
      return next;
    });
  }

  /** Refused while a stage serves it. */
  deleteDeployment(apiId: string, deploymentId: string): Promise<void> {
    return this.#serial(apiId, async () => {
      this.getDeployment(apiId, deploymentId);
      const stage = this.getApi(apiId).stages.find((s) => s.deploymentId === deploymentId);
      if (stage)
        report([
          problem(
            "deploymentId",
            deploymentId,
            "consistent",
            `not be served by a stage: stage ${stage.stageName} serves it; point the stage at another deployment or delete it first`,
          ),
        ]);
      await this.#store.deleteDeployment(apiId, deploymentId);
      this.#deployments.get(apiId)?.delete(deploymentId);
    });
  }

  // ── The write path ─────────────────────────────────────────────────────────

  /** Runs `fn` after every earlier write to `apiId` has finished, failed or not. */
  #serial<T>(apiId: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.#chains.get(apiId) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#chains.set(apiId, tail);
    void tail.then(() => {
      if (this.#chains.get(apiId) === tail) this.#chains.delete(apiId);
    });
    return run;
  }

  /**
   * One change to an API, in turn: `edit` reads the current document and returns the next;
   * the deployment it asks for is made, both are written through, memory follows.
   */
  #change<T>(apiId: string, edit: (api: HttpApi) => Edit<T> | Promise<Edit<T>>): Promise<T> {
    return this.#serial(apiId, async () => {
      const before = this.getApi(apiId);
      const change = await edit(before);
      let next = change.next;
      let deployment: ApiDeployment | undefined;
      if (change.deploy) {
        deployment = this.#snapshot(next, change.deploy.auto, change.deploy.description);
        const targets = new Set(change.deploy.stages);
        const now = this.#clock.now();
        next = {
          ...next,
          stages: next.stages.map((s) =>
            targets.has(s.stageName)
              ? { ...s, deploymentId: deployment!.deploymentId, lastUpdatedAt: now }
              : s,
          ),
        };
        await this.#store.putDeployment(deployment);
      }
      if (next !== before) await this.#store.putHttpApi(next);
      this.#apis.set(apiId, next);
      const deployments = this.#deployments.get(apiId) ?? new Map<string, ApiDeployment>();
      this.#deployments.set(apiId, deployments);
      if (deployment) deployments.set(deployment.deploymentId, deployment);
      await this.#prune(before, next);
      return change.answer(next, deployment);
    });
  }

  /** Auto-made deployments the change left unserved: deleted (a failure leaves one behind, harmlessly). */
  async #prune(before: HttpApi, after: HttpApi): Promise<void> {
    const served = new Set(after.stages.map((s) => s.deploymentId));
    const deployments = this.#deployments.get(after.apiId);
    for (const s of before.stages) {
      const id = s.deploymentId;
      if (id === undefined || served.has(id) || !deployments?.get(id)?.autoDeployed) continue;
      deployments.delete(id);
      served.add(id);
      await this.#store.deleteDeployment(after.apiId, id).catch(() => false);
    }
  }

  /** A deployment onto every auto-deploy stage, when what stages serve changed. */
  #autoDeploy(api: HttpApi, served: boolean): Pick<Edit<unknown>, "deploy"> {
    const stages = api.stages.filter((s) => s.autoDeploy).map((s) => s.stageName);
    return served && stages.length > 0 ? { deploy: { stages, auto: true } } : {};
  }

  #snapshot(api: HttpApi, auto: boolean, description: string | undefined): ApiDeployment {
    const taken = [...this.#deploymentIds(api.apiId)];
    return {
      apiId: api.apiId,
      deploymentId: partId(taken),
      description,
      autoDeployed: auto,
      createdAt: this.#clock.now(),
      routes: api.routes,
      integrations: api.integrations,
      authorizers: api.authorizers,
      corsConfiguration: api.corsConfiguration,
    };
  }

  #withPart<P extends Part, T extends HttpApi[P][number]>(
    api: HttpApi,
    part: P,
    value: T,
    id: string,
  ): Edit<T> {
    const list = api[part] as readonly HttpApi[P][number][];
    const exists = list.some((x) => idOf(x) === id);
    const nextList = exists ? list.map((x) => (idOf(x) === id ? value : x)) : [...list, value];
    const next = { ...api, [part]: nextList } as HttpApi;
    return { next, ...this.#autoDeploy(next, true), answer: () => value };
  }

  #deletePart(
    apiId: string,
    part: Part,
    id: string,
    inUse: (api: HttpApi) => string | undefined,
  ): Promise<void> {
    return this.#change(apiId, (api) => {
      this.#part(api, part, id);
      const conflict = inUse(api);
      if (conflict) throw new NimbusError("Conflict", conflict);
      const list = api[part] as readonly HttpApi[Part][number][];
      const next = { ...api, [part]: list.filter((x) => idOf(x) !== id) } as HttpApi;
      return { next, ...this.#autoDeploy(next, true), answer: () => undefined };
    });
  }

  #part<P extends Part>(api: HttpApi, part: P, id: string): HttpApi[P][number] {
    const found = (api[part] as readonly HttpApi[P][number][]).find((x) => idOf(x) === id);
    if (!found)
      throw new NimbusError(
        "NotFound",
        `Invalid ${PART_NAMES[part]} identifier specified ${api.apiId}:${id}`,
      );
    return found;
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

  #deploymentIds(apiId: string): ReadonlySet<string> {
    return new Set(this.#deployments.get(apiId)?.keys() ?? []);
  }

  #apiNotFound(apiId: string): NimbusError {
    return new NimbusError("NotFound", `Invalid API identifier specified ${this.#accountId}:${apiId}`);
  }

  #newApiId(): string {
    for (;;) {
      const id = randomId(API_ID_LENGTH);
      if (!this.#apis.has(id)) return id;
    }
  }
}

const PART_NAMES: Record<Part, string> = {
  routes: "Route",
  integrations: "Integration",
  authorizers: "Authorizer",
};

function idOf(x: ApiRoute | ApiIntegration | ApiAuthorizer): string {
  return "routeId" in x ? x.routeId : "integrationId" in x ? x.integrationId : x.authorizerId;
}

function randomId(length: number): string {
  let id = "";
  for (let i = 0; i < length; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** A part's id, unique among `taken`. */
function partId(taken: readonly string[]): string {
  for (;;) {
    const id = randomId(PART_ID_LENGTH);
    if (!taken.includes(id)) return id;
  }
}
