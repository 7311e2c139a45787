/** The nimbus command: one file per subcommand under commands/. */
import { budget } from "./commands/budget.js";
import { cost } from "./commands/cost.js";
import { deploy } from "./commands/deploy.js";
import { invocations } from "./commands/invocations.js";
import { invoke } from "./commands/invoke.js";
import { logs } from "./commands/logs.js";
import { sandbox } from "./commands/sandbox.js";
import { top } from "./commands/top.js";
import { up } from "./commands/up.js";

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; summary: string }> = {
  up: { run: up, summary: "run the platform in the foreground (--port 9000 --data ./.nimbus)" },
  deploy: { run: deploy, summary: "deploy a directory as a function: nimbus deploy ./dir --name NAME" },
  invoke: { run: invoke, summary: "invoke a function: nimbus invoke NAME --payload JSON [--async]" },
  invocations: {
    run: invocations,
    summary: "records of async invocations: nimbus invocations show ID | ls | redrive ID",
  },
  logs: { run: logs, summary: "show a function's logs: nimbus logs NAME [--follow]" },
  cost: {
    run: cost,
    summary: "usage and cost: nimbus cost [--function NAME] [--by function|version|day] [--from DATE]",
  },
  top: { run: top, summary: "live view per function: invocations/s, errors, p50/p99, cold %, instances" },
  budget: {
    run: budget,
    summary: "monthly budgets: nimbus budget set NAME|--platform --monthly USD | ls | rm",
  },
  sandbox: {
    run: sandbox,
    summary:
      "a function's sandbox tier and network: nimbus sandbox NAME [--tier T] [--internet] [--allow DEST]... | --reset",
  },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const cmd = name === undefined ? undefined : COMMANDS[name];
  if (!cmd) {
    const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}`);
    const out = `usage: nimbus <command> [options]\n\n${lines.join("\n")}\n`;
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      process.stdout.write(out);
      return 0;
    }
    process.stderr.write(`unknown command "${name}"\n\n${out}`);
    return 2;
  }
  return cmd.run(rest);
}
