/**
 * The worker's code cache: packages extracted once per worker, ahead of the first invocation
 * (deploy pushes them here), so a cold start never fetches or unzips code. Directories are
 * content-addressed and read-only to sandboxes; concurrent requests for one package share
 * one extraction.
 */
import { chmod, mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { PackageSource } from "../protocol/invoke.js";
import { extractZip } from "../shared/zip.js";

export class CodeCache {
  readonly #root: string;
  readonly #source: PackageSource;
  readonly #ready = new Map<string, Promise<string>>();
  #seq = 0;

  constructor(root: string, source: PackageSource) {
    this.#root = root;
    this.#source = source;
  }

  async open(): Promise<void> {
    await mkdir(this.#root, { recursive: true, mode: 0o711 });
    // Leftovers of an extraction cut short by a crash are removed; complete ones are kept.
    for (const name of await readdir(this.#root)) {
      if (name.includes(".partial-")) await rm(join(this.#root, name), { recursive: true, force: true });
      else this.#ready.set(name, Promise.resolve(join(this.#root, name)));
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

  async evict(packageId: string): Promise<void> {
    this.#ready.delete(packageId);
    await rm(join(this.#root, packageId), { recursive: true, force: true });
  }

  async #extract(packageId: string): Promise<string> {
    const zip = await this.#source.read(packageId);
    const dest = join(this.#root, packageId);
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
