/**
 * The storage service: buckets and objects with S3's semantics over a metadata repository and
 * a blob store. A write streams its body into a pending blob, checks every digest the client
 * declared (Content-MD5, an x-amz-checksum-* header or trailer, the signed payload hash), and
 * only then commits the blob and writes its record (under the bucket's quota, `quota.ts`): a
 * refused or interrupted upload leaves nothing visible. Blobs a write released are deleted after
 * it committed. The S3 surface speaks the wire; multipart uploads are in `multipart.ts`; the
 * object event a write reports goes in with it (`notifications.ts`) and is delivered by
 * `event-delivery.ts`.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { Clock } from "../../shared/clock.js";
import { BlobSizeMismatch, type BlobStore, BlobTooLarge, type OpenBytes, type PendingBlob } from "./blobs.js";
import { algorithmsFor, type BodyChecks, checkDigests } from "./body-checks.js";
import { etagOf } from "./checksums.js";
import {
  entityTooLarge,
  noSuchBucket,
  noSuchKey,
  noSuchVersion,
  preconditionFailed,
  S3Error,
} from "./errors.js";
import { type ByteRange, type Conditions, evaluateConditions, parseRange } from "./http-rules.js";
import { INLINE_MAX_BYTES, type InlineBody, inlineBytes, readInline } from "./inline-body.js";
import { type ListPage, type ListRequest, listPage } from "./listing.js";
import type {
  BucketRecord,
  ContentHeaders,
  ObjectVersionRecord,
  StoredChecksum,
  Versioning,
} from "./model.js";
import { requireBucketName, requireKey } from "./names.js";
import type { ObjectEventName, ObjectNotifications, RequestOrigin } from "./notifications.js";
import { admitWrite, quotaRefused } from "./quota.js";
import type { Released, StorageRepo, UsageRefusal } from "./repo.js";

export type { BodyChecks } from "./body-checks.js";

/** S3's largest single PUT. */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;

export interface StorageDeps {
  readonly repo: StorageRepo;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
  /** Object events: without it, changes write none. */
  readonly notifications?: ObjectNotifications | undefined;
  /** Objects up to this size are kept in their record (`inline-body.ts`); INLINE_MAX_BYTES by default. */
  readonly inlineMaxBytes?: number | undefined;
}

export interface PutInput {
  readonly body: AsyncIterable<Uint8Array>;
  /** Content-Length, or x-amz-decoded-content-length for aws-chunked bodies. */
  readonly size: number | undefined;
  readonly headers: ContentHeaders;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly checks: BodyChecks;
  /** The request, for the object event it reports. */
  readonly origin?: RequestOrigin | undefined;
}

export interface PutResult {
  readonly etag: string;
  readonly versionId: string | undefined;
  readonly checksum: StoredChecksum | undefined;
}

export interface ReadResult {
  readonly version: ObjectVersionRecord;
  /** Undefined when the conditions answered 304, or for HEAD. */
  readonly range: ByteRange | undefined;
  readonly notModified: boolean;
}

export class StorageService {
  readonly #d: StorageDeps;

  constructor(d: StorageDeps) {
    this.#d = d;
  }

  get deps(): StorageDeps {
    return this.#d;
  }

  // Buckets.

