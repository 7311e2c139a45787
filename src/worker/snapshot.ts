/**
 * Snapshot restore for Node functions (SnapStart's idea, which Lambda does not offer for
 * Node): a function's init runs once, in a sandbox, inside `node --build-snapshot`, and the V8
 * startup snapshot it leaves is restored instead of running init again.
 *
 * What Node 20 allows, measured: the builder can require only built-in modules, so the
 * function is first bundled with its dependencies into one CommonJS file (esbuild); a module
 * with top-level await cannot be (CommonJS has none); a timer or socket left open by the init
 * makes the build wait for ever (it is time-limited); after a restore, CommonJS files load
 * (`createRequire`) but dynamic `import()` does not. So Nimbus's runtime is bundled into the
 * snapshot too: loaded while building, it only leaves its start function in a global; the
 * snapshot's main function hands it the handler (another global) and starts it, so a restore
 * parses no runtime code and the runtime's networking starts only then. A snapshot belongs to the exact Node binary that made it (its version and
 * architecture are part of its name). Functions may use Node's own hooks:
 * `v8.startupSnapshot.addSerializeCallback` (before the snapshot) and
 * `addDeserializeCallback` (after each restore), e.g. to reseed or reconnect.
 *
 * This module builds and measures; it decides nothing about use: `SnapshotBuild` says whether
 * the restore was faster than a plain init, and why not when it was not.
 */
import { constants, statSync } from "node:fs";
import { type FileHandle, mkdir, open, rm } from "node:fs/promises";
import { arch } from "node:os";
import { dirname, join, resolve } from "node:path";
import * as esbuild from "esbuild";
import { SNAPSHOT_HANDLER_GLOBAL, SNAPSHOT_RUNTIME_GLOBAL } from "../protocol/runtime-frames.js";
import type { Sandbox, SandboxDriver, SandboxMounts } from "./sandbox/types.js";

/** Beside the runtime's bundle: the `awslambda` global alone (scripts/build-runtime.js). */
const AWSLAMBDA_GLOBAL_ENTRY = "awslambda-global.cjs";

/** With this set, a snapshot's main function (and the bundle run plainly) exits at once: for measuring. */
const PROBE_ENV = "NIMBUS_SNAPSHOT_PROBE";
/** How many times the plain init and the restore are each measured; the fastest of each counts. */
const PROBE_ROUNDS = 2;

export type SnapshotBuild =
  | {
      readonly ok: true;
      readonly blob: string;
      /** Spawn to exit of the bundle run plainly (its init), and of a restore, in ms. */
      readonly initMs: number;
      readonly restoreMs: number;
      /** Whether restoring beats running init (otherwise the snapshot is not worth using). */
      readonly faster: boolean;
    }
  | { readonly ok: false; readonly reason: string };

export interface SnapshotInput {
  readonly driver: SandboxDriver;
  readonly nodeBinary: string;
  /**
   * Node options every start of this version gets (V8's heap limit where no cgroup bounds
   * memory): a snapshot restores only under the V8 flags it was built with.
   */
  readonly nodeFlags: readonly string[];
  /** Nimbus's runtime (bootstrap.cjs), bundled into the snapshot and started by its main function. */
  readonly runtimeEntry: string;
  /** Nimbus's runtime directory (mounted into the build's sandboxes as any instance's). */
  readonly runtimeDir: string;
  readonly codeDir: string;
  /** Lambda's handler setting, `file.export` (a path before the file is allowed). */
  readonly handler: string;
  /** The function's environment, as its instances get it (its init may read it). */
  readonly env: Readonly<Record<string, string>>;
  /** Where the blob goes: a directory of its own that only the platform writes. */
  readonly workDir: string;
  /**
   * The build sandboxes' directories, empty, made by the platform: their /tmp (where the
   * driver has none of its own) and where they read the entry and leave the blob.
   */
  readonly tmpDir: string;
  readonly outDir: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
}

/** A directory name for a snapshot of `key`: only the Node binary that made it can restore it. */
export function snapshotDirName(key: string): string {
  return `${key.replaceAll(/[^a-zA-Z0-9_-]/g, "_")}-node${process.versions.node}-${arch()}`;
}

