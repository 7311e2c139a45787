/**
 * What the HTTP trigger surfaces (function URLs, HTTP APIs) read off a request the same way:
 * the path and query a function sees, the host the caller addressed, and the headers as sent.
 * Their path forms (`/lambda-url/{id}/…`, `/execute-api/{id}/…`) are a prefix of two segments
 * that the function never sees.
 */
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { bodyOf, type ReachMatch, type SurfaceEnv } from "./surface.js";

/** What a trigger surface's event is made of, whichever way the request came in. */
export interface RequestFacts {
  readonly method: string;
  /** Absolute: the host as the caller addressed it, the path and the query. */
  readonly url: string;
  /** Names as sent, repeats apart. */
  readonly headers: [string, string][];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly protocol: string;
}

/** A request the gateway routed (its body buffered by the gateway). */
export function routedRequestFacts(c: Context<SurfaceEnv>): RequestFacts {
  const req = c.req.raw;
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return {
    method: req.method,
    url: req.url,
    headers: headerPairs(incoming, req),
    body: bodyOf(c),
    sourceIp: incoming?.socket.remoteAddress ?? "127.0.0.1",
    protocol: incoming ? `HTTP/${incoming.httpVersion}` : "HTTP/1.1",
  };
}

/** Node's request's absolute URL, as the gateway's Web request has it. */
export function nodeUrl(req: IncomingMessage): string {
  return `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
}

/** Node's request on a surface's node path (`url`: its `nodeUrl`), its body read. */
export function nodeRequestFacts(req: IncomingMessage, url: string, body: Buffer): RequestFacts {
  return {
    method: req.method ?? "GET",
    url,
    headers: headerPairs(req),
    body,
    sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
    protocol: `HTTP/${req.httpVersion}`,
  };
}

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
