/**
 * The embedded blob store: one file per blob in the data directory, `<dir>/blobs/<2 hex>/<id>`,
 * and writes in progress as `<dir>/tmp/<id>`.
 *
 * Ids are 128 random bits in hex, not the content's hash: content addressing would cost a rename
 * by hash and a lookup for an existing copy on every write (the hot path of small PUTs), and
 * would make deleting a blob need a reference count across buckets. S3 objects are rarely
 * identical, so deduplication would buy little. The two hex digits spread blobs over 256
 * directories, created once when the store opens, so a write never makes a directory.
 *
 * A write is: open the temporary file, write the pieces as they come in batches of 1 MiB, one
 * write in flight while the next batch arrives (the source is read no faster than the disk
 * takes it; nothing is held whole), fdatasync and close it, all while hashing — a body of 1 MiB
 * or more on the digest thread (`digest-thread.ts`). `commit` renames it into place and fsyncs the shard directory, so a committed blob
 * survives a power loss. The file is synced before the write answers rather than in `commit`:
 * then no descriptor stays open while the caller checks digests (a pending blob it drops leaks
 * nothing but a temporary file, which `sweep` removes), and the durability is the same once
 * `commit` has answered. Files are 0600, directories 0700.
 */
import { createReadStream } from "node:fs";
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { Clock } from "../../shared/clock.js";
import { randomHex } from "../../shared/ids.js";
import { BatchBuffers, WRITE_BATCH_BYTES, writeBatched } from "./blob-batches.js";
import {
  type BlobDigests,
  type BlobStore,
  BlobTooLarge,
  type BlobWriteOptions,
  type PendingBlob,
} from "./blobs.js";
import { DigestThread } from "./digest-thread.js";

const BLOB_ID = /^[0-9a-f]{32}$/;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Files stat-ed or removed at once by `delete` and `sweep`: enough to keep the disk busy. */
const FILE_OPS_BATCH = 32;

export interface FsBlobStoreOptions {
  /** `<dataDir>/objects`. */
  readonly dir: string;
  /** Sweep compares file ages with its `now()`. */
  readonly clock: Clock;
}

export class FsBlobStore implements BlobStore {
  readonly #blobs: string;
  readonly #tmp: string;
  readonly #clock: Clock;
  /** Where large bodies are hashed (`digest-thread.ts`). */
  readonly #digests = new DigestThread();

  private constructor(o: FsBlobStoreOptions) {
    this.#blobs = join(o.dir, "blobs");
    this.#tmp = join(o.dir, "tmp");
    this.#clock = o.clock;
  }

