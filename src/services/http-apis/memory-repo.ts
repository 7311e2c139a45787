/**
 * An `HttpApisRepo` in memory, for the service's unit tests (the platform uses the SQLite or
 * PostgreSQL one). Documents are copied in and out, as a store's rows would be, so a caller
 * that kept a reference never sees a later write.
 */
import type { ApiDeployment, HttpApi } from "./model.js";
import type { HttpApisRepo } from "./repo.js";

export class MemoryHttpApis implements HttpApisRepo {
  readonly #apis = new Map<string, HttpApi>();
  readonly #deployments = new Map<string, Map<string, ApiDeployment>>();

  async getHttpApi(apiId: string): Promise<HttpApi | undefined> {
    const api = this.#apis.get(apiId);
    return api && structuredClone(api);
  }

  async listHttpApis(): Promise<HttpApi[]> {
    return [...this.#apis.keys()].sort().map((id) => structuredClone(this.#apis.get(id)!));
  }

  async putHttpApi(api: HttpApi): Promise<void> {
    this.#apis.set(api.apiId, structuredClone(api));
  }

  async deleteHttpApi(apiId: string): Promise<boolean> {
    this.#deployments.delete(apiId);
    return this.#apis.delete(apiId);
  }

  async putDeployment(deployment: ApiDeployment): Promise<void> {
    // As the stores' foreign key: a deployment belongs to a stored API.
    if (!this.#apis.has(deployment.apiId))
      throw new Error(`no API ${deployment.apiId} is stored for deployment ${deployment.deploymentId}`);
    const of = this.#deployments.get(deployment.apiId) ?? new Map<string, ApiDeployment>();
    this.#deployments.set(deployment.apiId, of);
    of.set(deployment.deploymentId, structuredClone(deployment));
  }

  async getDeployment(apiId: string, deploymentId: string): Promise<ApiDeployment | undefined> {
    const d = this.#deployments.get(apiId)?.get(deploymentId);
    return d && structuredClone(d);
  }

  async listDeployments(apiId: string): Promise<ApiDeployment[]> {
    return [...(this.#deployments.get(apiId)?.values() ?? [])]
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((d) => structuredClone(d));
  }

  async deleteDeployment(apiId: string, deploymentId: string): Promise<boolean> {
    return this.#deployments.get(apiId)?.delete(deploymentId) ?? false;
  }
}
