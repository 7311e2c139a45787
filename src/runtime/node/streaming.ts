// Response streaming for the function: the `awslambda` global (`streamifyResponse`,
// `HttpResponseStream`) as aws-lambda-ric 4 exposes it, and the Writable a streaming handler
// writes to, whose bytes leave as they are written, and how a streaming handler's invocation
// settles. Only node built-ins: this runs in the sandbox.
import { Writable } from "node:stream";
import type { Handler } from "./handler-loader.js";
import { isThenable, type Outcome } from "./outcome.js";
import {
  type ApiResponse,
  type ErrorBody,
  errorBody,
  LambdaError,
  type ResponseSink,
} from "./runtime-api-client.js";

// The marks streamifyResponse leaves on a handler: aws-lambda-ric's, so that a handler wrapped
// by either runtime's global is recognised by both.
const HANDLER_STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HANDLER_HIGH_WATER_MARK = Symbol.for("aws.lambda.runtime.handler.streaming.highWaterMark");
const STREAM_RESPONSE = "response";

// Copied from src/protocol/response-stream.ts: the runtime must not import project code.
const HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
const PRELUDE_DELIMITER_BYTES = 8;
const DEFAULT_CONTENT_TYPE = "application/octet-stream";

type Marked = { [HANDLER_STREAMING]?: unknown; [HANDLER_HIGH_WATER_MARK]?: unknown };

/** Defines `globalThis.awslambda` before the function loads, unless the function's environment opts out (as on AWS). */
export function installAwsLambdaGlobal(env: NodeJS.ProcessEnv): void {
  const optOut = env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (optOut === "1" || optOut === "true") return;
  const g = globalThis as { awslambda?: object };
  g.awslambda = { ...g.awslambda, streamifyResponse, HttpResponseStream };
}

/** Marks `handler` as streaming: it is called as `(event, responseStream, context)`. */
function streamifyResponse<T extends object>(handler: T, options?: { highWaterMark?: number }): T {
  const marked = handler as T & Marked;
  marked[HANDLER_STREAMING] = STREAM_RESPONSE;
  if (typeof options?.highWaterMark === "number")
    marked[HANDLER_HIGH_WATER_MARK] = Number.parseInt(String(options.highWaterMark), 10);
  return handler;
}

/** Whether `handler` streams; checked once at load (a wrong mark fails init, as on AWS). */
export function checkStreamingMark(handler: object): void {
  const mark = (handler as Marked)[HANDLER_STREAMING];
  if (mark && mark !== STREAM_RESPONSE)
    throw new LambdaError("Runtime.MalformedStreamingHandler", "Only response streaming is supported.");
}

/** The stream settings of a streaming handler, or undefined for one that answers whole. */
export function streamingOf(handler: object): { highWaterMark: number | undefined } | undefined {
  const marked = handler as Marked;
  if (marked[HANDLER_STREAMING] !== STREAM_RESPONSE) return undefined;
  const hwm = Number(marked[HANDLER_HIGH_WATER_MARK]);
  return { highWaterMark: Number.isFinite(hwm) && hwm > 0 ? hwm : undefined };
}

/** For function URLs: a prelude (`{statusCode, headers, cookies}`) ahead of the body, then 8 NUL bytes. */
// biome-ignore lint/complexity/noStaticOnlyClass: Lambda's Node runtime exposes it as a class, which handlers may name.
export class HttpResponseStream {
  static from(stream: ResponseStream, prelude: unknown): ResponseStream {
    stream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const text = JSON.stringify(prelude);
    stream._onBeforeFirstWrite = (write) => {
      write(text);
      write(new Uint8Array(PRELUDE_DELIMITER_BYTES));
    };
    return stream;
  }
}

type WriteCallback = (error?: Error | null) => void;

/**
 * The handler's response stream. Each chunk goes to the platform when Node's Writable hands it
 * on, which is once the previous one left: `write` returns false past the high-water mark, and
 * 'drain' follows, as with any Writable. `end()` completes the invocation.
 */
export class ResponseStream extends Writable {
  /** Called with a raw write just before the first byte (or the end): what HttpResponseStream.from sets. */
  _onBeforeFirstWrite: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
  readonly #sink: ResponseSink;
  #contentType = DEFAULT_CONTENT_TYPE;
  #begun = false;
  #error: ErrorBody | undefined;
  #answer: Promise<ApiResponse> | undefined;
  #answered: () => void = () => {};
  /** Settles once the end went to the platform and it answered (or failed to). */
  readonly answered = new Promise<void>((resolve) => {
    this.#answered = resolve;
  });

