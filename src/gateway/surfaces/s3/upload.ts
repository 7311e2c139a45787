/**
 * A request's body as S3 takes it: streamed from Node's request (never held whole), de-chunked
 * when it travels as `aws-chunked` (`x-amz-content-sha256: STREAMING-…`), with what the client
 * declared about it for the storage service to check once it is read: Content-MD5, the signed
 * payload hash, and an `x-amz-checksum-*` header or trailer. Small XML bodies (DeleteObjects,
 * CompleteMultipartUpload, tagging) are read whole, with a limit, and checked here.
 */
import { createHash } from "node:crypto";
import {
  algorithmOfHeader,
  CHECKSUM_ALGORITHMS,
  CHECKSUM_HEADERS,
  checksumOf,
  InvalidChecksumAlgorithm,
  isWellFormedChecksum,
  parseChecksumAlgorithm,
} from "../../../services/storage/checksums.js";
import { badDigest, S3Error } from "../../../services/storage/errors.js";
import type { ChecksumAlgorithm } from "../../../services/storage/model.js";
import type { BodyChecks } from "../../../services/storage/storage.js";
import { dechunk } from "./chunked-body.js";
import type { S3Deps } from "./deps.js";
import type { S3Call } from "./request.js";

export interface UploadBody {
  readonly body: AsyncIterable<Uint8Array>;
  /** The decoded size (Content-Length, or x-amz-decoded-content-length for aws-chunked). */
  readonly size: number | undefined;
  readonly checks: BodyChecks;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** The request's bytes as they arrive (empty without a body). */
export function rawBody(call: S3Call): AsyncIterable<Uint8Array> {
  if (call.incoming) return call.incoming;
  const body = call.raw.body as AsyncIterable<Uint8Array> | null;
  return body ?? (async function* () {})();
}

/** The body of a PUT (PutObject, UploadPart) with what the client declared about it. */
export function uploadBody(call: S3Call, d: S3Deps): UploadBody {
  const h = call.headers;
  const payload = h.get("x-amz-content-sha256") ?? "";
  const chunked =
    payload.startsWith("STREAMING-") ||
    (h.get("content-encoding") ?? "").split(",").some((e) => e.trim().toLowerCase() === "aws-chunked");
  const declared = checksumDeclared(h);
  let body = rawBody(call);
  let size: number | undefined;
  let trailer: (() => string | undefined) | undefined;
  if (chunked) {
    size = lengthHeader(h, "x-amz-decoded-content-length");
    if (size === undefined)
      throw new S3Error(
        "MissingContentLength",
        411,
        "You must provide x-amz-decoded-content-length with an aws-chunked body.",
      );
    const decoded = dechunk(call, body, d);
    body = decoded.body;
    if (declared.trailer !== undefined) {
      const name = CHECKSUM_HEADERS[declared.trailer];
      trailer = () => {
        const value = decoded.trailer(name);
        if (value === undefined)
          throw new S3Error(
            "InvalidRequest",
            400,
            `x-amz-trailer names ${name}, but the body's trailers do not carry it.`,
          );
        return value;
      };
    }
  } else {
    size = lengthHeader(h, "content-length");
    if (size === undefined && h.get("transfer-encoding") !== null)
      throw new S3Error("MissingContentLength", 411, "You must provide the Content-Length HTTP header.");
    size ??= 0;
  }
  const value = declared.value;
  return {
    body,
    size,
    checks: {
      contentMd5: h.get("content-md5") ?? undefined,
      checksumAlgorithm: declared.algorithm,
      checksumValue: value !== undefined ? () => value : trailer,
      sha256Hex: HEX_SHA256.test(payload) ? payload.toLowerCase() : undefined,
    },
  };
}

/** A length header's value: a non-negative integer, or undefined when absent. */
function lengthHeader(h: Headers, name: string): number | undefined {
  const raw = h.get(name);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw.trim()))
    throw new S3Error("InvalidArgument", 400, `${name} must be a non-negative integer, got "${raw}".`, {
      ArgumentName: name,
      ArgumentValue: raw,
    });
  return Number(raw);
}

