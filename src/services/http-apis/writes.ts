/**
 * The HTTP APIs service's write path: every API's document and deployments in memory, and the
 * one way they change. This platform is the store's only writer, so memory stays exact: a
 * change is written through to the store first, and memory follows. Writes to one API are
 * serialized (a promise chain per API): two changes never read the same document and lose one
 * another.
 *
 * Auto-deploy: a change to what a stage serves (routes, integrations, authorizers, CORS) makes
 * one new deployment, in the same write, and points every auto-deploy stage at it; nothing is
 * debounced. An auto-made deployment no stage serves any more is deleted, so an API changed a
 * thousand times does not keep a thousand copies (deployments made by CreateDeployment stay).
 *
 * The edits themselves (what a route, a stage… becomes) are the service's (`http-apis.ts`);
 * the helpers at the end build the common ones: a part put or taken out, with auto-deploy.
 */
import type { Clock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import { partId } from "./ids.js";
import type { ApiAuthorizer, ApiDeployment, ApiIntegration, ApiRoute, HttpApi } from "./model.js";
import type { HttpApisRepo } from "./repo.js";

/** A change to one API: its next document, and a deployment to make onto some stages. */
export interface Edit<T> {
  readonly next: HttpApi;
  readonly deploy?: {
    readonly stages: readonly string[];
    readonly auto: boolean;
    readonly description?: string | undefined;
  };
  readonly answer: (api: HttpApi, deployment: ApiDeployment | undefined) => T;
}

export type Part = "routes" | "integrations" | "authorizers";

export interface ApiWritesDeps {
  readonly store: HttpApisRepo;
  readonly clock: Clock;
  /** The error for an API that is not there, in the service's words. */
  readonly notFound: (apiId: string) => NimbusError;
}

/** The APIs and their deployments in memory, and every write to them. */
export class ApiWrites {
  readonly #store: HttpApisRepo;
  readonly #clock: Clock;
  readonly #notFound: (apiId: string) => NimbusError;
  readonly #apis = new Map<string, HttpApi>();
  readonly #deployments = new Map<string, Map<string, ApiDeployment>>();
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(deps: ApiWritesDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#notFound = deps.notFound;
  }

  /** Loads every API and its deployments from the store, replacing what memory held. */
  async load(): Promise<void> {
    this.#apis.clear();
    this.#deployments.clear();
    for (const api of await this.#store.listHttpApis()) {
      this.#apis.set(api.apiId, api);
      const deployments = await this.#store.listDeployments(api.apiId);
      this.#deployments.set(api.apiId, new Map(deployments.map((d) => [d.deploymentId, d])));
    }
  }

  // ── Reads, from memory ─────────────────────────────────────────────────────

  api(apiId: string): HttpApi | undefined {
    return this.#apis.get(apiId);
  }

  /** The API, or the service's NotFound. */
  existing(apiId: string): HttpApi {
    const api = this.#apis.get(apiId);
    if (!api) throw this.#notFound(apiId);
    return api;
  }

  apis(): IterableIterator<HttpApi> {
    return this.#apis.values();
  }

  deployment(apiId: string, deploymentId: string): ApiDeployment | undefined {
    return this.#deployments.get(apiId)?.get(deploymentId);
  }

  deployments(apiId: string): readonly ApiDeployment[] {
    return [...(this.#deployments.get(apiId)?.values() ?? [])];
  }

  deploymentIds(apiId: string): ReadonlySet<string> {
    return new Set(this.#deployments.get(apiId)?.keys() ?? []);
  }

  // ── Writes ─────────────────────────────────────────────────────────────────

  /**
   * A new API, with the deployment its quick-created `$default` stage serves. The API without
   * its stages is stored first (a deployment belongs to a stored API), then the deployment, then
   * the API with its stages: a stored stage never names a deployment that is not there.
   */
  async create(api: HttpApi, deployment: ApiDeployment | undefined): Promise<void> {
    await this.#serial(api.apiId, async () => {
      if (deployment) {
        await this.#store.putHttpApi({ ...api, stages: [] });
        await this.#store.putDeployment(deployment);
      }
      await this.#store.putHttpApi(api);
      this.#apis.set(api.apiId, api);
      this.#deployments.set(api.apiId, new Map(deployment ? [[deployment.deploymentId, deployment]] : []));
    });
  }

  async remove(apiId: string): Promise<void> {
    await this.#serial(apiId, async () => {
      this.existing(apiId);
      await this.#store.deleteHttpApi(apiId);
      this.#apis.delete(apiId);
      this.#deployments.delete(apiId);
    });
  }

  /**
   * One change to an API, in turn: `edit` reads the current document and returns the next;
   * the deployment it asks for is made, both are written through, memory follows.
   */
  change<T>(apiId: string, edit: (api: HttpApi) => Edit<T> | Promise<Edit<T>>): Promise<T> {
    return this.#serial(apiId, async () => {
      const before = this.existing(apiId);
      const change = await edit(before);
      let next = change.next;
      let deployment: ApiDeployment | undefined;
      if (change.deploy) {
        deployment = this.snapshot(next, change.deploy.auto, change.deploy.description);
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

  /** A change to one deployment, in turn with the API's other writes; `edit` returns the next or throws. */
  changeDeployment(
    apiId: string,
    deploymentId: string,
    edit: (current: ApiDeployment, api: HttpApi) => ApiDeployment,
  ): Promise<ApiDeployment> {
    return this.#serial(apiId, async () => {
      const next = edit(this.existingDeployment(apiId, deploymentId), this.existing(apiId));
      await this.#store.putDeployment(next);
      this.#deployments.get(apiId)?.set(deploymentId, next);
      return next;
    });
  }

  /** Deletes a deployment, in turn with the API's other writes, once `check` (which may throw) passes. */
  removeDeployment(
    apiId: string,
    deploymentId: string,
    check: (current: ApiDeployment, api: HttpApi) => void,
  ): Promise<void> {
    return this.#serial(apiId, async () => {
      check(this.existingDeployment(apiId, deploymentId), this.existing(apiId));
      await this.#store.deleteDeployment(apiId, deploymentId);
      this.#deployments.get(apiId)?.delete(deploymentId);
    });
  }

  /** A deployment of what `api` serves now, with a fresh id (not stored). */
  snapshot(api: HttpApi, auto: boolean, description: string | undefined): ApiDeployment {
    return {
      apiId: api.apiId,
      deploymentId: partId(this.deploymentIds(api.apiId)),
      description,
      autoDeployed: auto,
      createdAt: this.#clock.now(),
      routes: api.routes,
      integrations: api.integrations,
      authorizers: api.authorizers,
      corsConfiguration: api.corsConfiguration,
    };
  }

  /** The deployment, or the service's NotFound for the API or for it. */
  existingDeployment(apiId: string, deploymentId: string): ApiDeployment {
    this.existing(apiId);
    const d = this.deployment(apiId, deploymentId);
    if (!d)
      throw new NimbusError("NotFound", `Invalid Deployment identifier specified ${apiId}:${deploymentId}`);
    return d;
  }

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
}

