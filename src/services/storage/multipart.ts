/**
 * Multipart uploads with S3's rules: parts numbered 1 to 10,000, each written and verified as
 * a single PUT is, a part uploaded again replacing the earlier one; a part may also be copied
 * from (a range of) an object's version (UploadPartCopy), streamed from its blob into the part's;
 * completion names the parts in ascending order with their ETags, every part but the last at
 * least 5 MiB. Completing streams the parts, in order, into one new blob (so an object is
 * always one blob), then writes its version and removes the upload in one transaction: a crash
 * before that leaves the upload as it was, to complete again; after it, the object whole.
 */
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { compositeChecksum, etagOf, multipartEtag } from "./checksums.js";
import { entityTooLarge, invalidArgument, malformedXml, noSuchUpload, S3Error } from "./errors.js";
import type { ByteRange, Conditions } from "./http-rules.js";
import type {
  ChecksumAlgorithm,
  ContentHeaders,
  MultipartUploadRecord,
  ObjectVersionRecord,
  PartRecord,
  StoredChecksum,
} from "./model.js";
import { requireKey } from "./names.js";
import type { RequestOrigin } from "./notifications.js";
import { admitWrite, checkContentType, maxPartBytes, quotaOf } from "./quota.js";
import { type BodyChecks, MAX_PUT_BYTES, newVersionId, type StorageService } from "./storage.js";

export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;
/** S3's largest object: 5 TiB. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
}

/** How a completion departs from S3's CompleteMultipartUpload (tus uploads, `tus.ts`). */
export interface CompleteOptions {
  /** Parts of any size: no EntityTooSmall (tus has no minimum). */
  readonly anyPartSize?: boolean;
  /** The object's user metadata, instead of the upload's (where tus keeps its own state). */
  readonly userMetadata?: Readonly<Record<string, string>>;
}

/** Where an UploadPartCopy's bytes come from: a version of an object, whole or a range of it. */
export interface PartCopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | undefined;
  /** `x-amz-copy-source-if-*`: one that does not hold is 412, never 304. */
  readonly conditions: Conditions;
  /** `x-amz-copy-source-range` as sent (`bytes=first-last`); undefined: the whole object. */
  readonly range: string | undefined;
}

export interface CopiedPart {
  readonly etag: string;
  readonly checksum: StoredChecksum | undefined;
  readonly lastModified: number;
  /** The source's version id; undefined for a version of an unversioned bucket ("null"). */
  readonly sourceVersionId: string | undefined;
}

export class Multipart {
  readonly #s: StorageService;

  constructor(storage: StorageService) {
    this.#s = storage;
  }

