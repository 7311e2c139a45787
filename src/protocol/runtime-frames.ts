/**
 * Nimbus's own framing of the Runtime API, spoken on each instance's Unix socket by Nimbus's
 * Node runtime. The operations, request ids, header names, status codes and error bodies are
 * the Lambda Runtime API's; only the transport differs: a frame is
 *
 *   u32 frame length (bytes after this field) | u32 header length | header JSON | body bytes
 *
 * so a hand-over costs one write and one read instead of an HTTP exchange at each end. Every
 * other runtime keeps using HTTP on `AWS_LAMBDA_RUNTIME_API`. This file is bundled into the
 * runtime: Node built-ins only.
 */

/**
 * Runtime → platform. `headers` carries the Runtime API's request headers (lower case).
 * A response with `next: true` is also the runtime's next call, so an invocation costs one
 * frame each way: the platform answers the response only if it refuses it (any status but
 * 202), then sends the next event as it would for "next".
 */
export type RuntimeCall =
  /** `functionInitMs`: on the first call, how long loading the function took. */
  | { readonly op: "next"; readonly functionInitMs?: number }
  | {
      readonly op: "response" | "error";
      readonly requestId: string;
      readonly headers: Record<string, string>;
      readonly next?: boolean;
    }
  | { readonly op: "init-error"; readonly headers: Record<string, string> }
  /**
   * A streamed response (the HTTP API's `/response` in mode `streaming`), one frame per chunk
   * the function writes, none answered until the end. `stream-start` carries the headers
   * (`content-type`) and the first chunk, sent when the function first writes (or ends);
   * `stream-chunk` each later one; `stream-end` ends it and is answered as a response is
   * (`next` as there). With `errorType` the stream was cut short by that error, whose body
   * (`{errorType, errorMessage, trace}`) is the frame's: the HTTP API's error trailers.
   */
  | { readonly op: "stream-start"; readonly requestId: string; readonly headers: Record<string, string> }
  | { readonly op: "stream-chunk" }
  | { readonly op: "stream-end"; readonly errorType?: string; readonly next?: boolean }
  /**
   * A pooled runtime (`NIMBUS_POOLED=1`), started before any function was chosen for it, waits
   * for one: the answer is a "function" frame, sent when a cold start takes the runtime.
   */
  | { readonly op: "await-function" };

/** Platform → runtime: an event (the answer to "next") or the answer to a post. */
export type PlatformReply =
  | { readonly op: "event"; readonly headers: Record<string, string> }
  | { readonly op: "answer"; readonly status: number }
  /** The instance's whole environment: the runtime takes it as its own and loads the function. */
  | { readonly op: "function"; readonly env: Record<string, string> };

/**
 * The global through which a restored snapshot (`worker/snapshot.ts`) hands Nimbus's runtime
 * the function's handler, its init done: the runtime then loads nothing.
 */
export const SNAPSHOT_HANDLER_GLOBAL = "__nimbusSnapshotHandler";

/**
 * The global holding the runtime's start function when the runtime was loaded inside a
 * snapshot being built (it is bundled into the snapshot): the snapshot's main function calls
 * it after each restore, so that a restore parses no runtime code.
 */
export const SNAPSHOT_RUNTIME_GLOBAL = "__nimbusRuntimeStart";

/** Large enough for a 6 MB response plus headers; a longer frame is a protocol error. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

/**
 * The most a `stream-start` or `stream-chunk` frame carries: a larger write goes as several.
 * A stream is bounded as a whole (MAX_STREAMED_RESPONSE_BYTES), not by MAX_FRAME_BYTES; and a
 * frame about one socket read long is decoded without joining many reads into one buffer.
 */
export const MAX_STREAM_CHUNK_BYTES = 64 * 1024;

/** The header of every `stream-chunk` frame, encoded once rather than per chunk. */
const STREAM_CHUNK_HEADER = Buffer.from(JSON.stringify({ op: "stream-chunk" }));

/** A `stream-chunk` frame of `body` (at most MAX_STREAM_CHUNK_BYTES). */
export function encodeStreamChunk(body: Uint8Array): Buffer {
  const head = STREAM_CHUNK_HEADER;
  const frame = Buffer.allocUnsafe(8 + head.length + body.byteLength);
  frame.writeUInt32BE(4 + head.length + body.byteLength, 0);
  frame.writeUInt32BE(head.length, 4);
  head.copy(frame, 8);
  frame.set(body, 8 + head.length);
  return frame;
}

export function encodeFrame(header: object, body?: Buffer | string): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const bodyBytes = body === undefined ? 0 : Buffer.byteLength(body);
  const frame = Buffer.allocUnsafe(8 + head.length + bodyBytes);
  frame.writeUInt32BE(4 + head.length + bodyBytes, 0);
  frame.writeUInt32BE(head.length, 4);
  head.copy(frame, 8);
  if (typeof body === "string") frame.write(body, 8 + head.length, "utf8");
  else if (body) body.copy(frame, 8 + head.length);
  return frame;
}

export interface Frame {
  readonly header: unknown;
  readonly body: Buffer;
}

/** Turns a byte stream into frames; throws on a malformed or oversized frame. */
export class FrameDecoder {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      if (this.#buffer.length < 4) break;
      const length = this.#buffer.readUInt32BE(0);
      if (length < 4 || length > MAX_FRAME_BYTES)
        throw new Error(`frame of ${length} bytes is out of bounds`);
      if (this.#buffer.length < 4 + length) break;
      const headLength = this.#buffer.readUInt32BE(4);
      if (headLength > length - 4) throw new Error(`frame header of ${headLength} bytes overruns its frame`);
      const header = JSON.parse(this.#buffer.toString("utf8", 8, 8 + headLength)) as unknown;
      const body = this.#buffer.subarray(8 + headLength, 4 + length);
      frames.push({ header, body });
      this.#buffer = this.#buffer.subarray(4 + length);
    }
    return frames;
  }
}