// ── Common edits ─────────────────────────────────────────────────────────────

/** A deployment onto every auto-deploy stage, when what stages serve changed. */
export function autoDeploy(api: HttpApi, served: boolean): Pick<Edit<unknown>, "deploy"> {
  const stages = api.stages.filter((s) => s.autoDeploy).map((s) => s.stageName);
  return served && stages.length > 0 ? { deploy: { stages, auto: true } } : {};
}

/** `value` put in place of the part with `id`, or added; auto-deployed; answered. */
export function withPart<P extends Part, T extends HttpApi[P][number]>(
  api: HttpApi,
  part: P,
  value: T,
  id: string,
): Edit<T> {
  const list = api[part] as readonly HttpApi[P][number][];
  const exists = list.some((x) => idOf(x) === id);
  const nextList = exists ? list.map((x) => (idOf(x) === id ? value : x)) : [...list, value];
  const next = { ...api, [part]: nextList } as HttpApi;
  return { next, ...autoDeploy(next, true), answer: () => value };
}

/** The part with `id` taken out (it must exist, and `inUse` say nothing: that is a Conflict), auto-deployed. */
export function withoutPart(
  api: HttpApi,
  part: Part,
  id: string,
  inUse: (api: HttpApi) => string | undefined = () => undefined,
): Edit<void> {
  findPart(api, part, id);
  const conflict = inUse(api);
  if (conflict) throw new NimbusError("Conflict", conflict);
  const list = api[part] as readonly HttpApi[Part][number][];
  const next = { ...api, [part]: list.filter((x) => idOf(x) !== id) } as HttpApi;
  return { next, ...autoDeploy(next, true), answer: () => undefined };
}

/** The part with `id`, or API Gateway's NotFound for it. */
export function findPart<P extends Part>(api: HttpApi, part: P, id: string): HttpApi[P][number] {
  const found = (api[part] as readonly HttpApi[P][number][]).find((x) => idOf(x) === id);
  if (!found)
    throw new NimbusError("NotFound", `Invalid ${PART_NAMES[part]} identifier specified ${api.apiId}:${id}`);
  return found;
}

const PART_NAMES: Record<Part, string> = {
  routes: "Route",
  integrations: "Integration",
  authorizers: "Authorizer",
};

function idOf(x: ApiRoute | ApiIntegration | ApiAuthorizer): string {
  return "routeId" in x ? x.routeId : "integrationId" in x ? x.integrationId : x.authorizerId;
}
