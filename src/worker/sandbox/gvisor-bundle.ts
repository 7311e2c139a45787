/**
 * A gVisor instance's OCI bundle: its config.json (the process, its limits, the mounts at
 * Lambda's paths) and the read-only root all bundles share.
 */
import { lstatSync, mkdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PIDS_MAX } from "./cgroups.js";
import type { HostRoot } from "./host-root.js";
import { DEFAULT_TMP_MB, JAIL_PATHS, SHM_MB } from "./jail.js";
import type { SandboxSpec } from "./types.js";

/**
 * Processes and threads an instance may have inside gVisor: half the other tiers' limit. Under
 * the ptrace platform each of them costs gVisor host tasks and tracer work; at 1,024 a fork bomb
 * still made gVisor itself exit (status 2) now and then in CI, where at 512 it fails inside.
 */
const SANDBOX_NPROC = PIDS_MAX / 2;
/**
 * gVisor gives a process without HOME one (`HOME=/`): `env -u HOME` takes it away again, so
 * the environment is exactly the instance's. (Nimbus's runtimes always have a HOME.)
 */
const UNSET_HOME = ["/usr/bin/env", "-u", "HOME", "--"];

/** The bundle's config.json for an instance: `uid` inside (root when rootless). */
export function ociConfig(o: {
  spec: SandboxSpec;
  uid: number | undefined;
  rootfs: string;
  hostBinds: readonly string[];
}): unknown {
  const { spec, uid } = o;
  const m = spec.mounts;
  // Rootless, runsc maps the platform's user to root inside: the files it owns are root's
  // there (root without capabilities: no more than the platform's user may on the host).
  const id = uid ?? 0;
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
    ...o.hostBinds.map((d) => bind(d, d)),
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
      args: Object.hasOwn(spec.env, "HOME") ? spec.argv : [...UNSET_HOME, ...spec.argv],
      env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      cwd: JAIL_PATHS.code,
      capabilities: { bounding: none, effective: none, inheritable: none, permitted: none, ambient: none },
      noNewPrivileges: true,
      // gVisor's kernel bounds the processes and threads inside (EAGAIN past it, as the
      // other tiers' pids limit does); the group's limit is on host tasks (HOST_TASKS_MAX in gvisor.ts).
      rlimits: [{ type: "RLIMIT_NPROC", hard: SANDBOX_NPROC, soft: SANDBOX_NPROC }],
    },
    root: { path: o.rootfs, readonly: true },
    hostname: "localhost",
    mounts,
    linux: { namespaces: ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type })) },
  };
}

/**
 * The shared root: empty mount points for every bind and tmpfs, and the links. Read-only to
 * every sandbox; what is mounted on it is per instance.
 */
export function makeRootfs(rootfs: string, layout: HostRoot): void {
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
