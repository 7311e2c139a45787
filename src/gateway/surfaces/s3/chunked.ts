/**
 * The `aws-chunked` body (Content-Encoding: aws-chunked) decoded as it streams: what client-s3
 * sends for any stream body by default (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, a checksum in the
 * trailer) and other SDKs send signed (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`).
 *
 *   unsigned: `<hex size>\r\n<data>\r\n` … `0\r\n` `<name>:<value>\r\n`… `\r\n`
 *   signed:   `<hex size>;chunk-signature=<sig>\r\n<data>\r\n` … `0;chunk-signature=<sig>\r\n`
 *             [`<name>:<value>\r\n`… `x-amz-trailer-signature:<sig>\r\n`] `\r\n`
 *
 * Each signed chunk's signature chains from the previous one, starting at the Authorization
 * header's (the seed); a signed chunk is held (at most one, up to `MAX_CHUNK_BYTES`) until its
 * signature is checked, so no unverified byte is yielded. Unsigned data passes through as it
 * arrives. Trailers are known once the body has been read to its end.
 */
import { createHash, createHmac, type Hash, timingSafeEqual } from "node:crypto";
import { signingKey } from "../../auth/sigv4.js";

export const STREAMING_PAYLOADS = [
  "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
] as const;
/** An `x-amz-content-sha256` value announcing an aws-chunked body. */
export type StreamingPayload = (typeof STREAMING_PAYLOADS)[number];

export function isStreamingPayload(contentSha256: string | undefined): contentSha256 is StreamingPayload {
  return STREAMING_PAYLOADS.some((p) => p === contentSha256);
}

/** The largest chunk accepted: SDKs send 64 KiB to a few MiB; a signed one is held whole until checked. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
const MAX_SIZE_LINE_BYTES = 256;
const MAX_TRAILER_BYTES = 16 * 1024;
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const TRAILER_SIGNATURE = "x-amz-trailer-signature";
const SIGNATURE = /^[0-9a-f]{64}$/;

/** What chunk signatures are checked with: the request's own SigV4 parts. */
export interface ChunkSigning {
  /** The Authorization header's signature, which the first chunk's chains from. */
  readonly seedSignature: string;
  /** The SigV4 signing key of the request's day, region and service. */
  readonly signingKey: Uint8Array;
  /** X-Amz-Date, `yyyymmddThhmmssZ`. */
  readonly amzDate: string;
  /** `yyyymmdd/region/s3/aws4_request`. */
  readonly scope: string;
}

/**
 * The chunk signing of a request whose Authorization header has been verified: its seed
 * signature and scope read from the header, its key derived from the secret.
 */
