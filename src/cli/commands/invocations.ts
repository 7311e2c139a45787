/** `nimbus invocations show|ls|redrive`: the records of asynchronous invocations. */
import { Command } from "commander";
import type { CliContext } from "../context.js";
import { type Flags, integer, oneOf, withConnection, withJson } from "../options.js";

interface InvocationRecord {
  requestId: string;
  function: string;
  qualifier: string | null;
  status: string;
  attempts: number;
  acceptedAt: string;
  updatedAt: string;
  nextAttemptAt: string | null;
  result: unknown;
  error: unknown;
}

const JSON_NOTE = "--json prints each record as one JSON object a line, as the Nimbus API answers it.";

export function invocationsCommand(ctx: CliContext): Command {
  const cmd = new Command("invocations")
    .summary("records of asynchronous invocations")
    .description(
      "Each `nimbus invoke --async` leaves a record: its status, attempts, timings, and result or error.",
    );
  const print = (r: InvocationRecord, json: boolean | undefined) => {
    if (json) {
      ctx.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    const lines = [
      `${r.requestId}  ${r.function}${r.qualifier ? `:${r.qualifier}` : ""}  ${r.status}  attempts ${r.attempts}`,
      `  accepted ${r.acceptedAt}, updated ${r.updatedAt}${r.nextAttemptAt ? `, next attempt ${r.nextAttemptAt}` : ""}`,
    ];
    if (r.error !== null) lines.push(`  error  ${JSON.stringify(r.error)}`);
    if (r.result !== null) lines.push(`  result ${JSON.stringify(r.result)}`);
    ctx.stdout.write(`${lines.join("\n")}\n`);
  };

  withConnection(
    withJson(
      cmd
        .command("show")
        .summary("show one invocation")
        .argument("<request-id>", "the id `invoke --async` printed"),
    ),
  )
    .description(`Show one asynchronous invocation.\n\n${JSON_NOTE}`)
    .action(
      ctx.action(async (id: string, o: Flags) => {
        print(await ctx.client(o).json("GET", `/nimbus/v1/invocations/${encodeURIComponent(id)}`), o.json);
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("ls")
        .alias("list")
        .summary("list invocations, newest first")
        .option("--function <name>", "one function's")
        .option(
          "--status <status>",
          "only in this state: queued, running, retrying, succeeded, failed",
          oneOf("queued", "running", "retrying", "succeeded", "failed"),
        )
        .option("--limit <n>", "at most this many", integer(1, 1000)),
    ),
  )
    .description(`List asynchronous invocations, newest first.\n\n${JSON_NOTE}`)
    .action(
      ctx.action(async (o: Flags<{ function?: string; status?: string; limit?: number }>) => {
        const query: Record<string, string> = {};
        if (o.function) query.function = o.function;
        if (o.status) query.status = o.status;
        if (o.limit !== undefined) query.limit = String(o.limit);
        const { invocations } = await ctx
          .client(o)
          .json<{ invocations: InvocationRecord[] }>("GET", "/nimbus/v1/invocations", { query });
        for (const r of invocations) print(r, o.json);
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("redrive")
        .summary("run a failed invocation again")
        .argument("<request-id>", "the id of a failed invocation"),
    ),
  )
    .description(`Queue a failed asynchronous invocation again, with its original event.\n\n${JSON_NOTE}`)
    .action(
      ctx.action(async (id: string, o: Flags) => {
        print(
          await ctx.client(o).json("POST", `/nimbus/v1/invocations/${encodeURIComponent(id)}/redrive`),
          o.json,
        );
        return 0;
      }),
    );
  return cmd;
}