  async create(
    bucket: string,
    key: string,
    o: {
      headers: ContentHeaders;
      userMetadata: Readonly<Record<string, string>>;
      tags: Readonly<Record<string, string>>;
      checksumAlgorithm: ChecksumAlgorithm | undefined;
    },
  ): Promise<string> {
    requireKey(key);
    if (o.checksumAlgorithm === "CRC64NVME")
      throw invalidArgument(
        "CRC64NVME has no composite form for multipart uploads; use CRC32, CRC32C, SHA1 or SHA256.",
        "x-amz-checksum-algorithm",
        "CRC64NVME",
      );
    const b = await this.#s.bucket(bucket);
    checkContentType(b, quotaOf(b), o.headers.contentType);
    const uploadId = randomBytes(24).toString("base64url");
    await this.#s.deps.repo.createUpload({
      uploadId,
      bucket,
      key,
      ...o,
      createdAt: this.#s.deps.clock.now(),
    });
    return uploadId;
  }

  async upload(bucket: string, key: string, uploadId: string): Promise<MultipartUploadRecord> {
    const upload = await this.#s.deps.repo.getUpload(uploadId);
    if (upload === undefined || upload.bucket !== bucket || upload.key !== key) {
      await this.#s.bucket(bucket);
      throw noSuchUpload(uploadId);
    }
    return upload;
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Uint8Array>,
    size: number | undefined,
    checks: BodyChecks,
  ): Promise<{ etag: string; checksum: StoredChecksum | undefined }> {
    requirePartNumber(partNumber);
    const upload = await this.upload(bucket, key, uploadId);
    const algorithm = checks.checksumAlgorithm ?? upload.checksumAlgorithm;
    if (
      upload.checksumAlgorithm !== undefined &&
      checks.checksumAlgorithm !== undefined &&
      checks.checksumAlgorithm !== upload.checksumAlgorithm
    )
      throw invalidArgument(
        `The upload was created with checksum ${upload.checksumAlgorithm}; this part uses ${checks.checksumAlgorithm}.`,
      );
    const max = maxPartBytes(await this.#s.bucket(bucket), MAX_PUT_BYTES);
    const part = await this.#storePart(
      uploadId,
      partNumber,
      body,
      size,
      { ...checks, checksumAlgorithm: algorithm },
      max,
    );
    return { etag: part.etag, checksum: part.checksum };
  }

  /**
   * UploadPartCopy: a part whose bytes are a version's, whole or `bytes=first-last` of it,
   * streamed from its blob into the part's. The source's conditions are CopyObject's (412 when
   * one does not hold); the part has the upload's checksum, computed as the bytes go by.
   */
  async copyPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    src: PartCopySource,
  ): Promise<CopiedPart> {
    requirePartNumber(partNumber);
    const upload = await this.upload(bucket, key, uploadId);
    const source = await this.#s.copySource(src);
    const range = copySourceRange(src.range, source.size);
    const size = range === undefined ? source.size : range.end - range.start + 1;
    const max = maxPartBytes(await this.#s.bucket(bucket), MAX_PUT_BYTES);
    // Before the source is opened: a stream never read would hold its file open.
    if (size > max) throw entityTooLarge(size, max);
    const part = await this.#storePart(
      uploadId,
      partNumber,
      this.#s.stream(source, range),
      size,
      { checksumAlgorithm: upload.checksumAlgorithm },
      max,
    );
    return {
      etag: part.etag,
      checksum: part.checksum,
      lastModified: part.createdAt,
      sourceVersionId: source.versionId === "null" ? undefined : source.versionId,
    };
  }

  /** Streams a part's body into a blob, checks it, and records it (replacing a part of that number). */
  async #storePart(
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Uint8Array>,
    size: number | undefined,
    checks: BodyChecks,
    maxBytes: number,
  ): Promise<PartRecord> {
    const algorithm = checks.checksumAlgorithm;
    const pending = await this.#s.writeBody(body, size, checks, maxBytes);
    const blobId = await pending.commit();
    const checksum: StoredChecksum | undefined =
      algorithm === undefined
        ? undefined
        : { algorithm, value: pending.digests.checksums[algorithm] ?? "", type: "FULL_OBJECT" };
    const part: PartRecord = {
      uploadId,
      partNumber,
      size: pending.digests.size,
      etag: etagOf(pending.digests.md5),
      blobId,
      checksum,
      createdAt: this.#s.deps.clock.now(),
    };
    let missing = false;
    await this.#s.store(async () => {
      const outcome = await this.#s.deps.repo.putPart(part);
      if (outcome !== "no-upload") return outcome;
      missing = true;
      return { blobIds: [blobId] };
    }, [blobId]);
    if (missing) throw noSuchUpload(uploadId);
    return part;
  }

  async complete(
    bucket: string,
    key: string,
    uploadId: string,
    parts: readonly CompletedPart[],
    origin?: RequestOrigin,
    o: CompleteOptions = {},
  ): Promise<{ etag: string; versionId: string | undefined; checksum: StoredChecksum | undefined }> {
    const upload = await this.upload(bucket, key, uploadId);
    const b = await this.#s.bucket(bucket);
    if (parts.length === 0) throw malformedXml("a CompleteMultipartUpload names at least one part");
    const stored = new Map((await this.#allParts(uploadId)).map((p) => [p.partNumber, p]));
    const chosen: PartRecord[] = [];
    let previous = 0;
    for (const p of parts) {
      if (p.partNumber <= previous)
        throw new S3Error(
          "InvalidPartOrder",
          400,
          "The list of parts was not in ascending order. Parts must be ordered by part number.",
        );
      previous = p.partNumber;
      const part = stored.get(p.partNumber);
      if (part === undefined || normalizeEtag(part.etag) !== normalizeEtag(p.etag))
        throw new S3Error(
          "InvalidPart",
          400,
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          { UploadId: uploadId, PartNumber: String(p.partNumber), ETag: p.etag },
        );
      chosen.push(part);
    }
    chosen.forEach((part, i) => {
      if (!o.anyPartSize && i < chosen.length - 1 && part.size < MIN_PART_BYTES)
        throw new S3Error(
          "EntityTooSmall",
          400,
          "Your proposed upload is smaller than the minimum allowed object size.",
          {
            ProposedSize: String(part.size),
            MinSizeAllowed: String(MIN_PART_BYTES),
            PartNumber: String(part.partNumber),
          },
        );
    });
    const total = chosen.reduce((n, p) => n + p.size, 0);
    const w = { size: total, contentType: upload.headers.contentType };
    const admitted = await admitWrite(this.#s.deps.repo, b, key, w, MAX_OBJECT_BYTES);
    const pending = await admitted.body((max) =>
      this.#s.writeBody(concatenated(this.#s, chosen), total, {}, max),
    );
    const blobId = await pending.commit();
    const etag = multipartEtag(chosen.map((p) => p.etag));
    const algorithm = upload.checksumAlgorithm;
    const checksum: StoredChecksum | undefined =
      algorithm === undefined || chosen.some((p) => p.checksum === undefined)
        ? undefined
        : {
            algorithm,
            value: compositeChecksum(
              algorithm,
              chosen.map((p) => p.checksum?.value ?? ""),
            ),
            type: "COMPOSITE",
          };
    const version: ObjectVersionRecord = {
      bucket,
      key,
      versionId: b.versioning === "Enabled" ? newVersionId() : "null",
      isDeleteMarker: false,
      size: total,
      etag,
      blobId,
      headers: upload.headers,
      userMetadata: o.userMetadata ?? upload.userMetadata,
      checksum,
      partsCount: chosen.length,
      tags: upload.tags,
      createdAt: this.#s.deps.clock.now(),
    };
    const event = this.#s.eventFor(b, "ObjectCreated:CompleteMultipartUpload", version, origin);
    let gone = false;
    await this.#s.store(async () => {
      const outcome = await this.#s.deps.repo.completeUpload(uploadId, version, event, admitted.guard);
      if (outcome === "no-upload") {
        gone = true;
        return { blobIds: [blobId] };
      }
      return outcome;
    }, [blobId]);
    if (gone) throw noSuchUpload(uploadId);
    this.#s.deps.notifications?.committed(event);
    return { etag, versionId: b.versioning === "Unversioned" ? undefined : version.versionId, checksum };
  }

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.upload(bucket, key, uploadId);
    const outcome = await this.#s.deps.repo.abortUpload(uploadId);
    if (outcome === "no-upload") throw noSuchUpload(uploadId);
    await this.#s.store(async () => outcome, []);
  }

  async listParts(bucket: string, key: string, uploadId: string, after: number, limit: number) {
    const upload = await this.upload(bucket, key, uploadId);
    const parts = await this.#s.deps.repo.listParts(uploadId, { after, limit: limit + 1 });
    return { upload, parts: parts.slice(0, limit), isTruncated: parts.length > limit };
  }

  async listUploads(
    bucket: string,
    o: { prefix: string; afterKey: string | undefined; afterUploadId: string | undefined; limit: number },
  ) {
    await this.#s.bucket(bucket);
    const uploads = await this.#s.deps.repo.listUploads(bucket, { ...o, limit: o.limit + 1 });
    return { uploads: uploads.slice(0, o.limit), isTruncated: uploads.length > o.limit };
  }

  async #allParts(uploadId: string): Promise<PartRecord[]> {
    const out: PartRecord[] = [];
    for (let after = 0; ; ) {
      const page = await this.#s.deps.repo.listParts(uploadId, { after, limit: 1000 });
      out.push(...page);
      if (page.length < 1000) return out;
      after = page[page.length - 1]?.partNumber ?? MAX_PARTS;
    }
  }
}

