/**
 * What the HTTP trigger surfaces (function URLs, HTTP APIs) read off a request the same way:
 * the path and query a function sees, the host the caller addressed, and the headers as sent.
 * Their path forms (`/lambda-url/{id}/…`, `/execute-api/{id}/…`) are a prefix of two segments
 * that the function never sees.
 */
import type { IncomingMessage } from "node:http";
import type { ReachMatch } from "./surface.js";

/** The raw path and query of `url`; on the path form, the path after its two-segment prefix. */
export function triggerPath(url: string, reach: ReachMatch): { rawPath: string; rawQuery: string } {
  const afterHost = url.indexOf("/", url.indexOf("//") + 2);
  const rest = afterHost === -1 ? "/" : url.slice(afterHost);
  const q = rest.indexOf("?");
  let path = q === -1 ? rest : rest.slice(0, q);
  const rawQuery = q === -1 ? "" : rest.slice(q + 1);
  if (reach.via === "path") {
    // "/{form}/{id}" and what follows it.
    const prefixEnd = path.indexOf("/", path.indexOf("/", 1) + 1);
    path = prefixEnd === -1 ? "/" : path.slice(prefixEnd);
  }
  return { rawPath: path, rawQuery };
}

/** The host name `url` addresses, its port left out. */
export function hostnameOf(url: string): string {
  const start = url.indexOf("//") + 2;
  const end = url.indexOf("/", start);
  const host = url.slice(start, end === -1 ? url.length : end);
  const colon = host.lastIndexOf(":");
  return colon > host.lastIndexOf("]") ? host.slice(0, colon) : host;
}

/** Node's raw header list (names as sent, repeats apart), else the Web request's. */
export function headerPairs(incoming: IncomingMessage | undefined, req?: Request): [string, string][] {
  const pairs: [string, string][] = [];
  if (incoming) {
    const raw = incoming.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
    return pairs;
  }
  req?.headers.forEach((value, name) => {
    pairs.push([name, value]);
  });
  return pairs;
}

/**
 * Whether a caller reached the platform by a loopback name: then the `*.localhost` host forms
 * of URLs and APIs resolve for it too (browsers and curl send them to the loopback), and
 * answers may name them.
 */
export function isLoopbackName(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname.endsWith(".localhost") ||
    hostname === "[::1]" ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  );
}
