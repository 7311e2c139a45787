/**
 * The `gvisor` driver (Linux): each instance in a gVisor sandbox (Debian's `runsc`), a kernel
 * in user space that answers the function's system calls itself, so the host's kernel sees only
 * the few calls gVisor makes. Inside, the same view as the jail: a read-only root holding only
 * the host's /usr (and its /bin, /lib links), CA certificates and time zones, the function's
 * code at /var/task, Nimbus's runtime at /var/runtime, a private tmpfs /tmp sized by
 * EphemeralStorage, a private /dev/shm, and the instance's Runtime API sockets at /run/nimbus
 * (host Unix sockets, which gVisor lets a sandbox connect to with `--host-uds=open`). No
 * network at all (`--network=none`: only gVisor's own loopback).
 *
 * Each instance is an OCI bundle (its config.json; the root directory, a skeleton of mount
 * points, is shared) run with `runsc run` on the ptrace platform (this runsc has only ptrace
 * and kvm, and KVM needs a host that can run guests). As root, its processes run as the
 * instance's own uid inside, and files it writes to /var/out are that uid's on the host; on the
 * host, gVisor's sandbox process runs as nobody in a user namespace of its own, its file proxy
 * (the gofer) as root with few capabilities. Not as root, runsc runs rootless, and the
 * instance is root inside (the platform's own user on the host, without capabilities).
 *
 * As root, `runsc run` starts in the instance's control group (a shell holds it until it has
 * joined), so everything gVisor starts for it is counted and bounded there: the memory limit
 * covers the function's memory and gVisor's own (some 26 MB idle), the CPU weight and quota
 * (`limitCpu`) the whole sandbox. runsc's own control groups are off (`--ignore-cgroups`):
 * with them it would tell the sandbox its memory is the limit at start, which a pooled
 * sandbox outgrows at hand-over (Node sizes its heap by it).
 *
 * `runsc run` is started with `setpriv --pdeathsig KILL` (it dies with the platform), and
 * runs its sandbox attached (the sandbox and gofer die with it): when the platform is killed,
 * nothing of an instance survives. What a platform that died left in the state directory is
 * removed when the driver starts. `runsc run` runs in a network namespace of its own (`unshare --net`):
 * this runsc listens for commands to the sandbox (what `runsc exec`, `kill` and `ps` send) on
 * an abstract Unix socket in the namespace it was started in, and answers whoever connects.
 *
 * Measured on a 2-core VM (Debian's runsc 0.0~20221219, ptrace; two runs, 10 starts each,
 * interleaved), median time from start() to a `node -e 0` having exited: gvisor 414–500 ms,
 * jail 77–88 ms (a plain `node -e 0`: 61–74 ms); a `/bin/true` takes ~220 ms in gVisor.
 * Resident memory of a waiting sandboxed `node -e "setInterval(()=>{},1000)"`, PSS summed over
 * all its host processes: gvisor 53–54 MB (runsc run ~10, gofer ~10, sandbox ~17.5, the stub
 * process of the node process 16), jail 16 MB (the node process). gVisor must rely on the
 * warm pool.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import type { Writable } from "node:stream";
import { hasNetwork } from "../../protocol/sandbox.js";
import { type Cgroups, driverCgroups, type InstanceCgroup, PIDS_MAX } from "./cgroups.js";
import { contained } from "./contained.js";
import { makeRootfs, ociConfig } from "./gvisor-bundle.js";
import { exitOf, findExecutable, HOLD_SCRIPT, hostRoot, TOOL_PATH, within } from "./host-root.js";
import { JAIL_PATHS, jailPaths } from "./jail.js";
import {
  type Sandbox,
  type SandboxDriver,
  type SandboxExit,
  type SandboxMounts,
  type SandboxPaths,
  type SandboxSpec,
  SandboxStartError,
} from "./types.js";
import { descendants, ended, UidAllocator } from "./uids.js";

/**
 * Host tasks an instance's group may hold under gVisor: its sentry's threads, the gofer, and on
 * the ptrace platform stub processes and threads for the function's. Measured: at the other
 * tiers' 1,024, ~400 processes inside were enough for gVisor itself to fail (exit 2) instead
 * of the fork failing inside.
 */
const HOST_TASKS_MAX = 8 * PIDS_MAX;
/** All runsc and its helpers get of the platform's environment. */
const RUNSC_ENV = { PATH: TOOL_PATH };
/** How long the output pipes may stay open after `runsc run` has exited. */
const PIPE_DRAIN_MS = 2000;
/** The longest a killed sandbox's processes are waited for before it counts as ended. */
const KILL_WAIT_MS = 3000;

