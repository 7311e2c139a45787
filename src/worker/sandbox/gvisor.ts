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
 * and kvm, and KVM needs a host that can run guests). Its processes run as the instance's own
 * uid inside (as root; the platform's own uid with `--rootless` otherwise); on the host,
 * gVisor's sandbox process runs as nobody in a user namespace of its own, its file proxy (the
 * gofer) as root with few capabilities. Files the instance writes to /var/out are its uid's.
 *
 * As root, `runsc run` starts in the instance's control group (a shell holds it until it has
 * joined), so everything gVisor starts for it is counted and bounded there: the memory limit
 * covers the function's memory and gVisor's own, and the CPU weight and quota apply to the
 * whole sandbox. runsc's own control groups are off (`--ignore-cgroups`): with them it would
 * size the sandbox's memory as the limit at start, which a pooled sandbox raises later.
 *
 * `runsc run` is started with `setpriv --pdeathsig KILL` (it dies with the platform), and
 * runs its sandbox attached (the sandbox and gofer die with it): when the platform is killed,
 * nothing of an instance survives. Containers left in the state directory are deleted when
 * the driver starts.
 *
 * Measured on this 2-core VM (Debian's runsc 0.0~20221219, ptrace), median of 10: start() to
 * a `node -e 0` exiting: gvisor ??? ms, jail ??? ms (plain node ??? ms); PSS of a sandboxed
 * idle `node -e "setInterval(()=>{},1000)"`, summed over all its host processes (runsc run,
 * gofer, sandbox, its stub processes): ??? MB. gVisor must rely on the warm pool.
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
  readlinkSync,
  rmSync,
  type Stats,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { delimiter, dirname, isAbsolute, join, relative } from "node:path";
import type { Writable } from "node:stream";
import { hasNetwork } from "../../protocol/sandbox.js";
import { Cgroups, type InstanceCgroup } from "./cgroups.js";
import { contained } from "./contained.js";
import { DEFAULT_TMP_MB, JAIL_PATHS } from "./jail.js";
import {
  type Sandbox,
  type SandboxDriver,
  type SandboxExit,
  type SandboxMounts,
  type SandboxPaths,
  type SandboxSpec,
  SandboxStartError,
} from "./types.js";
import { UidAllocator } from "./uids.js";

/** /dev/shm's size, as in the jail. */
const SHM_MB = 64;
/** Host directories a runtime may need, bound read-only where they are (links kept as links). */
const HOST_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/** Host files kept readable: time zones and CA certificates. */
const HOST_FILES = ["/etc/ssl", "/etc/ca-certificates", "/usr/share/zoneinfo"];
/** All runsc and its helpers get of the platform's environment. */
const RUNSC_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
/**
 * Holds `runsc run` until the platform has moved it into the instance's control group, so that
 * all it starts is counted there from the first page; exits if the platform went meanwhile.
 */
const HOLD = 'read -r go || exit 111; exec "$@"';
/** How long the output pipes may stay open after `runsc run` has exited. */
const PIPE_DRAIN_MS = 2000;

export interface GvisorDriverOptions {
  /** The node binary the worker runs: its installation is bound read-only where it is. */
  readonly nodeBinary: string;
  /**
   * A directory of this platform's own (made private) for runsc's state, the bundles (which
   * hold the instances' environments) and the shared root. Containers left in it by a platform
   * that died are deleted when the driver is made.
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
  if (!findExecutable("setpriv"))
    return "util-linux's setpriv is not installed (it ties gVisor to the platform)";
  const root = mkdtempSync(join(tmpdir(), "nimbus-gvisor-probe-"));
  try {
    // A whole sandbox, started and stopped: the ptrace platform must be allowed here.
    const probe = spawnSync(
      runsc,
      [
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
    if (probe.error) {
      const code = (probe.error as NodeJS.ErrnoException).code;
      return code === "ENOENT"
        ? `gVisor is not installed (${runsc}; Debian's package is \`runsc\`)`
        : `gVisor could not run: ${probe.error.message}`;
    }
    if (probe.status !== 0)
      return `gVisor cannot start a sandbox here: ${probe.stderr.toString().trim().slice(-300) || `exit ${probe.status}`}`;
    return undefined;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export class GvisorDriver implements SandboxDriver {
  readonly name = "gvisor";
  readonly privateFilesystem = true;
  readonly networkProblem =
    "gVisor sandboxes have no network (`--network=none`): a function allowed a network needs the jail";
  readonly warnings: string[] = [];
  readonly #runsc: string;
  readonly #setpriv: string;
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
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    chmodSync(opts.stateDir, 0o700);
    this.#stateRoot = join(opts.stateDir, "runsc");
    this.#bundles = join(opts.stateDir, "bundles");
    this.#rootfs = join(opts.stateDir, "rootfs");
    for (const d of [this.#stateRoot, this.#bundles]) mkdirSync(d, { recursive: true, mode: 0o700 });
    this.#reapStale();
    const root = rootLayout(opts.nodeBinary);
    this.#hostBinds = root.binds;
    this.#links = root.links.map(([, at]) => at);
    makeRootfs(this.#rootfs, root);
    if (!this.#isRoot)
      this.warnings.push(
        "gVisor sandboxes run rootless, as the platform's own user: per-instance uids and control groups need root",
      );
    if ((opts.cgroups ?? "auto") === "auto" && this.#isRoot) {
      const groups = Cgroups.open();
      if (groups instanceof Cgroups) {
        this.#cgroups = groups;
        if (!groups.limitsCpu)
          this.warnings.push("CPU is not limited per instance: no cgroup v1 cpu controller");
        if (!groups.limitsPids)
          this.warnings.push("processes per instance are not limited: no cgroup v1 pids controller");
      } else
        this.warnings.push(
          `memory is bounded by V8's heap limit only and CPU is not limited per instance: ${groups.problem}`,
        );
    } else if ((opts.cgroups ?? "auto") === "auto")
      this.warnings.push(
        "memory is bounded by V8's heap limit only and CPU is not limited per instance: control groups need root",
      );
  }

  get uniqueUids(): boolean {
    return this.#isRoot;
  }

  get limitsMemory(): boolean {
    return this.#cgroups !== undefined;
  }

  paths(m: SandboxMounts): SandboxPaths {
    return {
      code: JAIL_PATHS.code,
      runtime: JAIL_PATHS.runtime,
      tmp: JAIL_PATHS.tmp,
      api: m.api === undefined ? undefined : JAIL_PATHS.api,
      out: m.out === undefined ? undefined : JAIL_PATHS.out,
      snapshot: m.snapshot === undefined ? undefined : JAIL_PATHS.snapshot,
    };
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
    const id = `${spec.instanceId.replace(/[^\w.-]/g, "_")}-${this.#seq++}`;
    const bundle = join(this.#bundles, id);
    const release = () => {
      if (uid !== undefined) this.#uids.release(uid);
    };
    try {
      if (this.#isRoot) {
        uid = this.#uids.allocate();
        for (const dir of [mounts.api, mounts.out]) if (dir) chownSync(dir, uid, uid);
      }
      cgroup = this.#cgroups?.create(spec.instanceId, spec.memoryMb, spec.background);
      mkdirSync(bundle, { mode: 0o700 });
      // The bundle holds the instance's environment: private to the platform.
      writeFileSync(join(bundle, "config.json"), JSON.stringify(this.#config(spec, uid)), { mode: 0o600 });
    } catch (err) {
      release();
      cgroup?.remove();
      rmSync(bundle, { recursive: true, force: true });
      throw err;
    }
    const run = [this.#runsc, ...this.#globalFlags(), "run", "--bundle", bundle, id];
    const held = cgroup !== undefined;
    // `--pdeathsig KILL`: `runsc run` dies with the platform (it is the platform's own child:
    // setpriv and the holding shell exec it), and its attached sandbox and gofer with it.
    const child = spawn(
      this.#setpriv,
      ["--pdeathsig", "KILL", "--", ...(held ? ["/bin/sh", "-c", HOLD, "nimbus-gvisor"] : []), ...run],
      { env: RUNSC_ENV, stdio: [held ? "pipe" : "ignore", "pipe", "pipe"] },
    );
    let killed = false;
    const exited = new Promise<SandboxExit>((resolve) => {
      // "close" comes after the output pipes drain, so the last words of a crash are read.
      child.once("close", (code, signal) => resolve(exitOf(code, signal)));
      child.once("error", () => resolve({ code: 127, signal: null }));
      child.once("exit", (code, signal) => {
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          resolve(exitOf(code, signal));
        }, PIPE_DRAIN_MS).unref();
      });
    });
    void exited.then(() => this.#remove(id, bundle, killed));
    const pid = child.pid;
    const killAll = () => {
      killed = true;
      if (pid === undefined) return;
      // All at once: runsc run, the gofer, the sandbox and its stub processes.
      for (const p of [pid, ...descendants(pid)]) {
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
    if (held) {
      const go = child.stdin as Writable;
      go.on("error", () => {});
      try {
        await cgroup.join(pid);
      } catch (err) {
        killAll();
        await exited;
        release();
        cgroup.remove();
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
    });
    // No host process is the function's: gVisor's sandbox process holds all its memory, and
    // its own. The group's high-water mark counts both (gVisor's part is some tens of MB), the
    // closest figure there is; it is kept once the group is gone.
    let peakMb: number | undefined;
    return {
      ...sandbox,
      peakMemoryMb: () => {
        if (!cgroup) return undefined;
        if (!sandbox.outOfMemory()) peakMb = cgroup.peakMb() ?? peakMb;
        return sandbox.outOfMemory() ? sandbox.peakMemoryMb() : peakMb;
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

  #config(spec: SandboxSpec, uid: number | undefined): unknown {
    const m = spec.mounts;
    const id = uid ?? process.getuid?.() ?? 0;
    const tmpfs = (destination: string, mb: number) => ({
      destination,
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "nodev", "mode=1777", `size=${mb * 1024 * 1024}`],
    });
    const bind = (source: string, destination: string, writable = false) => ({
      destination,
      type: "bind",
      source,
      options: ["rbind", writable ? "rw" : "ro", "nosuid", "nodev"],
    });
    const mounts = [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs" },
      tmpfs("/dev/shm", SHM_MB),
      ...this.#hostBinds.map((d) => bind(d, d)),
      tmpfs(JAIL_PATHS.tmp, spec.tmpMb ?? DEFAULT_TMP_MB),
      bind(m.runtime, JAIL_PATHS.runtime),
      bind(m.code, JAIL_PATHS.code),
    ];
    if (m.api) mounts.push(bind(m.api, JAIL_PATHS.api, true));
    if (m.out) mounts.push(bind(m.out, JAIL_PATHS.out, true));
    if (m.snapshot) mounts.push(bind(m.snapshot, JAIL_PATHS.snapshot));
    const none: string[] = [];
    return {
      ociVersion: "1.0.2",
      process: {
        terminal: false,
        user: { uid: id, gid: id },
        args: spec.argv,
        env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        cwd: JAIL_PATHS.code,
        capabilities: { bounding: none, effective: none, inheritable: none, permitted: none, ambient: none },
        noNewPrivileges: true,
      },
      root: { path: this.#rootfs, readonly: true },
      hostname: "localhost",
      mounts,
      linux: { namespaces: ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type })) },
    };
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
   * Once `runsc run` has exited: a container it did not delete itself (it was killed) is
   * deleted in the background, then its bundle.
   */
  #remove(id: string, bundle: string, killed: boolean): void {
    const removeBundle = () => void rm(bundle, { recursive: true, force: true }).catch(() => {});
    let left = killed;
    if (!left) {
      try {
        left = readdirSync(this.#stateRoot).some((f) => f.startsWith(`${id}_`) || f === id);
      } catch {
        left = false;
      }
    }
    if (!left) {
      removeBundle();
      return;
    }
    const del = spawn(this.#runsc, [...this.#globalFlags(), "delete", "--force", id], {
      env: RUNSC_ENV,
      stdio: "ignore",
    });
    del.once("error", removeBundle);
    del.once("close", removeBundle);
    del.unref();
  }

  /** Deletes the containers a platform that died left in the state directory, and their bundles. */
  #reapStale(): void {
    const list = spawnSync(this.#runsc, [...this.#globalFlags(), "list", "-quiet"], {
      env: RUNSC_ENV,
      timeout: 20_000,
    });
    const ids = list.status === 0 ? list.stdout.toString().split("\n").filter(Boolean) : [];
    if (ids.length > 0)
      spawnSync(this.#runsc, [...this.#globalFlags(), "delete", "--force", ...ids], {
        env: RUNSC_ENV,
        timeout: 60_000,
        stdio: "ignore",
      });
    for (const name of readdirSync(this.#bundles))
      rmSync(join(this.#bundles, name), { recursive: true, force: true });
  }
}

interface RootLayout {
  /** Directories bound read-only at the same place. */
  readonly binds: readonly string[];
  /** Links made in the root: [target, where]. */
  readonly links: ReadonlyArray<readonly [string, string]>;
}

/** The read-only root's host parts: the host's /usr and its links, and the node binary's installation. */
function rootLayout(nodeBinary: string): RootLayout {
  const binds: string[] = [];
  const links: Array<[string, string]> = [];
  for (const dir of HOST_DIRS) {
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) links.push([readlinkSync(dir), dir]);
    else if (st.isDirectory()) binds.push(dir);
  }
  // Time zones under /usr come with it; elsewhere they are bound on their own.
  for (const f of HOST_FILES)
    if (statSync(f, { throwIfNoEntry: false }) && !binds.some((d) => within(d, f))) binds.push(f);
  // A node installed outside /usr (/opt/node, a version manager's directory): its prefix.
  const prefix = dirname(dirname(nodeBinary));
  if (!binds.some((d) => within(d, nodeBinary))) binds.push(prefix);
  return { binds, links };
}

/**
 * The shared root: empty mount points for every bind and tmpfs, and the links. Read-only to
 * every sandbox; what is mounted on it is per instance.
 */
function makeRootfs(rootfs: string, layout: RootLayout): void {
  mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  const dirs = [
    ...layout.binds.filter((d) => statSync(d).isDirectory()),
    "/proc",
    "/dev",
    JAIL_PATHS.tmp,
    JAIL_PATHS.code,
    JAIL_PATHS.runtime,
    JAIL_PATHS.api,
    JAIL_PATHS.out,
  ];
  for (const d of dirs) mkdirSync(join(rootfs, d), { recursive: true, mode: 0o755 });
  for (const f of [...layout.binds.filter((d) => !statSync(d).isDirectory()), JAIL_PATHS.snapshot]) {
    mkdirSync(dirname(join(rootfs, f)), { recursive: true, mode: 0o755 });
    writeFileSync(join(rootfs, f), "", { flag: "a", mode: 0o444 });
  }
  for (const [target, at] of layout.links) {
    const path = join(rootfs, at);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st?.isSymbolicLink() && readlinkSync(path) === target) continue;
    if (st) rmSync(path, { recursive: true, force: true });
    symlinkSync(target, path);
  }
}

