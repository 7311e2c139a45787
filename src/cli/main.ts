/**
 * The nimbus command: the command tree (one file per command or noun under commands/), run on
 * the arguments, with the outcome mapped to an exit code: 0 ok, 1 failure, 2 usage error.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { DEFAULT_DATA_DIR, DEFAULT_ENDPOINT } from "./client.js";
import { aliasesCommand } from "./commands/aliases.js";
import { apisCommand } from "./commands/apis.js";
import { authCommand } from "./commands/auth.js";
import { budgetCommand } from "./commands/budget.js";
import { costCommand } from "./commands/cost.js";
import { deployCommand } from "./commands/deploy.js";
import { devCommand } from "./commands/dev.js";
import { eventsCommand } from "./commands/events.js";
import { functionsCommand } from "./commands/functions.js";
import { invocationsCommand } from "./commands/invocations.js";
import { invokeCommand } from "./commands/invoke.js";
import { logsCommand } from "./commands/logs.js";
import { queuesCommand } from "./commands/queues.js";
import { sandboxCommand } from "./commands/sandbox.js";
import { schedulesCommand } from "./commands/schedules.js";
import { storageCommand } from "./commands/storage.js";
import { topCommand } from "./commands/top.js";
import { upCommand } from "./commands/up-command.js";
import { urlsCommand } from "./commands/urls.js";
import { versionsCommand } from "./commands/versions.js";
import { CliContext, type CliIO } from "./context.js";

const AFTER_HELP = `
Each command finds the platform and its key in this order: its flags (--endpoint, --data,
--region); NIMBUS_ENDPOINT, NIMBUS_ACCESS_KEY_ID / NIMBUS_SECRET_ACCESS_KEY, NIMBUS_REGION;
AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_REGION;
the data directory (NIMBUS_DATA or ${DEFAULT_DATA_DIR}: its endpoint and credentials.json files);
then ${DEFAULT_ENDPOINT}.

Exit codes: 0 ok, 1 failed, 2 usage error. --json prints machine-readable output.
Run "nimbus COMMAND --help" for a command's options; docs/cli.md has them all.
`;

export async function main(
  argv: string[],
  io: CliIO = { env: process.env, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const ctx = new CliContext(io);
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return ctx.exitCode;
  } catch (err) {
    // Commander has printed its message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** Every command, configured alike: errors thrown (not exiting), output to `ctx`, a help hint on errors. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command("nimbus")
    .description("Nimbus: a self-hosted serverless platform with the AWS Lambda API.")
    .version(packageVersion(), "-V, --version", "print the version")
    // Options before the command are nimbus's own, after it the command's: `aliases set --version 3`.
    .enablePositionalOptions()
    .addHelpText("after", AFTER_HELP);
  program.commandsGroup("Run the platform:").addCommand(upCommand(ctx));
  program
    .commandsGroup("Functions:")
    .addCommand(deployCommand(ctx))
    .addCommand(devCommand(ctx))
    .addCommand(invokeCommand(ctx))
    .addCommand(logsCommand(ctx))
    .addCommand(functionsCommand(ctx))
    .addCommand(versionsCommand(ctx))
    .addCommand(aliasesCommand(ctx))
    .addCommand(urlsCommand(ctx))
    .addCommand(apisCommand(ctx))
    .addCommand(sandboxCommand(ctx));
  program
    .commandsGroup("Event sources:")
    .addCommand(queuesCommand(ctx))
    .addCommand(schedulesCommand(ctx))
    .addCommand(eventsCommand(ctx));
  program.commandsGroup("Services:").addCommand(authCommand(ctx)).addCommand(storageCommand(ctx));
  program
    .commandsGroup("Operations:")
    .addCommand(invocationsCommand(ctx))
    .addCommand(costCommand(ctx))
    .addCommand(budgetCommand(ctx))
    .addCommand(topCommand(ctx));
  configure(program, "nimbus", ctx);
  return program;
}

function configure(cmd: Command, path: string, ctx: CliContext): void {
  cmd
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) })
    .showSuggestionAfterError()
    .configureHelp({ subcommandTerm })
    .showHelpAfterError(`(run "${path} --help" for its usage)`);
  for (const sub of cmd.commands) configure(sub, `${path} ${sub.name()}`, ctx);
}

/** A command as the list in its parent's help names it: `functions ls|get|rm`, `deploy <dir>`. */
function subcommandTerm(cmd: Command): string {
  if (cmd.commands.length > 0) return `${cmd.name()} ${cmd.commands.map((c) => c.name()).join("|")}`;
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
  return [cmd.name(), ...args].join(" ");
}

/** The version in Nimbus's package.json, found from this file in src/ or dist/src/. */
function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "nimbus" && pkg.version) return pkg.version;
    } catch {}
  }
  return "unknown";
}