export function chunkSigningOf(authorization: string, amzDate: string, secret: string): ChunkSigning {
  const scope = /Credential=[^/,\s]+\/((\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request)/.exec(authorization);
  const seed = /Signature=([0-9a-f]{64})/.exec(authorization);
  if (!scope || !seed) throw new Error(`Authorization header has no SigV4 credential scope and signature`);
  const [, fullScope = "", day = "", region = "", service = ""] = scope;
  return {
    seedSignature: seed[1]!,
    signingKey: signingKey(secret, day, region, service),
    amzDate,
    scope: fullScope,
  };
}

export interface AwsChunkedOptions {
  /** The request's `x-amz-content-sha256`. */
  readonly payload: StreamingPayload;
  /** `x-amz-decoded-content-length`; the decoded bytes must be exactly this many. */
  readonly decodedLength: number | undefined;
  /** Required for signed payloads: null reads their signatures without checking them (auth off). */
  readonly signing?: ChunkSigning | null;
}

/** A failure S3 reports with `code` and HTTP `status`. */
export abstract class AwsChunkedError extends Error {
  abstract readonly code: "InvalidRequest" | "IncompleteBody" | "SignatureDoesNotMatch";
  abstract readonly status: 400 | 403;
}

/** The framing is malformed (`InvalidRequest`), or the body ended before its end (`IncompleteBody`). */
export class ChunkedFramingError extends AwsChunkedError {
  override readonly name = "ChunkedFramingError";
  readonly status = 400;
  constructor(
    readonly code: "InvalidRequest" | "IncompleteBody",
    message: string,
  ) {
    super(message);
  }
}

/** A chunk or trailer signature does not chain from the one before it. */
export class ChunkSignatureError extends AwsChunkedError {
  override readonly name = "ChunkSignatureError";
  readonly code = "SignatureDoesNotMatch";
  readonly status = 403;
}

/** The decoded body is not `x-amz-decoded-content-length` bytes long. */
export class DecodedLengthError extends AwsChunkedError {
  override readonly name = "DecodedLengthError";
  readonly code = "IncompleteBody";
  readonly status = 400;
}

const malformed = (message: string) => new ChunkedFramingError("InvalidRequest", message);
const endedEarly = (where: string) => new ChunkedFramingError("IncompleteBody", `body ended ${where}`);

/** Decodes `source`, an aws-chunked request body; iterate it once, then read its trailers. */
export function decodeAwsChunked(source: AsyncIterable<Uint8Array>, o: AwsChunkedOptions): AwsChunkedBody {
  return new AwsChunkedBody(source, o);
}

export class AwsChunkedBody implements AsyncIterable<Uint8Array> {
  readonly #source: AsyncIterable<Uint8Array>;
  readonly #o: AwsChunkedOptions;
  readonly #signed: boolean;
  #started = false;
  #trailers: ReadonlyMap<string, string> | undefined;

  constructor(source: AsyncIterable<Uint8Array>, o: AwsChunkedOptions) {
    this.#source = source;
    this.#o = o;
    this.#signed = o.payload !== "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    if (this.#signed && o.signing === undefined) {
      throw new Error(`${o.payload} needs the request's chunk signing, or null to skip checking it`);
    }
  }

  /** The trailing headers by lower-case name (`x-amz-trailer-signature` left out), once the body was read. */
  get trailers(): ReadonlyMap<string, string> {
    if (this.#trailers === undefined)
      throw new Error("trailers are known only once the whole body has been read");
    return this.#trailers;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#started) throw new Error("an aws-chunked body can be read only once");
    this.#started = true;
    return this.#decode();
  }

  async *#decode(): AsyncGenerator<Uint8Array, void, undefined> {
    const input = new Input(this.#source);
    const signing = this.#signed ? (this.#o.signing ?? undefined) : undefined;
    const expected = this.#o.decodedLength;
    let previous = signing?.seedSignature ?? "";
    let decoded = 0;
    try {
      for (let index = 0; ; index++) {
        const line = await input.line(MAX_SIZE_LINE_BYTES, `chunk ${index}'s size line`);
        if (line === undefined) throw endedEarly(`after ${index} chunks, before the final zero-length chunk`);
        const { size, signature } = this.#parseSizeLine(line, index);
        if (expected !== undefined && decoded + size > expected) {
          throw new DecodedLengthError(
            `body decodes to more than the ${expected} bytes x-amz-decoded-content-length declares`,
          );
        }
        const hash = signing ? createHash("sha256") : undefined;
        const held: Uint8Array[] = [];
        for (let remaining = size; remaining > 0; ) {
          const piece = await input.piece(remaining);
          if (piece === undefined)
            throw endedEarly(`${size - remaining} bytes into chunk ${index} of ${size} bytes`);
          remaining -= piece.byteLength;
          if (hash === undefined) yield piece;
          else {
            hash.update(piece);
            held.push(piece);
          }
        }
        if (signing) {
          const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${signing.amzDate}\n${signing.scope}\n${previous}\n${EMPTY_SHA256}\n${hexOf(hash)}`;
          previous = verify(signing, toSign, signature, `chunk ${index}'s signature`);
        }
        for (const piece of held) yield piece;
        decoded += size;
        if (size === 0) break;
        await input.crlf(`after chunk ${index}'s data`);
      }
      this.#trailers = await this.#readTrailers(input, signing, previous);
      if (!(await input.atEnd())) throw malformed("bytes follow the end of the aws-chunked body");
      if (expected !== undefined && decoded !== expected) {
        throw new DecodedLengthError(
          `body decodes to ${decoded} bytes, x-amz-decoded-content-length declares ${expected}`,
        );
      }
    } finally {
      await input.close();
    }
  }

  #parseSizeLine(line: string, index: number): { size: number; signature: string } {
    const m = /^([0-9a-fA-F]{1,16})(;.*)?$/.exec(line);
    if (!m) throw malformed(`chunk ${index}'s size line "${line.slice(0, 80)}" is not a hexadecimal size`);
    const size = Number.parseInt(m[1]!, 16);
    if (size > MAX_CHUNK_BYTES) {
      throw malformed(
        `chunk ${index} has ${size} bytes, over the limit of ${MAX_CHUNK_BYTES} bytes for one chunk`,
      );
    }
    if (!this.#signed) return { size, signature: "" }; // extensions carry nothing here
    const signature = /^;chunk-signature=([0-9a-f]{64})$/.exec(m[2] ?? "")?.[1];
    if (signature === undefined) {
      throw malformed(
        `chunk ${index}'s size line "${line.slice(0, 120)}" has no chunk-signature=<64 hex digits>`,
      );
    }
    return { size, signature };
  }

  /** The trailer lines up to the empty line that ends the body; a signed trailer's signature checked. */
  async #readTrailers(
    input: Input,
    signing: ChunkSigning | undefined,
    previous: string,
  ): Promise<ReadonlyMap<string, string>> {
    const trailers = new Map<string, string>();
    let canonical = "";
    let signature: string | undefined;
    let bytes = 0;
    for (;;) {
      const line = await input.line(MAX_TRAILER_BYTES, "the trailers");
      if (line === undefined) throw endedEarly("inside the trailers, before the empty line that ends them");
      if (line === "") break;
      bytes += line.length + 2;
      if (bytes > MAX_TRAILER_BYTES) throw malformed(`trailers are over ${MAX_TRAILER_BYTES} bytes`);
      if (this.#o.payload === "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
        throw malformed(`${this.#o.payload} has no trailers, got "${line.slice(0, 80)}"`);
      }
      if (signature !== undefined) throw malformed(`"${line.slice(0, 80)}" follows ${TRAILER_SIGNATURE}`);
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (colon <= 0 || name === "") throw malformed(`trailer "${line.slice(0, 80)}" is not name:value`);
      if (this.#signed && name === TRAILER_SIGNATURE) {
        signature = value;
        continue;
      }
      if (trailers.has(name)) throw malformed(`trailer ${name} is given twice`);
      trailers.set(name, value);
      canonical += `${name}:${value}\n`;
    }
    if (this.#o.payload === "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
      if (signature === undefined) throw malformed(`the trailers end without ${TRAILER_SIGNATURE}`);
      if (signing) {
        const hash = createHash("sha256").update(canonical).digest("hex");
        const toSign = `AWS4-HMAC-SHA256-TRAILER\n${signing.amzDate}\n${signing.scope}\n${previous}\n${hash}`;
        verify(signing, toSign, signature, "the trailer signature");
      }
    }
    return trailers;
  }
}