interface Declared {
  readonly algorithm: ChecksumAlgorithm | undefined;
  /** The value of an `x-amz-checksum-*` header. */
  readonly value: string | undefined;
  /** The algorithm whose value comes as a trailer (`x-amz-trailer`). */
  readonly trailer: ChecksumAlgorithm | undefined;
}

/**
 * The checksum a request declares: the algorithm asked for (`x-amz-sdk-checksum-algorithm`, or
 * `x-amz-checksum-algorithm` on CreateMultipartUpload), a value in its header, or a trailer that
 * will carry it. Two values, a malformed one, or an algorithm at odds with the value sent is
 * S3's InvalidRequest.
 */
export function checksumDeclared(h: Headers): Declared {
  let asked: ChecksumAlgorithm | undefined;
  for (const name of ["x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"]) {
    const v = h.get(name);
    if (v === null) continue;
    try {
      asked = parseChecksumAlgorithm(v, name);
    } catch (err) {
      if (err instanceof InvalidChecksumAlgorithm) throw new S3Error("InvalidRequest", 400, err.message);
      throw err;
    }
  }
  const present = CHECKSUM_ALGORITHMS.filter((a) => h.has(CHECKSUM_HEADERS[a]));
  if (present.length > 1)
    throw new S3Error(
      "InvalidRequest",
      400,
      "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    );
  const inHeader = present[0];
  const trailerName = h.get("x-amz-trailer");
  const trailer = trailerName === null ? undefined : algorithmOfHeader(trailerName.trim());
  if (trailerName !== null && trailer === undefined)
    throw new S3Error(
      "InvalidRequest",
      400,
      `The value specified in the x-amz-trailer header is not supported: "${trailerName}".`,
    );
  const sent = inHeader ?? trailer;
  if (asked !== undefined && sent !== undefined && asked !== sent)
    throw new S3Error(
      "InvalidRequest",
      400,
      `Value for x-amz-sdk-checksum-algorithm header is invalid: it names ${asked}, the checksum sent is ${sent}.`,
    );
  let value: string | undefined;
  if (inHeader !== undefined) {
    value = h.get(CHECKSUM_HEADERS[inHeader]) ?? "";
    if (!isWellFormedChecksum(inHeader, value))
      throw new S3Error("InvalidRequest", 400, `Value for ${CHECKSUM_HEADERS[inHeader]} header is invalid.`);
  }
  return { algorithm: asked ?? sent, value, trailer: inHeader === undefined ? trailer : undefined };
}

/**
 * A small body (an XML document) read whole, at most `limit` bytes, and checked against the
 * digests the client declared: Content-MD5, a checksum header or trailer, the signed hash.
 */
export async function readSmallBody(call: S3Call, d: S3Deps, limit: number): Promise<Buffer> {
  const up = uploadBody(call, d);
  if (up.size !== undefined && up.size > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of up.body) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(limit);
    chunks.push(Buffer.from(chunk));
  }
  const body = Buffer.concat(chunks);
  const c = up.checks;
  if (c.contentMd5 !== undefined) {
    const given = Buffer.from(c.contentMd5, "base64");
    if (given.length !== 16)
      throw new S3Error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
    if (!given.equals(createHash("md5").update(body).digest())) throw badDigest("Content-MD5");
  }
  if (c.sha256Hex !== undefined && createHash("sha256").update(body).digest("hex") !== c.sha256Hex)
    throw new S3Error(
      "XAmzContentSHA256Mismatch",
      400,
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  const expected = c.checksumValue?.();
  if (
    c.checksumAlgorithm !== undefined &&
    expected !== undefined &&
    (await checksumOf(c.checksumAlgorithm, body)) !== expected
  )
    throw badDigest(`x-amz-checksum-${c.checksumAlgorithm.toLowerCase()}`);
  return body;
}

const tooLarge = (limit: number) =>
  new S3Error(
    "MaxMessageLengthExceeded",
    400,
    `Your request was too big: this operation takes a body of at most ${limit} bytes.`,
  );
