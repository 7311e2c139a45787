/**
 * A bucket's quota (its `quota` setting, JSON): how many bytes and objects it may hold, how
 * large one object may be, which content types it takes. A write is checked before its body is
 * read (its size is known but for a caller streaming a body of unknown length, which is cut at
 * the bucket's remaining room), which refuses most writes that do not fit before a byte is
 * stored. The authority is the check of `maxBytes` and `maxObjects` in the transaction that
 * writes the record and moves the usage (the `UsageGuard` the write passes to the repository,
 * whose rule the early check applies too): however many writes race for the last room, the
 * limits hold exactly, and a write refused there has its blob deleted. A write is refused only
 * for what it adds: a delete never is, nor a replacement no larger than what it replaces (even
 * in a bucket over a lowered limit).
 */
import { invalidInput, type Problem } from "../../shared/errors.js";
import type { PendingBlob } from "./blobs.js";
import { entityTooLarge, S3Error } from "./errors.js";
import type { BucketRecord, BucketUsage } from "./model.js";
import type { StorageRepo, UsageGuard, UsageRefusal } from "./repo.js";

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

/** A write the bucket's quota let through, to stream its body and write its record under the quota's guard. */
export interface AdmittedWrite {
  /**
   * Runs `write` with the most bytes the body may have (the object limit, or the bucket's room
   * for a body of unknown length): the pending blob, or the quota's error.
   */
  body(write: (maxBytes: number) => Promise<PendingBlob>): Promise<PendingBlob>;
  /** For the repository's write of the record (`putVersion`, `completeUpload`): the quota's `usageGuard`. */
  readonly guard: UsageGuard | undefined;
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
  if (quota === undefined) return { body: (write) => write(ceiling), guard: undefined };
  checkContentType(b, quota, w.contentType);
  const objectMax = Math.min(ceiling, quota.maxObjectBytes ?? ceiling);
  if (w.size !== undefined && w.size > objectMax) throw entityTooLarge(w.size, objectMax);
  const guard = usageGuard(quota);
  if (guard === undefined) return { body: (write) => write(objectMax), guard: undefined };
  const room = await roomOf(repo, b, key, quota.maxBytes, guard);
  if (w.size !== undefined) {
    const refusal = room.refusal(w.size);
    if (refusal !== undefined) throw quotaRefused(refusal);
  }
  const maxBytes = Math.min(objectMax, room.bytes);
  return {
    guard,
    body: async (write) => {
      try {
        return await write(maxBytes);
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
    },
  };
}

/**
 * The guard of the quota's `maxBytes` and `maxObjects` (undefined without either): the one rule
 * by which both the repository's write and `admitWrite`'s early check judge. A write is refused
 * if it adds objects (bytes) and the bucket would then hold more than `maxObjects` (`maxBytes`),
 * objects checked first; one that adds none (a replacement of the same size or smaller) never
 * is, even past a lowered limit.
 */
export function usageGuard(quota: BucketQuota | undefined): UsageGuard | undefined {
  const { maxObjects, maxBytes } = quota ?? {};
  if (maxObjects === undefined && maxBytes === undefined) return undefined;
  const passes = (added: number, held: number, max: number | undefined): max is number =>
    max !== undefined && added > 0 && held + added > max;
  return {
    judge(usage, w) {
      const found = { bucket: w.bucket, usage, size: w.size, replacedBytes: w.replacedBytes };
      if (passes(w.delta.objects, usage.objects, maxObjects))
        return { refused: "objects", max: maxObjects, ...found };
      if (passes(w.delta.bytes, usage.bytes, maxBytes)) return { refused: "bytes", max: maxBytes, ...found };
      return undefined;
    },
  };
}

interface Room {
  readonly usage: BucketUsage;
  /** The most bytes a new version of the key may have. */
  readonly bytes: number;
  /** Why a version of `size` bytes would not fit, by the guard the repository's write will pass; undefined if it fits. */
  refusal(size: number): UsageRefusal | undefined;
}

/**
 * The bucket's room for a new version of `key` as it is now, judged by `guard` as the
 * repository's write will be: only what the write adds, net of the version it replaces, counts.
 */
async function roomOf(
  repo: Pick<StorageRepo, "usage" | "getVersion">,
  b: BucketRecord,
  key: string,
  maxBytes: number | undefined,
  guard: UsageGuard,
): Promise<Room> {
  const usage = await repo.usage(b.name);
  // Outside a versioned bucket a write replaces the key's "null" version.
  const replaced = b.versioning === "Enabled" ? undefined : await repo.getVersion(b.name, key, "null");
  const replacedBytes = replaced?.size;
  const held = usage.bytes - (replacedBytes ?? 0);
  return {
    usage,
    bytes: maxBytes === undefined ? Number.MAX_SAFE_INTEGER : Math.max(replacedBytes ?? 0, maxBytes - held),
    refusal: (size) =>
      guard.judge(usage, {
        bucket: b.name,
        size,
        delta: { objects: replaced === undefined ? 1 : 0, bytes: size - (replacedBytes ?? 0) },
        replacedBytes,
      }),
  };
}

/** 403 `QuotaExceeded` for a write the quota refused, before its body was read or by the repository's guard. */
export function quotaRefused(r: UsageRefusal): S3Error {
  if (r.refused === "objects")
    return quotaExceeded(r.bucket, "objects", r.usage.objects, r.max, "no room for one more");
  return quotaExceeded(
    r.bucket,
    "bytes",
    r.usage.bytes,
    r.max,
    r.replacedBytes === undefined
      ? `an object of ${fmt(r.size)} bytes does not fit`
      : `an object of ${fmt(r.size)} bytes does not fit, even in place of the ${fmt(r.replacedBytes)} bytes it replaces`,
  );
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
