/**
 * S3's checksums, computed incrementally over a stream: CRC32 (Node's zlib), CRC32C and
 * CRC64NVME (the AWS SDK's own implementations, so our values are the client's), SHA1 and
 * SHA256 (node:crypto), and MD5 for the ETag. Values are base64 of the big-endian digest, as the
 * `x-amz-checksum-*` headers carry them; MD5 is hex, as ETags carry it. Also the multipart forms:
 * the ETag of a multipart object and a COMPOSITE checksum (a checksum of the parts' checksums).
 */
import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";
import { Crc32c } from "@aws-crypto/crc32c";
import { Crc64Nvme } from "@aws-sdk/crc64-nvme";
import type { BlobDigests } from "./blobs.js";
import type { ChecksumAlgorithm } from "./model.js";

/** Every algorithm S3 accepts, in the order S3's documentation lists them. */
export const CHECKSUM_ALGORITHMS = [
  "CRC32",
  "CRC32C",
  "CRC64NVME",
  "SHA1",
  "SHA256",
] as const satisfies readonly ChecksumAlgorithm[];

/** The header (and trailer) that carries each algorithm's value. */
export const CHECKSUM_HEADERS: Readonly<Record<ChecksumAlgorithm, string>> = {
  CRC32: "x-amz-checksum-crc32",
  CRC32C: "x-amz-checksum-crc32c",
  CRC64NVME: "x-amz-checksum-crc64nvme",
  SHA1: "x-amz-checksum-sha1",
  SHA256: "x-amz-checksum-sha256",
};

/** Size of each algorithm's digest in bytes. */
export const CHECKSUM_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

/** A header value that names no algorithm S3 knows (S3 answers 400 `InvalidRequest`). */
export class InvalidChecksumAlgorithm extends Error {
  override readonly name = "InvalidChecksumAlgorithm";
}

/** A checksum or ETag that is not well formed (S3 answers 400 `InvalidDigest` / `InvalidPart`). */
export class InvalidChecksumValue extends Error {
  override readonly name = "InvalidChecksumValue";
}

/**
 * The algorithm named by `x-amz-sdk-checksum-algorithm` or `x-amz-checksum-algorithm`
 * (case-insensitive: SDKs send `CRC32`, some tools `crc32`).
 */
export function parseChecksumAlgorithm(
  value: string,
  header = "x-amz-sdk-checksum-algorithm",
): ChecksumAlgorithm {
  const upper = value.trim().toUpperCase();
  const found = CHECKSUM_ALGORITHMS.find((a) => a === upper);
  if (found === undefined) {
    throw new InvalidChecksumAlgorithm(
      `${header} "${value}" is not a checksum algorithm: expected one of ${CHECKSUM_ALGORITHMS.join(", ")}`,
    );
  }
  return found;
}

/** The algorithm whose value a header (or trailer) carries, by its lower-case name; undefined for any other. */
export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const lower = name.toLowerCase();
  return CHECKSUM_ALGORITHMS.find((a) => CHECKSUM_HEADERS[a] === lower);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether `value` is base64 of exactly one `algorithm` digest (what a header must carry). */
export function isWellFormedChecksum(algorithm: ChecksumAlgorithm, value: string): boolean {
  const bytes = CHECKSUM_BYTES[algorithm];
  return (
    value.length === Math.ceil(bytes / 3) * 4 &&
    BASE64.test(value) &&
    Buffer.from(value, "base64").length === bytes
  );
}

/** An incremental checksum: `update` with each piece, then `digest` once. */
export interface Hasher {
  update(bytes: Uint8Array): void;
  /** Base64 of the big-endian digest (async: the SDK's CRC64NVME answers a promise). */
  digest(): Promise<string>;
}

/** The algorithms S3 offers COMPOSITE multipart checksums for: CRC64NVME is FULL_OBJECT only. */
export const COMPOSITE_ALGORITHMS = [
  "CRC32",
  "CRC32C",
  "SHA1",
  "SHA256",
] as const satisfies readonly ChecksumAlgorithm[];
export type CompositeAlgorithm = (typeof COMPOSITE_ALGORITHMS)[number];

/** A hasher whose digest is ready at once: every algorithm but CRC64NVME. */
interface SyncHasher extends Hasher {
  digestNow(): string;
}

/** A fresh hasher for `algorithm`. */
export function createHasher(algorithm: ChecksumAlgorithm): Hasher {
  return algorithm === "CRC64NVME" ? new Crc64NvmeHasher() : createSyncHasher(algorithm);
}

function createSyncHasher(algorithm: CompositeAlgorithm): SyncHasher {
  switch (algorithm) {
    case "CRC32":
      return new Crc32Hasher();
    case "CRC32C":
      return new Crc32cHasher();
    case "SHA1":
      return new NodeHasher("sha1");
    case "SHA256":
      return new NodeHasher("sha256");
  }
}

