/** What every command is given: the environment, where to write, how to connect, and its exit code. */
import type { Command } from "commander";
import { type ConnectionFlags, NimbusClient, resolveClientOptions } from "./client.js";
import { UsageError } from "./usage-error.js";

/** A stream the CLI writes to (process.stdout, or a buffer in tests). */
export interface Output {
  write(text: string | Uint8Array): unknown;
  readonly isTTY?: boolean | undefined;
}

export interface CliIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: Output;
  readonly stderr: Output;
}

export class CliContext {
  readonly env: CliIO["env"];
  readonly stdout: Output;
  readonly stderr: Output;
  /** What the command's action resolved with: commander's parse gives an action's result back to no one. */
  exitCode = 0;

  constructor(io: CliIO) {
    this.env = io.env;
    this.stdout = io.stdout;
    this.stderr = io.stderr;
  }

  /** A client for the platform the flags, the environment and the data directory point at. */
  client(flags: ConnectionFlags): NimbusClient {
    return new NimbusClient(resolveClientOptions(flags, this.env));
  }

  /** Prints one JSON document; lists of a stream (logs, top) print one line per item instead. */
  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /**
   * A commander action: its resolved number becomes the exit code, and a UsageError it throws
   * is reported by commander as its own errors are (with the command's help hint, exit 2).
   */
  action<A extends unknown[]>(fn: (...args: A) => Promise<number | undefined>) {
    return async (...args: A): Promise<void> => {
      try {
        this.exitCode = (await fn(...args)) ?? 0;
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        (args.at(-1) as Command).error(`error: ${err.message}`, { exitCode: 2, code: "nimbus.usage" });
      }
    };
  }
}
