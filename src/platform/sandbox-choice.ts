/**
 * Which sandbox driver runs the instances, and one line on what isolation is in force: the
 * jail wherever it can run (Linux, bubblewrap, user namespaces), the process driver elsewhere.
 * What a driver could not enable on this host (no cgroups, no root) it says in its warnings.
 */
import type { Config } from "../shared/config.js";
import { JailDriver, jailProblem } from "../worker/sandbox/jail.js";
import { ProcessDriver } from "../worker/sandbox/process.js";
import type { SandboxDriver } from "../worker/sandbox/types.js";

export interface DriverChoice {
  readonly driver: SandboxDriver;
  /** What isolation is in force, for the start-up line. */
  readonly isolation: string;
  /** Why the jail is not in force, when the choice was "auto" and it could not run. */
  readonly noJail?: string;
}

export function chooseDriver(
  config: Config,
  workerRoot: string,
  nodeBinary = process.execPath,
): DriverChoice {
  const problem = config.sandbox === "process" ? undefined : jailProblem();
  if (config.sandbox === "jail" && problem) throw new Error(`the jail sandbox cannot run: ${problem}`);
  if (config.sandbox !== "process" && !problem) {
    const driver = new JailDriver({ cgroups: config.cgroups, nodeBinary });
    return {
      driver,
      isolation:
        "jail (own user, mount, pid, ipc, uts and network namespaces; read-only root; private /tmp; seccomp; no network" +
        `${driver.uniqueUids ? "; a uid per instance" : ""}${driver.limitsMemory ? "; memory, CPU and process limits" : ""})`,
    };
  }
  const driver = new ProcessDriver({
    workRoot: workerRoot,
    isolateUsers: config.isolateUsers,
    cgroups: config.cgroups,
  });
  return {
    driver,
    isolation:
      "process (child processes" +
      `${driver.uniqueUids ? " with a uid each" : ""}${driver.limitsMemory ? ", memory, CPU and process limits" : ""}` +
      "; they share the host's filesystem view, /proc and network)",
    ...(problem ? { noJail: problem } : {}),
  };
}
