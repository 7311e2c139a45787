/** `nimbus logs NAME [--follow]`: prints a function's logs, and with --follow keeps streaming them. */
import { parseArgs } from "node:util";
import { NimbusClient, resolveClientOptions } from "../client.js";

interface WireLog {
  seq: number;
  time: string;
  requestId: string | null;
  message: string;
}

export async function logs(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      follow: { type: "boolean", short: "f" },
      "request-id": { type: "string" },
      version: { type: "string" },
      grep: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      limit: { type: "string" },
      endpoint: { type: "string" },
      data: { type: "string" },
    },
  });
  const name = positionals[0];
  if (!name)
    throw new Error(
      "usage: nimbus logs NAME [--follow] [--request-id ID] [--version V] [--grep TEXT] [--since ISO|5m|1h] [--until ISO|5m] [--limit N]",
    );
  const client = new NimbusClient(resolveClientOptions(values, process.env));
  const query: Record<string, string> = { function: name };
  if (values["request-id"]) query.requestId = values["request-id"];
  if (values.version) query.version = values.version;
  if (values.grep) query.q = values.grep;
  if (values.since) query.from = String(since(values.since, "--since"));
  if (values.until) query.to = String(since(values.until, "--until"));
  if (values.limit) query.limit = values.limit;
  const print = (e: WireLog) => process.stdout.write(`${e.message}\n`);
  if (!values.follow) {
    const res = await client.call("GET", "/nimbus/v1/logs", { query });
    for (const e of ((await res.json()) as { entries: WireLog[] }).entries) print(e);
    return 0;
  }
  const res = await client.call("GET", "/nimbus/v1/logs", { query: { ...query, follow: "1" } });
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    for (let i = buf.indexOf("\n\n"); i !== -1; i = buf.indexOf("\n\n")) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = event.split("\n").find((l) => l.startsWith("data:"));
      if (data) print(JSON.parse(data.slice(5)) as WireLog);
    }
  }
  return 0;
}

/** An ISO time, or a duration back from now (`5m`, `2h`). */
function since(v: string, flag: string): number {
  const m = /^(\d+)([smhd])$/.exec(v);
  if (m)
    return Date.now() - Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] as "s" | "m" | "h" | "d"];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`${flag} must be an ISO time or a duration like 5m, got ${v}`);
  return t;
}
