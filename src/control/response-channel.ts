/**
 * The control plane's end of one streamed response: the sink a worker writes the function's
 * chunks to, and the ReadableStream a caller reads them from, with backpressure between them.
 */
import type { ResponseStreamSink } from "../protocol/invoke.js";

/** How much the channel holds for a slow reader before it asks the worker to stop reading. */
const HIGH_WATER_MARK_BYTES = 64 * 1024;

/** The error a streamed response's body fails with when its invocation failed. */
export class StreamedInvocationError extends Error {
  readonly errorType: string;
  constructor(errorType: string, message: string) {
    super(message);
    this.name = "StreamedInvocationError";
    this.errorType = errorType;
  }
}

export class ResponseChannel implements ResponseStreamSink {
  readonly body: ReadableStream<Uint8Array>;
  /** Resolves with the content type once the function starts streaming. */
  readonly started: Promise<string>;
  #start: (contentType: string) => void = () => {};
  // The channel's own queue rather than the stream's: the stream's error() would drop queued
  // chunks, and the bytes written before a failure must reach the reader before it does.
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #end: { readonly error: Error | undefined } | undefined;
  #cancelled = false;
  #resume: (() => void) | undefined;
  /** A read waiting for a chunk: the next write goes straight to it. */
  #waiting: { controller: ReadableStreamDefaultController<Uint8Array>; done: () => void } | undefined;

  constructor() {
    this.started = new Promise((resolve) => {
      this.#start = resolve;
    });
    this.body = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.#pull(controller),
        cancel: () => this.#cancel(),
      },
      // Nothing is pulled ahead of a read: the queue above is the only buffer.
      { highWaterMark: 0 },
    );
  }

  start(contentType: string): void {
    this.#start(contentType);
  }

  write(chunk: Buffer): boolean {
    if (this.#cancelled || this.#end) return true;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting.controller.enqueue(chunk);
      waiting.done();
      return true;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    return this.#queued < HIGH_WATER_MARK_BYTES;
  }

  whenReady(resume: () => void): void {
    if (this.#cancelled || this.#queued < HIGH_WATER_MARK_BYTES) resume();
    else this.#resume = resume;
  }

  /** Ends the body: closed, or failed with `error` once the reader has had every chunk before it. */
  end(error?: Error): void {
    if (this.#end) return;
    this.#end = { error };
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      this.#finish(waiting.controller);
      waiting.done();
    }
  }

  #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> | undefined {
    const chunk = this.#queue.shift();
    if (chunk) {
      this.#queued -= chunk.length;
      controller.enqueue(chunk);
      if (this.#queued < HIGH_WATER_MARK_BYTES) this.#wake();
      return undefined;
    }
    if (this.#end) {
      this.#finish(controller);
      return undefined;
    }
    return new Promise((done) => {
      this.#waiting = { controller, done };
    });
  }

  #finish(controller: ReadableStreamDefaultController<Uint8Array>): void {
    const error = this.#end?.error;
    if (error) controller.error(error);
    else controller.close();
  }

  // The reader went away: the function still runs to its end, its bytes dropped as they come.
  #cancel(): void {
    this.#cancelled = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#wake();
  }

  #wake(): void {
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }
}
