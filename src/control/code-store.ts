/**
 * The code store: packages as content-addressed zip files in the data directory. Writes go
 * to a temporary file and are renamed into place, so a crash never leaves a torn package.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PackageSource } from "../protocol/invoke.js";

export interface StoredPackage {
  /** Hex sha256 of the zip: its address. */
  readonly packageId: string;
  /** Base64 sha256, as Lambda reports CodeSha256. */
  readonly codeSha256: string;
  readonly size: number;
}

/** Packages younger than this are never collected: a deploy may be about to reference them. */
const GC_GRACE_MS = 60 * 60 * 1000;

export class CodeStore implements PackageSource {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
  }

  async put(zip: Buffer): Promise<StoredPackage> {
    const digest = createHash("sha256").update(zip).digest();
    const packageId = digest.toString("hex");
    const path = join(this.#dir, `${packageId}.zip`);
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
      await writeFile(tmp, zip, { flush: true });
      await rename(tmp, path);
    }
    return { packageId, codeSha256: digest.toString("base64"), size: zip.length };
  }

  read(packageId: string): Promise<Buffer> {
    if (!/^[0-9a-f]{64}$/.test(packageId)) return Promise.reject(new Error(`bad package id ${packageId}`));
    return readFile(join(this.#dir, `${packageId}.zip`));
  }

  /** Removes packages no version references any more; returns the ids removed. */
  async collect(referenced: Set<string>, now: number): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await readdir(this.#dir)) {
      const id = name.replace(/\.zip$/, "");
      if (!name.endsWith(".zip") || referenced.has(id)) continue;
      const info = await stat(join(this.#dir, name)).catch(() => undefined);
      if (!info || now - info.mtimeMs < GC_GRACE_MS) continue;
      await rm(join(this.#dir, name), { force: true });
      removed.push(id);
    }
    return removed;
  }
}
