/** `nimbus aliases ls|get|set|rm`: names that point at a function's versions, through the Lambda API. */
import { Command, InvalidArgumentError } from "commander";
import type { ConnectionFlags } from "../client.js";
import type { CliContext } from "../context.js";
import { type Flags, withConnection, withJson } from "../options.js";
import { table } from "../output.js";
import { UsageError } from "../usage-error.js";
import { functionPath } from "./functions.js";

/** An alias as Lambda's API answers it. */
interface AliasConfiguration {
  AliasArn: string;
  Name: string;
  FunctionVersion: string;
  Description: string;
  RevisionId: string;
  RoutingConfig?: { AdditionalVersionWeights: Record<string, number> };
}

interface SetOptions extends ConnectionFlags {
  version?: string;
  description?: string;
  weight?: Record<string, number>;
  weights?: boolean;
  json?: boolean;
}

export function aliasesCommand(ctx: CliContext): Command {
  const cmd = new Command("aliases")
    .alias("alias")
    .summary("point names at a function's versions")
    .description(
      "Aliases name a version of a function (`live` → 3) and can send a share of calls to a second " +
        "version. Invoke one with `nimbus invoke NAME --qualifier ALIAS`.",
    );

  withConnection(
    withJson(
      cmd
        .command("ls")
        .alias("list")
        .summary("list a function's aliases")
        .argument("<function>", "the function's name or ARN"),
    ),
  )
    .description(
      "List a function's aliases.\n\n--json prints Lambda's ListAliases answer: {\"Aliases\": [...]}.",
    )
    .action(
      ctx.action(async (fn: string, o: Flags) => {
        const { Aliases } = await ctx
          .client(o)
          .json<{ Aliases: AliasConfiguration[] }>("GET", functionPath(fn, "aliases"));
        if (o.json) ctx.json({ Aliases });
        else if (Aliases.length === 0) ctx.stdout.write(`${fn} has no aliases\n`);
        else
          ctx.stdout.write(
            table(
              ["ALIAS", "VERSION", "ROUTING", "DESCRIPTION"],
              Aliases.map((a) => [a.Name, a.FunctionVersion, routing(a), a.Description]),
            ),
          );
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("get")
        .summary("show an alias")
        .argument("<function>", "the function's name or ARN")
        .argument("<alias>", "the alias's name"),
    ),
  )
    .description("Show an alias.\n\n--json prints Lambda's GetAlias answer.")
    .action(
      ctx.action(async (fn: string, alias: string, o: Flags) => {
        const a = await ctx.client(o).json<AliasConfiguration>("GET", functionPath(fn, "aliases", alias));
        if (o.json) ctx.json(a);
        else ctx.stdout.write(describe(fn, a));
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("set")
        .summary("create an alias, or change where it points")
        .argument("<function>", "the function's name or ARN")
        .argument("<alias>", "the alias's name")
        .option("--version <version>", "the version it points to: a number or $LATEST (required to create)")
        .option("--description <text>", "the alias's description")
        .option(
          "--weight <version=weight>",
          "send this share (0 to 1) of calls to a second version instead; repeatable",
          weight,
        )
        .option("--no-weights", "send every call to --version again (drops the weights)"),
    ),
  )
    .description(
      "Create the alias, or update it when it exists. Options left out keep their value on an update.\n\n" +
        "--json prints Lambda's CreateAlias or UpdateAlias answer.",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  nimbus aliases set hello live --version 3\n  nimbus aliases set hello live --version 4 --weight 3=0.9   # canary: 10 % to 4\n",
    )
    .action(
      ctx.action(async (fn: string, alias: string, o: SetOptions) => {
        if (o.weight && o.weights === false)
          throw new UsageError("--weight and --no-weights cannot be used together");
        const client = ctx.client(o);
        const path = functionPath(fn, "aliases", alias);
        const existing = await client.request("GET", path);
        const exists = existing.status === 200;
        // A 404 says the alias (or the function) is missing; any other answer is the real error.
        if (!exists && existing.status !== 404) await client.call("GET", path);
        if (!exists && o.version === undefined)
          throw new UsageError(
            `--version is required to create alias "${alias}" of ${fn}: it does not exist yet`,
          );
        const body = {
          ...(exists ? {} : { Name: alias }),
          ...(o.version === undefined ? {} : { FunctionVersion: o.version }),
          ...(o.description === undefined ? {} : { Description: o.description }),
          ...(o.weight
            ? { RoutingConfig: { AdditionalVersionWeights: o.weight } }
            : o.weights === false
              ? { RoutingConfig: { AdditionalVersionWeights: {} } }
              : {}),
        };
        const a = exists
          ? await client.json<AliasConfiguration>("PUT", path, { body: JSON.stringify(body) })
          : await client.json<AliasConfiguration>("POST", functionPath(fn, "aliases"), {
              body: JSON.stringify(body),
            });
        if (o.json) ctx.json(a);
        else
          ctx.stdout.write(
            `${exists ? "updated" : "created"} alias ${fn}:${a.Name} → ${a.FunctionVersion}${routing(a) === "-" ? "" : ` (${routing(a)})`}\n`,
          );
        return 0;
      }),
    );

  withConnection(
    cmd
      .command("rm")
      .alias("delete")
      .summary("delete an alias")
      .argument("<function>", "the function's name or ARN")
      .argument("<alias>", "the alias's name"),
  )
    .description("Delete an alias. The versions it pointed to stay.")
    .action(
      ctx.action(async (fn: string, alias: string, o: Flags) => {
        await ctx.client(o).call("DELETE", functionPath(fn, "aliases", alias));
        ctx.stdout.write(`deleted alias ${fn}:${alias}\n`);
        return 0;
      }),
    );
  return cmd;
}

/** `--weight 3=0.1`, repeatable, into AdditionalVersionWeights. */
function weight(v: string, previous: Record<string, number> | undefined): Record<string, number> {
  const m = /^([^=]+)=(\d*\.?\d+)$/.exec(v);
  const w = Number(m?.[2]);
  if (!m || !(w >= 0 && w <= 1))
    throw new InvalidArgumentError("expected VERSION=WEIGHT with a weight from 0 to 1, like 3=0.1");
  return { ...previous, [m[1]!]: w };
}

function routing(a: AliasConfiguration): string {
  const w = Object.entries(a.RoutingConfig?.AdditionalVersionWeights ?? {});
  return w.length === 0 ? "-" : w.map(([v, share]) => `${v}=${Math.round(share * 1000) / 10}%`).join(", ");
}

function describe(fn: string, a: AliasConfiguration): string {
  const rows: Array<[string, string]> = [
    ["arn", a.AliasArn],
    ["version", a.FunctionVersion],
    ["routing", routing(a) === "-" ? "every call to its version" : routing(a)],
    ["revision", a.RevisionId],
  ];
  if (a.Description) rows.push(["description", a.Description]);
  return `${fn}:${a.Name}\n${rows.map(([k, v]) => `  ${k.padEnd(12)}${v}\n`).join("")}`;
}