export interface GvisorDriverOptions {
  /** The node binary the worker runs: its installation is bound read-only where it is. */
  readonly nodeBinary: string;
  /**
   * A directory of this platform's own (made private) for runsc's state, the bundles (which
   * hold the instances' environments) and the shared root. What a platform that died left in
   * it is removed when the driver is made: no two platforms may share it.
   */
  readonly stateDir: string;
  /** gVisor's executable. */
  readonly runsc?: string;
  /** "auto": control groups when root; "off": none. */
  readonly cgroups?: "auto" | "off";
}

/** Why gVisor cannot run on this host, or undefined when it can. */
export function gvisorProblem(runsc = "runsc"): string | undefined {
  if (process.platform !== "linux") return "gVisor needs Linux";
  const executable = findExecutable(runsc);
  if (!executable) return `gVisor is not installed (${runsc}; Debian's package is \`runsc\`)`;
  const tools = ["setpriv", "unshare"].map((t) => findExecutable(t) ?? t);
  const missing = tools.find((t) => !t.includes("/"));
  if (missing) return `util-linux's ${missing} is not installed (the gvisor driver runs runsc under it)`;
  const root = mkdtempSync(join(tmpdir(), "nimbus-gvisor-probe-"));
  try {
    // A whole sandbox, started and stopped as the driver starts them: in a network namespace
    // of its own, on the ptrace platform.
    const probe = spawnSync(
      tools[1]!,
      [
        ...ownNetwork(process.getuid?.() === 0),
        executable,
        "--root",
        root,
        ...(process.getuid?.() === 0 ? [] : ["--rootless"]),
        "--platform=ptrace",
        "--network=none",
        "--ignore-cgroups",
        "do",
        "/bin/true",
      ],
      { env: RUNSC_ENV, timeout: 20_000 },
    );
    if (probe.error) return `gVisor could not run: ${probe.error.message}`;
    if (probe.status !== 0)
      return `gVisor cannot start a sandbox here: ${probe.stderr.toString().trim().slice(-300) || `exit ${probe.status}`}`;
    return undefined;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * `unshare`'s arguments for a network namespace of its own (as root; otherwise in a user
 * namespace of its own too, where the platform's user is itself).
 */
function ownNetwork(isRoot: boolean): string[] {
  return [...(isRoot ? ["--net"] : ["--user", "--map-current-user", "--net"]), "--"];
}

export class GvisorDriver implements SandboxDriver {
  readonly name = "gvisor";
  readonly privateFilesystem = true;
  readonly networkProblem =
    "gVisor sandboxes have no network (`--network=none`): a function allowed a network needs the jail";
  readonly warnings: string[] = [];
  readonly #runsc: string;
  readonly #setpriv: string;
  readonly #unshare: string;
  /** runsc's `--root`: its containers' state. */
  readonly #stateRoot: string;
  readonly #bundles: string;
  /** The shared read-only root: mount points and the merged-usr links. */
  readonly #rootfs: string;
  /** Host directories bound read-only at the same place. */
  readonly #hostBinds: readonly string[];
  /** Links in the root (`/bin` → `usr/bin`), the same as the host's. */
  readonly #links: readonly string[];
  readonly #isRoot = process.getuid?.() === 0;
  readonly #uids = new UidAllocator();
  #cgroups: Cgroups | undefined;
  #seq = 0;

  constructor(opts: GvisorDriverOptions) {
    this.#runsc = findExecutable(opts.runsc ?? "runsc") ?? opts.runsc ?? "runsc";
    this.#setpriv = findExecutable("setpriv") ?? "setpriv";
    this.#unshare = findExecutable("unshare") ?? "unshare";
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    chmodSync(opts.stateDir, 0o700);
    this.#stateRoot = join(opts.stateDir, "runsc");
    this.#bundles = join(opts.stateDir, "bundles");
    this.#rootfs = join(opts.stateDir, "rootfs");
    for (const d of [this.#stateRoot, this.#bundles]) mkdirSync(d, { recursive: true, mode: 0o700 });
    this.#reapStale();
    const root = hostRoot(opts.nodeBinary);
    this.#hostBinds = root.binds;
    this.#links = root.links.map(([, at]) => at);
    makeRootfs(this.#rootfs, root);
    if (!this.#isRoot)
      this.warnings.push(
        "gVisor sandboxes run rootless, as the platform's own user: per-instance uids and control groups need root",
      );
    this.#cgroups = driverCgroups(opts.cgroups, this.warnings);
  }

  get uniqueUids(): boolean {
    return this.#isRoot;
  }

  get limitsMemory(): boolean {
    return this.#cgroups !== undefined;
  }

  paths(m: SandboxMounts): SandboxPaths {
    return jailPaths(m);
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const [command] = spec.argv;
    if (!command) throw new Error("sandbox argv is empty");
    if (hasNetwork(spec.network))
      throw new Error(
        `this instance's function allows a network, which gVisor cannot give: ${this.networkProblem}`,
      );
    // runsc says only "failed to load" on stderr: checked here, a missing or non-executable
    // entrypoint is the same error as in the other drivers.
    this.#checkEntrypoint(command, spec.mounts);
    const { mounts } = spec;
    let uid: number | undefined;
    let cgroup: InstanceCgroup | undefined;
    // No "_" in it: runsc names its state files `<id>_…`.
    const id = `${spec.instanceId.replace(/[^A-Za-z0-9.-]/g, "-").slice(0, 64)}-${this.#seq++}`;
    const bundle = join(this.#bundles, id);
    const release = () => {
      if (uid !== undefined) this.#uids.release(uid);
    };
    try {
      if (this.#isRoot) {
        uid = this.#uids.allocate();
        for (const dir of [mounts.api, mounts.out]) if (dir) chownSync(dir, uid, uid);
      }
      cgroup = this.#cgroups?.create(spec.instanceId, spec.memoryMb, spec.background, HOST_TASKS_MAX);
      mkdirSync(bundle, { mode: 0o700 });
      // The bundle holds the instance's environment: private to the platform.
      writeFileSync(
        join(bundle, "config.json"),
        JSON.stringify(ociConfig({ spec, uid, rootfs: this.#rootfs, hostBinds: this.#hostBinds })),
        { mode: 0o600 },
      );
    } catch (err) {
      release();
      cgroup?.remove();
      rmSync(bundle, { recursive: true, force: true });
      throw err;
    }
    const hold = cgroup;
    const held = hold !== undefined;
    // `--pdeathsig KILL`: `runsc run` dies with the platform (it is the platform's own child:
    // setpriv, unshare and the holding shell exec it), and its attached sandbox and gofer with
    // it. In a network namespace of its own: runsc binds the sandbox's control socket (the
    // calls `runsc exec`, `kill` and `ps` make, answered for whoever connects: another uid read
    // the process list here) to an abstract address in the network namespace `runsc run` is
    // in, which in the host's would be open to every local user and every `process` sandbox.
    const child = spawn(
      this.#setpriv,
      [
        "--pdeathsig",
        "KILL",
        "--",
        this.#unshare,
        ...ownNetwork(this.#isRoot),
        ...(held ? ["/bin/sh", "-c", HOLD_SCRIPT, "nimbus-gvisor"] : []),
        this.#runsc,
        ...this.#globalFlags(),
        "run",
        "--bundle",
        bundle,
        id,
      ],
      { env: RUNSC_ENV, stdio: [held ? "pipe" : "ignore", "pipe", "pipe"] },
    );
    // Every process kill() was sent to: the sandbox ends when they have, not when runsc run has
    // (the sandbox process, holding the function's memory, can take longer to go).
    const killed = new Set<number>();
    const exited = new Promise<SandboxExit>((resolve) => {
      const end = (exit: SandboxExit) => void ended(killed, KILL_WAIT_MS).then(() => resolve(exit));
      // "close" comes after the output pipes drain, so the last words of a crash are read.
      child.once("close", (code, signal) => end(exitOf(code, signal)));
      child.once("error", () => resolve({ code: 127, signal: null }));
      child.once("exit", (code, signal) => {
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          end(exitOf(code, signal));
        }, PIPE_DRAIN_MS).unref();
      });
    });
    void exited.then(() => this.#remove(id, bundle));
    const pid = child.pid;
    const killAll = () => {
      if (pid === undefined) return;
      // All at once: runsc run, the gofer, the sandbox and its stub processes.
      for (const p of [pid, ...descendants(pid)]) {
        killed.add(p);
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // Gone already.
        }
      }
    };
    if (pid === undefined) {
      release();
      cgroup?.remove();
      const err = await new Promise<Error>((resolve) => child.once("error", resolve));
      throw new Error(`could not start gVisor (${this.#setpriv}): ${err.message}`);
    }
    if (hold) {
      const go = child.stdin as Writable;
      go.on("error", () => {});
      try {
        await hold.join(pid);
      } catch (err) {
        killAll();
        await exited;
        release();
        hold.remove();
        throw err;
      }
      go.end("go\n");
    }
    const sandbox = contained({
      pid,
      uid,
      cgroup,
      memoryMb: spec.memoryMb,
      stdout: child.stdout!,
      stderr: child.stderr!,
      exited,
      release,
      kill: killAll,
      joined: held,
    });
    // No host process is the function's: gVisor's sandbox process holds all its memory, and
    // its own. The group's high-water mark counts both (gVisor's part is some tens of MB), the
    // closest figure there is; it is kept once the group is gone.
    let peakMb: number | undefined;
    return {
      ...sandbox,
      peakMemoryMb: () => {
        if (!cgroup) return undefined;
        // After an out-of-memory kill: what the group reached, read as it ended.
        if (sandbox.outOfMemory()) return sandbox.peakMemoryMb();
        peakMb = cgroup.peakMb() ?? peakMb;
        return peakMb;
      },
    };
  }

  /** Flags every runsc command of this driver takes. */
  #globalFlags(): string[] {
    return [
      "--root",
      this.#stateRoot,
      ...(this.#isRoot ? [] : ["--rootless"]),
      "--platform=ptrace",
      "--network=none",
      "--host-uds=open",
      "--ignore-cgroups",
    ];
  }

  /** An absolute entrypoint inside what the sandbox is given must exist and be executable. */
  #checkEntrypoint(command: string, m: SandboxMounts): void {
    if (!isAbsolute(command)) return;
    const own: Array<[string, string | undefined]> = [
      [JAIL_PATHS.code, m.code],
      [JAIL_PATHS.runtime, m.runtime],
      [JAIL_PATHS.api, m.api],
      [JAIL_PATHS.out, m.out],
    ];
    let st: Stats | undefined;
    const hostDir = [...this.#hostBinds, ...this.#links].find((d) => within(d, command));
    if (hostDir) {
      // The host's own directories, seen alike inside: links resolve the same.
      st = statSync(command, { throwIfNoEntry: false });
    } else {
      const at = own.find(([inside, host]) => host !== undefined && within(inside, command));
      if (!at) return;
      const host = join(at[1]!, relative(at[0], command));
      st = lstatSync(host, { throwIfNoEntry: false });
      // A link is followed inside the sandbox, where its target may differ from the host's.
      if (st?.isSymbolicLink()) return;
    }
    if (!st) throw new SandboxStartError(command, "ENOENT");
    if (!st.isFile() || (st.mode & 0o111) === 0) throw new SandboxStartError(command, "EACCES");
  }

  /**
   * Once `runsc run` has exited: the state it left of a container it did not delete itself (it
   * was killed), then the bundle. Not `runsc delete --force`: it SIGKILLs the pids the state
   * names (sandbox and gofer), which by then may be another process's.
   */
  #remove(id: string, bundle: string): void {
    this.#removeState((name) => name.startsWith(`${id}_`));
    void rm(bundle, { recursive: true, force: true }).catch(() => {});
  }

  #removeState(match: (name: string) => boolean): void {
    let names: string[] = [];
    try {
      names = readdirSync(this.#stateRoot);
    } catch {
      // No state at all.
    }
    for (const name of names)
      if (match(name)) rmSync(join(this.#stateRoot, name), { recursive: true, force: true });
  }

  /**
   * What a platform that died left in the state directory: its runsc processes, if any outlived
   * it, are killed (found by their `--root`: the directory is this platform's alone), then the
   * containers' state and the bundles are removed. (Not `runsc delete --force`: the pids its
   * state names have long been reused.)
   */
  #reapStale(): void {
    for (const pid of runscProcesses(this.#stateRoot)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    this.#removeState(() => true);
    for (const name of readdirSync(this.#bundles))
      rmSync(join(this.#bundles, name), { recursive: true, force: true });
  }
}

/** Live processes of runsc (any command, sandbox and gofer) started with `--root stateRoot`. */
function runscProcesses(stateRoot: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57 || Number(name) === process.pid) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${name}/cmdline`, "latin1").split("\0");
    } catch {
      continue;
    }
    if (args.some((a, i) => a === `--root=${stateRoot}` || (a === "--root" && args[i + 1] === stateRoot)))
      found.push(Number(name));
  }
  return found;
}