/** Checks `claimed` against the signature of `toSign`; answers it, the next chunk's previous signature. */
function verify(signing: ChunkSigning, toSign: string, claimed: string, what: string): string {
  const computed = createHmac("sha256", signing.signingKey).update(toSign).digest("hex");
  const ok = SIGNATURE.test(claimed) && timingSafeEqual(Buffer.from(computed), Buffer.from(claimed));
  if (!ok)
    throw new ChunkSignatureError(`${what} ${claimed.slice(0, 64)} does not chain from the one before it`);
  return claimed;
}

function hexOf(hash: Hash | undefined): string {
  return hash === undefined ? EMPTY_SHA256 : hash.digest("hex");
}

const EMPTY = new Uint8Array(0);
const LF = 0x0a;
const CR = 0x0d;

/** The raw body, read as lines (size lines, trailers) and as pieces of data that are never copied. */
class Input {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = EMPTY;
  #ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** Whether unread bytes remain, pulling more from the source if needed. */
  async #fill(): Promise<boolean> {
    while (this.#buf.byteLength === 0) {
      if (this.#ended) return false;
      const next = await this.#it.next();
      if (next.done) this.#ended = true;
      else this.#buf = next.value;
    }
    return true;
  }

  /** The next line without its CRLF; undefined if the body ended before its first byte. */
  async line(maxBytes: number, what: string): Promise<string | undefined> {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (;;) {
      if (!(await this.#fill())) {
        if (length === 0) return undefined;
        throw endedEarly(`inside ${what}`);
      }
      const lf = this.#buf.indexOf(LF);
      const end = lf < 0 ? this.#buf.byteLength : lf + 1;
      parts.push(this.#buf.subarray(0, end));
      length += end;
      this.#buf = this.#buf.subarray(end);
      if (length > maxBytes + 2) throw malformed(`${what} has a line longer than ${maxBytes} bytes`);
      if (lf >= 0) break;
    }
    const bytes = Buffer.concat(parts, length);
    if (length < 2 || bytes[length - 2] !== CR) throw malformed(`a line of ${what} ends without CRLF`);
    return bytes.toString("latin1", 0, length - 2);
  }

  /** Up to `maxBytes` of data as they arrived; undefined at the end of the body. */
  async piece(maxBytes: number): Promise<Uint8Array | undefined> {
    if (!(await this.#fill())) return undefined;
    const piece = this.#buf.byteLength <= maxBytes ? this.#buf : this.#buf.subarray(0, maxBytes);
    this.#buf = this.#buf.subarray(piece.byteLength);
    return piece;
  }

  async crlf(where: string): Promise<void> {
    for (const expected of [CR, LF]) {
      if (!(await this.#fill())) throw endedEarly(where);
      if (this.#buf[0] !== expected) throw malformed(`chunk data is not followed by CRLF ${where}`);
      this.#buf = this.#buf.subarray(1);
    }
  }

  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /** Lets the source go (a socket stops being read) when the decoding stops early. */
  async close(): Promise<void> {
    if (!this.#ended) await this.#it.return?.();
  }
}
