/**
 * Moving bytes for `nimbus storage cp`, streamed both ways: a file of up to 64 MiB goes in one
 * PutObject read from disk as it is sent, a larger one as a multipart upload of 16 MiB parts
 * (four at a time, each read from its range of the file), aborted when any step fails. Standard
 * input, whose size is unknown, is cut into parts as it arrives: one part is a PutObject, more
 * a multipart upload. A download is written to a temporary file renamed into place once whole.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Output } from "../context.js";
import { objectPath, type S3Location } from "./storage-paths.js";
import { type S3Api, type S3Body, textOf } from "./storage-s3.js";

const MiB = 1024 * 1024;
/** Files larger than this go as a multipart upload. */
export const MULTIPART_THRESHOLD_BYTES = 64 * MiB;
export const PART_SIZE_BYTES = 16 * MiB;
/** S3's most parts in one upload. */
export const MAX_PARTS = 10_000;
/** Parts of a file sent at once. */
const PART_CONCURRENCY = 4;

/** One part of a multipart upload: its number and its byte range [start, end) of the file. */
export interface PartPlan {
  readonly partNumber: number;
  readonly start: number;
  readonly end: number;
}

/**
 * The parts of an upload of `size` bytes: `partSize` each but the last, or larger (whole MiB)
 * when 10,000 parts of that size would not hold the file.
 */
export function planParts(size: number, partSize = PART_SIZE_BYTES): PartPlan[] {
  const each = Math.max(partSize, Math.ceil(size / MAX_PARTS / MiB) * MiB);
  const parts: PartPlan[] = [];
  for (let start = 0; start < size; start += each)
    parts.push({ partNumber: parts.length + 1, start, end: Math.min(size, start + each) });
  return parts;
}

/** A stream's bytes cut into buffers of `size` (the last shorter; an empty stream is one empty buffer). */
export async function* chunksOf(
  source: AsyncIterable<Buffer | string>,
  size: number,
): AsyncGenerator<Buffer, void> {
  let pending: Buffer[] = [];
  let length = 0;
  let yielded = false;
  for await (const c of source) {
    let chunk = typeof c === "string" ? Buffer.from(c) : c;
    while (length + chunk.length >= size) {
      const take = size - length;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending);
      yielded = true;
      pending = [];
      length = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      pending.push(chunk);
      length += chunk.length;
    }
  }
  if (length > 0 || !yielded) yield Buffer.concat(pending);
}

const typeHeaders = (contentType: string | undefined): Record<string, string> =>
  contentType === undefined ? {} : { "content-type": contentType };

/** Uploads the file at `path` to `to`, streamed; answers the object's ETag. */
export async function uploadFile(
  api: S3Api,
  path: string,
  to: S3Location,
  contentType: string | undefined,
): Promise<string> {
  const { size } = await stat(path);
  const headers = typeHeaders(contentType);
  if (size <= MULTIPART_THRESHOLD_BYTES) {
    const h = await api.headers("PUT", objectPath(to.bucket, to.key), {
      headers,
      body: { stream: createReadStream(path), length: size },
    });
    return String(h.etag ?? "");
  }
  return multipartUpload(api, to, headers, (put) =>
    eachAtMost(planParts(size), PART_CONCURRENCY, (p) =>
      put(p.partNumber, {
        // Opened only when the part's turn comes; `end` is inclusive.
        stream: createReadStream(path, { start: p.start, end: p.end - 1 }),
        length: p.end - p.start,
      }),
    ),
  );
}

