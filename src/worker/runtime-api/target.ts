/**
 * What a Runtime API transport asks of the instance behind it. Transports (HTTP on a loopback
 * port, Nimbus's frames on a Unix socket) turn requests into these calls; the instance's state
 * machine compares every request id with the one assigned to it, never with a global table.
 */

import type { InvokeRequest } from "../../protocol/invoke.js";
import { RUNTIME_HEADERS } from "../../protocol/runtime-api.js";

export interface RuntimeApiTarget {
  /**
   * The runtime asks for work; the target hands `waiter` an event now or when one arrives.
   * Nimbus's runtime says on its first call how long the function's init took.
   */
  next(waiter: NextWaiter, info?: { readonly functionInitMs?: number }): void;
  /** A response or error for `requestId`; returns the answer to give the runtime. */
  complete(requestId: string, kind: "response" | "error", body: RuntimeBody): Promise<ApiAnswer>;
  initError(body: RuntimeBody): Promise<ApiAnswer>;
  /**
   * A streamed response for `requestId` begins (`/response` in mode `streaming`, or a
   * `stream-start` frame). The writer takes its chunks as they arrive; a refused stream's writer
   * drops them and its `end` answers the refusal.
   */
  beginStream(requestId: string, contentType: string | undefined): StreamWriter;
  /** A pooled runtime waits for a function; only a pooled runtime's target takes this call. */
  awaitFunction?(assign: (env: Record<string, string>) => void): void;
}

/** A runtime waiting in `/next`. */
export interface NextWaiter {
  send(req: InvokeRequest): void;
  /** Drops the wait (a newer `/next` replaced it, or the instance is gone). */
  destroy(): void;
}

/** The body and headers of a runtime's post, however it arrived. */
export interface RuntimeBody {
  /** A request header, lower case. */
  header(name: string): string | undefined;
  /** The body, or undefined when it is longer than `limit` bytes. */
  read(limit: number): Promise<Buffer | undefined>;
  /** The declared length, when the transport declares one. */
  readonly declaredLength: number | undefined;
  /** Throws the body away unread. */
  discard(): void;
}

/** A streamed response arriving from the runtime, however the transport carries it. */
export interface StreamWriter {
  /** A chunk, in order. False: the reader is behind, read no more from the runtime until `whenReady` calls back. */
  write(chunk: Buffer): boolean;
  whenReady(resume: () => void): void;
  /** The stream's end, with the error that cut it short if any; returns the answer to give the runtime. */
  end(error?: StreamError): Promise<ApiAnswer>;
  /**
   * The transport lost the stream before its end: the runtime's connection closed (an HTTP
   * body without its last chunk, a socket closed between frames). Nothing can be answered.
   */
  cut(): void;
}

/** How a runtime says its stream failed: the error type and the error body (`{errorType, errorMessage, …}`). */
export interface StreamError {
  readonly errorType: string | undefined;
  readonly body: Buffer;
}

/** The writer of a stream the target refused: it drops every chunk and answers `answer` at the end. */
export function refusedStream(answer: ApiAnswer): StreamWriter {
  return {
    write: () => true,
    whenReady: (resume) => resume(),
    end: () => Promise.resolve(answer),
    cut: () => {},
  };
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: object;
}

export const ACCEPTED: ApiAnswer = { status: 202, body: { status: "OK" } };

export function apiError(status: number, errorType: string, errorMessage: string): ApiAnswer {
  return { status, body: { errorType, errorMessage } };
}

/** The Runtime API's headers of an event handed to a runtime. */
export function eventHeaders(req: InvokeRequest): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": req.contentType,
    [RUNTIME_HEADERS.requestId]: req.requestId,
    [RUNTIME_HEADERS.deadlineMs]: String(req.deadlineMs),
    [RUNTIME_HEADERS.functionArn]: req.invokedFunctionArn,
    [RUNTIME_HEADERS.traceId]: req.traceId,
  };
  if (req.clientContext) headers[RUNTIME_HEADERS.clientContext] = req.clientContext;
  if (req.cognitoIdentity) headers[RUNTIME_HEADERS.cognitoIdentity] = req.cognitoIdentity;
  return headers;
}

/**
 * A pooled runtime's target: its Runtime API listens, and the runtime connects and waits for a
 * function (`awaitFunction`), before one is chosen for it. `assign` hands the runtime its
 * instance's environment and puts the instance's own target behind the API; until then every
 * other call is refused.
 */
export class LateTarget implements RuntimeApiTarget {
  #target: RuntimeApiTarget | undefined;
  #assign: ((env: Record<string, string>) => void) | undefined;
  #awaited: () => void = () => {};
  /** Resolves once the runtime waits for a function: it is ready to be taken. */
  readonly awaiting = new Promise<void>((resolve) => {
    this.#awaited = resolve;
  });

  awaitFunction(assign: (env: Record<string, string>) => void): void {
    this.#assign = assign;
    this.#awaited();
  }

  /** Binds the instance and releases the runtime to load its function. */
  assign(target: RuntimeApiTarget, env: Record<string, string>): void {
    this.#target = target;
    const assign = this.#assign;
    this.#assign = undefined;
    if (!assign) throw new Error("the pooled runtime is not waiting for a function");
    assign(env);
  }

  next(waiter: NextWaiter, info?: { readonly functionInitMs?: number }): void {
    if (this.#target) this.#target.next(waiter, info);
    else waiter.destroy();
  }

  complete(requestId: string, kind: "response" | "error", body: RuntimeBody): Promise<ApiAnswer> {
    if (this.#target) return this.#target.complete(requestId, kind, body);
    body.discard();
    return Promise.resolve(UNASSIGNED);
  }

  initError(body: RuntimeBody): Promise<ApiAnswer> {
    if (this.#target) return this.#target.initError(body);
    body.discard();
    return Promise.resolve(UNASSIGNED);
  }

  beginStream(requestId: string, contentType: string | undefined): StreamWriter {
    return this.#target ? this.#target.beginStream(requestId, contentType) : refusedStream(UNASSIGNED);
  }
}

const UNASSIGNED = apiError(403, "InvalidStateTransition", "no function is assigned to this runtime yet");
