import { cp, mkdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type FunctionVersion, LATEST, runtimeKind } from "../protocol/function.js";
import type {
  InstanceSpec,
  LogSink,
  PackageSource,
  StartResult,
  WorkerApi,
  WorkerCapacity,
} from "../protocol/invoke.js";
import { DEFAULT_EPHEMERAL_STORAGE_MB, DEFAULT_MEMORY_MB } from "../protocol/limits.js";
import { hasNetwork, type SandboxTier } from "../protocol/sandbox.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { CodeCache } from "./code-cache.js";
import { checkBootstrap, entrypointFailure } from "./entrypoint.js";
import { baseEnvironment, instanceEnvironment } from "./environment.js";
import { Instance } from "./instance.js";
import { type InstanceDirs, makeInstanceDirs } from "./instance-dirs.js";
import { type PooledRuntime, RuntimePool } from "./pool.js";
import { LookupBudget } from "./runtime-api/peer.js";
import { RuntimeApiServer } from "./runtime-api/server.js";
import { LateTarget } from "./runtime-api/target.js";
import { type SandboxDriver, type SandboxMounts, SandboxStartError } from "./sandbox/types.js";
import type { SnapshotBuild } from "./snapshot.js";
import { SnapshotBuilds } from "./snapshot-builds.js";

export interface WorkerOptions {
  readonly id: string;
  /** Everything the worker writes: code cache, runtime files, per-instance /tmp. */
  readonly root: string;
  readonly totalMemoryMb: number;
  /** The sandbox driver instances run in, unless their function names another tier. */
  readonly driver: SandboxDriver;
  /**
   * The driver of a tier, for functions that name one (`FunctionSandbox.tier`); undefined when
   * the tier cannot run here. Made on first use (gVisor's probe starts a whole sandbox).
   */
  readonly tier?: (tier: SandboxTier) => SandboxDriver | undefined;
  readonly packages: PackageSource;
  readonly logs: LogSink;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The Node runtime's entry file; its directory is copied where sandboxes can read it. */
  readonly nodeBootstrap: string;
  /** The node binary instances run. */
  readonly nodeBinary: string;
  /** Node runtimes kept started ahead of cold starts (the warm pool); 0 for none. */
  readonly poolSize?: number;
}

/** Share of the memory size given to V8's old space: the rest is code, stacks and buffers. */
const HEAP_SHARE = 0.85;
/** A pooled runtime must wait for a function within this long of its start (Node starts in ~30 ms). */
const POOLED_READY_TIMEOUT_MS = 10_000;
/** How long after a hand-over the pool starts a replacement. */
const REPLENISH_DELAY_MS = 25;
/** A package with more files and directories than this is not linked into a pooled runtime. */
const MAX_LINKED_ENTRIES = 2000;
/**
 * AWS_LAMBDA_RUNTIME_API inside a sandbox with a network of its own: the relay listening
 * there forwards to the instance's Runtime API socket.
 */
const RELAY_ADDRESS = "127.0.0.1:9001";

export class Worker implements WorkerApi {
  readonly id: string;
  readonly #opts: WorkerOptions;
  readonly #cache: CodeCache;
  readonly #instances = new Set<Instance>();
  readonly #pool: RuntimePool;
  /** Snapshot builds by function version (`name\0version\0revision`). */
  readonly #snapshots: SnapshotBuilds;
  /** Peer lookups of every instance's loopback Runtime API, shared (see LookupBudget). */
  readonly #lookups = new LookupBudget();
  /** Tiers other than the default that have started instances here (each keeps a pool). */
  readonly #tiersInUse = new Set<SandboxDriver>();
  #allocatedMb = 0;
  #runtimeDir = "";
  #seq = 0;

