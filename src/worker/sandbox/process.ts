/**
 * The `process` driver: one child process per instance with a clean environment, its own
 * /tmp and working directory. When the platform runs as root, each instance also runs as its
 * own unprivileged uid, so instances cannot signal, trace or write over each other or the
 * code cache.
 */
import { spawn } from "node:child_process";
import { chownSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { Sandbox, SandboxDriver, SandboxExit, SandboxSpec } from "./types.js";

/** First uid handed to instances when running as root (well above any login account). */
const SANDBOX_UID_BASE = 200_000;
const SANDBOX_UID_COUNT = 50_000;

export interface ProcessDriverOptions {
  /** Directory whose ancestors must be traversable by sandbox uids for privilege dropping. */
  readonly workRoot: string;
  /** "auto" drops to a unique uid per instance when root and possible; "off" never does. */
  readonly isolateUsers: "auto" | "off";
}

function traversableByOthers(path: string): boolean {
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
  #nextUid = 0;

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
  }

  #allocateUid(): number {
    const uid = SANDBOX_UID_BASE + (this.#nextUid % SANDBOX_UID_COUNT);
    this.#nextUid++;
    return uid;
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const [command, ...args] = spec.argv;
    if (!command) throw new Error("sandbox argv is empty");
    let uid: number | undefined;
    if (this.#dropPrivileges) {
      uid = this.#allocateUid();
      chownSync(spec.tmpDir, uid, uid);
    }
    const child = spawn(command, args, {
      cwd: spec.codeDir,
      env: { ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    const exited = new Promise<SandboxExit>((resolve) => {
      // "close" comes after the output pipes drain, so the last words of a crash are read.
      child.once("close", (code, signal) => resolve({ code, signal }));
      child.once("error", () => resolve({ code: 127, signal: null }));
    });
    const pid = child.pid;
    if (pid === undefined) {
      const exit = await exited;
      throw new Error(`could not start ${command}: exit ${exit.code}`);
    }
    let peakMb: number | undefined;
    return {
      pid,
      stdout: child.stdout!,
      stderr: child.stderr!,
      exited,
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      },
      peakMemoryMb: () => {
        // VmHWM is the process's resident high-water mark since it started.
        try {
          const status = readFileSync(`/proc/${pid}/status`, "latin1");
          const m = /VmHWM:\s+(\d+) kB/.exec(status);
          if (m) peakMb = Math.ceil(Number(m[1]) / 1024);
        } catch {
          // The process is gone: keep the last reading.
        }
        return peakMb;
      },
    };
  }
}
