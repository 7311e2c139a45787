/**
 * The worker's snapshots, one per function version (`name\0version\0revision`): where each is
 * built and what its last build gave. Each lives in a directory of its own under `snapshots/`,
 * which sandbox uids may traverse but not list, with a random suffix: only the instances given
 * its blob reach it. The build runs in sandboxes as the version's instances do (`snapshot.ts`).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { type FunctionVersion, runtimeKind, versionKey } from "../protocol/function.js";
import type { InstanceSpec } from "../protocol/invoke.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { instanceEnvironment } from "./environment.js";
import type { SandboxDriver } from "./sandbox/types.js";
import { buildSnapshot, type SnapshotBuild, snapshotDirName } from "./snapshot.js";

export interface SnapshotBuildsOptions {
  /** The worker's directory. */
  readonly root: string;
  readonly driver: SandboxDriver;
  readonly clock: Clock;
  readonly nodeBinary: string;
  /** V8 flags every start of a version of this memory size gets (a snapshot needs the same). */
  readonly nodeFlags: (memoryMb: number) => string[];
  /** Nimbus's runtime directory and its entry file, on the host. */
  readonly runtime: () => { readonly dir: string; readonly entry: string };
  /** The directory of an extracted package. */
  readonly code: (packageId: string) => Promise<string>;
}

type BuildSpec = Pick<InstanceSpec, "function" | "region" | "initTimeoutMs">;

export class SnapshotBuilds {
  readonly #o: SnapshotBuildsOptions;
  readonly #builds = new Map<string, SnapshotBuild>();

  constructor(o: SnapshotBuildsOptions) {
    this.#o = o;
  }

  /**
   * Builds a snapshot of the version's init and keeps what it gave. Without control groups the
   * snapshot is built, probed and restored under the version's V8 heap flag.
   */
  async build(spec: BuildSpec): Promise<SnapshotBuild> {
    const fn = spec.function;
    const key = versionKey(fn);
    // Marked at once, so that concurrent cold starts ask for one build.
    if (!this.#builds.has(key)) this.#builds.set(key, { ok: false, reason: "the snapshot is being built" });
    const result: SnapshotBuild =
      runtimeKind(fn.runtime) !== "node"
        ? { ok: false, reason: "snapshots are for Node functions" }
        : await this.#build(spec, key).catch((err: unknown) => ({
            ok: false as const,
            reason: `building the snapshot failed: ${(err as Error).message}`,
          }));
    this.#builds.set(key, result);
    return result;
  }

  /** What the last build for this version gave, if one ran (or runs). */
  of(fn: FunctionVersion): SnapshotBuild | undefined {
    return this.#builds.get(versionKey(fn));
  }

  /** The blob to restore for this version, when one was built and restoring is faster. */
  usable(fn: FunctionVersion): string | undefined {
    const s = this.#builds.get(versionKey(fn));
    return s?.ok && s.faster ? s.blob : undefined;
  }

  async #build(spec: BuildSpec, key: string): Promise<SnapshotBuild> {
    const { driver, clock } = this.#o;
    const fn = spec.function;
    const codeDir = await this.#o.code(fn.packageId);
    const runtime = this.#o.runtime();
    const parent = join(this.#o.root, "snapshots");
    const prefix = `${snapshotDirName(key)}.`;
    await mkdir(parent, { recursive: true, mode: 0o711 });
    for (const old of await readdir(parent))
      if (old.startsWith(prefix)) await rm(join(parent, old), { recursive: true, force: true });
    const dir = join(parent, `${prefix}${randomBytes(12).toString("hex")}`);
    const scratch = join(dir, "build");
    const tmpDir = join(scratch, "tmp");
    const outDir = join(scratch, "out");
    await mkdir(dir, { mode: 0o711 });
    await mkdir(scratch, { mode: 0o711 });
    await mkdir(tmpDir, { mode: 0o700 });
    await mkdir(outDir, { mode: 0o700 });
    const inside = driver.paths({ code: codeDir, runtime: runtime.dir, tmp: tmpDir, out: outDir });
    try {
      return await buildSnapshot({
        driver,
        nodeBinary: this.#o.nodeBinary,
        nodeFlags: this.#o.nodeFlags(fn.memoryMb),
        runtimeEntry: runtime.entry,
        runtimeDir: runtime.dir,
        codeDir,
        handler: fn.handler,
        env: instanceEnvironment({
          fn,
          region: spec.region,
          runtimeApi: "",
          codeDir: inside.code,
          runtimeDir: inside.runtime,
          tmpDir: inside.tmp,
          instanceId: "snapshot",
          startedAt: clock.now(),
          initializationType: "snap-start",
        }),
        workDir: dir,
        tmpDir,
        outDir,
        memoryMb: fn.memoryMb,
        timeoutMs: spec.initTimeoutMs,
      });
    } finally {
      // The build's processes are all dead by now (buildSnapshot kills them).
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

/**
 * A published version of a SnapStart function gets its snapshot before PublishVersion answers.
 * The version is published either way: without a snapshot its cold starts run a plain init,
 * and its configuration says why (`snapStartStatus`).
 */
export function snapshotOnPublish(
  worker: {
    buildSnapshot(spec: Pick<InstanceSpec, "function" | "region" | "initTimeoutMs">): Promise<SnapshotBuild>;
  },
  o: { readonly region: string; readonly initTimeoutMs: number; readonly logger: Logger },
): (fn: FunctionVersion) => Promise<void> {
  return async (fn) => {
    if (!fn.snapStart) return;
    const built = await worker
      .buildSnapshot({ function: fn, region: o.region, initTimeoutMs: o.initTimeoutMs })
      .catch((err: unknown) => ({
        ok: false as const,
        reason: `building the snapshot failed: ${String(err)}`,
      }));
    if (!built.ok)
      o.logger.warn("no snapshot for this version", {
        function: fn.functionName,
        version: fn.version,
        reason: built.reason,
      });
  };
}

/** A version's SnapStart status as its configuration shows it: On only when a restore beats its init. */
export function snapStartStatus(s: SnapshotBuild | undefined): { status: "On" | "Off"; reason?: string } {
  if (!s) return { status: "Off" };
  if (!s.ok) return { status: "Off", reason: s.reason };
  if (!s.faster) {
    return {
      status: "Off",
      reason: `restoring took ${s.restoreMs.toFixed(0)} ms, more than running the init (${s.initMs.toFixed(0)} ms)`,
    };
  }
  return { status: "On" };
}
