/**
 * Maps an invocation's outcome to what every surface shows: the payload and error header the
 * caller gets, and the START / END / REPORT lines Lambda writes. One place, so the log, the
 * response and the usage record always agree.
 */
import type { FunctionVersion } from "../protocol/function.js";
import type { InitPhases, InvokeOutcome } from "../protocol/invoke.js";
import { LOG_TAIL_BYTES, MAX_SYNC_RESPONSE_BYTES } from "../protocol/limits.js";
import type { UsageRecord } from "./usage-repo.js";

export interface InvocationFigures {
  readonly functionName: string;
  readonly requestId: string;
  readonly version: string;
  readonly durationMs: number;
  readonly memoryMb: number;
  readonly maxMemoryUsedMb: number | undefined;
  /** Present on a cold start. */
  readonly initDurationMs: number | undefined;
  /** The cold start restored a snapshot: its duration is a restore, billed apart (as SnapStart's). */
  readonly restored?: boolean;
}

/**
 * Billed time, rounded up to the next millisecond: duration plus init (billed since 2025); a
 * restore is billed apart (`Billed Restore Duration`), as Lambda bills SnapStart's.
 */
export function billedDurationMs(
  f: Pick<InvocationFigures, "durationMs" | "initDurationMs" | "restored">,
): number {
  return Math.max(1, Math.ceil(f.durationMs + (f.restored ? 0 : (f.initDurationMs ?? 0))));
}

/** `Billed Restore Duration` of a cold start that restored a snapshot, else undefined. */
export function billedRestoreMs(
  f: Pick<InvocationFigures, "initDurationMs" | "restored">,
): number | undefined {
  return f.restored && f.initDurationMs !== undefined ? Math.ceil(f.initDurationMs) : undefined;
}

export function startLine(f: Pick<InvocationFigures, "requestId" | "version">): string {
  return `START RequestId: ${f.requestId} Version: ${f.version}`;
}

export function endLine(f: Pick<InvocationFigures, "requestId">): string {
  return `END RequestId: ${f.requestId}`;
}

export function reportLine(f: InvocationFigures, outcome: InvokeOutcome): string {
  let line =
    `REPORT RequestId: ${f.requestId}\tDuration: ${f.durationMs.toFixed(2)} ms\t` +
    `Billed Duration: ${billedDurationMs(f)} ms\tMemory Size: ${f.memoryMb} MB\t` +
    `Max Memory Used: ${f.maxMemoryUsedMb ?? 0} MB\t`;
  if (f.initDurationMs !== undefined && f.restored) {
    line += `Restore Duration: ${f.initDurationMs.toFixed(2)} ms\tBilled Restore Duration: ${billedRestoreMs(f)} ms\t`;
  } else if (f.initDurationMs !== undefined) {
    line += `Init Duration: ${f.initDurationMs.toFixed(2)} ms\t`;
  }
  if (outcome.kind === "timeout") line += "Status: timeout";
  else if (outcome.kind === "crash") line += `Status: error\tError Type: ${outcome.errorType}`;
  return line.trimEnd();
}

/** The last LOG_TAIL_BYTES of the lines, as `X-Amz-Log-Result` carries them (before base64). */
export function logTail(lines: readonly string[]): string {
  const text = lines.map((l) => (l.endsWith("\n") ? l : `${l}\n`)).join("");
  const buf = Buffer.from(text);
  return buf.length <= LOG_TAIL_BYTES ? text : buf.subarray(buf.length - LOG_TAIL_BYTES).toString();
}

/** The error type the caller saw, or undefined for a success. */
export function errorTypeOf(o: InvokeOutcome): string | undefined {
  switch (o.kind) {
    case "success":
      return undefined;
    case "error":
    case "crash":
      return o.errorType;
    case "timeout":
      return "Sandbox.Timedout";
    case "response-too-large":
      return "Function.ResponseSizeTooLarge";
  }
}

/** A cold start's timed phases, in the order they happen: their names in metrics and spans. */
export const INIT_PHASES = [
  ["placement", "placementMs"],
  ["code", "codeMs"],
  ["sandbox", "sandboxMs"],
  ["runtime", "runtimeMs"],
  ["function_init", "functionInitMs"],
] as const satisfies ReadonlyArray<readonly [string, keyof InitPhases]>;

/** The error body the caller receives for an outcome that is not a success. */
export function errorPayload(outcome: InvokeOutcome, requestId: string): Buffer | undefined {
  switch (outcome.kind) {
    case "success":
      return undefined;
    case "error":
      return outcome.payload;
    case "timeout":
      return json({
        errorType: "Sandbox.Timedout",
        errorMessage: `RequestId: ${requestId} Error: Task timed out after ${outcome.timeoutS.toFixed(2)} seconds`,
      });
    case "crash":
      return json({
        errorType: outcome.errorType,
        errorMessage: `RequestId: ${requestId} Error: ${outcome.reason}`,
      });
    case "response-too-large":
      return json({
        errorMessage:
          `Response payload size (${outcome.size} bytes) exceeded maximum allowed payload size ` +
          `(${outcome.limit ?? MAX_SYNC_RESPONSE_BYTES} bytes).`,
        errorType: "Function.ResponseSizeTooLarge",
      });
  }
}

function json(v: object): Buffer {
  return Buffer.from(JSON.stringify(v));
}

/**
 * A cold start's phases as `name=ms` pairs, in the order they happen:
 * `placement=0.12; code=0.03; code-cached=1; sandbox=2.91; pooled=0; runtime=20.10; function-init=2.31`
 * (`pooled=1`: the sandbox phase handed a runtime from the warm pool its function).
 * `function-init` is absent when the runtime does not report it (its time is in `runtime`).
 */
