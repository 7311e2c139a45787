/**
 * Synchronous invocation: resolve the target, check the payload, dispatch, and shape the
 * outcome for the caller, whole (`invoke`) or streamed as the function writes it
 * (`invokeStreaming`). The platform never retries a synchronous invocation.
 */
import { functionArn } from "../protocol/function.js";
import type { InitPhases } from "../protocol/invoke.js";
import { MAX_CLIENT_CONTEXT_BYTES } from "../protocol/limits.js";
import type { Clock } from "../shared/clock.js";
import { NimbusError } from "../shared/errors.js";
import { newRequestId, randomHex } from "../shared/ids.js";
import type { Logger } from "../shared/logger.js";
import type { InvocationRecords } from "./async/queue.js";
import type { Dispatcher, DispatchResult } from "./dispatcher.js";
import type { Registry } from "./registry/registry.js";
import { errorPayload, errorTypeOf } from "./report.js";
import { ResponseChannel, StreamedInvocationError } from "./response-channel.js";

export interface SyncInvokeInput {
  /** The function's plain name (surfaces translate ARNs). */
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly payload: Buffer;
  /** Base64 JSON from X-Amz-Client-Context. */
  readonly clientContextBase64: string | undefined;
  readonly dryRun: boolean;
  /** The caller's X-Amzn-Trace-Id, if any: the invocation joins that trace. */
  readonly traceId: string | undefined;
  /** Epoch ms the gateway received the request. */
  readonly receivedAt?: number;
  /** The payload is JSON the platform built (an HTTP trigger's event): not parsed again. */
  readonly builtEvent?: boolean;
  /** The invocation's id when the caller chose it (an HTTP trigger puts it in its event); else a new one. */
  readonly requestId?: string;
}

/**
 * Where records of synchronous invocations go, when the platform keeps them (records are
 * otherwise kept for asynchronous ones only): best effort, a failure to keep one is logged.
 */
export interface SyncRecords {
  readonly store: Pick<InvocationRecords, "record">;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface SyncInvokeOutput {
  readonly requestId: string;
  readonly executedVersion: string;
  /** The function's response, or its error body. */
  readonly payload: Buffer;
  /** "Unhandled" when the function failed. */
  readonly functionError: string | undefined;
  readonly result: DispatchResult | undefined;
}

/** A streamed invocation's input: a synchronous one's, without DryRun (nothing to stream). */
export type StreamingInvokeInput = Omit<SyncInvokeInput, "dryRun">;

/**
 * A streamed invocation once the function started answering. The body carries the bytes as
 * the function writes them; it closes when the invocation succeeded and errors (with a
 * StreamedInvocationError, after every byte written before) when it failed. The invocation
 * (and its instance) runs until the stream ends; a reader that cancels the body leaves the
 * function running to its end, its bytes dropped.
 */
export interface StreamingInvokeOutput {
  readonly requestId: string;
  readonly executedVersion: string;
  /**
   * True when the function streamed (a streaming handler: `contentType` is the one it set,
   * `application/octet-stream` by default). False when it answered whole (any other handler,
   * or a failure before it began): the body is that payload, `application/json`, and
   * `completion` has settled already.
   */
  readonly streamed: boolean;
  readonly contentType: string;
  /** A cold start's phases (undefined when warm), known once the function answers. */
  readonly initPhases: InitPhases | undefined;
  readonly body: ReadableStream<Uint8Array>;
  /**
   * Settles once the invocation is over, after the body's last byte: its result (REPORT's
   * figures, the log tail) and, if it failed, the error the caller is told of. Rejects only on
   * a platform failure, and is marked handled: a caller may leave it unread.
   */
  readonly completion: Promise<StreamCompletion>;
}

export interface StreamCompletion {
  readonly error?: StreamFailure;
  readonly result: DispatchResult;
}

/** How a streamed invocation failed: Lambda's error type, its message, and the error body Invoke would answer. */
export interface StreamFailure {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly payload: Buffer;
}

export class InvokeService {
  readonly #registry: Registry;
  readonly #dispatcher: Dispatcher;
  readonly #region: string;
  readonly #accountId: string;

