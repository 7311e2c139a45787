/**
 * Password sign-ins at a steady rate from a process of their own. Sent from the bench's process,
 * their answers (a session's JSON each) and timers ran on the same event loop as the client
 * timing the invocations beside them, and what that cost was counted as the platform's.
 *
 * Run as a child (`signInsInProcess`): it reads `{ base, emails, perSecond }` from its argument,
 * starts at once, and on "stop" answers with what `signInsAt` counted.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { signInsAt } from "./auth-platform.js";

export interface SignInLoadResult {
  readonly sent: number;
  readonly failed: number;
  readonly latencies: number[];
  readonly perSecond: number;
}

const SELF = fileURLToPath(import.meta.url);

/** Sign-ins at `perSecond` from a child process; `stop()` ends them and returns their counts. */
export async function signInsInProcess(base: URL, emails: readonly string[], perSecond: number) {
  // Plain HTTP on the loopback: no extra CA bundle to read at start.
  const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
  const child = fork(SELF, [JSON.stringify({ base: base.href, emails, perSecond })], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env,
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    void exited.then((code) => reject(new Error(`the sign-in load exited with ${code} before it started`)));
  });
  return {
    async stop(): Promise<SignInLoadResult> {
      const result = new Promise<SignInLoadResult>((resolve, reject) => {
        child.once("message", (m) => resolve(m as SignInLoadResult));
        void exited.then((code) => reject(new Error(`the sign-in load exited with ${code}`)));
      });
      child.send("stop");
      const r = await result;
      child.disconnect();
      await exited;
      return r;
    },
  };
}

if (process.argv[1] === SELF && process.send !== undefined) {
  const { base, emails, perSecond } = JSON.parse(process.argv[2]!) as {
    base: string;
    emails: string[];
    perSecond: number;
  };
  const load = signInsAt(new URL(base), emails, perSecond);
  process.send("started");
  process.on("message", async (m) => {
    if (m !== "stop") return;
    process.send!(await load.stop());
  });
}
