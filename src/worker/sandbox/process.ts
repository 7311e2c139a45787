/**
 * The `process` driver: one child process per instance with a clean environment, its own
 * /tmp and working directory. When the platform runs as root, each instance also runs as its
 * own unprivileged uid, so instances cannot signal, trace or write over each other or the
 * code cache.
 */
import { spawn } from "node:child_process";
import { chownSync, closeSync, constants, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { type Cgroups, driverCgroups, type InstanceCgroup } from "./cgroups.js";
import { contained } from "./contained.js";
import {
  type Sandbox,
  type SandboxDriver,
  type SandboxExit,
  type SandboxMounts,
  type SandboxPaths,
  type SandboxSpec,
  SandboxStartError,
} from "./types.js";
import { killAllOf, UidAllocator } from "./uids.js";

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

/** Where a process-driver sandbox finds the snapshot blob the platform opened for it. */
const SNAPSHOT_FD_PATH = "/proc/self/fd/3";

export class ProcessDriver implements SandboxDriver {
  readonly name = "process";
  readonly warnings: string[] = [];
  readonly privateFilesystem = false;
  readonly networkProblem =
    "the process sandbox shares the host's network: it cannot hold an instance to a network policy (the jail can)";
  readonly #dropPrivileges: boolean;
  #cgroups: Cgroups | undefined;
  readonly #uids = new UidAllocator();

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
    this.#cgroups = driverCgroups(opts.cgroups, this.warnings);
  }

  get uniqueUids(): boolean {
    return this.#dropPrivileges;
  }

  get limitsMemory(): boolean {
    return this.#cgroups !== undefined;
  }

  /** The host's paths as they are; a snapshot blob is passed open, as fd 3, never by its path. */
  paths(m: SandboxMounts): SandboxPaths {
    return {
      code: m.code,
      runtime: m.runtime,
      tmp: m.tmp,
      api: m.api,
      out: m.out,
      snapshot: m.snapshot === undefined ? undefined : SNAPSHOT_FD_PATH,
    };
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const [command, ...args] = spec.argv;
    if (!command) throw new Error("sandbox argv is empty");
    let uid: number | undefined;
    const release = () => {
      if (uid !== undefined) this.#uids.release(uid);
    };
    let cgroup: InstanceCgroup | undefined;
    let blob: number | undefined;
    const { mounts } = spec;
    try {
      if (this.#dropPrivileges) {
        uid = this.#uids.allocate();
        for (const dir of [mounts.tmp, mounts.api, mounts.out]) if (dir) chownSync(dir, uid, uid);
      }
      cgroup = this.#cgroups?.create(spec.instanceId, spec.memoryMb, spec.background);
      // Opened by the platform and inherited: the blob's path appears in no command line.
      if (mounts.snapshot) blob = openSync(mounts.snapshot, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      release();
      cgroup?.remove();
      throw err;
    }
    const child = spawn(command, args, {
      cwd: mounts.code,
      env: { ...spec.env },
      stdio: blob === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", "pipe", "pipe", blob],
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
    if (blob !== undefined) closeSync(blob);
    const pid = child.pid;
    if (pid === undefined) {
      release();
      cgroup?.remove();
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => child.once("error", resolve));
      throw new SandboxStartError(command, err.code ?? "UNKNOWN");
    }
    return contained({
      pid,
      uid,
      cgroup,
      memoryMb: spec.memoryMb,
      stdout: child.stdout!,
      stderr: child.stderr!,
      exited,
      release,
      kill: () => {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // The group is already gone.
        }
        // A unique uid owns exactly this instance's processes, even those that left the group.
        if (uid !== undefined) killAllOf(uid);
      },
    });
  }
}
