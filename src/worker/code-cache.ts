/**
 * The worker's code cache: packages extracted once per worker, ahead of the first invocation
 * (deploy pushes them here), so a cold start never fetches or unzips code. Directories are
 * content-addressed and read-only to sandboxes; concurrent requests for one package share
 * one extraction.
 *
 * The cache's directory can be traversed but not listed by sandbox uids, and each package's
 * directory carries a random suffix: only the instances given its path (their own code) can
 * reach it, whatever they know of other packages' hashes.
 */
import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readdirSync } from "node:fs";
import { chmod, link, mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { PackageSource } from "../protocol/invoke.js";
import { extractZip } from "../shared/zip.js";

export class CodeCache {
  readonly #root: string;
  readonly #source: PackageSource;
  readonly #ready = new Map<string, Promise<string>>();
  /** Each package's directories and files (relative paths), listed once when first linked. */
  readonly #trees = new Map<string, Promise<Tree>>();
  #seq = 0;

  constructor(root: string, source: PackageSource) {
    this.#root = root;
    this.#source = source;
  }

  async open(): Promise<void> {
    await mkdir(this.#root, { recursive: true, mode: 0o711 });
    await chmod(this.#root, 0o711);
    // Leftovers of an extraction cut short by a crash are removed; complete ones are kept.
    for (const name of await readdir(this.#root)) {
      const [packageId, suffix] = name.split(".");
      if (name.includes(".partial-") || !packageId || !suffix || this.#ready.has(packageId))
        await rm(join(this.#root, name), { recursive: true, force: true });
      else this.#ready.set(packageId, Promise.resolve(join(this.#root, name)));
    }
  }

  /** Whether a package is already extracted here (a cold start will not fetch it). */
  has(packageId: string): boolean {
    return this.#ready.has(packageId);
  }

  /** The directory holding the package's files, extracting it first if needed. */
  ensure(packageId: string): Promise<string> {
    let p = this.#ready.get(packageId);
    if (!p) {
      p = this.#extract(packageId);
      this.#ready.set(packageId, p);
      p.catch(() => this.#ready.delete(packageId));
    }
    return p;
  }

  /**
   * Hard-links the package's files into `dest`, an empty directory a sandbox was given: how a
   * pooled runtime that sees only its own directories gets its code. Returns false when the
   * package has more than `maxEntries` files and directories (linking them would cost the cold
   * start more than a new sandbox).
   */
  async linkInto(packageId: string, dest: string, maxEntries: number): Promise<boolean> {
    const dir = await this.ensure(packageId);
    let tree = this.#trees.get(packageId);
    if (!tree) {
      tree = listTree(dir);
      this.#trees.set(packageId, tree);
    }
    const { dirs, files } = await tree;
    if (dirs.length + files.length > maxEntries) return false;
    if (dirs.length + files.length <= SYNC_ENTRIES) {
      // A few system calls of ~10 µs each: less than one trip through libuv's thread pool.
      for (const d of dirs) mkdirSync(join(dest, d), { mode: 0o755 });
      for (const f of files) linkSync(join(dir, f), join(dest, f));
      return true;
    }
    for (const d of dirs) await mkdir(join(dest, d), { mode: 0o755 });
    await Promise.all(files.map((f) => link(join(dir, f), join(dest, f))));
    return true;
  }

  async #extract(packageId: string): Promise<string> {
    const zip = await this.#source.read(packageId);
    const dest = join(this.#root, `${packageId}.${randomBytes(12).toString("hex")}`);
    const partial = `${dest}.partial-${process.pid}-${this.#seq++}`;
    try {
      await extractZip(zip, partial);
      await chmod(partial, 0o755);
      await rename(partial, dest);
    } catch (err) {
      await rm(partial, { recursive: true, force: true });
      throw err;
    }
    return dest;
  }
}

interface Tree {
  readonly dirs: readonly string[];
  readonly files: readonly string[];
}

/**
 * Packages of at most this many files and directories are listed and linked with synchronous
 * calls, on the cold start's path: measured, the asynchronous ones cost a pooled jail start
 * ~2 ms (p50) in thread-pool round trips for a one-file package.
 */
const SYNC_ENTRIES = 64;

/** Directories (parents first) and files under `root`, as relative paths. */
async function listTree(root: string): Promise<Tree> {
  const small = listSmallTree(root);
  if (small) return small;
  const dirs: string[] = [];
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel ? join(rel, e.name) : e.name;
      if (e.isDirectory()) {
        dirs.push(path);
        await walk(path);
      } else if (e.isFile()) files.push(path);
    }
  };
  await walk("");
  return { dirs, files };
}

/** The tree, listed synchronously, when it has at most SYNC_ENTRIES entries; else undefined. */
function listSmallTree(root: string): Tree | undefined {
  const dirs: string[] = [];
  const files: string[] = [];
  const pending = [""];
  while (pending.length > 0) {
    const rel = pending.shift()!;
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel ? join(rel, e.name) : e.name;
      if (e.isDirectory()) {
        dirs.push(path);
        pending.push(path);
      } else if (e.isFile()) files.push(path);
      if (dirs.length + files.length > SYNC_ENTRIES) return undefined;
    }
  }
  return { dirs, files };
}
