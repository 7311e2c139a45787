/**
 * Per-instance control groups (cgroup v1 `memory`, `cpu` and `pids` controllers): the memory size is
 * a hard limit on everything the instance's processes hold (heap, buffers, native memory),
 * enforced by the kernel's OOM killer as Lambda enforces it, and the CPU weight is
 * proportional to the memory size, so under contention a 1024 MB function gets eight times
 * the CPU of a 128 MB one. A weight is not a cap: an idle machine lends its CPU to anyone.
 * The pids controller bounds how many processes and threads an instance may have.
 *
 * Groups live under `<controller>/nimbus/<platform pid>-<instance id>`; groups left by a
 * platform that died are removed at the next start.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
// Lambda's rule: 1,769 MB of memory buys one vCPU; CPU time is capped in proportion.
import { MB_PER_VCPU } from "../../protocol/limits.js";

const ROOT = "/sys/fs/cgroup";
const PARENT = "nimbus";
/** cpu.shares of a 1024 MB instance; the kernel's default weight of one process. */
const SHARES_PER_GB = 1024;
/** The kernel's lowest cpu.shares. */
const MIN_SHARES = 2;
/**
 * The quota's period. Short enough that an invocation of tens of ms is held to its share
 * whatever the period's phase (over a 100 ms period a 90 ms burst at half a CPU can straddle
 * two periods unthrottled), long enough that 128 MB's 7.2 % is above the kernel's 1 ms minimum.
 */
const CFS_PERIOD_US = 20_000;
/** The kernel's smallest quota. */
const MIN_QUOTA_US = 1000;
/** Processes and threads one instance may have at once (Lambda's limit is 1,024). */
export const PIDS_MAX = 1024;

export interface InstanceCgroup {
  /**
   * Moves a process (and so its future children) into the group. Asynchronous: moving a task
   * into a memory cgroup waits for an RCU grace period (10–20 ms), which must neither block
   * the platform's event loop nor hold up the runtime's start.
   */
  join(pid: number): Promise<void>;
  /** Whether the kernel's OOM killer has killed a process of this group. */
  oomKilled(): boolean;
  /** New memory limit and CPU weight for the group. */
  resize(memoryMb: number): void;
  /** Caps the group's CPU time at memoryMb / 1,769 CPUs (false without a cpu controller). */
  limitCpu(memoryMb: number): boolean;
  /** The most memory the group has held, in MB (what an out-of-memory kill reached). */
  peakMb(): number | undefined;
  /** Removes the group; its processes must be gone. Retries while they exit. */
  remove(): void;
}

export class Cgroups {
  readonly #memory: string;
  readonly #cpu: string | undefined;
  readonly #pids: string | undefined;
  #seq = 0;

  private constructor(memory: string, cpu: string | undefined, pids: string | undefined) {
    this.#memory = memory;
    this.#cpu = cpu;
    this.#pids = pids;
  }

  /** Whether the number of processes per instance is bounded (the pids controller is usable). */
  get limitsPids(): boolean {
    return this.#pids !== undefined;
  }

  /** Whether CPU weight and quotas apply (the cpu controller is mounted and usable). */
  get limitsCpu(): boolean {
    return this.#cpu !== undefined;
  }

  /** The cgroup v1 hierarchy when this process may create groups in it, or why not. */
  static open(root = ROOT): Cgroups | { readonly problem: string } {
    const memory = join(root, "memory");
    try {
      readFileSync(join(memory, "memory.limit_in_bytes"));
    } catch {
      return { problem: `no cgroup v1 memory controller at ${memory}` };
    }
    const cpu = join(root, "cpu");
    let cpuParent: string | undefined;
    try {
      mkdirSync(join(memory, PARENT), { recursive: true });
      try {
        readFileSync(join(cpu, "cpu.shares"));
        mkdirSync(join(cpu, PARENT), { recursive: true });
        cpuParent = join(cpu, PARENT);
      } catch {
        cpuParent = undefined;
      }
    } catch (err) {
      return { problem: `cannot create control groups in ${memory}: ${(err as Error).message}` };
    }
    let pidsParent: string | undefined;
    try {
      // The root of a v1 hierarchy has no pids.max: the parent group made here does.
      mkdirSync(join(root, "pids", PARENT), { recursive: true });
      readFileSync(join(root, "pids", PARENT, "pids.max"));
      pidsParent = join(root, "pids", PARENT);
    } catch {
      pidsParent = undefined;
    }
    const groups = new Cgroups(join(memory, PARENT), cpuParent, pidsParent);
    groups.#removeOrphans();
    return groups;
  }