  readonly #records: SyncRecords | undefined;

  constructor(deps: {
    registry: Registry;
    dispatcher: Dispatcher;
    region: string;
    accountId: string;
    /** Keeps an invocation record of each synchronous invocation, when the platform is set to. */
    records?: SyncRecords | undefined;
  }) {
    this.#registry = deps.registry;
    this.#dispatcher = deps.dispatcher;
    this.#region = deps.region;
    this.#accountId = deps.accountId;
    this.#records = deps.records;
  }

  async invoke(input: SyncInvokeInput): Promise<SyncInvokeOutput> {
    const { ref, target, requestId, request } = await this.#prepare(input);
    const payload = request.payload;
    if (input.dryRun) {
      return {
        requestId,
        executedVersion: target.fn.version,
        payload: Buffer.alloc(0),
        functionError: undefined,
        result: undefined,
      };
    }
    const result = await this.#dispatcher.invoke(target.fn, request, syncHow(input));
    const err = errorPayload(result.outcome, requestId);
    if (this.#records) this.#record(requestId, ref, payload, input.traceId, result, err);
    return {
      requestId,
      executedVersion: target.fn.version,
      payload: err ?? (result.outcome.kind === "success" ? result.outcome.payload : Buffer.alloc(0)),
      functionError: err ? "Unhandled" : undefined,
      result,
    };
  }

  /** The target, a request id, and the request as the dispatcher takes it (the deadline aside). */
  async #prepare(input: StreamingInvokeInput) {
    const ref = { name: input.functionName, qualifier: input.qualifier };
    const target = await this.#registry.resolve(ref.name, ref.qualifier);
    const requestId = input.requestId ?? newRequestId();
    const payload =
      input.builtEvent === true
        ? input.payload
        : input.payload.length === 0
          ? EMPTY_EVENT
          : checkJson(input.payload);
    const request = {
      requestId,
      payload,
      contentType: "application/json",
      invokedFunctionArn: functionArn(this.#region, this.#accountId, ref.name, ref.qualifier),
      traceId: input.traceId ?? newTraceId(Date.now()),
      clientContext: decodeClientContext(input.clientContextBase64),
      cognitoIdentity: undefined,
    };
    return { ref, target, requestId, request };
  }

  /**
   * Runs one invocation whose answer the caller reads as the function writes it. Resolves once
   * the function starts answering (its first byte, or its whole answer); rejects, as `invoke`
   * does, when the invocation cannot run (an unknown function, a bad payload, a throttle).
   */
  async invokeStreaming(input: StreamingInvokeInput): Promise<StreamingInvokeOutput> {
    const { ref, target, requestId, request } = await this.#prepare(input);
    const payload = request.payload;
    const channel = new ResponseChannel();
    let initPhases: InitPhases | undefined;
    const dispatched = this.#dispatcher.invoke(
      target.fn,
      {
        ...request,
        stream: channel,
        onHanded: (phases) => {
          initPhases = phases;
        },
      },
      syncHow(input),
    );
    const completion = dispatched.then(
      (result) => {
        const err = errorPayload(result.outcome, requestId);
        if (this.#records) this.#record(requestId, ref, payload, input.traceId, result, err);
        if (!err) {
          // A function that answered whole: its payload is the body.
          if (result.outcome.kind === "success" && result.outcome.payload.length > 0)
            channel.write(result.outcome.payload);
          channel.end();
          return { result };
        }
        const error = failure(errorTypeOf(result.outcome) ?? "Unhandled", err);
        channel.end(new StreamedInvocationError(error.errorType, error.errorMessage));
        return { error, result };
      },
      (err: unknown) => {
        channel.end(err instanceof Error ? err : new Error(String(err)));
        throw err;
      },
    );
    completion.catch(() => {});
    // Whichever comes first: the function's first byte, or the end of an invocation that never streamed.
    const contentType = await Promise.race([channel.started, completion.then(() => undefined)]);
    // A streamed answer starts after its event was handed over: Init is over, its phases known.
    // One that never streamed has its result (an init failure's phases are only there).
    if (contentType === undefined) initPhases = (await completion).result.initPhases;
    return {
      requestId,
      executedVersion: target.fn.version,
      initPhases,
      streamed: contentType !== undefined,
      contentType: contentType ?? "application/json",
      body: channel.body,
      completion,
    };
  }

  /** Keeps the record of a synchronous invocation (best effort). */
  #record(
    requestId: string,
    ref: { name: string; qualifier: string | undefined },
    payload: Buffer,
    traceId: string | undefined,
    result: DispatchResult,
    err: Buffer | undefined,
  ): void {
    const { store, clock, logger } = this.#records!;
    const now = clock.now();
    const outcome = err
      ? {
          status: "failed" as const,
          attempts: 1,
          error: err.toString("utf8"),
          initPhases: result.initPhases,
        }
      : {
          status: "succeeded" as const,
          attempts: 1,
          result: result.outcome.kind === "success" ? result.outcome.payload : Buffer.alloc(0),
          initPhases: result.initPhases,
        };
    const event = {
      id: requestId,
      functionName: ref.name,
      qualifier: ref.qualifier,
      payload,
      traceId: traceId ?? "",
      acceptedAt: now,
      hops: 0,
    };
    store
      .record(event, outcome, now)
      .catch((e: unknown) => logger.error("could not keep an invocation record", { err: e, requestId }));
  }
}

/** The failure a streamed invocation's caller is told of: the error body Invoke answers, and its message. */
function failure(errorType: string, payload: Buffer): StreamFailure {
  let errorMessage = payload.toString("utf8");
  try {
    const parsed = JSON.parse(errorMessage) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === "string") errorMessage = parsed.errorMessage;
  } catch {
    // Not JSON (a custom runtime's own text): the text is the message.
  }
  return { errorType, errorMessage, payload };
}

