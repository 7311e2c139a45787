/**
 * Which sandbox driver runs the instances, and one line on what isolation is in force: the
 * jail wherever it can run (Linux, bubblewrap, user namespaces), the process driver elsewhere,
 * gVisor when asked for. What a driver could not enable on this host (no cgroups, no root) it
 * says in its warnings.
 *
 * Functions may name another tier (`nimbus sandbox NAME --tier …`): the registry refuses a tier
 * that cannot run here, saying why. gVisor's driver is made the first time a function or the
 * platform asks for it: finding whether it runs here starts a whole sandbox (~0.5 s).
 */
import { join } from "node:path";
import type { SandboxCapabilities } from "../control/registry/sandbox-settings.js";
import type { SandboxTier } from "../protocol/sandbox.js";
import type { Config } from "../shared/config.js";
import { GvisorDriver, gvisorProblem } from "../worker/sandbox/gvisor.js";
import { JailDriver, jailProblem } from "../worker/sandbox/jail.js";
import { ProcessDriver } from "../worker/sandbox/process.js";
import type { SandboxDriver } from "../worker/sandbox/types.js";

export interface DriverChoice {
  readonly driver: SandboxDriver;
  /** The driver of each tier that runs here (made on first use), the default among them. */
  readonly tier: (tier: SandboxTier) => SandboxDriver | undefined;
  /** What the tiers can do, for validating functions' sandbox settings. */
  readonly capabilities: SandboxCapabilities;
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
  const jailCannot = jailProblem();
  if (config.sandbox === "jail" && jailCannot) throw new Error(`the jail sandbox cannot run: ${jailCannot}`);
  const processDriver = new ProcessDriver({
    workRoot: workerRoot,
    isolateUsers: config.isolateUsers,
    cgroups: config.cgroups,
  });
  const jail = jailCannot ? undefined : new JailDriver({ cgroups: config.cgroups, nodeBinary });
  let gvisor: { driver?: GvisorDriver; problem?: string } | undefined;
  const gvisorTier = () => {
    if (!gvisor) {
      const problem = gvisorProblem();
      gvisor = problem
        ? { problem }
        : {
            driver: new GvisorDriver({
              nodeBinary,
              stateDir: join(workerRoot, "gvisor"),
              cgroups: config.cgroups,
            }),
          };
    }
    return gvisor;
  };
  const tier = (t: SandboxTier): SandboxDriver | undefined =>
    t === "process" ? processDriver : t === "jail" ? jail : gvisorTier().driver;
  const problem = (t: SandboxTier): string | undefined =>
    t === "process" ? undefined : t === "jail" ? jailCannot : gvisorTier().problem;

  let driver: SandboxDriver;
  if (config.sandbox === "gvisor") {
    const g = gvisorTier();
    if (!g.driver) throw new Error(`the gvisor sandbox cannot run: ${g.problem}`);
    driver = g.driver;
  } else driver = config.sandbox !== "process" && jail ? jail : processDriver;
  const capabilities: SandboxCapabilities = {
    defaultTier: driver.name as SandboxTier,
    tierProblem: problem,
    networkProblem: (t) => problem(t) ?? tier(t)?.networkProblem,
  };
  const limits = (d: SandboxDriver) =>
    `${d.uniqueUids ? "; a uid per instance" : ""}${d.limitsMemory ? "; memory, CPU and process limits" : ""}`;
  if (driver === jail)
    return {
      driver,
      tier,
      capabilities,
      isolation:
        "jail (own user, mount, pid, ipc, uts and network namespaces; read-only root; private /tmp; seccomp; no network unless a function is allowed one" +
        `${limits(jail)})` +
        (jail.networkProblem ? `; functions cannot be allowed a network: ${jail.networkProblem}` : ""),
    };
  if (driver !== processDriver)
    return {
      driver,
      tier,
      capabilities,
      isolation: `gvisor (gVisor's user-space kernel, ptrace platform; read-only root; private /tmp; no network${limits(driver)})`,
    };
  return {
    driver,
    tier,
    capabilities,
    isolation:
      "process (child processes" +
      `${processDriver.uniqueUids ? " with a uid each" : ""}${processDriver.limitsMemory ? ", memory, CPU and process limits" : ""}` +
      "; they share the host's filesystem view, /proc and network)",
    ...(jailCannot && config.sandbox !== "process" ? { noJail: jailCannot } : {}),
  };
}
