/**
 * Which sandbox driver runs the instances, and one line on what isolation is in force: the
 * jail wherever it can run (Linux, bubblewrap, user namespaces), the process driver elsewhere.
 * What a driver could not enable on this host (no cgroups, no root) it says in its warnings.
 *
 * Functions may name another tier (`nimbus sandbox NAME --tier …`): every tier that can run here
 * is made, and the registry refuses the ones that cannot, saying why.
 */
import type { SandboxCapabilities } from "../control/registry/sandbox-settings.js";
import type { SandboxTier } from "../protocol/sandbox.js";
import type { Config } from "../shared/config.js";
import { JailDriver, jailProblem } from "../worker/sandbox/jail.js";
import { ProcessDriver } from "../worker/sandbox/process.js";
import type { SandboxDriver } from "../worker/sandbox/types.js";

export interface DriverChoice {
  readonly driver: SandboxDriver;
  /** Every tier that runs here, the default among them. */
  readonly tiers: Readonly<Partial<Record<SandboxTier, SandboxDriver>>>;
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
  const tiers: Partial<Record<SandboxTier, SandboxDriver>> = { process: processDriver };
  if (jail) tiers.jail = jail;
  const problems: Record<SandboxTier, string | undefined> = {
    process: undefined,
    jail: jailCannot,
    gvisor: "the gvisor tier is not built into this platform yet",
  };
  const driver = config.sandbox !== "process" && jail ? jail : processDriver;
  const capabilities: SandboxCapabilities = {
    defaultTier: driver.name as SandboxTier,
    tierProblem: (tier) => problems[tier],
    networkProblem: (tier) => tiers[tier]?.networkProblem ?? problems[tier],
  };
  if (driver === jail)
    return {
      driver,
      tiers,
      capabilities,
      isolation:
        "jail (own user, mount, pid, ipc, uts and network namespaces; read-only root; private /tmp; seccomp; no network unless a function is allowed one" +
        `${jail.uniqueUids ? "; a uid per instance" : ""}${jail.limitsMemory ? "; memory, CPU and process limits" : ""})` +
        (jail.networkProblem ? `; functions cannot be allowed a network: ${jail.networkProblem}` : ""),
    };
  return {
    driver,
    tiers,
    capabilities,
    isolation:
      "process (child processes" +
      `${processDriver.uniqueUids ? " with a uid each" : ""}${processDriver.limitsMemory ? ", memory, CPU and process limits" : ""}` +
      "; they share the host's filesystem view, /proc and network)",
    ...(jailCannot && config.sandbox !== "process" ? { noJail: jailCannot } : {}),
  };
}
