/** `nimbus budget set|ls|rm`: monthly spending caps, per function and for the platform. */
import { Command, InvalidArgumentError } from "commander";
import type { CliContext } from "../context.js";
import { type Flags, withConnection, withJson } from "../options.js";
import { UsageError } from "../usage-error.js";

interface Budget {
  scope: "function" | "platform";
  function?: string;
  monthlyUsd: number;
  spentUsd: number;
  exceeded: boolean;
}

const JSON_NOTE = "--json prints each budget as one JSON object a line, as the Nimbus API answers it.";

export function budgetCommand(ctx: CliContext): Command {
  const cmd = new Command("budget")
    .alias("budgets")
    .summary("monthly budgets per function and for the platform")
    .description(
      "Monthly spending caps in US dollars per calendar month (UTC). Once a budget is spent, invocations " +
        "it covers are refused until the month ends or the budget is raised. See docs/cost.md.",
    );
  const path = (name: string | undefined, platform: boolean | undefined) => {
    if (platform === (name !== undefined))
      throw new UsageError("name a function or give --platform (not both)");
    return platform
      ? "/nimbus/v1/budgets/platform"
      : `/nimbus/v1/budgets/functions/${encodeURIComponent(name!)}`;
  };
  const print = (b: Budget, json: boolean | undefined) =>
    ctx.stdout.write(
      json
        ? `${JSON.stringify(b)}\n`
        : `${b.scope === "platform" ? "platform" : b.function}: ${b.monthlyUsd.toFixed(2)} USD a month, ` +
            `${b.spentUsd.toFixed(4)} spent this month${b.exceeded ? " (EXCEEDED: invocations are refused)" : ""}\n`,
    );

  withConnection(
    withJson(
      cmd
        .command("set")
        .summary("set a function's or the platform's monthly budget")
        .argument("[name]", "the function (or give --platform)")
        .option("--platform", "every function together")
        .requiredOption("--monthly <usd>", "US dollars per calendar month, e.g. 5.00", usd),
    ),
  )
    .description(
      `Set a monthly budget, for one function or (--platform) every function together.\n\n${JSON_NOTE}`,
    )
    .action(
      ctx.action(async (name: string | undefined, o: Flags<{ platform?: boolean; monthly: number }>) => {
        const p = path(name, o.platform);
        print(
          await ctx.client(o).json("PUT", p, { body: JSON.stringify({ monthlyUsd: o.monthly }) }),
          o.json,
        );
        return 0;
      }),
    );

  withConnection(
    withJson(cmd.command("ls").alias("list").summary("list budgets and what is spent this month")),
  )
    .description(`List the budgets and what each has spent this month.\n\n${JSON_NOTE}`)
    .action(
      ctx.action(async (o: Flags) => {
        const { budgets } = await ctx.client(o).json<{ budgets: Budget[] }>("GET", "/nimbus/v1/budgets");
        if (budgets.length === 0 && !o.json) ctx.stdout.write("no budgets\n");
        for (const b of budgets) print(b, o.json);
        return 0;
      }),
    );

  withConnection(
    cmd
      .command("rm")
      .alias("delete")
      .summary("remove a budget")
      .argument("[name]", "the function (or give --platform)")
      .option("--platform", "the platform's budget"),
  )
    .description("Remove a function's or (--platform) the platform's budget.")
    .action(
      ctx.action(async (name: string | undefined, o: Flags<{ platform?: boolean }>) => {
        await ctx.client(o).call("DELETE", path(name, o.platform));
        return 0;
      }),
    );
  return cmd;
}

function usd(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError("expected a number of US dollars, e.g. 5.00");
  return n;
}
