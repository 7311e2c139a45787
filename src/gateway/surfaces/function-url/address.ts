/**
 * Where a function URL is reached. By host, `{id}.lambda-url.{region}.localhost:{port}`:
 * browsers and curl send every `*.localhost` name to the loopback. By path,
 * `/lambda-url/{id}/…` on the platform's own address, for clients that resolve names
 * themselves (Node's fetch does not know `*.localhost`) and for callers on other machines.
 */
import { isLoopbackName } from "../../http-trigger.js";

export const URL_HOST_PATTERN = "{id}.lambda-url.{region}.localhost";
export const URL_PATH_PREFIX = "/lambda-url/{id}";

/**
 * The URL a caller that reached the platform at `origin` (`http://localhost:9000`) can use:
 * the host form when it came by a loopback name (the host form resolves only there), else
 * the path form on the address it used.
 */
export function functionUrlFor(origin: string, region: string, urlId: string): string {
  const u = new URL(origin);
  if (isLoopbackName(u.hostname))
    return `${u.protocol}//${urlId}.lambda-url.${region}.localhost${u.port ? `:${u.port}` : ""}/`;
  return `${u.origin}/lambda-url/${urlId}/`;
}