  constructor(sink: ResponseSink, highWaterMark: number | undefined) {
    super(highWaterMark === undefined ? {} : { highWaterMark });
    this.#sink = sink;
  }

  /** The response's content type (default application/octet-stream); only before the first write. */
  setContentType(contentType: string): void {
    if (this.#begun)
      throw new LambdaError("Runtime.InvalidStreamingOperation", "Cannot set content-type, too late.");
    this.#contentType = contentType;
  }

  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    this.#begin((c) => super.write(c));
    // As aws-lambda-ric does: anything but text and bytes is written as its JSON.
    const data = typeof chunk === "string" || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
    return super.write(data, encoding as BufferEncoding, callback as WriteCallback);
  }

  override end(chunk?: unknown, encoding?: unknown, callback?: unknown): this {
    if (typeof chunk === "function") return super.end(chunk as () => void);
    if (chunk !== undefined && chunk !== null) {
      // Writable's own end() would write the chunk past the override above.
      if (typeof encoding === "function") this.write(chunk, undefined, undefined);
      else this.write(chunk, encoding, undefined);
    }
    const cb = (typeof encoding === "function" ? encoding : callback) as (() => void) | undefined;
    return cb ? super.end(cb) : super.end();
  }

  /** Ends the stream cut short by `error` (sent as the error trailers); a stream already ended keeps its end. */
  async fail(error: unknown): Promise<void> {
    if (!this.writableEnded && !this.destroyed) {
      this.#error = errorBody(error);
      this.end();
    }
    await this.answered;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#sink.write(chunk, this.#contentType, callback);
  }

  override _final(callback: WriteCallback): void {
    // A prelude with an empty body still goes ahead of the end.
    this.#begin((c) => this.#sink.write(Buffer.from(c), this.#contentType, () => {}));
    this.#sendEnd(this.#error);
    callback();
  }

  override _destroy(error: Error | null, callback: WriteCallback): void {
    // Destroyed before its end: the platform hears of it as an error, not as a complete response.
    if (!this.#answer)
      this.#sendEnd(
        errorBody(
          error ??
            new LambdaError(
              "Runtime.ResponseStreamDestroyed",
              "the response stream was destroyed before it ended",
            ),
        ),
      );
    callback(error);
  }

  #begin(write: (chunk: string | Uint8Array) => void): void {
    if (this.#begun) return;
    this.#begun = true;
    const hook = this._onBeforeFirstWrite;
    if (typeof hook === "function") hook(write);
  }

  #sendEnd(error: ErrorBody | undefined): void {
    if (this.#answer) return;
    this.#answer = this.#sink.end(this.#contentType, error);
    this.#answer.then(
      () => this.#answered(),
      () => this.#answered(),
    );
  }
}

/** Settles once the handler's promise has settled and its stream has finished (or failed). */
export function runStreamingHandler(
  runtime: { onDrain: (() => void) | undefined },
  handler: Handler,
  event: unknown,
  context: Record<string, unknown>,
  stream: ResponseStream,
): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      runtime.onDrain = undefined;
      resolve(outcome);
    };
    // Nothing left to run, and the handler's promise unsettled or its stream never ended.
    runtime.onDrain = () =>
      settle({
        ok: false,
        error: new LambdaError(
          "Runtime.NodeJsExit",
          stream.writableEnded
            ? "Runtime exited without providing a reason: the handler's promise never settled"
            : "Runtime exited without providing a reason: the handler's response stream was never ended",
        ),
      });
    stream.once("error", (error) => settle({ ok: false, error }));
    let returned: unknown;
    try {
      returned = handler(event, stream, context);
    } catch (err) {
      return settle({ ok: false, error: err });
    }
    if (!isThenable(returned)) {
      return settle({ ok: false, error: new Error("Streaming does not support non-async handlers.") });
    }
    returned.then(
      (result) => {
        if (result !== undefined) console.warn("Streaming handlers ignore return values.");
        // As on AWS, the invocation goes on until the stream ends, which the handler may do later.
        if (stream.writableFinished) settle({ ok: true, result: undefined });
        else stream.once("finish", () => settle({ ok: true, result: undefined }));
      },
      (error) => settle({ ok: false, error }),
    );
  });
}
