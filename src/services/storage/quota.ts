/**
 * A bucket's quota (its `quota` setting, JSON): how many bytes and objects it may hold, how
 * large one object may be, which content types it takes. A write is checked before its body is
 * read (its size is known but for a caller streaming a body of unknown length, which is cut at
 * the bucket's remaining room), and again once the body is on disk, just before its record is
 * written: a refused write leaves no blob. The second check reads the usage outside the
 * record's transaction, so writes racing for the last room may overshoot the limit by what
 * they carry between them; the next write is refused.
 */
import { invalidInput, type Problem } from "../../shared/errors.js";
import type { PendingBlob } from "./blobs.js";
import { entityTooLarge, S3Error } from "./errors.js";
import type { BucketRecord, BucketUsage } from "./model.js";
import type { StorageRepo } from "./repo.js";

export interface BucketQuota {
  /** Bytes the bucket may hold (every version counts). */
  readonly maxBytes?: number;
  /** Objects the bucket may hold (every version and delete marker counts). */
  readonly maxObjects?: number;
  /** The largest object (a single PUT, a copy, a completed multipart upload, each part). */
  readonly maxObjectBytes?: number;
  /** Media types (`image/png`) or whole types (`image/*`); a write without Content-Type is `application/octet-stream`. */
  readonly allowedContentTypes?: readonly string[];
}

const LIMITS = ["maxBytes", "maxObjects", "maxObjectBytes"] as const;
const FIELDS: readonly string[] = [...LIMITS, "allowedContentTypes"];
/** RFC 6838's restricted names. */
const NAME = "[a-z0-9][a-z0-9!#$&^_.+-]{0,126}";
const CONTENT_TYPE_PATTERN = new RegExp(`^${NAME}/(${NAME}|\\*)$`, "i");
const MAX_CONTENT_TYPES = 100;
/** What S3 stores for an object written without a Content-Type. */
const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/** A quota as a PUT's JSON body gives it, every problem listed in one `InvalidParameter`. */
export function parseQuota(body: Record<string, unknown>): BucketQuota {
  const problems: Problem[] = [];
  for (const key of Object.keys(body))
    if (!FIELDS.includes(key))
      problems.push({ field: "quota", value: key, rule: "key", expected: `be one of ${FIELDS.join(", ")}` });
  const quota: { -readonly [K in keyof BucketQuota]: BucketQuota[K] } = {};
  for (const field of LIMITS) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1)
      problems.push({ field, value, rule: "range", expected: "be a positive integer" });
    else quota[field] = value;
  }
  const types = body.allowedContentTypes;
  if (types !== undefined) {
    if (!Array.isArray(types) || types.length === 0 || types.length > MAX_CONTENT_TYPES)
      problems.push({
        field: "allowedContentTypes",
        value: types,
        rule: "length",
        expected: `be a list of 1 to ${MAX_CONTENT_TYPES} content types such as "image/*" or "application/pdf"`,
      });
    else {
      types.forEach((t: unknown, i) => {
        if (typeof t !== "string" || !CONTENT_TYPE_PATTERN.test(t))
          problems.push({
            field: `allowedContentTypes.${i}`,
            value: t,
            rule: "pattern",
            expected: 'be type/subtype or type/*, such as "application/pdf" or "image/*"',
          });
      });
      quota.allowedContentTypes = (types as string[]).map((t) => String(t).toLowerCase());
    }
  }
  if (problems.length > 0) throw invalidInput(problems);
  return quota;
}

/** The bucket's quota, undefined when it has none. */
export function quotaOf(b: BucketRecord): BucketQuota | undefined {
  const text = b.settings.quota;
  // Only `parseQuota`'s output is stored.
  return text === undefined ? undefined : (JSON.parse(text) as BucketQuota);
}

/** Refuses a Content-Type the quota does not allow (415 `UnsupportedMediaType`). */
export function checkContentType(
  b: BucketRecord,
  quota: BucketQuota | undefined,
  contentType: string | undefined,
) {
  const allowed = quota?.allowedContentTypes;
  if (allowed === undefined) return;
  const media = (contentType?.split(";")[0]?.trim() || DEFAULT_CONTENT_TYPE).toLowerCase();
  const type = media.split("/")[0] ?? "";
  if (allowed.some((a) => a === media || a === `${type}/*`)) return;
  throw new S3Error(
    "UnsupportedMediaType",
    415,
    `bucket "${b.name}" takes objects of content type ${allowed.join(", ")}; this one is "${media}"`,
    { BucketName: b.name, ContentType: media },
  );
}

