/**
 * A sandbox driver turns "run this command for this instance, with this memory" into a
 * running, contained process. Drivers are interchangeable: `process` (a child process with
 * its own uid and control groups), `jail` (namespaces, a read-only root, seccomp, no network),
 * `gvisor`, and a KVM microVM where the host can boot one.
 */
import type { Readable } from "node:stream";
import type { FunctionSandbox } from "../../protocol/sandbox.js";

/**
 * What a sandbox is given from the host, by host path. Each driver decides where its processes
 * see them (`SandboxDriver.paths`): the `process` driver shows the host paths as they are; the
 * `jail` mounts them at Lambda's literal paths (`/var/task`, `/tmp`, …) and nothing else of the
 * host's data.
 */
export interface SandboxMounts {
  /** The function's code, read-only; the working directory. */
  readonly code: string;
  /** Nimbus's runtime files (the Node runtime, the Runtime API relay), read-only. */
  readonly runtime: string;
  /** A private writable directory for drivers that have no /tmp of their own. */
  readonly tmp: string;
  /** The instance's Runtime API directory (its Unix sockets), when it has one. */
  readonly api?: string | undefined;
  /** A directory the sandbox leaves files in for the platform (a snapshot build's blob). */
  readonly out?: string | undefined;
  /** A snapshot blob to restore, read-only. */
  readonly snapshot?: string | undefined;
}

/** Where a sandbox's processes find what `SandboxMounts` names (same keys). */
export interface SandboxPaths {
  readonly code: string;
  readonly runtime: string;
  readonly tmp: string;
  readonly api: string | undefined;
  readonly out: string | undefined;
  readonly snapshot: string | undefined;
}

export interface SandboxSpec {
  readonly instanceId: string;
  /** argv[0] is the executable; paths in it as `paths(mounts)` gives them. */
  readonly argv: readonly string[];
  /** The complete environment: nothing of the platform's own leaks in. */
  readonly env: Readonly<Record<string, string>>;
  readonly mounts: SandboxMounts;
  readonly memoryMb: number;
  /** The size of /tmp, where the driver gives each sandbox its own (Lambda's EphemeralStorage). */
  readonly tmpMb?: number;
  /**
   * Background work until the first `resize`: the lowest CPU weight the driver can give (a
   * pooled runtime starting must not slow the cold starts being served meanwhile).
   */
  readonly background?: boolean;
  /**
   * The network the instance may reach beyond its Runtime API (its function's settings), for
   * drivers that give one (`networks`); none when undefined.
   */
  readonly network?: FunctionSandbox | undefined;
}

export interface SandboxExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Sandbox {
  readonly pid: number;
  /** The uid only this sandbox's processes run as, when the driver gives each its own. */
  readonly uid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves once the driver's limits apply to the process (rejects if they could not be). */
  readonly limited: Promise<void>;
  /** Resolves once the process has exited, whatever the reason. */
  readonly exited: Promise<SandboxExit>;
  /** Stops the process at once (SIGKILL) and releases what the driver holds for it. */
  kill(): void;
  /** Sets the memory limit and CPU weight for a new memory size (a pooled sandbox bound to a function). */
  resize(memoryMb: number): void;
  /**
   * Caps its CPU time in proportion to its memory size, as Lambda does (1,769 MB = one vCPU).
   * Called once its init is done: init runs at full speed, invocations at their share.
   * A no-op where the driver cannot limit CPU.
   */
  limitCpu(): void;
  /** Peak resident memory in MB, or undefined when the driver cannot tell. */
  peakMemoryMb(): number | undefined;
  /** Whether the driver's memory limit killed it (the kernel's OOM killer, not a crash). */
  outOfMemory(): boolean;
}

export interface SandboxDriver {
  readonly name: string;
  /** Where the sandbox's processes see the host paths of `mounts`. */
  paths(mounts: SandboxMounts): SandboxPaths;
  /**
   * Whether a sandbox sees only what it is given (its own mount namespace): then a pooled
   * runtime's code must be placed inside what it was given, its `mounts.code`, at hand-over.
   */
  readonly privateFilesystem: boolean;
  /** Prepares the per-instance directories and starts the process. */
  start(spec: SandboxSpec): Promise<Sandbox>;
  /**
   * Whether the driver enforces `memoryMb` on all of a sandbox's memory. When it does not, the
   * worker bounds a Node runtime's heap with V8 flags instead (which costs the runtime ~12 ms
   * of start-up: V8's flag hash then rejects Node's built-in code cache).
   */
  readonly limitsMemory: boolean;
  /** Whether every sandbox runs as a uid of its own (then the Runtime API checks peers by uid). */
  readonly uniqueUids: boolean;
  /**
   * Why this driver cannot give an instance a network (`SandboxSpec.network`) on this host;
   * undefined when it can.
   */
  readonly networkProblem: string | undefined;
  /** What the driver could not enable on this host, said once at start. */
  readonly warnings: readonly string[];
}

/** The instance's entrypoint could not be executed (missing, not executable, bad format). */
export class SandboxStartError extends Error {
  constructor(
    readonly command: string,
    /** The errno code of the failed exec: ENOENT, EACCES, ENOEXEC, … */
    readonly code: string,
  ) {
    super(`could not start ${command}: ${code}`);
    this.name = "SandboxStartError";
  }
}
