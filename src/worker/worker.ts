/**
 * A worker node: its code cache, its sandbox driver, and the instances running on it. The
 * control plane reaches it through WorkerApi (in-process here, over HTTP in a cluster).
 */
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
import { DEFAULT_MEMORY_MB } from "../protocol/limits.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { CodeCache } from "./code-cache.js";
import { baseEnvironment, instanceEnvironment } from "./environment.js";
import { Instance } from "./instance.js";
import { type PooledRuntime, RuntimePool } from "./pool.js";
import { RuntimeApiServer } from "./runtime-api/server.js";
import { LateTarget } from "./runtime-api/target.js";
import { type SandboxDriver, SandboxStartError } from "./sandbox/types.js";
import { buildSnapshot, type SnapshotBuild, snapshotDirName } from "./snapshot.js";

export interface WorkerOptions {
  readonly id: string;
  /** Everything the worker writes: code cache, runtime files, per-instance /tmp. */
  readonly root: string;
  readonly totalMemoryMb: number;
  readonly driver: SandboxDriver;
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
/** sun_path holds 108 bytes, the last a NUL. */
const MAX_SOCKET_PATH = 107;

export class Worker implements WorkerApi {
  readonly id: string;
  readonly #opts: WorkerOptions;
  readonly #cache: CodeCache;
  readonly #instances = new Set<Instance>();
  readonly #pool: RuntimePool;
  /** Snapshot builds by function version (`name\0version\0revision`). */
  readonly #snapshots = new Map<string, SnapshotBuild>();
  #allocatedMb = 0;
  #runtimeDir = "";
  #nodeBootstrap = "";
  #seq = 0;

