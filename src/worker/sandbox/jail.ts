/**
 * The `jail` driver (Linux): each instance in its own user, mount, pid, ipc, uts, cgroup and
 * network namespaces, made by bubblewrap (Debian's `bubblewrap`). Inside, a read-only root
 * holds only the host's /usr (and its /bin, /lib links), the function's code at /var/task,
 * Nimbus's runtime at /var/runtime, a private tmpfs /tmp sized by EphemeralStorage, a private
 * /dev/shm, a /proc of its own pid namespace, and the instance's Runtime API sockets at
 * /run/nimbus. No network interface but its own loopback. A seccomp filter refuses what a
 * function never needs (mount, ptrace, bpf, new namespaces, …).
 *
 * bubblewrap runs unprivileged, as the instance's own uid (the platform, as root, starts it
 * as that uid), so nothing inside is ever root on the host; control groups bound memory, CPU
 * and processes as in the `process` driver. The runtime is the namespace's pid 1: when it
 * dies, or bubblewrap dies, or the platform dies (`--die-with-parent`), the kernel kills every
 * process the instance started.
 */
import { spawn, spawnSync } from "node:child_process";
import { chownSync } from "node:fs";
import type { Writable } from "node:stream";
import { type Destination, hasNetwork } from "../../protocol/sandbox.js";
import { type Cgroups, driverCgroups, type InstanceCgroup } from "./cgroups.js";
import { contained } from "./contained.js";
import { exitOf, HOLD_SCRIPT, hostRoot } from "./host-root.js";
import { attachEgress, type Egress, egressProblem, hostNetworks, NETWORK_FILES } from "./network.js";
import { seccompProgram } from "./seccomp.js";
import type {
  Sandbox,
  SandboxDriver,
  SandboxExit,
  SandboxMounts,
  SandboxPaths,
  SandboxSpec,
} from "./types.js";
import { UidAllocator } from "./uids.js";

/** Lambda's paths, literal inside a jail. */
export const JAIL_PATHS = {
  code: "/var/task",
  runtime: "/var/runtime",
  tmp: "/tmp",
  api: "/run/nimbus",
  out: "/var/out",
  snapshot: "/var/snapshot.blob",
} as const;
/** Where a sandbox with a filesystem of its own sees its mounts: Lambda's literal paths. */
export function jailPaths(m: SandboxMounts): SandboxPaths {
  return {
    code: JAIL_PATHS.code,
    runtime: JAIL_PATHS.runtime,
    tmp: JAIL_PATHS.tmp,
    api: m.api === undefined ? undefined : JAIL_PATHS.api,
    out: m.out === undefined ? undefined : JAIL_PATHS.out,
    snapshot: m.snapshot === undefined ? undefined : JAIL_PATHS.snapshot,
  };
}

/** Lambda's default EphemeralStorage (MB). */
export const DEFAULT_TMP_MB = 512;
/** /dev/shm's size: POSIX shared memory is memory, and it is charged to the instance's group. */
export const SHM_MB = 64;

export interface JailDriverOptions {
  /** "auto": control groups when root; "off": none. */
  readonly cgroups?: "auto" | "off";
  /** The node binary the worker runs: its installation is bound read-only where it is. */
  readonly nodeBinary: string;
  /** bubblewrap's executable. */
  readonly bwrap?: string;
}

/** Why the jail cannot run on this host, or undefined when it can. */
export function jailProblem(bwrap = "bwrap"): string | undefined {
  if (process.platform !== "linux") return "the jail needs Linux namespaces";
  const probe = spawnSync(
    bwrap,
    ["--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "--disable-userns", "--", "/bin/true"],
    { env: {}, timeout: 5000, ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}) },
  );
  if (probe.error) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? `bubblewrap is not installed (${bwrap}; Debian's package is \`bubblewrap\`)`
      : `bubblewrap could not run: ${probe.error.message}`;
  }
  if (probe.status !== 0)
    return `bubblewrap cannot make namespaces here: ${probe.stderr.toString().trim() || `exit ${probe.status}`} (unprivileged user namespaces must be allowed)`;
  return undefined;
}

export class JailDriver implements SandboxDriver {
  readonly name = "jail";
  readonly privateFilesystem = true;
  readonly warnings: string[] = [];
  readonly #bwrap: string;
  readonly #root: readonly string[];
  readonly #seccomp: Buffer;
  readonly #isRoot = process.getuid?.() === 0;
  readonly #uids = new UidAllocator();
  readonly networkProblem: string | undefined;
  /** The host's own addresses and networks, denied to instances with a network. */
  readonly #hostNetworks: Destination[];
  #cgroups: Cgroups | undefined;

