/**
 * One HTTP request to something the platform serves by path (a function URL's `/lambda-url/{id}`,
 * an HTTP API's `/execute-api/{id}`), as `urls call`, `invoke --path` and `apis call` send it:
 * the status line on stderr, the body on stdout, exit code 1 on a 4xx or 5xx.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { ConnectionFlags, NimbusClient } from "./client.js";
import type { CliContext } from "./context.js";
import { collect } from "./options.js";
import { UsageError } from "./usage-error.js";

export interface HttpCallOptions extends ConnectionFlags {
  method?: string;
  header?: string[];
  body?: string;
}

/** --method, --header and --body, for `urls call`, `apis call` and `invoke --path`. */
export function httpCallOptions(c: Command): Command {
  return c
    .option("-X, --method <method>", "the HTTP method (default GET, or POST with --body)")
    .option("-H, --header <name: value>", "a request header; repeatable", collect)
    .option("-d, --body <text|@file>", "the request body, or @FILE to read it from a file");
}

/**
 * Sends `path` (with its query) under `prefix` on the platform's endpoint and prints the answer;
 * the exit code. `signed`: with the client's key, else as a browser would, unsigned.
 */
export async function httpCall(
  ctx: CliContext,
  client: NimbusClient,
  prefix: string,
  path: string,
  o: HttpCallOptions,
  signed: boolean,
): Promise<number> {
  const body = o.body?.startsWith("@") ? await readFile(o.body.slice(1)) : o.body;
  const headers: Record<string, string> = {};
  for (const h of o.header ?? []) {
    const colon = h.indexOf(":");
    if (colon < 1) throw new UsageError(`--header must be "name: value", got "${h}"`);
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  const target = path.startsWith("/") ? path : `/${path}`;
  const q = target.indexOf("?");
  const res = await client.request(
    o.method?.toUpperCase() ?? (body === undefined ? "GET" : "POST"),
    `${prefix}${q === -1 ? target : target.slice(0, q)}`,
    {
      ...(q === -1 ? {} : { query: Object.fromEntries(new URLSearchParams(target.slice(q + 1))) }),
      ...(body === undefined ? {} : { body }),
      headers,
      unsigned: !signed,
    },
  );
  ctx.stderr.write(
    `HTTP ${res.status} ${res.statusText} (${res.headers.get("x-amzn-requestid") ?? "no request id"})\n`,
  );
  ctx.stdout.write(`${Buffer.from(await res.arrayBuffer()).toString("utf8")}\n`);
  return res.status >= 400 ? 1 : 0;
}