export async function buildSnapshot(i: SnapshotInput): Promise<SnapshotBuild> {
  const dot = i.handler.lastIndexOf(".");
  const slash = i.handler.lastIndexOf("/");
  if (dot <= slash + 1) return { ok: false, reason: `handler "${i.handler}" is not file.export` };
  const base = resolve(i.codeDir, i.handler.slice(0, dot));
  const exportPath = i.handler.slice(dot + 1).split(".");
  const file = [".js", ".mjs", ".cjs"]
    .map((e) => base + e)
    .find((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
  if (!file) return { ok: false, reason: `no ${i.handler.slice(0, dot)}.js, .mjs or .cjs in the code` };

  await mkdir(i.workDir, { recursive: true, mode: 0o711 });
  // The entry is read by the build's sandbox from its own out directory: no path of the
  // platform's appears in its command line.
  const entry = join(i.outDir, "snapshot-entry.cjs");
  const bundled = await bundleEntry(file, exportPath, i.runtimeEntry, entry);
  if (bundled) return { ok: false, reason: bundled };

  const mounts: SandboxMounts = { code: i.codeDir, runtime: i.runtimeDir, tmp: i.tmpDir, out: i.outDir };
  const inside = i.driver.paths(mounts);
  const out = inside.out ?? i.outDir;
  const blob = join(i.workDir, "snapshot.blob");
  await rm(blob, { force: true });
  const env = { ...i.env };
  const built = await run(
    i,
    mounts,
    [
      i.nodeBinary,
      ...i.nodeFlags,
      "--snapshot-blob",
      join(out, "snapshot.blob"),
      "--build-snapshot",
      join(out, "snapshot-entry.cjs"),
    ],
    env,
  );
  if (built.timedOut) {
    return {
      ok: false,
      reason: `the init did not finish within ${i.timeoutMs} ms while building (a timer or socket left open keeps it waiting)`,
    };
  }
  if (built.code !== 0) {
    return {
      ok: false,
      reason: `building the snapshot failed: ${built.stderr.trim().split("\n").slice(-3).join(" ")}`,
    };
  }
  // Every process of the build is dead (run() kills them all): what it left can no longer change.
  const taken = await takeBlob(join(i.outDir, "snapshot.blob"), blob, built.uid);
  if (taken) return { ok: false, reason: taken };
  // Measured where instances run, spawn to exit: a plain init and a restore, twice each and
  // alternated, keeping the fastest of each. One spawn slowed by a busy host does not decide.
  const probe = { ...env, [PROBE_ENV]: "1" };
  const restoredMounts = { ...mounts, snapshot: blob };
  const plainArgv = [i.nodeBinary, ...i.nodeFlags, join(out, "snapshot-entry.cjs")];
  const restoreArgv = [
    i.nodeBinary,
    ...i.nodeFlags,
    "--snapshot-blob",
    i.driver.paths(restoredMounts).snapshot ?? blob,
  ];
  let plain: Pick<Ran, "code" | "ms" | "stderr"> = { code: 0, ms: Number.POSITIVE_INFINITY, stderr: "" };
  let restored: Pick<Ran, "code" | "ms" | "stderr"> = { code: 0, ms: Number.POSITIVE_INFINITY, stderr: "" };
  for (let round = 0; round < PROBE_ROUNDS; round++) {
    const p = await run(i, mounts, plainArgv, probe);
    const r = await run(i, restoredMounts, restoreArgv, probe);
    if (p.code !== 0 || r.code !== 0) {
      plain = p;
      restored = r;
      break;
    }
    if (p.ms < plain.ms) plain = p;
    if (r.ms < restored.ms) restored = r;
  }
  return { ok: true, blob, initMs: plain.ms, restoreMs: restored.ms, faster: restored.ms < plain.ms };
}

/** Blobs larger than this are not taken (a build that wrote without end). */
const MAX_BLOB_BYTES = 512 * 1024 * 1024;

/**
 * Copies the blob a build sandbox left in its out directory to `dest`, a file only the
 * platform writes. The sandbox could have left anything there (a link to a file of the
 * platform's, a FIFO, a hard link): the file is opened without following a link and must be a
 * regular file of the sandbox's own, with one link. Returns why not, or undefined.
 */
async function takeBlob(written: string, dest: string, uid: number | undefined): Promise<string | undefined> {
  let src: FileHandle;
  try {
    src = await open(written, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    return `the build left no snapshot blob (${(err as NodeJS.ErrnoException).code})`;
  }
  try {
    const st = await src.stat();
    if (!st.isFile() || st.nlink !== 1 || (uid !== undefined && st.uid !== uid))
      return "the build left something other than a snapshot blob of its own";
    if (st.size > MAX_BLOB_BYTES) return `the snapshot blob is ${st.size} bytes, over ${MAX_BLOB_BYTES}`;
    // Written afresh, read-only: instances read it, nobody writes it.
    const dst = await open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o444);
    try {
      await dst.writeFile(await src.readFile());
    } finally {
      await dst.close();
    }
    return undefined;
  } finally {
    await src.close();
  }
}

/** Writes the snapshot entry: the function bundled in, the handler found, the main function set. Returns why not. */
async function bundleEntry(
  file: string,
  exportPath: string[],
  runtimeEntry: string,
  outfile: string,
): Promise<string | undefined> {
  // (Written by the platform, read by sandboxes: world-readable.)
  // The runtime's \`awslambda\` global comes first: the function's module may use it as it loads.
  const contents = `
import ${JSON.stringify(join(dirname(runtimeEntry), AWSLAMBDA_GLOBAL_ENTRY))};
import * as fn from ${JSON.stringify(file)};
const v8 = require("node:v8");
let handler = fn;
for (const key of ${JSON.stringify(exportPath)}) handler = handler == null ? undefined : handler[key];
if (handler === undefined && fn.default) {
  handler = fn.default;
  for (const key of ${JSON.stringify(exportPath)}) handler = handler == null ? undefined : handler[key];
}
if (typeof handler !== "function") throw new Error(${JSON.stringify(`${exportPath.join(".")} is not a function exported by the handler module`)});
if (v8.startupSnapshot.isBuildingSnapshot()) {
  // The runtime is bundled in too: loaded while building, it only leaves its start function.
  require(${JSON.stringify(runtimeEntry)});
  v8.startupSnapshot.setDeserializeMainFunction(() => {
    if (process.env.${PROBE_ENV} === "1") return;
    globalThis[${JSON.stringify(SNAPSHOT_HANDLER_GLOBAL)}] = handler;
    globalThis[${JSON.stringify(SNAPSHOT_RUNTIME_GLOBAL)}]();
  });
}
`;
  try {
    await esbuild.build({
      stdin: { contents, resolveDir: dirname(file), loader: "js", sourcefile: "snapshot-entry.js" },
      outfile,
      bundle: true,
      platform: "node",
      target: `node${process.versions.node.split(".")[0]}`,
      format: "cjs",
      logLevel: "silent",
    });
    return undefined;
  } catch (err) {
    const first = (err as Partial<esbuild.BuildFailure>).errors?.[0];
    if (!first) throw err;
    return `the function cannot be bundled into one CommonJS file: ${first.text}`;
  }
}

interface Ran {
  readonly code: number | null;
  readonly ms: number;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly uid: number | undefined;
}

/** Runs one command in a sandbox of its own, as the function's instances run, time-limited. */
async function run(
  i: SnapshotInput,
  mounts: SandboxMounts,
  argv: string[],
  env: Record<string, string>,
): Promise<Ran> {
  const started = performance.now();
  const sandbox: Sandbox = await i.driver.start({
    instanceId: `snapshot-${Math.random().toString(36).slice(2, 10)}`,
    argv,
    env,
    mounts,
    memoryMb: i.memoryMb,
  });
  let stderr = "";
  sandbox.stderr.on("data", (c: Buffer) => {
    stderr = `${stderr}${c.toString()}`.slice(-4096);
  });
  sandbox.stdout.resume();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    sandbox.kill();
  }, i.timeoutMs);
  const exit = await sandbox.exited;
  clearTimeout(timer);
  // Whatever the command left running (a detached child) dies before its files are read.
  sandbox.kill();
  return { code: exit.code, ms: performance.now() - started, stderr, timedOut, uid: sandbox.uid };
}
