// The Runtime API over Nimbus's frames on a Unix socket (src/protocol/runtime-frames.ts): the
// same calls and answers as HTTP, one write and one read each. Offered by Nimbus to its own
// runtime through NIMBUS_RUNTIME_API_SOCKET; any other runtime uses HTTP.
import { connect, type Socket } from "node:net";
import {
  encodeFrame,
  encodeStreamChunk,
  FrameDecoder,
  MAX_STREAM_CHUNK_BYTES,
  type PlatformReply,
} from "../../protocol/runtime-frames.js";
import {
  type ApiResponse,
  ERROR_TYPE_HEADER,
  type ErrorBody,
  errorBody,
  headerSafe,
  type ResponseSink,
  type RuntimeApi,
} from "./runtime-api-client.js";

interface Pending {
  resolve(r: ApiResponse): void;
  reject(err: Error): void;
  /** A response that is also the next call: an answer frame is its refusal, the event its reply. */
  readonly thenNext?: boolean;
}

export class FramedRuntimeApiClient implements RuntimeApi {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();
  /** Replies come in the order of the calls. */
  readonly #pending: Pending[] = [];
  #failure: Error | undefined;
  constructor(socketPath: string) {
    this.#socket = connect(socketPath);
    this.#socket.setNoDelay(true);
    // The connection keeps the process alive only while a call waits for its reply, as Node's
    // http Agent does with an idle keep-alive socket. While the handler runs, no call waits, so
    // Node's beforeExit tells the runtime when the function's own work (its timers, sockets,
    // child processes) is done: a callback handler answers then (callbackWaitsForEmptyEventLoop),
    // and an async one whose promise can no longer settle fails at once instead of timing out.
    this.#socket.unref();
    this.#socket.on("data", (chunk: Buffer) => {
      let frames: ReturnType<FrameDecoder["push"]>;
      try {
        frames = this.#decoder.push(chunk);
      } catch (err) {
        this.#fail(err as Error);
        return;
      }
      for (const { header, body } of frames) {
        const reply = header as PlatformReply;
        const text = body.toString("utf8");
        // A refused response is dropped as postResponse's answer is: the platform has recorded
        // the invocation's failure itself, and the event follows.
        if (reply.op === "answer" && this.#pending[0]?.thenNext) continue;
        const response: ApiResponse =
          reply.op === "event"
            ? { status: 200, headers: reply.headers, body: text }
            : reply.op === "function"
              ? { status: 200, headers: {}, body: JSON.stringify(reply.env) }
              : { status: reply.status, headers: {}, body: text };
        this.#pending.shift()?.resolve(response);
        if (this.#pending.length === 0) this.#socket.unref();
      }
    });
    this.#socket.on("error", (err) => this.#fail(err));
    this.#socket.on("close", () => this.#fail(new Error("the Runtime API closed the connection")));
  }

  async next(functionInitMs?: number): Promise<ApiResponse> {
    const res = await this.#call(
      functionInitMs === undefined ? { op: "next" } : { op: "next", functionInitMs },
    );
    if (res.status !== 200) throw new Error(`next answered ${res.status}, expected 200: ${res.body}`);
    return res;
  }

  postResponse(requestId: string, json: string): Promise<ApiResponse> {
    return this.#call({ op: "response", requestId, headers: { "content-type": "application/json" } }, json);
  }

  /** A pooled runtime waits for the function chosen for it: resolves with the instance's environment. */
  async awaitFunction(): Promise<Record<string, string>> {
    const res = await this.#call({ op: "await-function" });
    if (res.status !== 200) throw new Error(`await-function answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as Record<string, string>;
  }

  /** Posts the response and asks for the next event in one frame; resolves with the event. */
  async respondThenNext(requestId: string, json: string): Promise<ApiResponse> {
    const res = await this.#call(
      { op: "response", requestId, headers: { "content-type": "application/json" }, next: true },
      json,
      true,
    );
    if (res.status !== 200) throw new Error(`next answered ${res.status}, expected 200: ${res.body}`);
    return res;
  }

  postError(requestId: string, error: unknown): Promise<ApiResponse> {
    const body = errorBody(error);
    return this.#call(
      { op: "error", requestId, headers: { [ERROR_TYPE_HEADER]: headerSafe(body.errorType) } },
      JSON.stringify(body),
    );
  }

  postInitError(error: unknown): Promise<ApiResponse> {
    const body = errorBody(error);
    return this.#call(
      { op: "init-error", headers: { [ERROR_TYPE_HEADER]: headerSafe(body.errorType) } },
      JSON.stringify(body),
    );
  }

  /**
   * Frames as the function writes: `stream-start` with the first bytes, a `stream-chunk` per
   * later write (a write over MAX_STREAM_CHUNK_BYTES as several), none of them answered, so
   * they hold nothing open; `stream-end` is the one call, answered as a response is.
   */
  openStream(requestId: string): ResponseSink {
    let started = false;
    const frameOf = (piece: Buffer, contentType: string): Buffer => {
      if (started) return encodeStreamChunk(piece);
      started = true;
      return encodeFrame({ op: "stream-start", requestId, headers: { "content-type": contentType } }, piece);
    };
    return {
      write: (bytes, contentType, done) => {
        if (this.#failure) return done(this.#failure);
        if (bytes.length === 0 && started) return done();
        let ok = true;
        let at = 0;
        do {
          const piece = bytes.subarray(at, at + MAX_STREAM_CHUNK_BYTES);
          ok = this.#socket.write(frameOf(piece, contentType));
          at += MAX_STREAM_CHUNK_BYTES;
        } while (at < bytes.length);
        if (ok) return done();
        // The socket's buffer is full: the handler's stream waits for it to drain.
        const resume = () => {
          this.#socket.off("close", resume);
          this.#socket.off("drain", resume);
          done(this.#failure);
        };
        this.#socket.once("drain", resume);
        this.#socket.once("close", resume);
      },
      end: (contentType, error: ErrorBody | undefined) => {
        if (!started && !this.#failure) this.#socket.write(frameOf(Buffer.alloc(0), contentType));
        return error
          ? this.#call({ op: "stream-end", errorType: headerSafe(error.errorType) }, JSON.stringify(error))
          : this.#call({ op: "stream-end" });
      },
    };
  }

  #call(header: object, body?: string, thenNext = false): Promise<ApiResponse> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) this.#socket.ref();
      this.#pending.push({ resolve, reject, thenNext });
      this.#socket.write(encodeFrame(header, body));
    });
  }

  /** Closes the connection; calls still waiting fail. */
  close(): void {
    this.#fail(new Error("the client was closed"));
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const p of this.#pending.splice(0)) p.reject(this.#failure);
    this.#socket.destroy();
  }
}
