/**
 * What the dispatcher (control) and the workers exchange to run one invocation. The two sides
 * never import each other; they meet here.
 */
import type { FunctionVersion } from "./function.js";

/** Everything a worker needs to start one instance of one function version. */
export interface InstanceSpec {
  readonly function: FunctionVersion;
  /** `arn:aws:lambda:{region}:{account}:function:{name}` */
  readonly functionArn: string;
  readonly region: string;
  readonly accountId: string;
  readonly initTimeoutMs: number;
  /** Lambda's AWS_LAMBDA_INITIALIZATION_TYPE: "provisioned-concurrency" for instances started ahead. */
  readonly initializationType?: "on-demand" | "provisioned-concurrency";
}

export interface InvokeRequest {
  readonly requestId: string;
  readonly payload: Buffer;
  readonly contentType: string;
  /** Epoch milliseconds at which the invocation times out. */
  readonly deadlineMs: number;
  /** The ARN exactly as the caller addressed the function (qualified when they qualified it). */
  readonly invokedFunctionArn: string;
  readonly traceId: string;
  /** JSON text: the base64-decoded `X-Amz-Client-Context`. */
  readonly clientContext: string | undefined;
  readonly cognitoIdentity: string | undefined;
  /**
   * Where a streamed response goes as the function writes it. Without one, a function that
   * streams is answered buffered, within the synchronous response limit, as Lambda's Invoke does.
   */
  readonly stream?: ResponseStreamSink;
}

/**
 * The invoker's end of a streamed response. The worker calls `start` once, at the function's
 * first byte (or at its end, if it wrote none), then `write` for each chunk in order; the
 * invocation's result ends the stream, its outcome telling how. A function that answers
 * buffered never calls `start`: its payload is in the outcome.
 */
export interface ResponseStreamSink {
  start(contentType: string): void;
  /** Returns false when the reader is behind: the worker then reads no more from the runtime until `whenReady`'s call. */
  write(chunk: Buffer): boolean;
  /** Calls `resume` (once) as soon as the reader wants more; at once if it does already. */
  whenReady(resume: () => void): void;
}

/** How one invocation ended, from the function's side. Platform failures are thrown instead. */
export type InvokeOutcome =
  | { readonly kind: "success"; readonly payload: Buffer }
  /** The runtime reported an error (thrown by the handler, or an init error surfaced on invoke). */
  | { readonly kind: "error"; readonly errorType: string; readonly payload: Buffer }
  | { readonly kind: "timeout"; readonly timeoutS: number }
  /**
   * The runtime process died (exit, signal, out of memory), or its connection closed in the
   * middle of a streamed response (`Runtime.TruncatedResponse`).
   */
  | {
      readonly kind: "crash";
      readonly errorType: "Runtime.ExitError" | "Runtime.OutOfMemory" | "Runtime.TruncatedResponse";
      readonly reason: string;
    }
  /** `limit`: the limit it passed, when not the synchronous one (a streamed response's). */
  | { readonly kind: "response-too-large"; readonly size: number; readonly limit?: number };

export interface InvokeResult {
  readonly outcome: InvokeOutcome;
  /** Time from handing the event to the runtime until its answer (ms, sub-ms precision). */
  readonly durationMs: number;
  /**
   * The sandbox's peak memory in MB, when known. An instance may read it only when it is first
   * asked for (off the caller's path), and at the latest before its next event.
   */
  readonly maxMemoryUsedMb: number | undefined;
  /** The last few KB of the function's output during this invocation. */
  readonly logTail: string;
  /** Whether the instance can take another invocation. */
  readonly instanceReusable: boolean;
}

/** The result of starting an instance: ready, or failed in Init (reported on the first invoke). */
/**
 * Where a cold start's time went, in milliseconds. The worker's phases (code, sandbox,
 * runtime, function init) add up to the Init Duration; placement happens before it.
 */
export interface InitPhases {
  /** Choosing a worker, and stopping idle instances to make room (the dispatcher's part). */
  readonly placementMs?: number;
  /** Having the function's code on the worker; `codeCached` if it was there already. */
  readonly codeMs: number;
  readonly codeCached: boolean;
  /**
   * The sandbox: directories, Runtime API listeners, uid, cgroup, process spawn; or, taken
   * from the warm pool (`pooled`), handing a started runtime its function.
   */
  readonly sandboxMs: number;
  readonly pooled: boolean;
  /** The runtime was restored from the version's snapshot: its init did not run again. */
  readonly restored?: boolean;
  /** The runtime starting, up to loading the function (or to its first /next, if it does not say). */
  readonly runtimeMs: number;
  /** The function's own init (loading its module), as Nimbus's runtime measures it. */
  readonly functionInitMs: number | undefined;
}

/** The Invoke response header that carries a cold start's phases (`initPhasesHeader`). */
export const INIT_PHASES_HEADER = "x-nimbus-init-phases";

export type StartResult =
  | {
      readonly kind: "ready";
      readonly instance: InstanceHandle;
      readonly initDurationMs: number;
      readonly phases: InitPhases;
      /** The runtime's output during init, shown before START in the first invocation's tail. */
      readonly logTail: string;
    }
  | {
      readonly kind: "init-failed";
      readonly errorType: string;
      /** The runtime's own error body (from /init/error), when it sent one. */
      readonly payload: Buffer | undefined;
      /** What the platform saw, e.g. "Runtime exited with error: exit status 1". */
      readonly reason: string;
      readonly initDurationMs: number;
      readonly phases: InitPhases | undefined;
      readonly logTail: string;
    };

export interface InstanceHandle {
  readonly id: string;
  readonly workerId: string;
  readonly memoryMb: number;
  /** Runs one invocation. Resolves with the function's outcome; rejects only on platform failure. */
  invoke(req: InvokeRequest): Promise<InvokeResult>;
  stop(reason: string): Promise<void>;
  /** Called once when the instance stops for any reason (crash, timeout, stop). */
  onStopped(listener: (reason: string) => void): void;
}

export interface WorkerCapacity {
  readonly totalMemoryMb: number;
  readonly freeMemoryMb: number;
  readonly instances: number;
}

/** A worker node as the control plane sees it. In-process for now; over HTTP in a cluster. */
export interface WorkerApi {
  readonly id: string;
  capacity(): WorkerCapacity;
  /** Puts a package into this worker's code cache ahead of the first invocation. */
  prefetch(packageId: string): Promise<void>;
  /** Starts an instance and runs its Init. */
  startInstance(spec: InstanceSpec): Promise<StartResult>;
  /** Stops every instance and releases resources. */
  close(): Promise<void>;
}

/** Where function output goes as it is produced. */
export interface LogSink {
  write(entry: LogEntry): void;
}

export interface LogEntry {
  readonly functionName: string;
  readonly version: string;
  readonly instanceId: string;
  /** Undefined for output outside an invocation (during init, between invocations). */
  readonly requestId: string | undefined;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  /** One line, without its trailing newline. */
  readonly message: string;
}

/** Where a worker gets packages from: the code store, local or remote. */
export interface PackageSource {
  read(packageId: string): Promise<Buffer>;
}
