/** `nimbus dev --template FILE`: deploys a template's stack, then again on every change, until Ctrl-C. */
import { Command } from "commander";
import type { ConnectionFlags } from "../client.js";
import type { CliContext } from "../context.js";
import { withConnection } from "../options.js";
import { UsageError } from "../usage-error.js";
import { runTemplate } from "./deploy.js";

interface DevOptions extends ConnectionFlags {
  template?: string;
  stackName?: string;
  parameterOverrides?: string[];
}

export function devCommand(ctx: CliContext): Command {
  return withConnection(
    new Command("dev")
      .summary("deploy a template's stack on every change")
      .description(
        "Deploy the stack of a SAM template (as `nimbus deploy --template`), then watch the template and " +
          "each function's CodeUri directory and deploy again after each change, one deploy at a time, " +
          "printing each plan. Ctrl-C stops it.",
      )
      .option("--template <file>", "the SAM template", "template.yaml")
      .option("--stack-name <name>", "the stack's name (default: the template's directory name)")
      .option("--parameter-overrides <key=value...>", "values for the template's Parameters"),
  ).action(
    ctx.action(async (o: DevOptions) => {
      if (!o.template) throw new UsageError("--template FILE is required");
      return runTemplate(ctx, o, true);
    }),
  );
}