/** The base64 checksum of `bytes`, whole. */
export function checksumOf(algorithm: ChecksumAlgorithm, bytes: Uint8Array): Promise<string> {
  const hasher = createHasher(algorithm);
  hasher.update(bytes);
  return hasher.digest();
}

abstract class SyncHasherBase implements SyncHasher {
  abstract update(bytes: Uint8Array): void;
  abstract digestNow(): string;
  async digest(): Promise<string> {
    return this.digestNow();
  }
}

class Crc32Hasher extends SyncHasherBase {
  #crc = 0;
  update(bytes: Uint8Array): void {
    this.#crc = crc32(bytes, this.#crc);
  }
  digestNow(): string {
    return uint32Base64(this.#crc);
  }
}

class Crc32cHasher extends SyncHasherBase {
  readonly #crc = new Crc32c();
  update(bytes: Uint8Array): void {
    this.#crc.update(bytes);
  }
  digestNow(): string {
    return uint32Base64(this.#crc.digest());
  }
}

class NodeHasher extends SyncHasherBase {
  readonly #hash: Hash;
  constructor(algorithm: "sha1" | "sha256") {
    super();
    this.#hash = createHash(algorithm);
  }
  update(bytes: Uint8Array): void {
    this.#hash.update(bytes);
  }
  digestNow(): string {
    return this.#hash.digest("base64");
  }
}

class Crc64NvmeHasher implements Hasher {
  readonly #crc = new Crc64Nvme();
  update(bytes: Uint8Array): void {
    this.#crc.update(bytes);
  }
  async digest(): Promise<string> {
    // The SDK's digest is async (a native implementation may back it); its bytes are big-endian.
    return Buffer.from(await this.#crc.digest()).toString("base64");
  }
}

function uint32Base64(value: number): string {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString("base64");
}

/**
 * MD5 and any set of checksums over one stream, with its size: what a blob write computes as
 * the bytes pass on their way to disk.
 */
export class Digester {
  readonly #md5 = createHash("md5");
  readonly #hashers: ReadonlyArray<readonly [ChecksumAlgorithm, Hasher]>;
  #size = 0;

  constructor(algorithms: readonly ChecksumAlgorithm[]) {
    this.#hashers = [...new Set(algorithms)].map((a) => [a, createHasher(a)] as const);
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  update(bytes: Uint8Array): void {
    this.#size += bytes.byteLength;
    this.#md5.update(bytes);
    for (const [, hasher] of this.#hashers) hasher.update(bytes);
  }

  /** The digests of everything seen; call once, at the end. */
  async digest(): Promise<BlobDigests> {
    const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
    for (const [algorithm, hasher] of this.#hashers) checksums[algorithm] = await hasher.digest();
    return { size: this.#size, md5: this.#md5.digest("hex"), checksums };
  }
}

const MD5_HEX = /^[0-9a-f]{32}$/i;

/** Quoted, as S3 answers it: the ETag of a single-part object with this MD5 (hex). */
export function etagOf(md5Hex: string): string {
  return `"${md5Hex}"`;
}

/**
 * The ETag of a multipart object, `"<md5 hex of the concatenated binary part MD5s>-N"`, from
 * its parts' ETags (quoted or not) or MD5s in hex, in part order.
 */
export function multipartEtag(partEtags: readonly string[]): string {
  if (partEtags.length === 0) throw new InvalidChecksumValue("a multipart ETag needs at least one part");
  const md5 = createHash("md5");
  for (const etag of partEtags) {
    const hex = etag.replace(/^"(.*)"$/, "$1");
    if (!MD5_HEX.test(hex)) {
      throw new InvalidChecksumValue(
        `part ETag ${etag} is not an MD5 in hex (32 hex digits, optionally quoted)`,
      );
    }
    md5.update(Buffer.from(hex, "hex"));
  }
  return `"${md5.digest("hex")}-${partEtags.length}"`;
}

/**
 * A COMPOSITE checksum: `algorithm` over the concatenated binary checksums of the parts (base64,
 * in part order), in base64, then `-N`. S3 has no COMPOSITE CRC64NVME (it is FULL_OBJECT only).
 */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partChecksums: readonly string[]): string {
  if (algorithm === "CRC64NVME") {
    throw new InvalidChecksumValue("CRC64NVME has no COMPOSITE form: S3 keeps only its FULL_OBJECT checksum");
  }
  if (partChecksums.length === 0) {
    throw new InvalidChecksumValue("a composite checksum needs at least one part");
  }
  const hasher = createSyncHasher(algorithm);
  for (const [i, value] of partChecksums.entries()) {
    if (!isWellFormedChecksum(algorithm, value)) {
      throw new InvalidChecksumValue(
        `part ${i + 1}'s ${algorithm} checksum "${value}" is not base64 of ${CHECKSUM_BYTES[algorithm]} bytes`,
      );
    }
    hasher.update(Buffer.from(value, "base64"));
  }
  return `${hasher.digestNow()}-${partChecksums.length}`;
}
