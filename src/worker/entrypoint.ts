/**
 * A runtime's entrypoint: checked before its sandbox starts, and Lambda's answer when it cannot
 * be executed (Runtime.InvalidEntrypoint), the same from every driver.
 */
import { statSync } from "node:fs";
import type { StartResult } from "../protocol/invoke.js";
import { SandboxStartError } from "./sandbox/types.js";

/**
 * A custom runtime's `bootstrap` must exist and be executable: checked on the host, so that
 * every driver answers Runtime.InvalidEntrypoint alike (inside a jail, a failed exec is only a
 * line on stderr).
 */
export function checkBootstrap(host: string, inside: string): void {
  const st = statSync(host, { throwIfNoEntry: false });
  if (!st) throw new SandboxStartError(inside, "ENOENT");
  if (!st.isFile() || (st.mode & 0o111) === 0) throw new SandboxStartError(inside, "EACCES");
}

/** Lambda's answer when the runtime's entrypoint cannot be executed. */
export function entrypointFailure(err: SandboxStartError, initDurationMs: number): StartResult {
  const why =
    err.code === "ENOENT"
      ? `Couldn't find valid bootstrap(s): [${err.command}]`
      : err.code === "EACCES"
        ? `fork/exec ${err.command}: permission denied`
        : `fork/exec ${err.command}: ${err.code}`;
  return {
    kind: "init-failed",
    errorType: "Runtime.InvalidEntrypoint",
    payload: undefined,
    reason: why,
    initDurationMs,
    phases: undefined,
    logTail: "",
  };
}