  /**
   * `background`: the lowest CPU weight until the first resize (a pooled runtime waiting).
   * `pidsMax`: host tasks the group may hold (a driver whose own processes count there raises it).
   */
  create(instanceId: string, memoryMb: number, background = false, pidsMax = PIDS_MAX): InstanceCgroup {
    const name = `${process.pid}-${instanceId}-${this.#seq++}`;
    const mem = join(this.#memory, name);
    mkdirSync(mem);
    const cpu = this.#cpu ? join(this.#cpu, name) : undefined;
    if (cpu) mkdirSync(cpu);
    const pids = this.#pids ? join(this.#pids, name) : undefined;
    if (pids) {
      mkdirSync(pids);
      writeFileSync(join(pids, "pids.max"), String(pidsMax));
    }
    const groups = [mem, ...(cpu ? [cpu] : []), ...(pids ? [pids] : [])];
    let currentMb: number | undefined;
    const resize = (mb: number) => {
      const limit = String(mb * 1024 * 1024);
      const memsw = join(mem, "memory.memsw.limit_in_bytes");
      // Where swap is accounted, memory+swap gets the same limit: swapping is not more memory.
      // It may never be below the memory limit: when growing it moves first.
      const growing = currentMb !== undefined && mb > currentMb;
      if (growing) tryWrite(memsw, limit);
      writeFileSync(join(mem, "memory.limit_in_bytes"), limit);
      if (!growing) tryWrite(memsw, limit);
      if (cpu)
        writeFileSync(
          join(cpu, "cpu.shares"),
          String(Math.max(MIN_SHARES, Math.round((mb * SHARES_PER_GB) / 1024))),
        );
      currentMb = mb;
    };
    resize(memoryMb);
    if (cpu && background) writeFileSync(join(cpu, "cpu.shares"), String(MIN_SHARES));
    const oomControl = openSync(join(mem, "memory.oom_control"), "r");
    const buf = Buffer.alloc(256);
    return {
      async join(pid) {
        await Promise.all(groups.map((g) => writeFile(join(g, "cgroup.procs"), String(pid))));
      },
      peakMb() {
        try {
          const bytes = Number(readFileSync(join(mem, "memory.max_usage_in_bytes"), "latin1"));
          return bytes > 0 ? Math.ceil(bytes / (1024 * 1024)) : undefined;
        } catch {
          return undefined;
        }
      },
      resize,
      limitCpu(mb) {
        if (!cpu) return false;
        const quota = Math.max(MIN_QUOTA_US, Math.round((CFS_PERIOD_US * mb) / MB_PER_VCPU));
        writeFileSync(join(cpu, "cpu.cfs_period_us"), String(CFS_PERIOD_US));
        writeFileSync(join(cpu, "cpu.cfs_quota_us"), String(quota));
        return true;
      },
      oomKilled() {
        try {
          const n = readSync(oomControl, buf, 0, buf.length, 0);
          const m = /oom_kill (\d+)/.exec(buf.toString("latin1", 0, n));
          return m !== null && Number(m[1]) > 0;
        } catch {
          return false;
        }
      },
      remove() {
        removeWhenEmpty(groups, () => {
          try {
            closeSync(oomControl);
          } catch {
            // Already closed.
          }
        });
      },
    };
  }

  /** Groups of platforms that are no longer running. */
  #removeOrphans(): void {
    const orphans: string[] = [];
    for (const parent of [this.#memory, this.#cpu, this.#pids]) {
      if (!parent) continue;
      for (const name of readdirSync(parent)) {
        const owner = Number(name.split("-", 1)[0]);
        if (!Number.isInteger(owner) || owner === process.pid || alive(owner)) continue;
        orphans.push(join(parent, name));
      }
    }
    // A platform killed with SIGKILL leaves its instances' processes behind in their groups.
    removeWhenEmpty(orphans, () => {});
  }
}

function tryWrite(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch {
    // The kernel does not account swap here.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the groups, first killing any process still in them; rmdir fails with EBUSY until the
 * last one has exited, so it retries (with backoff, for up to about half a minute).
 */
function removeWhenEmpty(dirs: string[], done: () => void, attempt = 0): void {
  const left = dirs.filter((d) => {
    let pids: string[] = [];
    try {
      pids = readFileSync(join(d, "cgroup.procs"), "latin1").split("\n").filter(Boolean);
    } catch {
      // The group is gone.
    }
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // Exited meanwhile.
      }
    }
    try {
      rmdirSync(d);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== "ENOENT";
    }
  });
  if (left.length === 0 || attempt >= 40) {
    done();
    return;
  }
  setTimeout(() => removeWhenEmpty(left, done, attempt + 1), Math.min(1000, 20 * 2 ** attempt)).unref();
}

/**
 * The control groups a driver bounds its instances with: as root, when `mode` is "auto" and
 * cgroup v1 is there. What it cannot limit goes into `warnings`, said once at start.
 */
export function driverCgroups(mode: "auto" | "off" | undefined, warnings: string[]): Cgroups | undefined {
  if ((mode ?? "auto") !== "auto") return undefined;
  if (process.getuid?.() !== 0) {
    warnings.push(
      "memory is bounded by V8's heap limit only and CPU is not limited per instance: control groups need root",
    );
    return undefined;
  }
  const groups = Cgroups.open();
  if (!(groups instanceof Cgroups)) {
    warnings.push(
      `memory is bounded by V8's heap limit only and CPU is not limited per instance: ${groups.problem}`,
    );
    return undefined;
  }
  if (!groups.limitsCpu) warnings.push("CPU is not limited per instance: no cgroup v1 cpu controller");
  if (!groups.limitsPids)
    warnings.push("processes per instance are not limited: no cgroup v1 pids controller");
  return groups;
}
