/**
 * HTTP APIs and their deployments as both stores keep them: each one JSON document in `body`,
 * text on both (not PostgreSQL's jsonb, which would reorder keys and renumber), so a document
 * reads back as it was written. JSON leaves out the optional fields set to undefined, so they
 * read back absent, from either store alike.
 */
import type { ApiDeployment, HttpApi } from "../services/http-apis/model.js";

export interface BodyRow {
  body: string;
}

/** The `body` column of an API or a deployment. */
export function documentBody(doc: HttpApi | ApiDeployment): string {
  return JSON.stringify(doc);
}

export function toHttpApi(r: BodyRow): HttpApi {
  return JSON.parse(r.body) as HttpApi;
}

export function toDeployment(r: BodyRow): ApiDeployment {
  return JSON.parse(r.body) as ApiDeployment;
}
