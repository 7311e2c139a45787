/**
 * Transformed images kept on disk (`<dataDir>/transforms`), one file per variant named by its
 * key, a hash of everything its bytes depend on (the source version and ETag, the parameters,
 * the image library's version): an overwritten object has a new key, so a stale variant is
 * never served, only left to age out. The files together stay under a byte budget, the least
 * recently used removed first; each is written to a temporary file and renamed into place, so a
 * crash leaves no half a variant (a temporary file is removed at the next start). Concurrent
 * requests for one key share one transform (single flight). The index of what is on disk is
 * held in memory and rebuilt from the directory on first use, oldest file first.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The formats a variant may be in (`origin` keeps a GIF or TIFF source's). */
export const VARIANT_FORMATS = ["jpeg", "png", "webp", "avif", "gif", "tiff"] as const;
export type VariantFormat = (typeof VARIANT_FORMATS)[number];

export interface Variant {
  readonly bytes: Buffer;
  readonly format: VariantFormat;
}

export interface CachedVariant {
  readonly variant: Variant;
  /** Whether it was on disk (or being made for another request) rather than made for this one. */
  readonly hit: boolean;
}

interface Entry {
  readonly size: number;
  readonly format: VariantFormat;
}

const NAME = new RegExp(`^([0-9a-f]{64})\\.(${VARIANT_FORMATS.join("|")})$`);
const TEMP_MARK = ".tmp-";

export class VariantCache {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #log: (message: string, fields: Record<string, unknown>) => void;
  /** What is on disk, least recently used first (a Map keeps insertion order). */
  readonly #index = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Variant>>();
  #bytes = 0;
  #loaded: Promise<void> | undefined;

  /** `maxBytes` 0 keeps nothing on disk (concurrent requests still share a transform). */
  constructor(o: {
    dir: string;
    maxBytes: number;
    log: (message: string, fields: Record<string, unknown>) => void;
  }) {
    this.#dir = o.dir;
    this.#maxBytes = o.maxBytes;
    this.#log = o.log;
  }

  /** Bytes of the variants on disk. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The variant under `key`: from disk, from a transform under way, or made now by `make` and kept. */
  async get(key: string, make: () => Promise<Variant>): Promise<CachedVariant> {
    // A directory that cannot be read costs the cache its old variants, not the request its answer.
    this.#loaded ??= this.#load().catch((err: unknown) =>
      this.#log("image transforms: the cache directory could not be read", {
        dir: this.#dir,
        err: String(err),
      }),
    );
    await this.#loaded;
    const shared = this.#inflight.get(key);
    if (shared !== undefined) return { variant: await shared, hit: true };
    const entry = this.#index.get(key);
    if (entry !== undefined) {
      const bytes = await readFile(this.#path(key, entry.format)).catch(() => undefined);
      if (bytes !== undefined) {
        this.#index.delete(key);
        this.#index.set(key, entry);
        return { variant: { bytes, format: entry.format }, hit: true };
      }
      // Removed behind our back (or by an eviction racing this read): made again.
      this.#forget(key);
    }
    const again = this.#inflight.get(key);
    if (again !== undefined) return { variant: await again, hit: true };
    const made = (async () => {
      try {
        const variant = await make();
        await this.#keep(key, variant);
        return variant;
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, made);
    return { variant: await made, hit: false };
  }

  async #keep(key: string, v: Variant): Promise<void> {
    if (v.bytes.length > this.#maxBytes) return;
    const path = this.#path(key, v.format);
    const temp = `${path}${TEMP_MARK}${randomBytes(6).toString("hex")}`;
    try {
      await mkdir(join(this.#dir, key.slice(0, 2)), { recursive: true });
      await writeFile(temp, v.bytes);
      await rename(temp, path);
    } catch (err) {
      // A full disk costs the next request a transform, not this one its answer.
      await rm(temp, { force: true }).catch(() => {});
      this.#log("image transforms: a variant could not be kept", { path, err: String(err) });
      return;
    }
    this.#forget(key);
    this.#index.set(key, { size: v.bytes.length, format: v.format });
    this.#bytes += v.bytes.length;
    await this.#evict();
  }

  /** Removes the least recently used variants until the rest fit the budget. */
  async #evict(): Promise<void> {
    const doomed: string[] = [];
    for (const [key, entry] of this.#index) {
      if (this.#bytes <= this.#maxBytes) break;
      doomed.push(this.#path(key, entry.format));
      this.#forget(key);
    }
    await Promise.all(doomed.map((p) => rm(p, { force: true }).catch(() => {})));
  }

  #forget(key: string): void {
    const entry = this.#index.get(key);
    if (entry === undefined) return;
    this.#index.delete(key);
    this.#bytes -= entry.size;
  }

  #path(key: string, format: VariantFormat): string {
    return join(this.#dir, key.slice(0, 2), `${key}.${format}`);
  }

  /** The index from the directory, oldest first; temporary files a crash left are removed. */
  async #load(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const found: { key: string; format: VariantFormat; size: number; at: number }[] = [];
    for (const shard of await readdir(this.#dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const dir = join(this.#dir, shard);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const path = join(dir, name);
        const m = NAME.exec(name);
        if (m === null) {
          if (name.includes(TEMP_MARK)) await rm(path, { force: true }).catch(() => {});
          continue;
        }
        const s = await stat(path).catch(() => undefined);
        if (s?.isFile())
          found.push({ key: m[1]!, format: m[2] as VariantFormat, size: s.size, at: s.mtimeMs });
      }
    }
    found.sort((a, b) => a.at - b.at);
    for (const f of found) {
      this.#index.set(f.key, { size: f.size, format: f.format });
      this.#bytes += f.size;
    }
    // A smaller budget than the last run's.
    await this.#evict();
  }
}
