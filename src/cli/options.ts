/** Options and value parsers shared by the commands, so each flag means one thing everywhere. */
import { type Command, InvalidArgumentError, Option } from "commander";
import { type ConnectionFlags, checkEndpoint, DEFAULT_DATA_DIR, DEFAULT_ENDPOINT } from "./client.js";

/** A command's parsed options: the connection flags, --json, and its own `T`. */
export type Flags<T = unknown> = ConnectionFlags & { json?: boolean } & T;

/** --endpoint, --data and --region, grouped apart in the command's help. */
export function withConnection(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--endpoint <url>",
        `the platform's URL (default: from the environment, the data directory, or ${DEFAULT_ENDPOINT})`,
      )
        .argParser((v) => endpoint(v))
        .helpGroup("Connection options:"),
    )
    .addOption(
      new Option(
        "--data <dir>",
        `the platform's data directory, for its endpoint and key (default: NIMBUS_DATA or ${DEFAULT_DATA_DIR})`,
      ).helpGroup("Connection options:"),
    )
    .addOption(
      new Option(
        "--region <region>",
        "the region requests are signed for (default: NIMBUS_REGION, AWS_REGION or us-east-1)",
      ).helpGroup("Connection options:"),
    );
}

/** --json, with the same wording everywhere. */
export function withJson(cmd: Command): Command {
  return cmd.option("--json", "print JSON for scripts (stable keys; see docs/cli.md)");
}

function endpoint(v: string): string {
  try {
    return checkEndpoint(v, "--endpoint");
  } catch {
    throw new InvalidArgumentError(`expected an http(s) URL like ${DEFAULT_ENDPOINT}`);
  }
}

/** A parser for an integer option from `min` to `max`. */
export function integer(min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** A parser for a positive integer option whose upper limit the platform checks. */
export function positiveInteger(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new InvalidArgumentError("expected a positive integer");
  return Number(v);
}

/** A parser for a repeatable KEY=VALUE option, collecting into an object. */
export function keyValue(v: string, previous: Record<string, string> | undefined): Record<string, string> {
  const i = v.indexOf("=");
  if (i <= 0) throw new InvalidArgumentError("expected KEY=VALUE");
  return { ...previous, [v.slice(0, i)]: v.slice(i + 1) };
}

/** A parser for a repeatable option, collecting its values in order. */
export function collect(v: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), v];
}

/** A parser for an option whose value is one of `choices`: commander's own names the choices too. */
export function oneOf<T extends string>(...choices: T[]): (v: string) => T {
  return (v) => {
    if (!(choices as string[]).includes(v))
      throw new InvalidArgumentError(`expected one of ${choices.join(", ")}`);
    return v as T;
  };
}