/** Uploads a stream of unknown length (standard input) to `to`, a part in memory at a time; answers the ETag. */
export async function uploadStream(
  api: S3Api,
  source: AsyncIterable<Buffer | string>,
  to: S3Location,
  contentType: string | undefined,
): Promise<string> {
  const parts = chunksOf(source, PART_SIZE_BYTES)[Symbol.asyncIterator]();
  const head = await parts.next();
  const first = head.done ? Buffer.alloc(0) : head.value;
  const second = await parts.next();
  const headers = typeHeaders(contentType);
  if (second.done) {
    const h = await api.headers("PUT", objectPath(to.bucket, to.key), { headers, body: first });
    return String(h.etag ?? "");
  }
  return multipartUpload(api, to, headers, async (put) => {
    await put(1, first);
    let n = 2;
    for (let part: IteratorResult<Buffer, void> = second; !part.done; part = await parts.next()) {
      if (n > MAX_PARTS)
        throw new Error(
          `the input is over ${MAX_PARTS} parts of ${PART_SIZE_BYTES / MiB} MiB: write it to a file and upload that`,
        );
      await put(n++, part.value);
    }
  });
}

type PutPart = (partNumber: number, body: S3Body) => Promise<void>;

/** Creates a multipart upload, has `sendParts` send its parts, completes it; aborts it when anything fails. */
async function multipartUpload(
  api: S3Api,
  to: S3Location,
  headers: Record<string, string>,
  sendParts: (put: PutPart) => Promise<void>,
): Promise<string> {
  const path = objectPath(to.bucket, to.key);
  const created = await api.xml("POST", path, "InitiateMultipartUploadResult", {
    query: { uploads: "" },
    headers,
  });
  const uploadId = textOf(created, "UploadId");
  const etags = new Map<number, string>();
  try {
    await sendParts(async (partNumber, body) => {
      const h = await api.headers("PUT", path, {
        query: { partNumber: String(partNumber), uploadId },
        body,
      });
      etags.set(partNumber, String(h.etag ?? ""));
    });
    const parts = [...etags]
      .sort(([a], [b]) => a - b)
      .map(
        ([n, etag]) =>
          `<Part><PartNumber>${n}</PartNumber><ETag>${etag.replaceAll('"', "&quot;")}</ETag></Part>`,
      )
      .join("");
    const done = await api.xml("POST", path, "CompleteMultipartUploadResult", {
      query: { uploadId },
      headers: { "content-type": "application/xml" },
      body: Buffer.from(`<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`),
    });
    return textOf(done, "ETag");
  } catch (err) {
    // Its parts would otherwise stay on the platform's disk; the error to report is the first.
    await api.headers("DELETE", path, { query: { uploadId } }).catch(() => {});
    throw err;
  }
}

/** Runs `fn` on each item, at most `limit` at once; after a failure starts no more, and throws it once those running end. */
async function eachAtMost<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * Downloads `from` into the file at `path` (through a temporary file beside it, its directory
 * made once the object is found); answers its size.
 */
export async function downloadToFile(api: S3Api, from: S3Location, path: string): Promise<number> {
  const res = await api.call("GET", objectPath(from.bucket, from.key));
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (err) {
    res.destroy();
    throw err;
  }
  const expected = Number(res.headers["content-length"] ?? Number.NaN);
  const tmp = join(dirname(path), `.${basename(path)}.nimbus-${randomUUID().slice(0, 8)}`);
  let size = 0;
  res.on("data", (c: Buffer) => {
    size += c.length;
  });
  try {
    await pipeline(res, createWriteStream(tmp, { flags: "wx" }));
    if (!Number.isNaN(expected) && size !== expected)
      throw new Error(`the download of ${from.key} ended after ${size} of ${expected} bytes`);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return size;
}

/** Downloads `from` to `out` (standard output), waiting for it to drain when it is a stream. */
export async function downloadTo(api: S3Api, from: S3Location, out: Output): Promise<void> {
  const res = await api.call("GET", objectPath(from.bucket, from.key));
  const emitter = "once" in out ? (out as unknown as NodeJS.EventEmitter) : undefined;
  for await (const chunk of res) {
    if (out.write(chunk as Buffer) === false && emitter) await once(emitter, "drain");
  }
}

/** CopyObject: `from` copied to `to` on the platform, its metadata with it. */
export async function copyObject(api: S3Api, from: S3Location, to: S3Location): Promise<void> {
  await api.xml("PUT", objectPath(to.bucket, to.key), "CopyObjectResult", {
    headers: { "x-amz-copy-source": objectPath(from.bucket, from.key) },
  });
}