export function requirePartNumber(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTS)
    throw invalidArgument(
      `Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`,
      "partNumber",
      String(n),
    );
}

const RANGE_FORM =
  "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy";

/**
 * `x-amz-copy-source-range` of a source of `size` bytes, as S3 reads it: only `bytes=first-last`
 * (inclusive), lying within the source; undefined (no header): the whole source.
 */
export function copySourceRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(header.trim());
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (m === null || !Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first > last)
    throw invalidArgument(RANGE_FORM, "x-amz-copy-source-range", header);
  if (first >= size)
    throw new S3Error(
      "InvalidRequest",
      400,
      "The specified copy range is invalid for the source object size",
    );
  if (last >= size)
    throw invalidArgument(
      `Range specified is not valid for source object of size: ${size}`,
      "x-amz-copy-source-range",
      header,
    );
  return { start: first, end: last };
}

const normalizeEtag = (etag: string) => etag.trim().replace(/^"|"$/g, "").toLowerCase();

/** The parts' bytes one after another, each read as it is reached. */
async function* concatenated(s: StorageService, parts: readonly PartRecord[]): AsyncIterable<Uint8Array> {
  for (const p of parts) {
    const stream: Readable = s.deps.blobs.read(p.blobId);
    for await (const chunk of stream) yield chunk as Uint8Array;
  }
}
