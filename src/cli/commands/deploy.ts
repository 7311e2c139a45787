/** `nimbus deploy DIR --name NAME`: packages a directory (bundling TypeScript) and creates or updates the function. */
import { Command, Option } from "commander";
import { MAX_MEMORY_MB, MAX_TIMEOUT_S, MIN_MEMORY_MB, MIN_TIMEOUT_S } from "../../protocol/limits.js";
import { type ConnectionFlags, resolveClientOptions } from "../client.js";
import type { CliContext } from "../context.js";
import { integer, keyValue, withConnection, withJson } from "../options.js";
import { UsageError } from "../usage-error.js";
import { type FunctionConfiguration, functionPath } from "./functions.js";

interface DeployOptions extends ConnectionFlags {
  name?: string;
  template?: string;
  stackName?: string;
  parameterOverrides?: string[];
  dryRun?: boolean;
  watch?: boolean;
  handler?: string;
  runtime: string;
  memory?: number;
  timeout?: number;
  env?: Record<string, string>;
  json?: boolean;
}

/** A function directory's zip and the handler to deploy it with; `nimbus deploy --template` packages each CodeUri with it. */
export async function packageFunction(
  dir: string,
  runtime: string,
  handler: string | undefined,
): Promise<{ zip: Buffer; handler: string; files: number; bundled: boolean }> {
  const provided = runtime.startsWith("provided");
  // Loaded only to deploy: esbuild's module is a tenth of a second every other command would pay.
  const { buildPackage } = await import("../../shared/package-builder.js");
  const built = await buildPackage(
    dir,
    provided ? { handler: "bootstrap.handler" } : { handler: handler ?? "index.handler" },
  );
  return { ...built, handler: provided ? (handler ?? "bootstrap") : built.handler };
}

export function deployCommand(ctx: CliContext): Command {
  return withConnection(
    withJson(
      new Command("deploy")
        .summary("deploy a directory as a function, or a template's stack")
        .description(
          "Zip a directory (a TypeScript entry such as index.ts is bundled with esbuild first) and create " +
            "the function, or update its code and configuration when it exists.\n\n" +
            "With --template, deploy the functions, function URLs and HTTP APIs of a SAM template " +
            "(the subset in docs/http.md): print the plan, then apply it.\n\n" +
            "--json prints the function's configuration as Lambda's API answers it.",
        )
        .argument("[dir]", "the directory to deploy")
        .option("--name <name>", "the function's name (required with a directory)")
        .option(
          "--handler <handler>",
          "the handler, FILE.EXPORT (default: index.handler; bootstrap for provided runtimes)",
        )
        .option("--runtime <runtime>", "nodejs20.x, nodejs22.x, nodejs24.x, provided, …", "nodejs20.x")
        .option("--memory <mb>", "memory size in MB", integer(MIN_MEMORY_MB, MAX_MEMORY_MB))
        .option("--timeout <s>", "timeout in seconds", integer(MIN_TIMEOUT_S, MAX_TIMEOUT_S))
        .option("--env <key=value>", "an environment variable; repeatable", keyValue)
        .addOption(templateOption())
        .addOption(
          stackOption("--stack-name <name>", "the stack's name (default: the template's directory name)"),
        )
        .addOption(
          stackOption("--parameter-overrides <key=value...>", "values for the template's Parameters"),
        )
        .addOption(stackOption("--dry-run", "print the plan without applying it"))
        .addOption(
          stackOption("--watch", "deploy again on each change of the template or a CodeUri (as nimbus dev)"),
        ),
    ),
  ).action(
    ctx.action(async (dir: string | undefined, o: DeployOptions, cmd: Command) => {
      if (o.template !== undefined) {
        const stackOnly = ["handler", "memory", "timeout", "env", "name"] as const;
        const wrong: string[] = stackOnly.filter((k) => o[k] !== undefined);
        if (cmd.getOptionValueSource("runtime") === "cli") wrong.push("runtime");
        if (dir !== undefined || wrong.length > 0)
          throw new UsageError(
            `--template deploys what the template says: drop ${[...(dir ? ["the directory"] : []), ...wrong.map((k) => `--${k}`)].join(", ")}`,
          );
        return runTemplate(ctx, o, o.watch === true);
      }
      const stackFlags = (["stackName", "parameterOverrides", "dryRun", "watch"] as const).filter(
        (k) => o[k] !== undefined,
      );
      if (stackFlags.length > 0)
        throw new UsageError("--stack-name, --parameter-overrides, --dry-run and --watch go with --template");
      if (dir === undefined || o.name === undefined)
        throw new UsageError("give a directory and --name NAME, or --template FILE");
      const name = o.name;
      const client = ctx.client(o);
      const built = await packageFunction(dir, o.runtime, o.handler);
      const config: Record<string, unknown> = { Runtime: o.runtime, Handler: built.handler };
      if (o.memory !== undefined) config.MemorySize = o.memory;
      if (o.timeout !== undefined) config.Timeout = o.timeout;
      if (o.env) config.Environment = { Variables: o.env };
      const path = functionPath(name);
      const exists = (await client.request("GET", `${path}/configuration`)).status === 200;
      let fn: FunctionConfiguration;
      if (!exists) {
        fn = await client.json<FunctionConfiguration>("POST", "/2015-03-31/functions", {
          body: JSON.stringify({
            FunctionName: name,
            ...config,
            Code: { ZipFile: built.zip.toString("base64") },
          }),
        });
      } else {
        await client.call("PUT", `${path}/code`, {
          body: JSON.stringify({ ZipFile: built.zip.toString("base64") }),
        });
        fn = await client.json<FunctionConfiguration>("PUT", `${path}/configuration`, {
          body: JSON.stringify(config),
        });
      }
      if (o.json) ctx.json(fn);
      else
        ctx.stdout.write(
          `${exists ? "updated" : "created"} ${fn.FunctionName}: ${built.files} file(s)${built.bundled ? " bundled with esbuild" : ""}, ${fn.CodeSize} bytes, CodeSha256 ${fn.CodeSha256}\n`,
        );
      return 0;
    }),
  );
}

/** --template FILE, shared by `deploy` and `dev`. */
export function templateOption(): Option {
  return stackOption("--template <file>", "a SAM template (template.yaml) to deploy instead of a directory");
}

function stackOption(flags: string, description: string): Option {
  return new Option(flags, description).helpGroup("Template options:");
}

/** KEY=VALUE pairs of --parameter-overrides; a usage error names one that is not. */
export function parameterOverrides(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf("=");
    if (i <= 0) throw new UsageError(`--parameter-overrides expects KEY=VALUE pairs, got "${item}"`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** Deploys a template once, or on every change with --watch; the exit code. */
export async function runTemplate(
  ctx: CliContext,
  o: ConnectionFlags & {
    template?: string;
    stackName?: string;
    parameterOverrides?: string[];
    dryRun?: boolean;
  },
  watchChanges: boolean,
): Promise<number> {
  const options = {
    template: o.template!,
    stackName: o.stackName,
    parameterOverrides: parameterOverrides(o.parameterOverrides),
    dryRun: o.dryRun === true,
    region: resolveClientOptions(o, ctx.env).region,
  };
  const client = ctx.client(o);
  if (!watchChanges) {
    const { deployStack } = await import("../template/deploy-stack.js");
    return (await deployStack(client, options, ctx)).code;
  }
  const { watchStack } = await import("../template/watch.js");
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await watchStack(client, options, ctx, stop.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
