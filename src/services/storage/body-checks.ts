/**
 * What a client declared about a body (Content-MD5, a checksum in a header or a trailer, the
 * signed payload hash), the digests a write must compute to check it, and the check itself,
 * with S3's errors, once the body has been read.
 */
import type { PendingBlob } from "./blobs.js";
import { badDigest, S3Error } from "./errors.js";
import type { ChecksumAlgorithm } from "./model.js";

/** What a client declared about a body, checked once it has been read. */
export interface BodyChecks {
  /** Content-MD5, base64. */
  readonly contentMd5?: string | undefined;
  /** The algorithm asked for (x-amz-sdk-checksum-algorithm or the header present). */
  readonly checksumAlgorithm?: ChecksumAlgorithm | undefined;
  /** The expected value: from a header now, or from a trailer once the body was read. */
  readonly checksumValue?: (() => string | undefined) | undefined;
  /** x-amz-content-sha256 when it is a hash (not UNSIGNED-PAYLOAD or STREAMING-…). */
  readonly sha256Hex?: string | undefined;
}

/** The checksums a write computes: the one asked for, and SHA-256 when the signed payload hash must be checked. */
export function algorithmsFor(checks: BodyChecks): ChecksumAlgorithm[] {
  const out = new Set<ChecksumAlgorithm>();
  if (checks.checksumAlgorithm !== undefined) out.add(checks.checksumAlgorithm);
  if (checks.sha256Hex !== undefined) out.add("SHA256");
  return [...out];
}

/** Throws S3's error when a digest the client declared disagrees with the body read. */
export function checkDigests(pending: PendingBlob, checks: BodyChecks): void {
  const d = pending.digests;
  if (checks.contentMd5 !== undefined) {
    const given = Buffer.from(checks.contentMd5, "base64");
    if (given.length !== 16)
      throw new S3Error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
    if (given.toString("hex") !== d.md5) throw badDigest("Content-MD5");
  }
  if (checks.sha256Hex !== undefined) {
    // The signed payload hash: the body must be the one that was signed.
    const computed = Buffer.from(d.checksums.SHA256 ?? "", "base64").toString("hex");
    if (computed !== checks.sha256Hex.toLowerCase())
      throw new S3Error(
        "XAmzContentSHA256Mismatch",
        400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
  }
  const algorithm = checks.checksumAlgorithm;
  if (algorithm !== undefined) {
    const expected = checks.checksumValue?.();
    const computed = d.checksums[algorithm];
    if (expected !== undefined && expected !== computed)
      throw badDigest(`x-amz-checksum-${algorithm.toLowerCase()}`);
  }
}
