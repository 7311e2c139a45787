/**
 * Object storage as stored: buckets with their settings, object versions (an unversioned
 * bucket's objects are versions whose id is "null"), multipart uploads and their parts, and
 * the outbox of object events. Bytes are not here: each version or part names a blob in the
 * blob store (`blobs.ts`), written whole and verified before its record is. Times are epoch ms.
 */

export type Versioning = "Unversioned" | "Enabled" | "Suspended";

/** A bucket's settings that S3 sets and reads whole (each as S3's own configuration, as JSON). */
export type BucketSettingKind =
  | "cors"
  | "lifecycle"
  | "policy"
  | "notification"
  | "tagging"
  | "quota"
  | "transforms";

export interface BucketRecord {
  /** S3's rules: 3–63 of a-z 0-9 . -, starting and ending with a letter or digit. */
  readonly name: string;
  readonly createdAt: number;
  readonly versioning: Versioning;
  /** Anyone may read (GET/HEAD) its objects without signing. */
  readonly publicRead: boolean;
  /** JSON text of each setting present; absent: not configured. */
  readonly settings: Readonly<Partial<Record<BucketSettingKind, string>>>;
}

/** What a bucket holds now (latest versions and older ones alike), kept with every write. */
export interface BucketUsage {
  readonly objects: number;
  readonly bytes: number;
}

export type ChecksumAlgorithm = "CRC32" | "CRC32C" | "SHA1" | "SHA256" | "CRC64NVME";

export interface StoredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64, as the x-amz-checksum-* headers carry it; `…-N` for a composite of N parts. */
  readonly value: string;
  readonly type: "FULL_OBJECT" | "COMPOSITE";
}

/** The headers a version was written with, returned on GET and HEAD. */
export interface ContentHeaders {
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly contentDisposition: string | undefined;
  readonly contentLanguage: string | undefined;
  readonly cacheControl: string | undefined;
  readonly expires: string | undefined;
}

export interface ObjectVersionRecord {
  readonly bucket: string;
  /** At most 1,024 bytes of UTF-8. */
  readonly key: string;
  /** "null" in an unversioned (or suspended) bucket. */
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly size: number;
  /** Quoted, as S3 answers it: `"<md5 hex>"` or `"<md5 of part md5s>-N"`. */
  readonly etag: string;
  /** The blob holding its bytes; undefined for a delete marker and for a body kept inline. */
  readonly blobId: string | undefined;
  /**
   * The bytes of a small object (at most `INLINE_MAX_BYTES`), kept in its record rather than in
   * a blob: one write to store it, none to read it. Present only on a version read by key
   * (`getVersion`), never on a listing's.
   */
  readonly body?: Buffer | undefined;
  readonly headers: ContentHeaders;
  /** `x-amz-meta-*`, names lower-cased without the prefix. */
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly checksum: StoredChecksum | undefined;
  /** Parts of a multipart object; 0 for a single PUT. */
  readonly partsCount: number;
  readonly tags: Readonly<Record<string, string>>;
  /** Last-Modified. */
  readonly createdAt: number;
}

export interface MultipartUploadRecord {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly headers: ContentHeaders;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly checksumAlgorithm: ChecksumAlgorithm | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: number;
}

export interface PartRecord {
  readonly uploadId: string;
  /** 1 to 10,000. */
  readonly partNumber: number;
  readonly size: number;
  /** Quoted md5 hex. */
  readonly etag: string;
  readonly blobId: string;
  readonly checksum: StoredChecksum | undefined;
  readonly createdAt: number;
}

/**
 * An object event waiting to be delivered (to a function, to the bus): written in the same
 * transaction as the change it reports, removed once delivered, so none is lost to a crash.
 */
export interface ObjectEventRecord {
  readonly id: string;
  /** `ObjectCreated:Put`, `ObjectRemoved:Delete`, … */
  readonly eventName: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly versionId: string | undefined;
  /** Hex, ordering the events of one key. */
  readonly sequencer: string;
  readonly sourceIp: string;
  readonly requestId: string;
  readonly createdAt: number;
  readonly attempts: number;
  readonly dueAt: number;
}
