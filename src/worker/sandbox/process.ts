/**
 * The `process` driver: one child process per instance with a clean environment, its own
 * /tmp and working directory. When the platform runs as root, each instance also runs as its
 * own unprivileged uid, so instances cannot signal, trace or write over each other or the
 * code cache.
 */
import { spawn } from "node:child_process";
import { chownSync, readdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { Cgroups, type InstanceCgroup } from "./cgroups.js";
import { PeakMemory } from "./peak-memory.js";
import {
  type Sandbox,
  type SandboxDriver,
  type SandboxExit,
  type SandboxSpec,
  SandboxStartError,
} from "./types.js";

/** First uid handed to instances when running as root (well above any login account). */
const SANDBOX_UID_BASE = 200_000;
const SANDBOX_UID_COUNT = 50_000;
/** Uids other processes on the host run as, from a /proc scan at most this old (see #allocateUid). */
const UID_SCAN_MAX_AGE_MS = 1000;
/** How long output pipes may stay open after the process exits (held by a stray descendant). */
const PIPE_DRAIN_MS = 200;

export interface ProcessDriverOptions {
  /** Directory whose ancestors must be traversable by sandbox uids for privilege dropping. */
  readonly workRoot: string;
  /** "auto" drops to a unique uid per instance when root and possible; "off" never does. */
  readonly isolateUsers: "auto" | "off";
  /** "auto" limits memory and weights CPU with control groups when root and possible. */
  readonly cgroups?: "auto" | "off";
}

/** Whether every directory from `path` up to the root lets other users through (o+x). */
export function traversableByOthers(path: string): boolean {
  for (let p = path; ; p = dirname(p)) {
    try {
      if ((statSync(p).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (p === dirname(p)) return true;
  }
}

export class ProcessDriver implements SandboxDriver {
  readonly name = "process";
  readonly warnings: string[] = [];
  readonly #dropPrivileges: boolean;
  #cgroups: Cgroups | undefined;
  #nextUid = Math.floor(Math.random() * SANDBOX_UID_COUNT);
  /** Uids of this driver's sandboxes not yet exited. */
  readonly #heldUids = new Set<number>();
  #scannedUids: { readonly at: number; readonly uids: ReadonlySet<number> } | undefined;

  constructor(opts: ProcessDriverOptions) {
    const isRoot = process.getuid?.() === 0;
    let drop = opts.isolateUsers === "auto" && isRoot;
    if (drop && !traversableByOthers(opts.workRoot)) {
      drop = false;
      this.warnings.push(
        `sandboxes run as the platform's own user: ${opts.workRoot} is not reachable by other users ` +
          "(an ancestor directory lacks o+x); use a data directory under a world-traversable path " +
          "to give each instance its own uid",
      );
    } else if (opts.isolateUsers === "auto" && !isRoot) {
      this.warnings.push("sandboxes run as the platform's own user: per-instance uids need root");
    }
    this.#dropPrivileges = drop;
    if ((opts.cgroups ?? "auto") === "auto" && isRoot) {
      const groups = Cgroups.open();
      if (groups instanceof Cgroups) this.#cgroups = groups;
      else
        this.warnings.push(
          `memory is bounded by V8's heap limit only and CPU is not limited per instance: ${groups.problem}`,
        );
      if (groups instanceof Cgroups && !groups.limitsCpu)
        this.warnings.push("CPU is not limited per instance: no cgroup v1 cpu controller");
    } else if ((opts.cgroups ?? "auto") === "auto") {
      this.warnings.push(
        "memory is bounded by V8's heap limit only and CPU is not limited per instance: control groups need root",
      );
    }
  }

  get uniqueUids(): boolean {
    return this.#dropPrivileges;
  }

  get limitsMemory(): boolean {
    return this.#cgroups !== undefined;
  }

  /**
   * A uid no running process has: other Nimbus platforms on the host (a test run beside a
   * dev server) draw from the same range, so each starts at a random point and skips uids in
   * use. Its own are known; others' come from a scan of /proc (~1 ms with a hundred processes)
   * reused for a second, so that a burst of sandbox starts does not scan once each. A uid is
   * handed out again only after the cursor has gone round all 50,000.
   */
  #allocateUid(): number {
    const now = performance.now();
    if (!this.#scannedUids || now - this.#scannedUids.at > UID_SCAN_MAX_AGE_MS)
      this.#scannedUids = { at: now, uids: new Set(processOwners().map(([, uid]) => uid)) };
    const others = this.#scannedUids.uids;
    for (let i = 0; i < SANDBOX_UID_COUNT; i++) {
      const uid = SANDBOX_UID_BASE + (this.#nextUid++ % SANDBOX_UID_COUNT);
      if (this.#heldUids.has(uid) || others.has(uid)) continue;
      this.#heldUids.add(uid);
      return uid;
    }
    throw new Error(`all ${SANDBOX_UID_COUNT} sandbox uids are in use`);
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const [command, ...args] = spec.argv;
    if (!command) throw new Error("sandbox argv is empty");
    let uid: number | undefined;
    const release = () => {
      if (uid !== undefined) this.#heldUids.delete(uid);
    };
    let cgroup: InstanceCgroup | undefined;
    try {
      if (this.#dropPrivileges) {
        uid = this.#allocateUid();
        for (const dir of [spec.tmpDir, ...spec.privateDirs]) chownSync(dir, uid, uid);
      }
      cgroup = this.#cgroups?.create(spec.instanceId, spec.memoryMb, spec.background);
    } catch (err) {
      release();
      throw err;
    }
    const child = spawn(command, args, {
      cwd: spec.codeDir,
      env: { ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so stopping the instance stops whatever it started too.
      detached: true,
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    const exited = new Promise<SandboxExit>((resolve) => {
      // "close" comes after the output pipes drain, so the last words of a crash are read.
      child.once("close", (code, signal) => resolve({ code, signal }));
      child.once("error", () => resolve({ code: 127, signal: null }));
      // A descendant that left the group may hold the pipes open: do not wait for it forever.
      child.once("exit", (code, signal) => {
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          resolve({ code, signal });
        }, PIPE_DRAIN_MS).unref();
      });
    });
    const pid = child.pid;
    if (pid === undefined) {
      release();
      cgroup?.remove();
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => child.once("error", resolve));
      throw new SandboxStartError(command, err.code ?? "UNKNOWN");
    }
    // The runtime starts while it joins its group (that takes an RCU grace period); its
    // first allocations are charged to the platform's group, the rest to its own.
    const limited = cgroup
      ? cgroup.join(pid).catch((err: unknown) => {
          process.kill(-pid, "SIGKILL");
          throw err;
        })
      : Promise.resolve();
    limited.catch(() => {});
    const peak = new PeakMemory(pid);
    let memoryMb = spec.memoryMb;
    let oom = false;
    void exited.then(() => {
      release();
      peak.close();
      if (cgroup) {
        oom = cgroup.oomKilled();
        cgroup.remove();
      }
    });
    return {
      pid,
      uid,
      limited,
      stdout: child.stdout!,
      stderr: child.stderr!,
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
      exited,
      kill: () => {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // The group is already gone.
        }
        // A unique uid owns exactly this instance's processes, even those that left the group.
        if (uid !== undefined) killAllOf(uid);
      },
      // The runtime process's VmHWM, not the cgroup's peak: that counts only pages charged to
      // the group, a few MB for a trivial function.
      peakMemoryMb: () => peak.mb(),
      outOfMemory: () => oom,
    };
  }
}

/** Process ids and their owners (the owner of /proc/<pid> is the process's effective uid). */
function processOwners(): Array<[pid: number, uid: number]> {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const out: Array<[number, number]> = [];
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      out.push([Number(e), statSync(`/proc/${e}`).uid]);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** SIGKILLs every process owned by `uid`. */
function killAllOf(uid: number): void {
  for (const [pid, owner] of processOwners()) {
    if (owner !== uid) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
}

/**
 * /proc/<pid>/status kept open: read on every invocation for the memory high-water mark, and
 * re-reading an open proc file from offset 0 costs a fraction of opening it each time.
 */