/** The most bytes one part of a multipart upload may have: S3's `ceiling` or the bucket's object limit. */
export function maxPartBytes(b: BucketRecord, ceiling: number): number {
  return Math.min(ceiling, quotaOf(b)?.maxObjectBytes ?? ceiling);
}

/** A write the bucket's quota let through, to stream its body and check it again before its record is written. */
export interface AdmittedWrite {
  /**
   * Runs `write` with the most bytes the body may have, then checks the bucket's room again
   * with the body's real size: the pending blob, or the quota's error (the blob discarded).
   */
  body(write: (maxBytes: number) => Promise<PendingBlob>): Promise<PendingBlob>;
}

/**
 * Checks a write of `key` against the bucket's quota before its body is read: its Content-Type,
 * its size (when known) against the object limit (`EntityTooLarge`) and against the bucket's
 * room (`QuotaExceeded`). `ceiling` is S3's own limit for the write.
 */
export async function admitWrite(
  repo: Pick<StorageRepo, "usage" | "getVersion">,
  b: BucketRecord,
  key: string,
  w: { size: number | undefined; contentType: string | undefined },
  ceiling: number,
): Promise<AdmittedWrite> {
  const quota = quotaOf(b);
  if (quota === undefined) return { body: (write) => write(ceiling) };
  checkContentType(b, quota, w.contentType);
  const objectMax = Math.min(ceiling, quota.maxObjectBytes ?? ceiling);
  if (w.size !== undefined && w.size > objectMax) throw entityTooLarge(w.size, objectMax);
  if (quota.maxBytes === undefined && quota.maxObjects === undefined)
    return { body: (write) => write(objectMax) };
  const room = await roomOf(repo, b, key, quota);
  if (w.size !== undefined) room.check(w.size);
  const maxBytes = Math.min(objectMax, room.bytes);
  return {
    body: async (write) => {
      let pending: PendingBlob;
      try {
        pending = await write(maxBytes);
      } catch (err) {
        // A body of unknown length cut at the bucket's room, not at the object limit.
        if (err instanceof S3Error && err.code === "EntityTooLarge" && maxBytes < objectMax)
          throw quotaExceeded(
            b.name,
            "bytes",
            room.usage.bytes,
            quota.maxBytes ?? 0,
            `a body of more than ${fmt(maxBytes)} bytes does not fit`,
          );
        throw err;
      }
      try {
        (await roomOf(repo, b, key, quota)).check(pending.digests.size);
      } catch (err) {
        await pending.discard();
        throw err;
      }
      return pending;
    },
  };
}

interface Room {
  readonly usage: BucketUsage;
  /** The most bytes a new version of the key may have. */
  readonly bytes: number;
  /** Throws `QuotaExceeded` if a version of `size` bytes does not fit. */
  check(size: number): void;
}

/** The bucket's room for a new version of `key`: its usage, less the version it replaces. */
async function roomOf(
  repo: Pick<StorageRepo, "usage" | "getVersion">,
  b: BucketRecord,
  key: string,
  quota: BucketQuota,
): Promise<Room> {
  const usage = await repo.usage(b.name);
  // Outside a versioned bucket a write replaces the key's "null" version.
  const replaced = b.versioning === "Enabled" ? undefined : await repo.getVersion(b.name, key, "null");
  const objects = usage.objects - (replaced === undefined ? 0 : 1);
  const bytes = usage.bytes - (replaced?.size ?? 0);
  return {
    usage,
    bytes: quota.maxBytes === undefined ? Number.MAX_SAFE_INTEGER : Math.max(0, quota.maxBytes - bytes),
    check(size) {
      if (quota.maxObjects !== undefined && objects + 1 > quota.maxObjects)
        throw quotaExceeded(b.name, "objects", usage.objects, quota.maxObjects, "no room for one more");
      if (quota.maxBytes !== undefined && bytes + size > quota.maxBytes)
        throw quotaExceeded(
          b.name,
          "bytes",
          usage.bytes,
          quota.maxBytes,
          replaced === undefined
            ? `an object of ${fmt(size)} bytes does not fit`
            : `an object of ${fmt(size)} bytes does not fit, even in place of the ${fmt(replaced.size)} bytes it replaces`,
        );
    },
  };
}

/** 403 `QuotaExceeded`: `bucket "photos" holds 1,000 of at most 1,000 objects: no room for one more`. */
export function quotaExceeded(
  bucket: string,
  what: "bytes" | "objects",
  holds: number,
  max: number,
  why: string,
) {
  return new S3Error(
    "QuotaExceeded",
    403,
    `bucket "${bucket}" holds ${fmt(holds)} of at most ${fmt(max)} ${what}: ${why}`,
    { BucketName: bucket },
  );
}

const fmt = (n: number) => n.toLocaleString("en-US");
