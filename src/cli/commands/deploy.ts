/** `nimbus deploy DIR --name NAME`: packages a directory (bundling TypeScript) and creates or updates the function. */
import { Command } from "commander";
import { MAX_MEMORY_MB, MAX_TIMEOUT_S, MIN_MEMORY_MB, MIN_TIMEOUT_S } from "../../protocol/limits.js";
import type { ConnectionFlags } from "../client.js";
import type { CliContext } from "../context.js";
import { integer, keyValue, withConnection, withJson } from "../options.js";
import { type FunctionConfiguration, functionPath } from "./functions.js";

interface DeployOptions extends ConnectionFlags {
  name: string;
  handler?: string;
  runtime: string;
  memory?: number;
  timeout?: number;
  env?: Record<string, string>;
  json?: boolean;
}

export function deployCommand(ctx: CliContext): Command {
  return withConnection(
    withJson(
      new Command("deploy")
        .summary("deploy a directory as a function")
        .description(
          "Zip a directory (a TypeScript entry such as index.ts is bundled with esbuild first) and create " +
            "the function, or update its code and configuration when it exists.\n\n" +
            "--json prints the function's configuration as Lambda's API answers it.",
        )
        .argument("<dir>", "the directory to deploy")
        .requiredOption("--name <name>", "the function's name")
        .option(
          "--handler <handler>",
          "the handler, FILE.EXPORT (default: index.handler; bootstrap for provided runtimes)",
        )
        .option("--runtime <runtime>", "nodejs20.x, nodejs22.x, nodejs24.x, provided, …", "nodejs20.x")
        .option("--memory <mb>", "memory size in MB", integer(MIN_MEMORY_MB, MAX_MEMORY_MB))
        .option("--timeout <s>", "timeout in seconds", integer(MIN_TIMEOUT_S, MAX_TIMEOUT_S))
        .option("--env <key=value>", "an environment variable; repeatable", keyValue),
    ),
  ).action(
    ctx.action(async (dir: string, o: DeployOptions) => {
      const client = ctx.client(o);
      const provided = o.runtime.startsWith("provided");
      // Loaded only to deploy: esbuild's module is a tenth of a second every other command would pay.
      const { buildPackage } = await import("../../shared/package-builder.js");
      const built = await buildPackage(
        dir,
        provided ? { handler: "bootstrap.handler" } : { handler: o.handler ?? "index.handler" },
      );
      const config: Record<string, unknown> = {
        Runtime: o.runtime,
        Handler: provided ? (o.handler ?? "bootstrap") : built.handler,
      };
      if (o.memory !== undefined) config.MemorySize = o.memory;
      if (o.timeout !== undefined) config.Timeout = o.timeout;
      if (o.env) config.Environment = { Variables: o.env };
      const path = functionPath(o.name);
      const exists = (await client.request("GET", `${path}/configuration`)).status === 200;
      let fn: FunctionConfiguration;
      if (!exists) {
        fn = await client.json<FunctionConfiguration>("POST", "/2015-03-31/functions", {
          body: JSON.stringify({
            FunctionName: o.name,
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