export function initPhasesHeader(p: InitPhases): string {
  const ms = (n: number) => n.toFixed(2);
  const parts = [
    ...(p.placementMs === undefined ? [] : [`placement=${ms(p.placementMs)}`]),
    `code=${ms(p.codeMs)}`,
    `code-cached=${p.codeCached ? 1 : 0}`,
    `sandbox=${ms(p.sandboxMs)}`,
    `pooled=${p.pooled ? 1 : 0}`,
    ...(p.restored ? ["restored=1"] : []),
    `runtime=${ms(p.runtimeMs)}`,
    ...(p.functionInitMs === undefined ? [] : [`function-init=${ms(p.functionInitMs)}`]),
  ];
  return parts.join("; ");
}

/** One invocation's outcome and figures as the dispatcher hands them back. */
export interface DispatchResult {
  readonly outcome: InvokeOutcome;
  readonly figures: InvocationFigures;
  readonly cold: boolean;
  /** Where a cold start's time went (cold invocations only). */
  readonly initPhases?: InitPhases;
  /** It ran on a provisioned-concurrency instance. */
  readonly provisioned?: boolean;
  /** START, the function's output, END and REPORT: the last 4 KB, as LogType Tail returns. */
  readonly logTail: string;
}

/** An invocation's result, and what records it once the caller has it (`dispatchResult`). */
export interface DispatchRun {
  readonly result: DispatchResult;
  readonly settle: () => void;
}

export function figuresOf(
  fn: { functionName: string; version: string; memoryMb: number },
  requestId: string,
  durationMs: number,
  maxMemoryUsedMb: number | undefined,
  initDurationMs: number | undefined,
  restored = false,
): InvocationFigures {
  return {
    functionName: fn.functionName,
    requestId,
    version: fn.version,
    durationMs,
    memoryMb: fn.memoryMb,
    maxMemoryUsedMb,
    initDurationMs,
    ...(restored ? { restored } : {}),
  };
}

/**
 * Builds the result, and `settle`, which stores START (unless it was stored as the event was
 * handed over), END and REPORT through `store`, REPORT with the usage record `record` makes of
 * the result: the dispatcher settles once the caller has its answer. The log tail is built
 * only when read (LogType Tail).
 */
export function dispatchResult(o: {
  /** Made when first read: the peak memory they carry may be read from /proc only then. */
  figures: () => InvocationFigures;
  outcome: InvokeOutcome;
  cold: boolean;
  /** Lines before START: the runtime's output during init. */
  before: readonly string[];
  /** The function's own output during the invocation. */
  output: string;
  startStored?: boolean;
  initPhases?: InitPhases | undefined;
  provisioned?: boolean;
  store: (message: string, usage?: UsageRecord) => void;
  record?: ((result: DispatchResult) => UsageRecord | undefined) | undefined;
}): DispatchRun {
  let made: InvocationFigures | undefined;
  const figures = () => (made ??= o.figures());
  const { before, output } = o;
  const result: DispatchResult = {
    outcome: o.outcome,
    get figures() {
      return figures();
    },
    cold: o.cold,
    ...(o.initPhases ? { initPhases: o.initPhases } : {}),
    ...(o.provisioned ? { provisioned: true } : {}),
    get logTail() {
      const f = figures();
      return logTail([
        ...before,
        startLine(f),
        ...(output ? [output] : []),
        endLine(f),
        reportLine(f, o.outcome),
      ]);
    },
  };
  const settle = () => {
    const f = figures();
    if (!o.startStored) o.store(startLine(f));
    o.store(endLine(f));
    o.store(reportLine(f, o.outcome), o.record?.(result));
  };
  return { result, settle };
}

/** How an invocation came: a caller waiting for it, or the async queue's poller. */
export type InvocationType = "sync" | "async";

/** Where an invocation came from, and when it got there (for its trace). */
export interface InvocationOrigin {
  readonly type: InvocationType;
  /** Epoch ms the gateway received the request (sync). */
  readonly receivedAt?: number | undefined;
  /** Epoch ms the event was accepted into the queue (async). */
  readonly acceptedAt?: number | undefined;
}

/** One dispatched invocation's timeline, as the observer gets it. */
export interface InvocationTiming extends InvocationOrigin {
  /** The invocation's X-Ray style trace header (`Root=…;Parent=…;Sampled=…`). */
  readonly traceId: string;
  /** Epoch ms the dispatcher took it. */
  readonly startedAt: number;
  /** Ms from startedAt until the event was handed to the instance (undefined: it never was). */
  readonly handedAfterMs: number | undefined;
  /** Ms from startedAt until the dispatcher had the result. */
  readonly totalMs: number;
}

/**
 * Told of every invocation the dispatcher runs (metrics, usage records, traces) and of every
 * one it refuses (a throttle, a spent budget). Told of a run once its caller has the answer,
 * in the next turn of the event loop; still on the platform's one loop: keep it cheap, never
 * throw.
 */
export interface DispatchObserver {
  invoked(fn: FunctionVersion, result: DispatchResult, timing: InvocationTiming): void;
  throttled(functionName: string, reason: string): void;
}

/** A function version's instances: busy, idle, and of those both, the provisioned ones. */
export interface InstanceStates {
  readonly functionName: string;
  readonly version: string;
  readonly busy: number;
  readonly idle: number;
  readonly provisioned: number;
}