/** An empty Invoke payload reaches the function as `{}`: runtimes JSON.parse every event. */
const EMPTY_EVENT = Buffer.from("{}");

export function checkJson(payload: Buffer): Buffer {
  try {
    JSON.parse(payload.toString("utf8"));
  } catch (err) {
    throw new NimbusError(
      "InvalidRequestContent",
      `Could not parse request body into json: ${(err as Error).message}. The payload must be JSON.`,
    );
  }
  return payload;
}

function decodeClientContext(b64: string | undefined): string | undefined {
  if (b64 === undefined || b64 === "") return undefined;
  const text = Buffer.from(b64, "base64").toString("utf8");
  if (Buffer.byteLength(text) > MAX_CLIENT_CONTEXT_BYTES) {
    throw new NimbusError(
      "InvalidParameter",
      `Client context must be at most ${MAX_CLIENT_CONTEXT_BYTES} bytes once decoded; it is ${Buffer.byteLength(text)}`,
    );
  }
  try {
    JSON.parse(text);
  } catch {
    throw new NimbusError("InvalidRequestContent", "X-Amz-Client-Context must be base64-encoded JSON");
  }
  return text;
}

/** An X-Ray style trace root: 1-{epoch seconds hex}-{96 random bits}. */
export function newTraceRoot(nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, "0");
  return `1-${seconds}-${randomHex(24)}`;
}

/** An X-Ray style trace id: Root=…;Parent=…;Sampled=0. */
export function newTraceId(nowMs: number): string {
  return `Root=${newTraceRoot(nowMs)};Parent=${randomHex(16)};Sampled=0`;
}

function syncHow(input: { receivedAt?: number | undefined }) {
  return {
    type: "sync" as const,
    ...(input.receivedAt === undefined ? {} : { receivedAt: input.receivedAt }),
  };
}
