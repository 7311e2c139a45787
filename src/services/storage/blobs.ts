/**
 * Where object bytes live: blobs, each written once, whole, and never changed. A write streams
 * into a temporary file, hashing as it goes (MD5 for the ETag, and the checksums asked for),
 * and becomes a blob only when the stream ended, the size is what was declared and the caller
 * accepted the digests: a crash or a refused upload leaves no blob, only a temporary file the
 * next start removes. Reads stream (a range too). Nothing is held in memory whole.
 *
 * The store is an interface so that a cluster can keep blobs on a shared store; the data
 * directory's file system is the embedded one (`blobs-fs.ts`).
 */
import type { FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { ChecksumAlgorithm } from "./model.js";

export interface BlobDigests {
  readonly size: number;
  /** Hex. */
  readonly md5: string;
  /** Base64 of each checksum asked for. */
  readonly checksums: Readonly<Partial<Record<ChecksumAlgorithm, string>>>;
}

/** A write in progress: the bytes are on disk, not yet a blob. */
export interface PendingBlob {
  readonly digests: BlobDigests;
  /** Makes it a blob (durably: after this the bytes survive a crash); its id. */
  commit(): Promise<string>;
  /** Removes it. */
  discard(): Promise<void>;
}

export interface BlobWriteOptions {
  /** Past this many bytes the write fails with `BlobTooLarge` (nothing kept). */
  readonly maxBytes: number;
  /** When known (Content-Length, x-amz-decoded-content-length): fewer or more bytes fail with `BlobSizeMismatch`. */
  readonly expectedSize?: number | undefined;
  readonly checksums: readonly ChecksumAlgorithm[];
}

/** Bytes in an open file: `length` of them from `start` (a version's, or a range of them). */
export interface OpenBytes {
  readonly handle: FileHandle;
  readonly start: number;
  readonly length: number;
}

export class BlobTooLarge extends Error {}
export class BlobSizeMismatch extends Error {}

export interface BlobStore {
  /** Streams `source` to disk; the caller checks the digests, then commits or discards. */
  write(source: AsyncIterable<Uint8Array>, o: BlobWriteOptions): Promise<PendingBlob>;
  /** The blob's bytes from `start` to `end` inclusive (the whole blob without a range). */
  read(blobId: string, range?: { start: number; end: number }): Readable;
  /**
   * The blob's file, open for reading, where blobs are files (the data directory's store): a
   * server sends a large body from it with buffers it reuses. Absent elsewhere; `read` serves.
   */
  openFile?(blobId: string): Promise<FileHandle>;
  /** Its size; undefined if there is no such blob. */
  size(blobId: string): Promise<number | undefined>;
  /** Removes blobs; ids already gone are fine. */
  delete(blobIds: readonly string[]): Promise<void>;
  /**
   * Removes blobs that no record names (`referenced`) and that are older than `graceMs` (a
   * write may be committing right now), and temporary files left by a crash. How many went.
   */
  sweep(referenced: AsyncIterable<string>, graceMs: number): Promise<number>;
}
