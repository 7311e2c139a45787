/** `nimbus functions ls|get|rm`: the functions the platform holds, through the Lambda API. */
import { Command } from "commander";
import type { NimbusClient } from "../client.js";
import type { CliContext } from "../context.js";
import { type Flags, withConnection, withJson } from "../options.js";
import { table } from "../output.js";

/** A function's configuration as Lambda's API answers it (the fields the CLI shows). */
export interface FunctionConfiguration {
  FunctionName: string;
  FunctionArn: string;
  Runtime: string;
  Handler: string;
  CodeSize: number;
  CodeSha256: string;
  Description: string;
  Timeout: number;
  MemorySize: number;
  LastModified: string;
  Version: string;
  Environment?: { Variables?: Record<string, string> };
  SnapStart?: { ApplyOn: string; OptimizationStatus: string; OptimizationStatusReason?: string };
}

interface GetFunctionBody {
  Configuration: FunctionConfiguration;
  Code: { RepositoryType: string; Location: string };
  Concurrency?: { ReservedConcurrentExecutions: number };
}

/** The Lambda API path of a function, with more path segments after it. */
export function functionPath(name: string, ...rest: string[]): string {
  return ["/2015-03-31/functions", name, ...rest]
    .map((s, i) => (i === 0 ? s : encodeURIComponent(s)))
    .join("/");
}

export function functionsCommand(ctx: CliContext): Command {
  const cmd = new Command("functions")
    .alias("function")
    .summary("list, inspect and delete functions")
    .description("List, inspect and delete functions. `nimbus deploy` creates and updates them.");

  withConnection(withJson(cmd.command("ls").alias("list").summary("list the functions")))
    .description(
      "List every function: name, runtime, memory, timeout, code size, last change.\n\n" +
        '--json prints Lambda\'s ListFunctions answer, all pages in one: {"Functions": [...]}.',
    )
    .action(
      ctx.action(async (o: Flags) => {
        const fns = await listFunctions(ctx.client(o));
        if (o.json) ctx.json({ Functions: fns });
        else if (fns.length === 0) ctx.stdout.write("no functions\n");
        else
          ctx.stdout.write(
            table(
              ["NAME", "RUNTIME", "MEMORY", "TIMEOUT", "CODE SIZE", "LAST MODIFIED"],
              fns.map((f) => [
                f.FunctionName,
                f.Runtime,
                `${f.MemorySize} MB`,
                `${f.Timeout} s`,
                bytes(f.CodeSize),
                f.LastModified,
              ]),
              [2, 3, 4],
            ),
          );
        return 0;
      }),
    );

  withConnection(
    withJson(
      cmd
        .command("get")
        .summary("show a function's configuration")
        .argument("<name>", "the function's name or ARN")
        .option("--qualifier <version>", "a published version or an alias instead of $LATEST"),
    ),
  )
    .description(
      "Show a function's configuration. Environment variables are listed by name; --json prints " +
        'Lambda\'s GetFunction answer, values included: {"Configuration", "Code", "Concurrency"?}.',
    )
    .action(
      ctx.action(async (name: string, o: Flags<{ qualifier?: string }>) => {
        const body = await ctx
          .client(o)
          .json<GetFunctionBody>(
            "GET",
            functionPath(name),
            o.qualifier ? { query: { Qualifier: o.qualifier } } : {},
          );
        if (o.json) ctx.json(body);
        else ctx.stdout.write(describe(body));
        return 0;
      }),
    );

  withConnection(
    cmd
      .command("rm")
      .alias("delete")
      .summary("delete a function, or one of its versions")
      .argument("<name>", "the function's name or ARN")
      .option("--qualifier <version>", "delete only this published version"),
  )
    .description(
      "Delete a function with its versions, aliases and settings, or with --qualifier one published " +
        "version (a version an alias points to cannot be deleted). Its logs and usage records stay.",
    )
    .action(
      ctx.action(async (name: string, o: Flags<{ qualifier?: string }>) => {
        await ctx
          .client(o)
          .call("DELETE", functionPath(name), o.qualifier ? { query: { Qualifier: o.qualifier } } : {});
        ctx.stdout.write(
          `deleted ${o.qualifier ? `version ${o.qualifier} of ${name}` : `function ${name}`}\n`,
        );
        return 0;
      }),
    );
  return cmd;
}

/** Every function, following ListFunctions' pages. */
async function listFunctions(client: NimbusClient): Promise<FunctionConfiguration[]> {
  const all: FunctionConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await client.json<{ Functions: FunctionConfiguration[]; NextMarker?: string }>(
      "GET",
      "/2015-03-31/functions/",
      { query: { MaxItems: "1000", ...(marker ? { Marker: marker } : {}) } },
    );
    all.push(...page.Functions);
    marker = page.NextMarker;
  } while (marker);
  return all;
}

function describe({ Configuration: c, Concurrency }: GetFunctionBody): string {
  const env = Object.keys(c.Environment?.Variables ?? {});
  const rows: Array<[string, string]> = [
    ["arn", c.FunctionArn],
    ["version", c.Version],
    ["runtime", c.Runtime],
    ["handler", c.Handler],
    ["memory", `${c.MemorySize} MB`],
    ["timeout", `${c.Timeout} s`],
    ["code", `${bytes(c.CodeSize)}, sha256 ${c.CodeSha256}`],
    ["modified", c.LastModified],
    // Names only: a terminal's output ends up in screenshots and pasted logs; --json has the values.
    ["environment", env.length === 0 ? "(none)" : env.join(", ")],
  ];
  if (c.Description) rows.push(["description", c.Description]);
  if (c.SnapStart && c.SnapStart.ApplyOn !== "None")
    rows.push([
      "snapstart",
      `${c.SnapStart.ApplyOn}, ${c.SnapStart.OptimizationStatus}${c.SnapStart.OptimizationStatusReason ? ` (${c.SnapStart.OptimizationStatusReason})` : ""}`,
    ]);
  if (Concurrency)
    rows.push(["reserved", `${Concurrency.ReservedConcurrentExecutions} concurrent executions`]);
  return `${c.FunctionName}\n${rows.map(([k, v]) => `  ${k.padEnd(12)}${v}\n`).join("")}`;
}

function bytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KB`
      : `${(n / 1024 ** 2).toFixed(1)} MB`;
}
