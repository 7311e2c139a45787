/**
 * An aws-chunked request body de-chunked by `chunked.ts`, with the request's own signing when
 * its chunks are signed (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`): the seed signature
 * and scope of its verified Authorization header, the key derived from the platform's secret.
 * With auth off, signed chunks are read without being checked.
 */
import { S3Error } from "../../../services/storage/errors.js";
import {
  AwsChunkedError,
  type ChunkSigning,
  chunkSigningOf,
  decodeAwsChunked,
  isStreamingPayload,
} from "./chunked.js";
import type { S3Deps } from "./deps.js";
import type { S3Call } from "./request.js";

export interface Dechunked {
  readonly body: AsyncIterable<Uint8Array>;
  /** A trailer's value by lower-case name, once the body has been read. */
  trailer(name: string): string | undefined;
}

export function dechunk(call: S3Call, source: AsyncIterable<Uint8Array>, d: S3Deps): Dechunked {
  const payload = call.headers.get("x-amz-content-sha256") ?? undefined;
  if (!isStreamingPayload(payload))
    throw new S3Error(
      "InvalidRequest",
      400,
      `An aws-chunked body needs x-amz-content-sha256 STREAMING-UNSIGNED-PAYLOAD-TRAILER or STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], not "${payload ?? ""}".`,
    );
  const decodedLength = Number(call.headers.get("x-amz-decoded-content-length"));
  const body = decodeAwsChunked(source, {
    payload,
    decodedLength: Number.isFinite(decodedLength) ? decodedLength : undefined,
    signing: payload === "STREAMING-UNSIGNED-PAYLOAD-TRAILER" ? undefined : signingOf(call, d),
  });
  return { body, trailer: (name) => body.trailers.get(name) };
}

/** The signing signed chunks are checked with; null (not checked) when the request was not verified by its signature. */
function signingOf(call: S3Call, d: S3Deps): ChunkSigning | null {
  const p = call.principal;
  if (p.kind !== "platform" || p.via !== "sigv4") return null;
  const authorization = call.headers.get("authorization");
  const secret = d.s3Secret?.(p.accessKeyId);
  if (authorization === null || secret === undefined)
    throw new S3Error(
      "AccessDenied",
      403,
      "Signed aws-chunked bodies must be signed in the Authorization header.",
    );
  return chunkSigningOf(authorization, call.headers.get("x-amz-date") ?? "", secret);
}

/** A de-chunking failure as S3's error; anything else as it was. */
export function chunkedErrorToS3(err: unknown): unknown {
  return err instanceof AwsChunkedError ? new S3Error(err.code, err.status, err.message) : err;
}
