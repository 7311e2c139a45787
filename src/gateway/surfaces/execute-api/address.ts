/**
 * Where an HTTP API is reached. By host, `{apiId}.execute-api.localhost:{port}` (or with the
 * region, `{apiId}.execute-api.{region}.localhost`, the shape of API Gateway's own host):
 * browsers and curl send every `*.localhost` name to the loopback. By path,
 * `/execute-api/{apiId}/…` on the platform's own address, for clients that resolve names
 * themselves and for callers on other machines; the function sees the path after the prefix.
 */
import { isLoopbackName } from "../../http-trigger.js";

export const API_HOST_PATTERNS = ["{id}.execute-api.localhost", "{id}.execute-api.{region}.localhost"];
export const API_PATH_PREFIX = "/execute-api/{id}";

/** The host an API's events name as `domainName`, whichever way the request came. */
export function apiDomainName(apiId: string): string {
  return `${apiId}.execute-api.localhost`;
}

/** An HTTP API's `ApiEndpoint` for a caller that reached the platform at `origin` (no trailing slash, as API Gateway's). */
export function executeApiEndpointFor(origin: string, apiId: string): string {
  const u = new URL(origin);
  if (isLoopbackName(u.hostname))
    return `${u.protocol}//${apiDomainName(apiId)}${u.port ? `:${u.port}` : ""}`;
  return `${u.origin}/execute-api/${apiId}`;
}
