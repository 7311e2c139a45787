/**
 * Object storage's metadata (SQLite and PostgreSQL, `store/`; one contract suite,
 * `store/contract/storage.contract.ts`). Each write that replaces or removes bytes answers the
 * blobs no record names any more, for the caller to delete after the commit (a crash in
 * between leaves an unreferenced blob, which the blob store's sweep removes; never a record
 * naming a missing blob). A write that reports an object event inserts it in the same
 * transaction. A bucket's usage moves with every write, in that transaction; a write given a
 * `UsageGuard` is judged against the bucket's usage in that transaction too, so that a quota
 * holds exactly however many writes race for its last room.
 */
import type {
  BucketRecord,
  BucketSettingKind,
  BucketUsage,
  MultipartUploadRecord,
  ObjectEventRecord,
  ObjectVersionRecord,
  PartRecord,
  Versioning,
} from "./model.js";

/** What a write removed: blobs to delete once it committed. */
export interface Released {
  readonly blobIds: readonly string[];
}

/**
 * A guarded write as its guard judges it: the version it stores and what it would move the
 * bucket's usage by.
 */
export interface GuardedWrite {
  readonly bucket: string;
  /** The size of the version it stores. */
  readonly size: number;
  /**
   * What it adds to the bucket's usage, net of the version it replaces: objects 1, or 0 for a
   * replacement; bytes its size less the replaced version's (negative when it frees some).
   */
  readonly delta: { readonly objects: number; readonly bytes: number };
  /** The size of the version it replaces (an unversioned key's "null" one), if any. */
  readonly replacedBytes: number | undefined;
}

/**
 * The check a write's transaction makes of the bucket's usage (a bucket's quota, `quota.ts`,
 * holds the rule). The store calls `judge` exactly once in every write given the guard, after
 * finding the version the write replaces and before storing anything; a write without one is
 * never judged. The usage it passes is the bucket's before the write, as that transaction sees it:
 * guarded writes of a bucket take turns from there to their commit, so it counts every one
 * committed before.
 */
export interface UsageGuard {
  /** The refusal of `write` from `usage`, which undoes the write whole; undefined lets it through. */
  judge(usage: BucketUsage, write: GuardedWrite): UsageRefusal | undefined;
}

/** A guarded write refused: nothing was written, no usage moved. Its fields are for the message. */
export interface UsageRefusal {
  /** The limit it would have passed. */
  readonly refused: "objects" | "bytes";
  readonly bucket: string;
  /** That limit. */
  readonly max: number;
  /** The bucket's usage the write found. */
  readonly usage: BucketUsage;
  /** The size of the version it was to store. */
  readonly size: number;
  /** The size of the version it was to replace (an unversioned key's "null" one), if any. */
  readonly replacedBytes: number | undefined;
}

export interface StorageRepo {
  // Buckets.
  /** Inserts it; false (nothing written) if the name is taken. */
  createBucket(bucket: BucketRecord): Promise<boolean>;
  getBucket(name: string): Promise<BucketRecord | undefined>;
  /** Every bucket, by name (bytes). */
  listBuckets(): Promise<BucketRecord[]>;
  /** "not-empty" (nothing written) while it holds a version or an upload. */
  deleteBucket(name: string): Promise<"deleted" | "missing" | "not-empty">;
  setVersioning(name: string, versioning: Versioning): Promise<boolean>;
  setPublicRead(name: string, publicRead: boolean): Promise<boolean>;
  /** Sets (JSON text) or removes (undefined) one setting; false if the bucket is gone. */
  putSetting(name: string, kind: BucketSettingKind, json: string | undefined): Promise<boolean>;
  usage(name: string): Promise<BucketUsage>;

