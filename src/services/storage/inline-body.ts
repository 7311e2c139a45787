/**
 * Small bodies kept inline: an object of at most `INLINE_MAX_BYTES` whose size was declared
 * is read into memory, hashed and checked exactly as a blob write would be, and stored in its
 * version's record instead of a blob (one write to store it, and none beside the metadata read
 * to serve it). The bytes are as durable as the record that holds them. Larger objects, and
 * bodies of unknown length, stream to the blob store.
 */
import { type BlobDigests, BlobSizeMismatch, type PendingBlob } from "./blobs.js";
import { Digester } from "./checksums.js";
import type { ByteRange } from "./http-rules.js";
import type { ChecksumAlgorithm, ObjectVersionRecord } from "./model.js";

/** Objects up to this size live in their record (MinIO inlines up to 128 KiB in its metadata). */
export const INLINE_MAX_BYTES = 64 * 1024;

/** A write held in memory: `inline` holds its bytes; there is no blob to commit or discard. */
export interface InlineBody extends PendingBlob {
  readonly inline: Buffer;
}

/** Reads exactly `size` bytes of `source`, hashing them; fewer or more fail with `BlobSizeMismatch`. */
export async function readInline(
  source: AsyncIterable<Uint8Array>,
  size: number,
  checksums: readonly ChecksumAlgorithm[],
): Promise<InlineBody> {
  const digester = new Digester(checksums);
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) {
    if (digester.size + chunk.byteLength > size)
      throw new BlobSizeMismatch(`body has more than the ${size} bytes declared`);
    digester.update(chunk);
    chunks.push(chunk);
  }
  if (digester.size !== size)
    throw new BlobSizeMismatch(`body has ${digester.size} bytes, ${size} were declared`);
  const digests: BlobDigests = await digester.digest();
  const inline = chunks.length === 1 ? Buffer.from(chunks[0]!) : Buffer.concat(chunks, size);
  return {
    digests,
    inline,
    commit: () => Promise.reject(new Error("an inline body is stored in its record, not as a blob")),
    discard: () => Promise.resolve(),
  };
}

/** The bytes of an inline version (its range of them), or undefined when they are in a blob. */
export function inlineBytes(version: ObjectVersionRecord, range: ByteRange | undefined): Buffer | undefined {
  const body = version.body;
  if (body === undefined) return undefined;
  return range === undefined ? body : body.subarray(range.start, range.end + 1);
}
