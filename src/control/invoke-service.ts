/**
 * Synchronous invocation: resolve the target, check the payload, dispatch, and shape the
 * outcome for the caller. The platform never retries a synchronous invocation.
 */
import { randomUUID } from "node:crypto";
import { functionArn } from "../protocol/function.js";
import { MAX_CLIENT_CONTEXT_BYTES } from "../protocol/limits.js";
import type { Clock } from "../shared/clock.js";
import { NimbusError } from "../shared/errors.js";
import { newRequestId } from "../shared/ids.js";
import type { Logger } from "../shared/logger.js";
import type { InvocationRecords } from "./async/queue.js";
import type { Dispatcher, DispatchResult } from "./dispatcher.js";
import type { Registry } from "./registry/registry.js";
import { errorPayload } from "./report.js";

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
    const ref = { name: input.functionName, qualifier: input.qualifier };
    const target = await this.#registry.resolve(ref.name, ref.qualifier);
    const requestId = newRequestId();
    const payload =
      input.builtEvent === true
        ? input.payload
        : input.payload.length === 0
          ? EMPTY_EVENT
          : checkJson(input.payload);
    const clientContext = decodeClientContext(input.clientContextBase64);
    if (input.dryRun) {
      return {
        requestId,
        executedVersion: target.fn.version,
        payload: Buffer.alloc(0),
        functionError: undefined,
        result: undefined,
      };
    }
    const result = await this.#dispatcher.invoke(
      target.fn,
      {
        requestId,
        payload,
        contentType: "application/json",
        invokedFunctionArn: functionArn(this.#region, this.#accountId, ref.name, ref.qualifier),
        traceId: input.traceId ?? newTraceId(Date.now()),
        clientContext,
        cognitoIdentity: undefined,
      },
      { type: "sync", ...(input.receivedAt === undefined ? {} : { receivedAt: input.receivedAt }) },
    );
    const err = errorPayload(result.outcome, requestId);
    if (this.#records) {
      const { store, clock, logger } = this.#records;
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
        traceId: input.traceId ?? "",
        acceptedAt: now,
        hops: 0,
      };
      store
        .record(event, outcome, now)
        .catch((e: unknown) => logger.error("could not keep an invocation record", { err: e, requestId }));
    }
    return {
      requestId,
      executedVersion: target.fn.version,
      payload: err ?? (result.outcome.kind === "success" ? result.outcome.payload : Buffer.alloc(0)),
      functionError: err ? "Unhandled" : undefined,
      result,
    };
  }
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
  // randomUUID draws from a cached entropy pool; randomBytes makes a system call every time.
  return `1-${seconds}-${randomUUID().replaceAll("-", "").slice(0, 24)}`;
}

/** An X-Ray style trace id: Root=…;Parent=…;Sampled=0. */
export function newTraceId(nowMs: number): string {
  return `Root=${newTraceRoot(nowMs)};Parent=${randomUUID().replaceAll("-", "").slice(0, 16)};Sampled=0`;
}