  // Objects.
  /**
   * Stores `version` as the key's latest. In an unversioned or suspended bucket (version id
   * "null") it replaces the key's "null" version, whose blob is released; in a versioned one
   * it is added beside the others. `event`, when given, is inserted with it. With `guard`, the
   * refusal if the usage it adds would pass a limit (only then).
   */
  putVersion(
    version: ObjectVersionRecord,
    event?: ObjectEventRecord,
    guard?: UsageGuard,
  ): Promise<Released | UsageRefusal>;
  /** The key's latest version (a delete marker included), or the one named; undefined if none. */
  getVersion(bucket: string, key: string, versionId?: string): Promise<ObjectVersionRecord | undefined>;
  /**
   * Removes the version named (its blob released), or, without one, the key's "null" version
   * (unversioned) — in a versioned bucket the caller puts a delete marker instead. Answers the
   * version removed, if any.
   */
  deleteVersion(
    bucket: string,
    key: string,
    versionId: string,
    event?: ObjectEventRecord,
  ): Promise<{ removed: ObjectVersionRecord | undefined } & Released>;
  /** Replaces a version's tags; false if it is gone. */
  putTags(
    bucket: string,
    key: string,
    versionId: string,
    tags: Readonly<Record<string, string>>,
  ): Promise<boolean>;
  /**
   * Latest versions that are not delete markers, keys starting with `prefix` and after
   * `after` (exclusive), in byte order of key, at most `limit`.
   */
  listLatest(
    bucket: string,
    o: { prefix: string; after: string | undefined; limit: number },
  ): Promise<ObjectVersionRecord[]>;
  /**
   * Every version (delete markers too), keys starting with `prefix`, by key (bytes) then newest
   * first, after the pair (`afterKey`, `afterVersionId`) — or after every version of
   * `afterKey` when no version id is given — at most `limit`.
   */
  listVersions(
    bucket: string,
    o: { prefix: string; afterKey: string | undefined; afterVersionId: string | undefined; limit: number },
  ): Promise<ObjectVersionRecord[]>;

  // Multipart uploads.
  createUpload(upload: MultipartUploadRecord): Promise<void>;
  getUpload(uploadId: string): Promise<MultipartUploadRecord | undefined>;
  /** Uploads of a bucket by key (bytes) then creation, keys starting with `prefix`, after the marker pair, at most `limit`. */
  listUploads(
    bucket: string,
    o: { prefix: string; afterKey: string | undefined; afterUploadId: string | undefined; limit: number },
  ): Promise<MultipartUploadRecord[]>;
  /** Stores the part, replacing one of the same number (released); "no-upload" if the upload is gone. */
  putPart(part: PartRecord): Promise<Released | "no-upload">;
  /** Parts by number after `after`, at most `limit`. */
  listParts(uploadId: string, o: { after: number; limit: number }): Promise<PartRecord[]>;
  /**
   * Completes the upload: `version` (whose blob the caller assembled from `usedParts`) becomes
   * the key's latest as `putVersion` would, and the upload and all its parts go, in one
   * transaction. Released: every part's blob, and the replaced version's. "no-upload" if it was
   * completed or aborted meanwhile, or `guard`'s refusal (as `putVersion`'s): nothing written,
   * the upload left as it was.
   */
  completeUpload(
    uploadId: string,
    version: ObjectVersionRecord,
    event?: ObjectEventRecord,
    guard?: UsageGuard,
  ): Promise<Released | UsageRefusal | "no-upload">;
  /** Removes the upload and its parts; their blobs released. "no-upload" if it is gone. */
  abortUpload(uploadId: string): Promise<Released | "no-upload">;

  // The outbox of object events.
  /** Events due at or before `at`, oldest first, at most `limit`. */
  dueEvents(at: number, limit: number): Promise<ObjectEventRecord[]>;
  /** Records a failed attempt: attempts + 1, due again at `dueAt`. */
  retryEvent(id: string, dueAt: number): Promise<void>;
  deleteEvent(id: string): Promise<void>;

  /** Every blob id a record names (versions and parts), for the blob store's sweep of orphans. */
  referencedBlobs(): AsyncIterable<string>;
}