  /** Opens the store at `o.dir`, creating it and its 256 shard directories if missing. */
  static async open(o: FsBlobStoreOptions): Promise<FsBlobStore> {
    const store = new FsBlobStore(o);
    await mkdir(store.#tmp, { recursive: true, mode: DIR_MODE });
    await mkdir(store.#blobs, { recursive: true, mode: DIR_MODE });
    const present = new Set(await readdir(store.#blobs));
    const missing = SHARDS.filter((s) => !present.has(s));
    if (missing.length > 0) {
      await Promise.all(missing.map((s) => mkdir(join(store.#blobs, s), { mode: DIR_MODE })));
      await Promise.all([syncDir(store.#blobs), syncDir(o.dir)]);
    }
    return store;
  }

  async write(source: AsyncIterable<Uint8Array>, o: BlobWriteOptions): Promise<PendingBlob> {
    if (o.expectedSize !== undefined && o.expectedSize > o.maxBytes) {
      throw new BlobTooLarge(`body of ${o.expectedSize} bytes is over the limit of ${o.maxBytes} bytes`);
    }
    const id = randomHex(32);
    const tmpPath = join(this.#tmp, id);
    // A body of known size takes buffers of its size, up to a batch.
    const buffers = new BatchBuffers(
      Math.max(1, Math.min(WRITE_BATCH_BYTES, o.expectedSize ?? WRITE_BATCH_BYTES)),
    );
    const digester = this.#digests.digester(o.checksums, o.expectedSize, (b) => buffers.give(b));
    let handle: FileHandle | undefined = await open(tmpPath, "wx", FILE_MODE);
    try {
      await writeBatched(source, handle, digester, buffers, o);
      const digests = await digester.digest();
      await handle.datasync();
      const closing = handle;
      handle = undefined;
      await closing.close();
      return new FsPendingBlob(id, tmpPath, join(this.#blobs, shardOf(id)), digests);
    } catch (error) {
      digester.abort();
      await handle?.close().catch(() => {});
      await rm(tmpPath, { force: true });
      throw error;
    }
  }

  read(blobId: string, range?: { start: number; end: number }): Readable {
    const path = this.#path(blobId);
    return range === undefined ? createReadStream(path) : createReadStream(path, range);
  }

  openFile(blobId: string): Promise<FileHandle> {
    return open(this.#path(blobId), "r");
  }

  async size(blobId: string): Promise<number | undefined> {
    try {
      return (await stat(this.#path(blobId))).size;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async delete(blobIds: readonly string[]): Promise<void> {
    const paths = blobIds.map((id) => this.#path(id));
    await inBatches(paths, removeIfPresent);
  }

  /**
   * Lists the candidates (blobs older than `graceMs`) before reading `referenced`: a blob whose
   * record is written while the sweep runs is then seen as referenced. Holds the candidates'
   * ids in memory, about 100 bytes each.
   */
  async sweep(referenced: AsyncIterable<string>, graceMs: number): Promise<number> {
    const before = this.#clock.now() - graceMs;
    const candidates = new Map<string, string>();
    for (const shard of SHARDS) {
      const dir = join(this.#blobs, shard);
      const names = (await readdirIfPresent(dir)).filter((n) => BLOB_ID.test(n));
      await inBatches(names, async (name) => {
        const path = join(dir, name);
        if (await olderThan(path, before)) candidates.set(name, path);
      });
    }
    for await (const id of referenced) candidates.delete(id);

    const tmpOld: string[] = [];
    await inBatches(await readdirIfPresent(this.#tmp), async (name) => {
      const path = join(this.#tmp, name);
      if (await olderThan(path, before)) tmpOld.push(path);
    });
    const doomed = [...candidates.values(), ...tmpOld];
    let removed = 0;
    await inBatches(doomed, async (path) => {
      if (await removeIfPresent(path)) removed++;
    });
    return removed;
  }

  #path(blobId: string): string {
    if (!BLOB_ID.test(blobId)) throw new Error(`blob id "${blobId}" is not 32 lowercase hex digits`);
    return join(this.#blobs, shardOf(blobId), blobId);
  }
}

class FsPendingBlob implements PendingBlob {
  readonly #id: string;
  readonly #tmpPath: string;
  readonly #shardDir: string;
  #state: "pending" | "committed" | "discarded" = "pending";

  constructor(
    id: string,
    tmpPath: string,
    shardDir: string,
    readonly digests: BlobDigests,
  ) {
    this.#id = id;
    this.#tmpPath = tmpPath;
    this.#shardDir = shardDir;
  }

  async commit(): Promise<string> {
    if (this.#state === "discarded")
      throw new Error(`blob ${this.#id} was discarded and cannot be committed`);
    if (this.#state === "committed") return this.#id;
    await rename(this.#tmpPath, join(this.#shardDir, this.#id));
    await syncDir(this.#shardDir);
    this.#state = "committed";
    return this.#id;
  }

  async discard(): Promise<void> {
    // Once committed, the blob belongs to whatever record names it: `delete` removes it.
    if (this.#state !== "pending") return;
    this.#state = "discarded";
    await rm(this.#tmpPath, { force: true });
  }
}

const SHARDS: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function shardOf(id: string): string {
  return id.slice(0, 2);
}

/** Makes a directory's entries durable (a rename into it, a file created in it). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function olderThan(path: string, beforeMs: number): Promise<boolean> {
  try {
    return (await stat(path)).mtimeMs < beforeMs;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function readdirIfPresent(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += FILE_OPS_BATCH) {
    await Promise.all(items.slice(i, i + FILE_OPS_BATCH).map(fn));
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}
