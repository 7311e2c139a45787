/**
 * How a body reaches the disk (`blobs-fs.ts`): its pieces are copied into batches of 1 MiB,
 * and each full batch is written while the next fills; at most one write is in flight. Once a
 * batch is on disk it goes to the hasher (`digest-thread.ts`), which hands its buffer back when
 * it is done, so an upload of any size cycles through a few buffers (at most the one filling,
 * the one being written and 4 MiB waiting to be hashed) and leaves no garbage behind: a body
 * never held whole, and memory flat however large the object.
 */
import type { FileHandle } from "node:fs/promises";
import { BlobSizeMismatch, BlobTooLarge } from "./blobs.js";
import type { StreamDigester } from "./digest-thread.js";

export const WRITE_BATCH_BYTES = 1024 * 1024;
/** Buffers kept for reuse by one write; more are let go. */
const KEPT_BUFFERS = 8;

/** The buffers of one write, each `capacity` bytes, reused as the hasher returns them. */
export class BatchBuffers {
  readonly #free: Uint8Array[] = [];

  constructor(readonly capacity: number) {}

  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(this.capacity);
  }

  /** A buffer the hasher is done with. */
  give(buffer: Uint8Array): void {
    if (buffer.byteLength === this.capacity && this.#free.length < KEPT_BUFFERS) this.#free.push(buffer);
  }
}

/** Streams `source` into `handle` in batches, hashing each; answers the size written. */
export async function writeBatched(
  source: AsyncIterable<Uint8Array>,
  handle: FileHandle,
  digester: StreamDigester,
  buffers: BatchBuffers,
  o: { readonly maxBytes: number; readonly expectedSize?: number | undefined },
): Promise<number> {
  let size = 0;
  let current = buffers.take();
  let filled = 0;
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    const bytes = current.subarray(0, filled);
    current = buffers.take();
    filled = 0;
    await writing;
    // Hashed once written: the hasher may then take the buffer (a thread, without a copy).
    writing = writeAll(handle, bytes).then(() => digester.update(bytes, { handOver: true }));
    // Awaited at the next flush or at the end; until then a failure must not go unhandled.
    writing.catch(() => {});
    await digester.ready();
  };
  try {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > o.maxBytes) throw new BlobTooLarge(`body is over the limit of ${o.maxBytes} bytes`);
      if (o.expectedSize !== undefined && size > o.expectedSize)
        throw new BlobSizeMismatch(`body has more than the ${o.expectedSize} bytes declared`);
      for (let at = 0; at < chunk.byteLength; ) {
        const n = Math.min(chunk.byteLength - at, current.byteLength - filled);
        current.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === current.byteLength) await flush();
      }
    }
    if (o.expectedSize !== undefined && size !== o.expectedSize)
      throw new BlobSizeMismatch(`body has ${size} bytes, ${o.expectedSize} were declared`);
    if (filled > 0) await flush();
    await writing;
    return size;
  } finally {
    await writing.catch(() => {});
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}
