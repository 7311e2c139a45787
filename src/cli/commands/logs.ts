/** `nimbus logs NAME [--follow]`: prints a function's logs, and with --follow keeps streaming them. */
import { Command, InvalidArgumentError } from "commander";
import type { ConnectionFlags } from "../client.js";
import type { CliContext } from "../context.js";
import { positiveInteger, withConnection, withJson } from "../options.js";
import { sseEvents } from "../sse.js";

interface WireLog {
  seq: number;
  time: string;
  requestId: string | null;
  message: string;
}

interface LogsOptions extends ConnectionFlags {
  follow?: boolean;
  requestId?: string;
  version?: string;
  grep?: string;
  since?: number;
  until?: number;
  limit?: number;
  json?: boolean;
}

export function logsCommand(ctx: CliContext): Command {
  return withConnection(
    withJson(
      new Command("logs")
        .summary("show a function's logs")
        .description(
          "Print a function's log: START, its own output, END and REPORT, oldest first.\n\n" +
            "--json prints one JSON object a line (seq, time, requestId, message), streaming with --follow.",
        )
        .argument("<name>", "the function's name")
        .option("-f, --follow", "keep streaming new lines")
        .option("--request-id <id>", "one invocation's lines")
        .option("--version <version>", "one version's lines")
        .option("--grep <text>", "lines containing this text")
        .option("--since <time>", "from this ISO time, or this long ago (30s, 5m, 2h, 1d)", time)
        .option("--until <time>", "up to this ISO time, or this long ago", time)
        .option("--limit <n>", "at most this many lines", positiveInteger),
    ),
  ).action(
    ctx.action(async (name: string, o: LogsOptions) => {
      const client = ctx.client(o);
      const query: Record<string, string> = { function: name };
      if (o.requestId) query.requestId = o.requestId;
      if (o.version) query.version = o.version;
      if (o.grep) query.q = o.grep;
      if (o.since !== undefined) query.from = String(o.since);
      if (o.until !== undefined) query.to = String(o.until);
      if (o.limit !== undefined) query.limit = String(o.limit);
      const print = (e: WireLog) =>
        ctx.stdout.write(
          o.json
            ? `${JSON.stringify({ seq: e.seq, time: e.time, requestId: e.requestId, message: e.message })}\n`
            : `${e.message}\n`,
        );
      if (!o.follow) {
        const { entries } = await client.json<{ entries: WireLog[] }>("GET", "/nimbus/v1/logs", { query });
        for (const e of entries) print(e);
        return 0;
      }
      const res = await client.call("GET", "/nimbus/v1/logs", { query: { ...query, follow: "1" } });
      for await (const e of sseEvents(res.body as AsyncIterable<Uint8Array>))
        if (e.event === "log") print(JSON.parse(e.data) as WireLog);
      return 0;
    }),
  );
}

/** An ISO time, or a duration back from now (`5m`, `2h`), as epoch ms. */
function time(v: string): number {
  const m = /^(\d+)([smhd])$/.exec(v);
  if (m)
    return Date.now() - Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] as "s" | "m" | "h" | "d"];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError("expected an ISO time or a duration like 5m");
  return t;
}