  constructor(opts: WorkerOptions) {
    this.id = opts.id;
    this.#opts = opts;
    this.#cache = new CodeCache(join(opts.root, "code"), opts.packages);
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
    this.#nodeBootstrap = join(this.#runtimeDir, "node", basename(this.#opts.nodeBootstrap));
    await rm(join(this.#runtimeDir, "node"), { recursive: true, force: true });
    await cp(dirname(this.#opts.nodeBootstrap), join(this.#runtimeDir, "node"), {
      recursive: true,
      filter: (src) => !src.endsWith(".test.js"),
    });
    for (const w of this.#opts.driver.warnings) this.#opts.logger.warn(w);
    this.#pool.keep(this.#poolKey(DEFAULT_MEMORY_MB));
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

  hasPackage(packageId: string): boolean {
    return this.#cache.has(packageId);
  }

  async prefetch(packageId: string): Promise<void> {
    await this.#cache.ensure(packageId);
  }

  async evictPackage(packageId: string): Promise<void> {
    await this.#cache.evict(packageId);
  }

  async startInstance(spec: InstanceSpec): Promise<StartResult> {
    const { clock } = this.#opts;
    const startedAt = clock.monotonic();
    const fn = spec.function;
    const kind = runtimeKind(fn.runtime);
    if (!kind) throw new Error(`runtime ${fn.runtime} is not supported`);
    const codeCached = this.#cache.has(fn.packageId);
    const codeDir = await this.#cache.ensure(fn.packageId);
    const codeAt = clock.monotonic();
    const poolKey = this.#poolKey(fn.memoryMb);
    // A version with a useful snapshot restores it; otherwise a pooled runtime, or a new one.
    const snapshot = kind === "node" ? this.#usableSnapshot(fn) : undefined;
    const pooled = kind === "node" && !snapshot && poolable(fn) ? this.#pool.take(poolKey) : undefined;
    const dirs = pooled ?? (await this.#makeDirs(kind));
    const { id, instanceDir, tmpDir, apiSocket } = dirs;

    this.#allocatedMb += fn.memoryMb;
    const instance = new Instance({
      id,
      workerId: this.id,
      fn,
      clock,
      logs: this.#opts.logs,
      initTimeoutMs: spec.initTimeoutMs,
      checkPeerUid: this.#opts.driver.uniqueUids,
      ...(pooled ? { api: pooled.api } : {}),
      onDead: (inst) => {
        if (this.#instances.delete(inst)) this.#allocatedMb -= fn.memoryMb;
        rm(instanceDir, { recursive: true, force: true }).catch(() => {});
      },
    });
    this.#instances.add(instance);
    let sandbox = pooled?.sandbox;
    try {
      const runtimeApi = pooled ? pooled.api.address : await instance.api.listen(apiSocket);
      const env = instanceEnvironment({
        fn,
        region: spec.region,
        runtimeApi,
        ...(apiSocket ? { runtimeApiSocket: apiSocket } : {}),
        codeDir,
        runtimeDir: this.#runtimeDir,
        tmpDir,
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
        sandbox = await this.#opts.driver.start({
          instanceId: id,
          argv: snapshot
            ? [this.#opts.nodeBinary, ...this.#nodeFlags(fn.memoryMb), "--snapshot-blob", snapshot]
            : kind === "node"
              ? this.#nodeArgv(fn.memoryMb)
              : [join(codeDir, "bootstrap")],
          env,
          codeDir,
          tmpDir,
          privateDirs: dirs.apiDir ? [dirs.apiDir] : [],
          memoryMb: fn.memoryMb,
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
      if (fn.snapStart && fn.version !== LATEST && !this.#snapshots.has(versionKey(fn)))
        setTimeout(() => void this.buildSnapshot(spec).catch(() => {}), REPLENISH_DELAY_MS).unref();
      // The replacement starts once this cold start and its first invocation no longer need the
      // CPU: spawning it holds the event loop ~3 ms and its Node start takes a core for ~20 ms.
      if (pooled) setTimeout(() => this.#pool.replenish(poolKey), REPLENISH_DELAY_MS).unref();
    }
  }

  /** A new instance's directories: its own, its /tmp and (Node) its private Runtime API directory. */
  async #makeDirs(kind: string): Promise<InstanceDirs> {
    const id = `${this.#seq++}-${Math.random().toString(36).slice(2, 10)}`;
    const instanceDir = join(this.#opts.root, "instances", id);
    const tmpDir = join(instanceDir, "tmp");
    // The instance directory must stay traversable: the sandbox's uid owns only its tmp inside.
    await mkdir(instanceDir, { mode: 0o711 });
    await mkdir(tmpDir, { mode: 0o700 });
    // Nimbus's own Node runtime talks to its Runtime API over a Unix socket in a directory
    // only its sandbox can enter; other runtimes use the loopback port.
    // (A socket path has at most 107 bytes: under a deep data directory the port alone is used.)
    const apiDir =
      kind === "node" && Buffer.byteLength(join(instanceDir, "api", "runtime.sock")) <= MAX_SOCKET_PATH
        ? join(instanceDir, "api")
        : undefined;
    if (apiDir) await mkdir(apiDir, { mode: 0o700 });
    return { id, instanceDir, tmpDir, apiDir, apiSocket: apiDir ? join(apiDir, "runtime.sock") : undefined };
  }

  #nodeArgv(memoryMb: number): string[] {
    return [this.#opts.nodeBinary, ...this.#nodeFlags(memoryMb), this.#nodeBootstrap];
  }

  /** Without a driver-enforced limit, V8's heap limit is the only bound. */
  #nodeFlags(memoryMb: number): string[] {
    return this.#opts.driver.limitsMemory
      ? []
      : [`--max-old-space-size=${Math.max(16, Math.floor(memoryMb * HEAP_SHARE))}`];
  }

  /**
   * Pooled Node runtimes are interchangeable when the driver bounds memory (the limit is set at
   * hand-over); otherwise the heap flag they started with ties them to a memory size.
   */
  #poolKey(memoryMb: number): string {
    return this.#opts.driver.limitsMemory ? "node" : `node:${memoryMb}`;
  }

  /** Starts one pooled runtime for `key`: a Node runtime in its sandbox, waiting for a function. */
  async #startPooled(key: string): Promise<PooledRuntime> {
    const dirs = await this.#makeDirs("node");
    if (!dirs.apiDir || !dirs.apiSocket) {
      await rm(dirs.instanceDir, { recursive: true, force: true });
      throw new Error("the data directory is too deep for a Runtime API socket path");
    }
    const memoryMb = key === "node" ? DEFAULT_MEMORY_MB : Number(key.slice("node:".length));
    // Its Runtime API listens from the start, so the runtime connects while it waits.
    const target = new LateTarget();
    let uid: number | undefined;
    const api = new RuntimeApiServer(target, this.#opts.driver.uniqueUids ? { onlyUid: () => uid } : {});
    try {
      const address = await api.listen(dirs.apiSocket);
      const sandbox = await this.#opts.driver.start({
        instanceId: dirs.id,
        argv: this.#nodeArgv(memoryMb),
        env: {
          ...baseEnvironment(dirs.tmpDir, this.#runtimeDir),
          AWS_LAMBDA_RUNTIME_API: address,
          NIMBUS_RUNTIME_API_SOCKET: dirs.apiSocket,
          NIMBUS_POOLED: "1",
        },
        // It moves into the function's code directory when it is bound to one.
        codeDir: dirs.tmpDir,
        tmpDir: dirs.tmpDir,
        privateDirs: [dirs.apiDir],
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
   * Builds a snapshot of the version's init (`snapshot.ts`) and keeps it: its instances then
   * restore it instead of running init, when restoring was measured faster. Without control
   * groups the snapshot is built, probed and restored under the version's V8 heap flag.
   */
  async buildSnapshot(
    spec: Pick<InstanceSpec, "function" | "region" | "initTimeoutMs">,
  ): Promise<SnapshotBuild> {
    const fn = spec.function;
    const key = versionKey(fn);
    // Marked at once, so that concurrent cold starts ask for one build.
    if (!this.#snapshots.has(key))
      this.#snapshots.set(key, { ok: false, reason: "the snapshot is being built" });
    let result: SnapshotBuild;
    if (runtimeKind(fn.runtime) !== "node")
      result = { ok: false, reason: "snapshots are for Node functions" };
    else {
      result = await this.#build(spec, key).catch((err: unknown) => ({
        ok: false as const,
        reason: `building the snapshot failed: ${(err as Error).message}`,
      }));
    }
    this.#snapshots.set(key, result);
    return result;
  }

  async #build(
    spec: Pick<InstanceSpec, "function" | "region" | "initTimeoutMs">,
    key: string,
  ): Promise<SnapshotBuild> {
    const fn = spec.function;
    const codeDir = await this.#cache.ensure(fn.packageId);
    // Traversable by the build's sandbox uid and by the instances that restore it.
    const parent = join(this.#opts.root, "snapshots");
    const dir = join(parent, snapshotDirName(key));
    const tmpDir = join(dir, "tmp");
    await mkdir(parent, { recursive: true, mode: 0o711 });
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { mode: 0o711 });
    await mkdir(tmpDir, { mode: 0o700 });
    try {
      return await buildSnapshot({
        driver: this.#opts.driver,
        nodeBinary: this.#opts.nodeBinary,
        nodeFlags: this.#nodeFlags(fn.memoryMb),
        runtimeEntry: this.#nodeBootstrap,
        codeDir,
        handler: fn.handler,
        env: instanceEnvironment({
          fn,
          region: spec.region,
          runtimeApi: "",
          codeDir,
          runtimeDir: this.#runtimeDir,
          tmpDir,
          instanceId: "snapshot",
          startedAt: this.#opts.clock.now(),
          initializationType: "snap-start",
        }),
        workDir: dir,
        tmpDir,
        memoryMb: fn.memoryMb,
        timeoutMs: spec.initTimeoutMs,
      });
    } finally {
      await rm(tmpDir, { recursive: true, force: true });
    }
  }

  /** What the last build for this version gave, if one ran. */
  snapshotOf(fn: FunctionVersion): SnapshotBuild | undefined {
    return this.#snapshots.get(versionKey(fn));
  }

  #usableSnapshot(fn: FunctionVersion): string | undefined {
    const s = this.#snapshots.get(versionKey(fn));
    return s?.ok && s.faster ? s.blob : undefined;
  }

  /** Pooled runtimes ready for a function of `memoryMb` (for tests and measurement). */
  pooledReady(memoryMb = DEFAULT_MEMORY_MB): number {
    return this.#pool.ready(this.#poolKey(memoryMb));
  }

  /** Process ids of the pooled runtimes, ready or starting (for tests and measurement). */
  pooledPids(): number[] {
    return this.#pool.pids();
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

function versionKey(fn: FunctionVersion): string {
  return `${fn.functionName}\u0000${fn.version}\u0000${fn.revisionId}`;
}

interface InstanceDirs {
  readonly id: string;
  readonly instanceDir: string;
  readonly tmpDir: string;
  readonly apiDir: string | undefined;
  readonly apiSocket: string | undefined;
}

/**
 * Whether a function can start from a pooled runtime: Node reads NODE_OPTIONS, NODE_PATH and
 * its other NODE_* variables as it starts, before a pooled runtime learns them.
 */
function poolable(fn: { environment: Readonly<Record<string, string>> }): boolean {
  return !Object.keys(fn.environment).some((k) => k.startsWith("NODE_") && k !== "NODE_ENV");
}

/** Lambda's answer when the runtime's entrypoint cannot be executed. */
function entrypointFailure(err: SandboxStartError, initDurationMs: number): StartResult {
  const why =
    err.code === "ENOENT"
      ? `Couldn't find valid bootstrap(s): [${err.command}]`
      : err.code === "EACCES"
        ? `fork/exec ${err.command}: permission denied`
        : `fork/exec ${err.command}: ${err.code}`;
  return {
    kind: "init-failed",
    errorType: "Runtime.InvalidEntrypoint",
    payload: undefined,
    reason: why,
    initDurationMs,
    phases: undefined,
    logTail: "",
  };
}
