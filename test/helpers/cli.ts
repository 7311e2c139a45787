/** Runs the `nimbus` command as a user would, for end-to-end tests. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { resolve } from "node:path";

export const NIMBUS = resolve("bin/nimbus.js");

/**
 * The user's environment, minus what would slow every node start here and what would point
 * the CLI at another platform or key (the developer's own NIMBUS_* and AWS_* settings).
 */
export function cliEnv(dataDir: string): NodeJS.ProcessEnv {
  return { ...cleanEnv(), NIMBUS_DATA: dataDir };
}

/** process.env without NODE_EXTRA_CA_CERTS, the CLI's NIMBUS_* connection settings, and AWS_*. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const dropped = new Set([
    "NODE_EXTRA_CA_CERTS",
    "NIMBUS_ENDPOINT",
    "NIMBUS_ACCESS_KEY_ID",
    "NIMBUS_SECRET_ACCESS_KEY",
    "NIMBUS_REGION",
    "NIMBUS_DATA",
  ]);
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !dropped.has(k) && !k.startsWith("AWS_")),
  );
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function nimbus(dataDir: string, ...args: string[]): Promise<CliResult> {
  return run(process.execPath, [NIMBUS, ...args], { env: cliEnv(dataDir) });
}

/** Runs a command to its end; `code` is its exit code. */
export function run(
  file: string,
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<CliResult> {
  return new Promise((done) => {
    execFile(file, args, opts, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** Collects a child's stdout and resolves when it matches `pattern`. */
export function output(child: ChildProcess) {
  let text = "";
  const waiters: Array<() => void> = [];
  child.stdout!.on("data", (c: Buffer) => {
    text += c.toString();
    for (const w of waiters.splice(0)) w();
  });
  return {
    get text() {
      return text;
    },
    // A ceiling, not a wait: under a loaded CI machine `nimbus up` took over 10 s to say it runs.
    async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(text);
        if (m) return m;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${pattern}; output so far:\n${text}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100).unref();
        });
      }
    },
  };
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    // A process killed by a signal keeps exitCode null: signalCode says it is gone.
    if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode);
    else child.once("exit", (code) => r(code));
  });
}

export function startUp(dataDir: string, ...flags: string[]) {
  const child = spawn(process.execPath, [NIMBUS, "up", "--port", "0", "--data", dataDir, ...flags], {
    env: cliEnv(dataDir),
    stdio: ["ignore", "pipe", "inherit"],
  });
  return { child, out: output(child) };
}
