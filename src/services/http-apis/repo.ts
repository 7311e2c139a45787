/** HTTP APIs as stored: one document per API, and its deployments. */
import type { ApiDeployment, HttpApi } from "./model.js";

export interface HttpApisRepo {
  getHttpApi(apiId: string): Promise<HttpApi | undefined>;
  /** Every API, in byte order of their ids (the platform loads them all at start). */
  listHttpApis(): Promise<HttpApi[]>;
  /** Inserts or replaces the whole document. */
  putHttpApi(api: HttpApi): Promise<void>;
  /** Deletes the API and its deployments; false if there was none. */
  deleteHttpApi(apiId: string): Promise<boolean>;
  /** Adds a deployment (ids are unique per API; a second put of one id replaces it). */
  putDeployment(deployment: ApiDeployment): Promise<void>;
  getDeployment(apiId: string, deploymentId: string): Promise<ApiDeployment | undefined>;
  /** An API's deployments, oldest first. */
  listDeployments(apiId: string): Promise<ApiDeployment[]>;
  deleteDeployment(apiId: string, deploymentId: string): Promise<boolean>;
}