  constructor(opts: WorkerOptions) {
    this.id = opts.id;
    this.#opts = opts;
    this.#cache = new CodeCache(join(opts.root, "code"), opts.packages);
    this.#snapshots = new SnapshotBuilds({
      root: opts.root,
      driver: opts.driver,
      clock: opts.clock,
      nodeBinary: opts.nodeBinary,
      nodeFlags: (mb) => this.#nodeFlags(opts.driver, mb),
      runtime: () => ({
        dir: this.#runtimeDir,
        entry: join(this.#runtimeDir, "node", basename(opts.nodeBootstrap)),
      }),
      code: (packageId) => this.#cache.ensure(packageId),
    });
    this.#pool = new RuntimePool({
      size: opts.poolSize ?? 0,
      readyTimeoutMs: POOLED_READY_TIMEOUT_MS,
      clock: opts.clock,
      start: (key) => this.#startPooled(key),
      discard: (runtime) => {
        runtime.api.close();
        rm(runtime.instanceDir, { recursive: true, force: true }).catch(() => {});
      },
      logger: opts.logger,
    });
  }

  async open(): Promise<void> {
    await mkdir(this.#opts.root, { recursive: true, mode: 0o711 });
    await this.#cache.open();
    await rm(join(this.#opts.root, "instances"), { recursive: true, force: true });
    await mkdir(join(this.#opts.root, "instances"), { mode: 0o711 });
    // Sandboxes may run as other users: they read the runtime from here, not from the repo.
    this.#runtimeDir = join(this.#opts.root, "runtime");
    await mkdir(this.#runtimeDir, { recursive: true, mode: 0o755 });
    await rm(join(this.#runtimeDir, "node"), { recursive: true, force: true });
    await cp(dirname(this.#opts.nodeBootstrap), join(this.#runtimeDir, "node"), { recursive: true });
    for (const w of this.#opts.driver.warnings) this.#opts.logger.warn(w);
    this.#pool.keep(this.#poolKey(this.#opts.driver, DEFAULT_MEMORY_MB));
  }

  /** The sandbox driver's name ("jail", "process"). */
  get sandbox(): string {
    return this.#opts.driver.name;
  }

  /** Whether sandboxes' memory size bounds all their memory (not only the V8 heap). */
  get limitsMemory(): boolean {
    return this.#opts.driver.limitsMemory;
  }

  capacity(): WorkerCapacity {
    return {
      totalMemoryMb: this.#opts.totalMemoryMb,
      freeMemoryMb: this.#opts.totalMemoryMb - this.#allocatedMb,
      instances: this.#instances.size,
    };
  }

  async prefetch(packageId: string): Promise<void> {
    await this.#cache.ensure(packageId);
  }

  async startInstance(spec: InstanceSpec): Promise<StartResult> {
    const { clock } = this.#opts;
    const startedAt = clock.monotonic();
    const fn = spec.function;
    const driver = this.#driverFor(fn);
    const kind = runtimeKind(fn.runtime);
    if (!kind) throw new Error(`runtime ${fn.runtime} is not supported`);
    const codeCached = this.#cache.has(fn.packageId);
    const codeDir = await this.#cache.ensure(fn.packageId);
    const codeAt = clock.monotonic();
    const poolKey = this.#poolKey(driver, fn.memoryMb);
    // A version with a useful snapshot restores it; otherwise a pooled runtime, or a new one.
    // Snapshots are built in the default sandbox and restore only under the flags they were
    // built with: another tier starts its instances with a plain init.
    const snapshot = kind === "node" && driver === this.#opts.driver ? this.#snapshots.usable(fn) : undefined;
    let pooled = kind === "node" && !snapshot && poolable(fn) ? this.#pool.take(poolKey) : undefined;
    // A sandbox that sees only its own directories gets its code linked into the one it has.
    if (pooled && driver.privateFilesystem) {
      const linked = await this.#cache
        .linkInto(fn.packageId, pooled.taskDir, MAX_LINKED_ENTRIES)
        .catch(() => false);
      if (!linked) {
        pooled.sandbox.kill();
        this.#opts.logger.info("pooled runtime not used: the package is too large to link", {
          functionName: fn.functionName,
        });
        pooled = undefined;
      }
    }
    const dirs = pooled ?? (await this.#makeDirs(driver, kind));
    const { id, instanceDir, tmpDir, apiSocket } = dirs;
    const mounts: SandboxMounts = {
      // A pooled runtime on the host's filesystem moves into the code directory itself.
      code: pooled && driver.privateFilesystem ? pooled.taskDir : codeDir,
      runtime: this.#runtimeDir,
      tmp: tmpDir,
      api: dirs.apiDir,
      ...(snapshot ? { snapshot } : {}),
    };
    const inside = driver.paths(mounts);

    this.#allocatedMb += fn.memoryMb;
    const instance = new Instance({
      id,
      workerId: this.id,
      fn,
      clock,
      logs: this.#opts.logs,
      initTimeoutMs: spec.initTimeoutMs,
      checkPeerUid: driver.uniqueUids,
      lookups: this.#lookups,
      ...(pooled ? { api: pooled.api } : {}),
      onDead: (inst) => {
        if (this.#instances.delete(inst)) this.#allocatedMb -= fn.memoryMb;
        // Whatever it left running (a detached child of a crashed runtime) is killed before its
        // files go: nothing may swap a directory for a link while the platform removes them.
        sandbox?.kill();
        rm(instanceDir, { recursive: true, force: true }).catch(() => {});
      },
    });
    this.#instances.add(instance);
    let sandbox = pooled?.sandbox;
    try {
      const runtimeApi = pooled
        ? this.#runtimeApiAddress(driver, pooled.api.address)
        : this.#runtimeApiAddress(driver, await instance.api.listen(this.#listenWhere(driver, kind, dirs)));
      const env = instanceEnvironment({
        fn,
        region: spec.region,
        runtimeApi,
        ...(apiSocket && inside.api ? { runtimeApiSocket: join(inside.api, basename(apiSocket)) } : {}),
        ...(kind === "custom" && driver.privateFilesystem && inside.api
          ? { runtimeApiHttpSocket: join(inside.api, HTTP_SOCKET) }
          : {}),
        codeDir: inside.code,
        runtimeDir: inside.runtime,
        tmpDir: inside.tmp,
        instanceId: id,
        startedAt: clock.now(),
        ...(snapshot
          ? { initializationType: "snap-start" as const }
          : spec.initializationType
            ? { initializationType: spec.initializationType }
            : {}),
      });
      if (sandbox) {
        // A pooled runtime: its limits become the function's, then it learns who it is.
        sandbox.resize(fn.memoryMb);
      } else {
        if (kind === "custom") checkBootstrap(join(codeDir, "bootstrap"), join(inside.code, "bootstrap"));
        sandbox = await driver.start({
          instanceId: id,
          argv: snapshot
            ? [
                this.#opts.nodeBinary,
                ...this.#nodeFlags(driver, fn.memoryMb),
                "--snapshot-blob",
                inside.snapshot ?? snapshot,
              ]
            : kind === "node"
              ? this.#nodeArgv(driver, fn.memoryMb, inside.runtime)
              : this.#customArgv(driver, inside.runtime, inside.code),
          env,
          mounts,
          memoryMb: fn.memoryMb,
          ...(fn.ephemeralStorageMb ? { tmpMb: fn.ephemeralStorageMb } : {}),
          ...(hasNetwork(fn.sandbox) ? { network: fn.sandbox } : {}),
        });
      }
      const started = await instance.runInit(
        sandbox,
        startedAt,
        {
          codeMs: codeAt - startedAt,
          codeCached,
          sandboxMs: clock.monotonic() - codeAt,
          pooled: pooled !== undefined,
          ...(snapshot ? { restored: true } : {}),
        },
        pooled && (() => pooled.target.assign(instance.target, env)),
      );
      // Init ran at full speed; invocations get the CPU share their memory size buys.
      if (started.kind === "ready") sandbox.limitCpu();
      return started;
    } catch (err) {
      if (sandbox && pooled) sandbox.kill();
      await instance.stop("failed to start");
      if (err instanceof SandboxStartError) return entrypointFailure(err, clock.monotonic() - startedAt);
      throw err;
    } finally {
      // A SnapStart version without a snapshot here (the platform restarted): build one for the
      // next cold starts, once this one is served.
      if (fn.snapStart && fn.version !== LATEST && !this.#snapshots.of(fn))
        setTimeout(() => void this.buildSnapshot(spec).catch(() => {}), REPLENISH_DELAY_MS).unref();
      // The replacement starts once this cold start and its first invocation no longer need the
      // CPU: spawning it holds the event loop ~3 ms and its Node start takes a core for ~20 ms.
      if (pooled) setTimeout(() => this.#pool.replenish(poolKey), REPLENISH_DELAY_MS).unref();
    }
  }

  /**
   * Where an instance's Runtime API listens. On the host's network: a loopback port for any
   * runtime, and Nimbus's frames on a socket for Nimbus's Node runtime. In a sandbox with a
   * network of its own: only sockets in its Runtime API directory (HTTP for the relay).
   */
  #listenWhere(driver: SandboxDriver, kind: string, dirs: InstanceDirs) {
    if (!driver.privateFilesystem) return { framedSocket: dirs.apiSocket, loopback: true };
    return {
      framedSocket: kind === "node" ? dirs.apiSocket : undefined,
      httpSocket: kind === "node" ? undefined : dirs.apiDir && join(dirs.apiDir, HTTP_SOCKET),
    };
  }

  #runtimeApiAddress(driver: SandboxDriver, loopback: string): string {
    return driver.privateFilesystem ? RELAY_ADDRESS : loopback;
  }

  #makeDirs(driver: SandboxDriver, kind: string): Promise<InstanceDirs> {
    return makeInstanceDirs(this.#opts.root, `${this.#seq++}`, kind, driver.privateFilesystem);
  }

  /** The driver a function's instances run in: its tier's, or the worker's default. */
  #driverFor(fn: FunctionVersion): SandboxDriver {
    const tier = fn.sandbox?.tier;
    if (tier === undefined || tier === this.#opts.driver.name) return this.#opts.driver;
    const driver = this.#opts.tier?.(tier);
    if (!driver) throw new Error(`this worker has no ${tier} sandbox`);
    if (!this.#tiersInUse.has(driver)) {
      // Its first function: the tier gets a warm pool of its own from now on.
      this.#tiersInUse.add(driver);
      for (const w of driver.warnings) this.#opts.logger.warn(`${driver.name}: ${w}`);
      this.#pool.keep(this.#poolKey(driver, DEFAULT_MEMORY_MB));
    }
    return driver;
  }

  /** Nimbus's Node runtime, at `runtimeDir` as the sandbox sees it. */
  #nodeArgv(driver: SandboxDriver, memoryMb: number, runtimeDir: string): string[] {
    return [
      this.#opts.nodeBinary,
      ...this.#nodeFlags(driver, memoryMb),
      join(runtimeDir, "node", basename(this.#opts.nodeBootstrap)),
    ];
  }

  /**
   * A custom runtime's `bootstrap`; in a sandbox with its own network, behind the relay that
   * gives it AWS_LAMBDA_RUNTIME_API on its loopback.
   */
  #customArgv(driver: SandboxDriver, runtimeDir: string, codeDir: string): string[] {
    const bootstrap = join(codeDir, "bootstrap");
    return driver.privateFilesystem
      ? [this.#opts.nodeBinary, join(runtimeDir, "node", RELAY_FILE), bootstrap]
      : [bootstrap];
  }

  /** Without a driver-enforced limit, V8's heap limit is the only bound. */
  #nodeFlags(driver: SandboxDriver, memoryMb: number): string[] {
    return driver.limitsMemory
      ? []
      : [`--max-old-space-size=${Math.max(16, Math.floor(memoryMb * HEAP_SHARE))}`];
  }

  /**
   * Pooled Node runtimes are interchangeable when the driver bounds memory (the limit is set at
   * hand-over); otherwise the heap flag they started with ties them to a memory size.
   */
  #poolKey(driver: SandboxDriver, memoryMb: number): string {
    return driver.limitsMemory ? `${driver.name}/node` : `${driver.name}/node:${memoryMb}`;
  }

  /** The driver and memory size of a pool key. */
  #ofPoolKey(key: string): { driver: SandboxDriver; memoryMb: number } {
    const [name, node] = key.split("/") as [string, string];
    const driver =
      name === this.#opts.driver.name ? this.#opts.driver : this.#opts.tier?.(name as SandboxTier);
    if (!driver) throw new Error(`no ${name} sandbox for pool ${key}`);
    return { driver, memoryMb: node === "node" ? DEFAULT_MEMORY_MB : Number(node.slice("node:".length)) };
  }

  /** Starts one pooled runtime for `key`: a Node runtime in its sandbox, waiting for a function. */
  async #startPooled(key: string): Promise<PooledRuntime> {
    const { driver, memoryMb } = this.#ofPoolKey(key);
    const dirs = await this.#makeDirs(driver, "node");
    if (!dirs.apiDir || !dirs.apiSocket) {
      await rm(dirs.instanceDir, { recursive: true, force: true });
      throw new Error("the data directory is too deep for a Runtime API socket path");
    }
    // Its Runtime API listens from the start, so the runtime connects while it waits.
    const target = new LateTarget();
    let uid: number | undefined;
    const api = new RuntimeApiServer(
      target,
      driver.uniqueUids ? { onlyUid: () => uid, lookups: this.#lookups } : {},
    );
    // Its code is linked into its task directory at hand-over (a private filesystem), or it
    // moves into the function's code directory then.
    const mounts: SandboxMounts = {
      code: dirs.taskDir,
      runtime: this.#runtimeDir,
      tmp: dirs.tmpDir,
      api: dirs.apiDir,
    };
    const inside = driver.paths(mounts);
    try {
      const address = await api.listen(this.#listenWhere(driver, "node", dirs));
      const sandbox = await driver.start({
        instanceId: dirs.id,
        argv: this.#nodeArgv(driver, memoryMb, inside.runtime),
        env: {
          ...baseEnvironment(inside.tmp, inside.runtime),
          AWS_LAMBDA_RUNTIME_API: this.#runtimeApiAddress(driver, address),
          NIMBUS_RUNTIME_API_SOCKET: join(inside.api ?? dirs.apiDir, basename(dirs.apiSocket)),
          NIMBUS_POOLED: "1",
        },
        mounts,
        memoryMb,
        background: true,
      });
      uid = sandbox.uid;
      return { ...dirs, apiDir: dirs.apiDir, apiSocket: dirs.apiSocket, api, target, sandbox };
    } catch (err) {
      api.close();
      await rm(dirs.instanceDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Kills every instance at once, synchronously: for a platform exiting without a shutdown. */
  abort(): void {
    this.#pool.abort();
    // stop() kills the sandbox before its first await.
    for (const i of this.#instances) void i.stop("platform exited");
  }

  /**
   * Builds a snapshot of the version's init and keeps it: its instances then restore it
   * instead of running init, when restoring was measured faster (`snapshot-builds.ts`).
   */
  buildSnapshot(spec: Pick<InstanceSpec, "function" | "region" | "initTimeoutMs">): Promise<SnapshotBuild> {
    return this.#snapshots.build(spec);
  }

  /** What the last build for this version gave, if one ran. */
  snapshotOf(fn: FunctionVersion): SnapshotBuild | undefined {
    return this.#snapshots.of(fn);
  }

  /** Pooled runtimes ready for a function of `memoryMb` (for tests and measurement). */
  pooledReady(memoryMb = DEFAULT_MEMORY_MB, tier?: SandboxTier): number {
    const driver = (tier && this.#opts.tier?.(tier)) || this.#opts.driver;
    return this.#pool.ready(this.#poolKey(driver, memoryMb));
  }

  /** Process ids of the pooled runtimes, ready or starting (for tests and measurement). */
  pooledPids(): number[] {
    return this.#pool.pids();
  }

  /** The host's pid of an instance's runtime, by instance id (for tests and measurement). */
  instancePid(instanceId: string): number | undefined {
    for (const i of this.#instances) if (i.id === instanceId && i.state !== "dead") return i.pid;
    return undefined;
  }

  /** The worker's directory (code cache, snapshots, instance directories). */
  get root(): string {
    return this.#opts.root;
  }

  /** Process ids of the running instances' sandboxes: for measurement (the bench reads their PSS). */
  instancePids(): number[] {
    const pids: number[] = [];
    for (const i of this.#instances) if (i.pid !== undefined && i.state !== "dead") pids.push(i.pid);
    return pids;
  }

  async close(): Promise<void> {
    await this.#pool.close();
    await Promise.all([...this.#instances].map((i) => i.stop("worker shutting down")));
  }
}

/**
 * Whether a function can start from a pooled runtime: Node reads NODE_OPTIONS, NODE_PATH and
 * its other NODE_* variables as it starts, before a pooled runtime learns them.
 */
function poolable(fn: FunctionVersion): boolean {
  // Its /tmp was sized when it started: Lambda's default.
  if (fn.ephemeralStorageMb !== undefined && fn.ephemeralStorageMb !== DEFAULT_EPHEMERAL_STORAGE_MB)
    return false;
  // Its network is made before its runtime starts.
  if (hasNetwork(fn.sandbox)) return false;
  return !Object.keys(fn.environment).some((k) => k.startsWith("NODE_") && k !== "NODE_ENV");
}

/** Names the relay and HTTP socket a custom runtime reaches its Runtime API through in a jail. */
const RELAY_FILE = "relay.cjs";
const HTTP_SOCKET = "http.sock";