/** Whether `path` is `dir` or inside it. */
function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** An executable found on the platform's PATH (or the path given), undefined if none. */
function findExecutable(name: string): string | undefined {
  const candidates = name.includes("/")
    ? [name]
    : (process.env.PATH ?? RUNSC_ENV.PATH).split(delimiter).map((d) => join(d, name));
  for (const c of candidates) {
    const st = statSync(c, { throwIfNoEntry: false });
    if (st?.isFile() && (st.mode & 0o111) !== 0) return c;
  }
  return undefined;
}

/** Every process started under `pid`, from the kernel's per-thread children lists. */
function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  for (let p = queue.pop(); p !== undefined; p = queue.pop()) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      let text = "";
      try {
        text = readFileSync(`/proc/${p}/task/${t}/children`, "latin1");
      } catch {
        // The thread is gone.
      }
      for (const c of text.split(" ")) {
        if (!c.trim()) continue;
        found.push(Number(c));
        queue.push(Number(c));
      }
    }
  }
  return found;
}

/** runsc exits 128 + n when the sandboxed process died of signal n (128: runsc's own failure). */
function exitOf(code: number | null, signal: NodeJS.Signals | null): SandboxExit {
  if (code !== null && code > 128) {
    const name = (Object.keys(constants.signals) as NodeJS.Signals[]).find(
      (s) => constants.signals[s] === code - 128,
    );
    if (name) return { code: null, signal: name };
  }
  return { code, signal };
}