  constructor(opts: JailDriverOptions) {
    this.#bwrap = opts.bwrap ?? "bwrap";
    this.#root = rootFilesystem(opts.nodeBinary);
    this.#seccomp = seccompProgram();
    this.networkProblem = egressProblem();
    this.#hostNetworks = this.networkProblem ? [] : hostNetworks();
    if (!this.#isRoot)
      this.warnings.push(
        "jailed instances run as the platform's own user (in their namespaces): per-instance uids and control groups need root",
      );
    // Not root: the warning above says it all.
    if (this.#isRoot) this.#cgroups = driverCgroups(opts.cgroups, this.warnings);
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
    const { mounts } = spec;
    let uid: number | undefined;
    let cgroup: InstanceCgroup | undefined;
    try {
      if (this.#isRoot) {
        uid = this.#uids.allocate();
        for (const dir of [mounts.api, mounts.out]) if (dir) chownSync(dir, uid, uid);
      }
      cgroup = this.#cgroups?.create(spec.instanceId, spec.memoryMb, spec.background);
    } catch (err) {
      if (uid !== undefined) this.#uids.release(uid);
      throw err;
    }
    const release = () => {
      if (uid !== undefined) this.#uids.release(uid);
    };
    const network = hasNetwork(spec.network) ? spec.network : undefined;
    if (network && this.networkProblem) {
      release();
      cgroup?.remove();
      throw new Error(
        `this instance's function allows a network, which the jail cannot give here: ${this.networkProblem}`,
      );
    }
    const args = this.#arguments(spec, network !== undefined, [
      uid ?? process.getuid?.() ?? 0,
      uid ?? process.getgid?.() ?? 0,
    ]);
    // The mounts go through a pipe (`--args`): bubblewrap's command line shows no host path,
    // only the command as the sandbox sees it. A networked jail is made in a user and network
    // namespace of its own, and waits (`--block-fd`) until its network and rules are in place.
    const bwrapArgv = ["--args", "3", "--seccomp", "4", "--info-fd", "5", "--", ...spec.argv];
    const jailArgv = network
      ? ["unshare", "--user", "--net", "--map-root-user", "--", this.#bwrap, ...bwrapArgv]
      : [this.#bwrap, ...bwrapArgv];
    // A pooled runtime starts while others serve invocations: it is held until it is in its
    // group, whose CPU weight is the lowest, so that its start takes only idle CPU. A runtime
    // an invocation waits for is not held: the move takes 10-20 ms, and it is then in its own
    // group's weight, the function's, from its first milliseconds.
    const hold = spec.background ? cgroup : undefined;
    const held = hold !== undefined;
    const [file, ...argv] = held ? ["/bin/sh", "-c", HOLD_SCRIPT, "nimbus-jail", ...jailArgv] : jailArgv;
    const child = spawn(file!, argv, {
      env: { ...spec.env },
      stdio: [
        held ? "pipe" : "ignore",
        "pipe",
        "pipe",
        "pipe",
        "pipe",
        "pipe",
        ...(network ? [BLOCK_FD, ...NETWORK_FDS].map(() => "pipe" as const) : []),
      ],
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    const argsPipe = child.stdio[3] as Writable;
    const seccompPipe = child.stdio[4] as Writable;
    argsPipe.on("error", () => {});
    seccompPipe.on("error", () => {});
    argsPipe.end(Buffer.from(`${args.join("\0")}\0`));
    seccompPipe.end(this.#seccomp);
    if (network)
      Object.values(NETWORK_FILES).forEach((text, i) => {
        const pipe = (child.stdio as unknown[])[NETWORK_FDS[i]!] as Writable;
        pipe.on("error", () => {});
        pipe.end(text);
      });
    const exited = new Promise<SandboxExit>((resolve) => {
      child.once("close", (code, signal) => resolve(exitOf(code, signal)));
      child.once("error", () => resolve({ code: 127, signal: null }));
    });
    const bwrapPid = child.pid;
    if (hold && bwrapPid !== undefined) {
      const go = child.stdin as Writable;
      go.on("error", () => {});
      // If it cannot join, bubblewrap never starts and reports no pid: the start fails below.
      await hold.join(bwrapPid).then(
        () => go.end("go\n"),
        () => go.destroy(),
      );
    }
    // The runtime's pid on the host, from bubblewrap's info (it is the namespace's pid 1).
    const runtimePid = bwrapPid === undefined ? undefined : await readChildPid((child.stdio as unknown[])[5]);
    if (bwrapPid === undefined || runtimePid === undefined) {
      release();
      cgroup?.remove();
      let said = "";
      child.stderr?.on("data", (c: Buffer) => {
        said += c.toString();
      });
      child.kill("SIGKILL");
      const exit = await exited;
      throw new Error(
        `bubblewrap did not start the sandbox (exit ${exit.code ?? exit.signal}): ${said.trim().slice(-500)}`,
      );
    }
    let egress: Egress | undefined;
    const killAll = () => {
      for (const pid of [runtimePid, bwrapPid]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Gone already.
        }
      }
      egress?.stop();
    };
    if (network) {
      try {
        egress = await attachEgress({ outerPid: bwrapPid, uid, policy: network, host: this.#hostNetworks });
      } catch (err) {
        killAll();
        await exited;
        release();
        cgroup?.remove();
        throw err;
      }
      // Its network is up and its rules are in: the runtime may start.
      const block = (child.stdio as unknown[])[BLOCK_FD] as Writable;
      block.on("error", () => {});
      block.end("1");
      void exited.then(() => egress?.stop());
    }
    return contained({
      pid: runtimePid,
      uid,
      cgroup,
      memoryMb: spec.memoryMb,
      stdout: child.stdout!,
      stderr: child.stderr!,
      exited,
      release,
      // The runtime is pid 1 of its namespace: its death takes every process of the instance.
      kill: killAll,
      joined: held,
    });
  }

  #arguments(spec: SandboxSpec, networked: boolean, [uid, gid]: readonly [number, number]): string[] {
    const m = spec.mounts;
    const tmpBytes = (spec.tmpMb ?? DEFAULT_TMP_MB) * 1024 * 1024;
    // Networked, bubblewrap runs as root of the namespace `unshare` made: the instance keeps
    // its own uid inside, and bubblewrap's own namespace holds no power over the network's.
    const identity = networked ? ["--uid", String(uid), "--gid", String(gid)] : [];
    const a = [
      ...identity,
      "--unshare-user",
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      ...(networked ? ["--block-fd", String(BLOCK_FD)] : ["--unshare-net"]),
      "--unshare-cgroup-try",
      "--disable-userns",
      "--die-with-parent",
      "--new-session",
      "--as-pid-1",
      "--hostname",
      "localhost",
      ...this.#root,
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--size",
      String(SHM_MB * 1024 * 1024),
      "--tmpfs",
      "/dev/shm",
      "--size",
      String(tmpBytes),
      "--tmpfs",
      JAIL_PATHS.tmp,
      "--ro-bind",
      m.runtime,
      JAIL_PATHS.runtime,
      "--ro-bind",
      m.code,
      JAIL_PATHS.code,
    ];
    if (m.api) a.push("--bind", m.api, JAIL_PATHS.api);
    if (m.out) a.push("--bind", m.out, JAIL_PATHS.out);
    if (m.snapshot) a.push("--ro-bind", m.snapshot, JAIL_PATHS.snapshot);
    if (networked)
      Object.keys(NETWORK_FILES).forEach((path, i) => {
        a.push("--ro-bind-data", String(NETWORK_FDS[i]), path);
      });
    a.push("--remount-ro", "/", "--chdir", JAIL_PATHS.code);
    return a;
  }
}

/** File descriptors a networked jail's bubblewrap reads: its go-ahead, and its /etc files. */
const BLOCK_FD = 6;
const NETWORK_FDS = [7, 8, 9] as const;

/** The read-only root as bubblewrap's arguments (`hostRoot`). */
function rootFilesystem(nodeBinary: string): string[] {
  const root = hostRoot(nodeBinary);
  return [
    ...root.links.flatMap(([target, at]) => ["--symlink", target, at]),
    ...root.binds.flatMap((path) => ["--ro-bind", path, path]),
  ];
}

/** Reads bubblewrap's `--info-fd` JSON for the child's pid; undefined if it exits first. */
function readChildPid(info: unknown): Promise<number | undefined> {
  const stream = info as NodeJS.ReadableStream;
  return new Promise((resolve) => {
    let text = "";
    const done = (pid: number | undefined) => {
      stream.removeAllListeners("data");
      stream.resume();
      resolve(pid);
    };
    stream.on("data", (c: Buffer) => {
      text += c.toString();
      const m = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (m) done(Number(m[1]));
    });
    stream.once("end", () => done(undefined));
    stream.once("error", () => done(undefined));
  });
}
