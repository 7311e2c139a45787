/**
 * What every driver does alike once its process runs: join the instance's control group, follow
 * its peak memory, and on exit release its uid, read whether the OOM killer took it and remove
 * its group. A driver supplies the process and how to kill everything it started.
 */
import type { Readable } from "node:stream";
import type { InstanceCgroup } from "./cgroups.js";
import { PeakMemory } from "./peak-memory.js";
import type { Sandbox, SandboxExit } from "./types.js";

export interface ContainedProcess {
  /** The runtime's pid on the host (its VmHWM is the instance's peak memory). */
  readonly pid: number;
  readonly uid: number | undefined;
  readonly cgroup: InstanceCgroup | undefined;
  readonly memoryMb: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<SandboxExit>;
  /** Kills every process of the instance at once. */
  readonly kill: () => void;
  /** Gives back what the driver holds for it (its uid), once it has exited. */
  readonly release: () => void;
  /** The driver moved it into its group before it started (HOLD_SCRIPT). */
  readonly joined?: boolean;
}

export function contained(p: ContainedProcess): Sandbox {
  const { cgroup } = p;
  // The runtime starts while it joins its group (that takes an RCU grace period); its first
  // allocations are charged to the platform's group, the rest to its own.
  const limited =
    cgroup && !p.joined
      ? cgroup.join(p.pid).catch((err: unknown) => {
          p.kill();
          throw err;
        })
      : Promise.resolve();
  limited.catch(() => {});
  const peak = new PeakMemory(p.pid);
  let memoryMb = p.memoryMb;
  let oom = false;
  let oomPeakMb: number | undefined;
  void p.exited.then(() => {
    p.release();
    peak.close();
    if (cgroup) {
      oom = cgroup.oomKilled();
      if (oom) oomPeakMb = cgroup.peakMb() ?? memoryMb;
      cgroup.remove();
    }
  });
  return {
    pid: p.pid,
    uid: p.uid,
    limited,
    stdout: p.stdout,
    stderr: p.stderr,
    resize: (mb) => {
      cgroup?.resize(mb);
      memoryMb = mb;
    },
    limitCpu: () => {
      try {
        cgroup?.limitCpu(memoryMb);
      } catch {
        // The group is gone with its process: nothing left to limit.
      }
    },
    exited: p.exited,
    kill: p.kill,
    // The runtime process's VmHWM, not the cgroup's peak: that counts only pages charged to the
    // group, a few MB for a trivial function. A process the OOM killer took has no VmHWM left
    // to read: the group's peak is what it reached.
    peakMemoryMb: () => oomPeakMb ?? peak.mb(),
    outOfMemory: () => oom,
  };
}