  async createBucket(name: string): Promise<void> {
    requireBucketName(name);
    const created = await this.#d.repo.createBucket({
      name,
      createdAt: this.#d.clock.now(),
      versioning: "Unversioned",
      publicRead: false,
      settings: {},
    });
    if (!created)
      throw new S3Error(
        "BucketAlreadyOwnedByYou",
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
        { BucketName: name },
      );
  }

  async bucket(name: string): Promise<BucketRecord> {
    const b = await this.#d.repo.getBucket(name);
    if (b === undefined) throw noSuchBucket(name);
    return b;
  }

  listBuckets(): Promise<BucketRecord[]> {
    return this.#d.repo.listBuckets();
  }

  async deleteBucket(name: string): Promise<void> {
    const outcome = await this.#d.repo.deleteBucket(name);
    if (outcome === "missing") throw noSuchBucket(name);
    if (outcome === "not-empty")
      throw new S3Error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty", {
        BucketName: name,
      });
  }

  async setVersioning(name: string, status: string): Promise<void> {
    if (status !== "Enabled" && status !== "Suspended")
      throw new S3Error(
        "MalformedXML",
        400,
        `Versioning Status must be Enabled or Suspended, not "${status}".`,
      );
    const b = await this.bucket(name);
    if (b.versioning === "Unversioned" && status === "Suspended") return;
    await this.#d.repo.setVersioning(name, status as Versioning);
  }

  // Objects.

  /** `eventName`: the object event it reports (a copy's is `ObjectCreated:Copy`). */
  async putObject(
    bucket: string,
    key: string,
    input: PutInput,
    eventName: ObjectEventName = "ObjectCreated:Put",
  ): Promise<PutResult> {
    requireKey(key);
    const b = await this.bucket(bucket);
    const w = { size: input.size, contentType: input.headers.contentType };
    const admitted = await admitWrite(this.#d.repo, b, key, w, MAX_PUT_BYTES);
    const pending = await admitted.body((max) =>
      this.writeBody(input.body, input.size, input.checks, max, { inline: true }),
    );
    const inline = "inline" in pending ? (pending as InlineBody).inline : undefined;
    const blobId = inline === undefined ? await pending.commit() : undefined;
    const algorithm = input.checks.checksumAlgorithm;
    const checksum: StoredChecksum | undefined =
      algorithm === undefined
        ? undefined
        : { algorithm, value: pending.digests.checksums[algorithm] ?? "", type: "FULL_OBJECT" };
    const version: ObjectVersionRecord = {
      bucket,
      key,
      versionId: b.versioning === "Enabled" ? newVersionId() : "null",
      isDeleteMarker: false,
      size: pending.digests.size,
      etag: etagOf(pending.digests.md5),
      blobId,
      ...(inline === undefined ? {} : { body: inline }),
      headers: input.headers,
      userMetadata: input.userMetadata,
      checksum,
      partsCount: 0,
      tags: input.tags,
      createdAt: this.#d.clock.now(),
    };
    const event = this.eventFor(b, eventName, version, input.origin);
    await this.store(
      () => this.#d.repo.putVersion(version, event, admitted.guard),
      blobId === undefined ? [] : [blobId],
    );
    this.#d.notifications?.committed(event);
    return {
      etag: version.etag,
      versionId: b.versioning === "Unversioned" ? undefined : version.versionId,
      checksum,
    };
  }

  /**
   * Streams a body into a pending blob and checks what the client declared about it; a body
   * that is too large, shorter or longer than declared, or whose digests disagree is discarded
   * with S3's error. With `inline`, a small body of declared size is read into memory instead
   * (an `InlineBody`, for its record to hold).
   */
  async writeBody(
    body: AsyncIterable<Uint8Array>,
    size: number | undefined,
    checks: BodyChecks,
    maxBytes = MAX_PUT_BYTES,
    o: { inline?: boolean } = {},
  ): Promise<PendingBlob> {
    if (size !== undefined && size > maxBytes) throw entityTooLarge(size, maxBytes);
    let pending: PendingBlob;
    try {
      pending =
        o.inline && size !== undefined && size <= (this.#d.inlineMaxBytes ?? INLINE_MAX_BYTES)
          ? await readInline(body, size, algorithmsFor(checks))
          : await this.#d.blobs.write(body, {
              maxBytes,
              expectedSize: size,
              checksums: algorithmsFor(checks),
            });
    } catch (err) {
      if (err instanceof BlobTooLarge) throw entityTooLarge(maxBytes + 1, maxBytes);
      if (err instanceof BlobSizeMismatch)
        throw new S3Error(
          "IncompleteBody",
          400,
          "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        );
      throw err;
    }
    try {
      checkDigests(pending, checks);
    } catch (err) {
      await pending.discard();
      throw err;
    }
    return pending;
  }

  /** A version to read (GET or HEAD), its range and what its conditions say. */
  async read(
    bucket: string,
    key: string,
    o: { versionId?: string | undefined; range?: string | undefined; conditions: Conditions },
  ): Promise<ReadResult> {
    await this.bucket(bucket);
    const version = await this.#d.repo.getVersion(bucket, key, o.versionId);
    if (version === undefined)
      throw o.versionId === undefined ? noSuchKey(key) : noSuchVersion(key, o.versionId);
    if (version.isDeleteMarker) {
      if (o.versionId !== undefined)
        throw new S3Error(
          "MethodNotAllowed",
          405,
          "The specified method is not allowed against this resource.",
          {
            Method: "GET",
            ResourceType: "DeleteMarker",
          },
        );
      throw noSuchKey(key);
    }
    if (evaluateConditions(o.conditions, version.etag, version.createdAt) === "not-modified")
      return { version, range: undefined, notModified: true };
    return { version, range: parseRange(o.range, version.size), notModified: false };
  }

  /** The bytes of a version read, whole or in its range. */
  /**
   * The version's bytes (its range) as an open file, for a server to send from; undefined when
   * they came with the record (small objects) or the blob store keeps no files.
   */
  async openBytes(
    version: ObjectVersionRecord,
    range: ByteRange | undefined,
  ): Promise<OpenBytes | undefined> {
    const blobs = this.#d.blobs;
    if (blobs.openFile === undefined || inlineBytes(version, range) !== undefined) return undefined;
    const handle = await blobs.openFile(version.blobId ?? "");
    return range === undefined
      ? { handle, start: 0, length: version.size }
      : { handle, start: range.start, length: range.end - range.start + 1 };
  }

  stream(version: ObjectVersionRecord, range: ByteRange | undefined): Readable {
    const inline = inlineBytes(version, range);
    if (inline !== undefined) return Readable.from([inline], { objectMode: false });
    return this.#d.blobs.read(version.blobId ?? "", range);
  }

  /**
   * DeleteObject: without a version id, removes the key (unversioned) or puts a delete marker
   * (versioned); with one, removes that version. A missing key is not an error. `by`: whose
   * removal it reports, a request's (`ObjectRemoved:*`) or the lifecycle sweep's
   * (`LifecycleExpiration:*`).
   */
  async deleteObject(
    bucket: string,
    key: string,
    versionId: string | undefined,
    origin?: RequestOrigin,
    by: "request" | "lifecycle" = "request",
  ): Promise<{ versionId: string | undefined; deleteMarker: boolean }> {
    const b = await this.bucket(bucket);
    if (versionId !== undefined || b.versioning === "Unversioned") {
      const removal = { key, size: 0, etag: "", versionId };
      const name = by === "lifecycle" ? "LifecycleExpiration:Delete" : "ObjectRemoved:Delete";
      const event = this.eventFor(b, name, removal, origin);
      const { removed, blobIds } = await this.#d.repo.deleteVersion(bucket, key, versionId ?? "null", event);
      // The repository writes the event only if a version was removed.
      this.#d.notifications?.committed(removed && event);
      await this.#release({ blobIds });
      return { versionId, deleteMarker: removed?.isDeleteMarker ?? false };
    }
    const marker: ObjectVersionRecord = {
      bucket,
      key,
      versionId: b.versioning === "Enabled" ? newVersionId() : "null",
      isDeleteMarker: true,
      size: 0,
      etag: "",
      blobId: undefined,
      headers: EMPTY_HEADERS,
      userMetadata: {},
      checksum: undefined,
      partsCount: 0,
      tags: {},
      createdAt: this.#d.clock.now(),
    };
    const markerName =
      by === "lifecycle" ? "LifecycleExpiration:DeleteMarkerCreated" : "ObjectRemoved:DeleteMarkerCreated";
    const event = this.eventFor(b, markerName, marker, origin);
    await this.store(() => this.#d.repo.putVersion(marker, event), []);
    this.#d.notifications?.committed(event);
    return { versionId: marker.versionId, deleteMarker: true };
  }

  /**
   * The version a copy (CopyObject, UploadPartCopy) reads, after the copy-source conditions:
   * what a GET would answer 304 fails a copy (412), and a delete marker named by version id is
   * S3's InvalidRequest (a GET of one is 405).
   */
  async copySource(src: {
    bucket: string;
    key: string;
    versionId: string | undefined;
    conditions: Conditions;
  }): Promise<ObjectVersionRecord> {
    let read: ReadResult;
    try {
      read = await this.read(src.bucket, src.key, { versionId: src.versionId, conditions: src.conditions });
    } catch (err) {
      if (err instanceof S3Error && err.code === "MethodNotAllowed")
        throw new S3Error(
          "InvalidRequest",
          400,
          "The source of a copy request may not specifically refer to a delete marker by version id.",
        );
      throw err;
    }
    if (read.notModified)
      throw preconditionFailed(
        `x-amz-copy-source-${src.conditions.ifNoneMatch === undefined ? "If-Modified-Since" : "If-None-Match"}`,
      );
    return read.version;
  }

  /** CopyObject: the source's bytes into a new blob, its metadata kept or replaced. */
  async copyObject(
    src: { bucket: string; key: string; versionId: string | undefined; conditions: Conditions },
    dst: {
      bucket: string;
      key: string;
      replace: { headers: ContentHeaders; userMetadata: Readonly<Record<string, string>> } | undefined;
    },
    origin?: RequestOrigin,
  ): Promise<PutResult & { lastModified: number; sourceVersionId: string | undefined }> {
    requireKey(dst.key);
    const source = await this.copySource(src);
    if (
      src.bucket === dst.bucket &&
      src.key === dst.key &&
      src.versionId === undefined &&
      dst.replace === undefined
    )
      throw new S3Error(
        "InvalidRequest",
        400,
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    const algorithm = source.checksum?.type === "FULL_OBJECT" ? source.checksum.algorithm : undefined;
    const result = await this.putObject(
      dst.bucket,
      dst.key,
      {
        body: this.stream(source, undefined),
        size: source.size,
        headers: dst.replace?.headers ?? source.headers,
        userMetadata: dst.replace?.userMetadata ?? source.userMetadata,
        tags: source.tags,
        checks: { checksumAlgorithm: algorithm },
        origin,
      },
      "ObjectCreated:Copy",
    );
    return {
      ...result,
      lastModified: this.#d.clock.now(),
      sourceVersionId: source.versionId === "null" ? undefined : source.versionId,
    };
  }

  async list(bucket: string, r: ListRequest): Promise<ListPage> {
    await this.bucket(bucket);
    return listPage(this.#d.repo, bucket, r);
  }

  async putTags(
    bucket: string,
    key: string,
    versionId: string | undefined,
    tags: Record<string, string>,
  ): Promise<string | undefined> {
    const read = await this.read(bucket, key, { versionId, conditions: {} });
    if (!(await this.#d.repo.putTags(bucket, key, read.version.versionId, tags))) throw noSuchKey(key);
    return read.version.versionId === "null" ? undefined : read.version.versionId;
  }

  /**
   * The event row a change of a version writes with it, if the bucket's notifications want it;
   * the version id is S3's answer (none in an unversioned bucket). Used by multipart completion.
   */
  eventFor(
    b: BucketRecord,
    eventName: ObjectEventName,
    v: { key: string; size: number; etag: string; versionId: string | undefined },
    origin: RequestOrigin | undefined,
  ) {
    const versionId = b.versioning === "Unversioned" ? undefined : v.versionId;
    return this.#d.notifications?.eventFor(b, eventName, { ...v, versionId }, origin);
  }

  /**
   * Runs a metadata write of blobs `written` (this service's and multipart uploads'): if it
   * throws, or its quota's guard refused it (`QuotaExceeded`), they are deleted; what it
   * released is deleted after.
   */
  async store(write: () => Promise<Released | UsageRefusal>, written: readonly string[]): Promise<void> {
    let outcome: Released | UsageRefusal;
    try {
      outcome = await write();
    } catch (err) {
      await this.#d.blobs.delete(written).catch(() => undefined);
      throw err;
    }
    if ("refused" in outcome) {
      await this.#d.blobs.delete(written).catch(() => undefined);
      throw quotaRefused(outcome);
    }
    await this.#release(outcome);
  }

  async #release(released: Released): Promise<void> {
    if (released.blobIds.length === 0) return;
    await this.#d.blobs.delete(released.blobIds).catch((err: unknown) =>
      // The sweep at the next start removes what could not be deleted now.
      this.#d.log("storage: released blobs could not be deleted", {
        err: String(err),
        blobs: released.blobIds.length,
      }),
    );
  }
}

export const EMPTY_HEADERS: ContentHeaders = {
  contentType: undefined,
  contentEncoding: undefined,
  contentDisposition: undefined,
  contentLanguage: undefined,
  cacheControl: undefined,
  expires: undefined,
};

/** Version ids: 32 URL-safe characters, sortable by creation (time first). */
export function newVersionId(): string {
  const time = Date.now().toString(16).padStart(12, "0");
  return `${time}${randomBytes(12).toString("hex")}`.slice(0, 32);
}
