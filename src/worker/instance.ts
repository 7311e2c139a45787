/**
 * One execution environment: a sandbox running one runtime with one function version, and
 * the Runtime API state machine in front of it. It serves one invocation at a time and is
 * never shared across functions.
 *
 *   init ──/next──► ready ──invoke()──► invoking ──/response|/error──► ready …
 *     │                                   │ timeout, exit
 *     └── /init/error, exit, timeout ─────┴──────────────► dead
 */
import type {
  InitPhases,
  InstanceHandle,
  InvokeOutcome,
  InvokeRequest,
  InvokeResult,
  StartResult,
} from "../protocol/invoke.js";
import { MAX_STREAMED_RESPONSE_BYTES, MAX_SYNC_RESPONSE_BYTES } from "../protocol/limits.js";
import { RUNTIME_HEADERS } from "../protocol/runtime-api.js";
import type { TimerHandle } from "../shared/clock.js";
import type { InstanceOptions } from "./instance-options.js";
import { LineSplitter, TailBuffer } from "./log-lines.js";
import {
  exitFailure,
  invalidModeBody,
  parseErrorBody,
  StreamedBody,
  streamError,
} from "./runtime-answers.js";
import { RuntimeApiServer } from "./runtime-api/server.js";
import {
  ACCEPTED,
  type ApiAnswer,
  apiError,
  type NextWaiter,
  type RuntimeApiTarget,
  type RuntimeBody,
  refusedStream,
  type StreamWriter,
} from "./runtime-api/target.js";
import { peakOnce } from "./sandbox/peak-memory.js";
import type { Sandbox, SandboxExit } from "./sandbox/types.js";

const TAIL_BUDGET_BYTES = 4096;
/** Error bodies are small; a runtime sending more is cut off. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;
/**
 * How long a stream cut short waits for the runtime's exit before it is called truncated: a
 * runtime that died closes its connection as it goes, and its exit (status, signal, out of
 * memory) says more than the cut does.
 */
const TRUNCATION_GRACE_MS = 250;

type State = "init" | "ready" | "invoking" | "dead";

interface Current {
  readonly req: InvokeRequest;
  readonly startedAt: number;
  readonly tail: TailBuffer;
  readonly timer: TimerHandle;
  readonly resolve: (result: InvokeResult) => void;
}

export class Instance implements InstanceHandle {
  readonly id: string;
  readonly workerId: string;
  readonly memoryMb: number;
  readonly api: RuntimeApiServer;
  /** What the Runtime API calls: this instance's state machine. */
  readonly target: RuntimeApiTarget;
  readonly #opts: InstanceOptions;
  #state: State = "init";
  #sandbox: Sandbox | undefined;
  #parkedNext: NextWaiter | undefined;
  #current: Current | undefined;
  /** The invocation whose response is streaming in: it takes no other response. */
  #streamOf: Current | undefined;
  #initTail = new TailBuffer(TAIL_BUDGET_BYTES);
  #stderrTail = "";
  #stopListeners: ((reason: string) => void)[] = [];
  #stopReason = "";
  #settleInit: ((r: StartResult) => void) | undefined;
  #initStartedAt = 0;
  /** The worker's phases before the runtime: code and sandbox. */
  #before: Pick<InitPhases, "codeMs" | "codeCached" | "sandboxMs" | "pooled"> | undefined;
  #spawnedAt = 0;
  /** Reads the last invocation's peak memory if nothing has yet (once: see `#finish`). */
  #owedPeak: (() => void) | undefined;

  constructor(opts: InstanceOptions) {
    this.id = opts.id;
    this.workerId = opts.workerId;
    this.memoryMb = opts.fn.memoryMb;
    this.#opts = opts;
    this.target = {
      next: (res, info) => this.#next(res, info?.functionInitMs),
      complete: (id, kind, req) => this.#complete(id, kind, req),
      initError: (req) => this.#initError(req),
      beginStream: (id, contentType) => this.#beginStream(id, contentType),
    };
    this.api =
      opts.api ??
      new RuntimeApiServer(
        this.target,
        opts.checkPeerUid
          ? { onlyUid: () => this.#sandbox?.uid, ...(opts.lookups ? { lookups: opts.lookups } : {}) }
          : {},
      );
  }

  get state(): State {
    return this.#state;
  }

  /** The sandbox's process id once started: for measurement (the bench sums its memory). */
  get pid(): number | undefined {
    return this.#sandbox?.pid;
  }

  /**
   * Attaches the started sandbox and waits for Init to end (first /next, or failure).
   * `startedAt` is when the cold start began on the worker; `before` its phases until now.
   */
  runInit(
    sandbox: Sandbox,
    startedAt: number,
    before?: Pick<InitPhases, "codeMs" | "codeCached" | "sandboxMs" | "pooled">,
    /** Called last, once everything is listening: what lets a pooled runtime go (its assignment). */
    release?: () => void,
  ): Promise<StartResult> {
    this.#sandbox = sandbox;
    this.#initStartedAt = startedAt;
    this.#before = before;
    this.#spawnedAt = this.#opts.clock.monotonic();
    const out = new LineSplitter((line) => this.#onLine(line));
    const err = new LineSplitter((line) => {
      this.#stderrTail = `${this.#stderrTail}${line}\n`.slice(-4096);
      this.#onLine(line);
    });
    sandbox.stdout.on("data", (c: Buffer) => out.push(c));
    sandbox.stderr.on("data", (c: Buffer) => err.push(c));
    sandbox.exited.then((exit) => {
      out.flush();
      err.flush();
      this.#onExit(exit);
    });
    return new Promise<StartResult>((resolve) => {
      const timer = this.#opts.clock.setTimeout(() => {
        this.#failInit("Sandbox.Timedout", undefined, `Init timed out after ${this.#opts.initTimeoutMs} ms`);
      }, this.#opts.initTimeoutMs);
      this.#settleInit = (r) => {
        timer.cancel();
        this.#settleInit = undefined;
        resolve(r);
      };
      // Last: the kernel tends to run a woken process on its waker's core once the waker
      // sleeps, so the platform's work after the wake-up is time the runtime waits.
      release?.();
    });
  }

  invoke(req: InvokeRequest): Promise<InvokeResult> {
    if (this.#state !== "ready") {
      return Promise.reject(new Error(`instance ${this.id} cannot take an invocation while ${this.#state}`));
    }
    this.#state = "invoking";
    this.#owedPeak?.();
    return new Promise<InvokeResult>((resolve) => {
      const timeoutMs = Math.max(0, req.deadlineMs - this.#opts.clock.now());
      const timer = this.#opts.clock.setTimeout(() => this.#onTimeout(), timeoutMs);
      this.#current = {
        req,
        startedAt: this.#opts.clock.monotonic(),
        tail: new TailBuffer(TAIL_BUDGET_BYTES),
        timer,
        resolve,
      };
      const parked = this.#parkedNext;
      if (parked) {
        this.#parkedNext = undefined;
        parked.send(req);
      }
    });
  }

  async stop(reason: string): Promise<void> {
    if (this.#state === "dead") return;
    this.#stopReason = reason;
    this.#owedPeak?.();
    this.#sandbox?.kill();
    if (this.#sandbox) await this.#sandbox.exited;
    else this.#die(reason);
  }

  onStopped(listener: (reason: string) => void): void {
    if (this.#state === "dead") listener(this.#stopReason);
    else this.#stopListeners.push(listener);
  }

  // ── Runtime API ─────────────────────────────────────────────────────────────

  #next(res: NextWaiter, functionInitMs?: number): void {
    switch (this.#state) {
      case "init": {
        this.#state = "ready";
        this.#parkedNext = res;
        const now = this.#opts.clock.monotonic();
        const initDurationMs = now - this.#initStartedAt;
        const phases = this.#phases(now, functionInitMs);
        // One event-loop turn lets the last init output still in the pipe reach the tail; no
        // invocation runs before the sandbox's limits apply (if they cannot, it is killed).
        const limited = this.#sandbox?.limited ?? Promise.resolve();
        Promise.all([limited, new Promise((r) => setImmediate(r))]).then(
          () =>
            this.#settleInit?.({
              kind: "ready",
              instance: this,
              initDurationMs,
              phases,
              logTail: this.#initTail.text(),
            }),
          () => {},
        );
        return;
      }
      case "ready":
        this.#parkedNext?.destroy();
        this.#parkedNext = res;
        return;
      case "invoking":
        // A second /next during the same invocation gets the same event again.
        res.send(this.#current!.req);
        return;
      case "dead":
        res.destroy();
        return;
    }
  }

  async #complete(requestId: string, kind: "response" | "error", req: RuntimeBody): Promise<ApiAnswer> {
    const check = this.#checkCurrent(requestId) ?? this.#checkNotStreaming();
    if (check) {
      req.discard();
      return check;
    }
    const limit = kind === "response" ? MAX_SYNC_RESPONSE_BYTES : MAX_ERROR_BODY_BYTES;
    const mode = req.header(RUNTIME_HEADERS.responseMode);
    if (mode !== undefined && mode !== "streaming") {
      req.discard();
      this.#finish({
        kind: "error",
        errorType: "Runtime.InvalidResponseModeHeader",
        payload: invalidModeBody(mode),
      });
      return apiError(400, "InvalidFunctionResponseMode", `response mode "${mode}" is not supported`);
    }
    let body: Buffer | undefined;
    try {
      body = await req.read(limit);
    } catch {
      // The runtime's connection closed before the body's end: as a streamed response cut
      // short, the invocation fails now (unless the runtime's exit explains it), not at its timeout.
      const cur = this.#current;
      if (cur && this.#checkCurrent(requestId) === undefined) this.#truncate(cur, "response");
      return apiError(400, "TruncatedHTTPRequest", "the response's body ended before its Content-Length");
    }
    // Output the runtime wrote before answering may still sit in the pipe: one turn of the
    // event loop lets it be read and attributed to this invocation.
    await new Promise<void>((r) => setImmediate(r));
    // The invocation may have timed out or crashed while the body was arriving.
    const recheck = this.#checkCurrent(requestId);
    if (recheck) return recheck;
    if (body === undefined) {
      const size = req.declaredLength || limit + 1;
      this.#finish({ kind: "response-too-large", size });
      return apiError(413, "RequestEntityTooLarge", `response is larger than ${limit} bytes`);
    }
    if (kind === "response") {
      this.#finish({ kind: "success", payload: body });
    } else {
      const { errorType, payload } = parseErrorBody(req, body);
      this.#finish({ kind: "error", errorType, payload });
    }
    return ACCEPTED;
  }

  #checkNotStreaming(): ApiAnswer | undefined {
    return this.#streamOf !== undefined && this.#streamOf === this.#current
      ? apiError(403, "InvalidStateTransition", "the invocation's response is streaming already")
      : undefined;
  }

  /**
   * A streamed response: each chunk goes to the invoker's sink as it arrives (or, for an invoker
   * that wants the answer whole, into a buffer within the synchronous limit). The end, or the
   * error that cut it short, ends the invocation as a response or an error does.
   */
  #beginStream(requestId: string, contentType: string | undefined): StreamWriter {
    const check = this.#checkCurrent(requestId) ?? this.#checkNotStreaming();
    if (check) return refusedStream(check);
    const cur = this.#current!;
    this.#streamOf = cur;
    const sink = cur.req.stream;
    sink?.start(contentType || "application/octet-stream");
    const live = () => this.#current === cur;
    const body = new StreamedBody(sink);
    return {
      write: (chunk) => {
        if (!live()) return true;
        const taken = body.add(chunk);
        if (taken !== "cut") return taken;
        this.#cutStream(body.size);
        return true;
      },
      whenReady: (resume) => (sink && live() ? sink.whenReady(resume) : resume()),
      end: async (error) => {
        // As for a buffered response: output written before the end is attributed to this invocation.
        await new Promise<void>((r) => setImmediate(r));
        const recheck = this.#checkCurrent(requestId);
        if (recheck || !live())
          return recheck ?? apiError(403, "InvalidStateTransition", "the invocation is over");
        // The instance keeps nothing of an invocation once it is over.
        this.#streamOf = undefined;
        if (error) {
          const { errorType, payload } = streamError(error);
          this.#finish({ kind: "error", errorType, payload });
        } else if (body.over) {
          this.#finish({ kind: "response-too-large", size: body.size });
          return apiError(
            413,
            "RequestEntityTooLarge",
            `response is larger than ${MAX_SYNC_RESPONSE_BYTES} bytes`,
          );
        } else {
          this.#finish({ kind: "success", payload: body.payload() });
        }
        return ACCEPTED;
      },
      cut: () => {
        if (live()) this.#truncate(cur, "streamed response");
      },
    };
  }

  /**
   * The runtime's connection closed in the middle of a response's body (streamed or whole).
   * The instance takes nothing more from now (another /next would hand the same event out
   * again); unless the runtime's exit explains the cut within the grace, the invocation fails
   * with Runtime.TruncatedResponse, as Lambda reports it, and the instance is replaced.
   */
  #truncate(cur: Current, what: "response" | "streamed response"): void {
    this.#state = "dead";
    this.#streamOf = undefined;
    this.#opts.clock.setTimeout(() => {
      if (this.#current !== cur) return;
      this.#stopReason = "its runtime cut its streamed response short";
      this.#finish(
        {
          kind: "crash",
          errorType: "Runtime.TruncatedResponse",
          reason: `the runtime closed its connection before the end of its ${what}`,
        },
        false,
      );
      this.#sandbox?.kill();
    }, TRUNCATION_GRACE_MS);
  }

  /**
   * A streamed response past its limit: the caller's stream ends with the error now. The
   * runtime cannot be told to stop writing, so the instance is replaced, as after a timeout.
   */
  #cutStream(size: number): void {
    this.#state = "dead";
    this.#stopReason = "its streamed response passed the limit";
    this.#finish({ kind: "response-too-large", size, limit: MAX_STREAMED_RESPONSE_BYTES }, false);
    this.#sandbox?.kill();
  }

  #checkCurrent(requestId: string): ApiAnswer | undefined {
    if (this.#state !== "invoking" || !this.#current) {
      return apiError(403, "InvalidStateTransition", "no invocation is in progress on this instance");
    }
    if (this.#current.req.requestId !== requestId) {
      return apiError(400, "InvalidRequestID", `request id ${requestId} is not the invocation in progress`);
    }
    return undefined;
  }

  async #initError(req: RuntimeBody): Promise<ApiAnswer> {
    if (this.#state !== "init") {
      req.discard();
      return apiError(403, "InvalidStateTransition", "init has already finished");
    }
    const body = (await req.read(MAX_ERROR_BODY_BYTES)) ?? Buffer.from("{}");
    const { errorType, payload } = parseErrorBody(req, body);
    this.#failInit(errorType, payload, "the runtime reported an init error");
    return ACCEPTED;
  }

  // ── Outcomes ────────────────────────────────────────────────────────────────

  #finish(outcome: InvokeOutcome, reusable = true): void {
    const cur = this.#current;
    if (!cur) return;
    this.#current = undefined;
    cur.timer.cancel();
    if (this.#state === "invoking") this.#state = reusable ? "ready" : "dead";
    const instanceReusable = reusable && this.#state === "ready";
    // The peak (/proc, 10-20 µs) is read when first asked for, by the REPORT once the answer
    // is out, else before the next event or a stop: the runtime idles until then.
    const readPeak = peakOnce(this.#sandbox);
    if (instanceReusable) this.#owedPeak = readPeak;
    else readPeak();
    cur.resolve({
      outcome,
      durationMs: this.#opts.clock.monotonic() - cur.startedAt,
      get maxMemoryUsedMb() {
        return readPeak();
      },
      logTail: cur.tail.text(),
      instanceReusable,
    });
  }

  #onTimeout(): void {
    const cur = this.#current;
    if (!cur) return;
    const timeoutS = this.#opts.fn.timeoutS;
    this.#state = "dead";
    this.#stopReason = "timeout";
    this.#finish({ kind: "timeout", timeoutS }, false);
    this.#sandbox?.kill();
  }

  /** The phases of a cold start ending now; the runtime's own is what the function's init did not take. */
  #phases(now: number, functionInitMs: number | undefined): InitPhases {
    const before = this.#before ?? { codeMs: 0, codeCached: true, sandboxMs: 0, pooled: false };
    const sinceSpawn = now - this.#spawnedAt;
    const init = functionInitMs === undefined ? undefined : Math.min(functionInitMs, sinceSpawn);
    return { ...before, runtimeMs: sinceSpawn - (init ?? 0), functionInitMs: init };
  }

  #failInit(errorType: string, payload: Buffer | undefined, reason: string): void {
    if (!this.#settleInit) return;
    const now = this.#opts.clock.monotonic();
    this.#settleInit({
      kind: "init-failed",
      errorType,
      payload,
      reason,
      phases: this.#phases(now, undefined),
      initDurationMs: now - this.#initStartedAt,
      logTail: this.#initTail.text(),
    });
    this.#stopReason = "init failed";
    this.#sandbox?.kill();
  }

  #onExit(exit: SandboxExit): void {
    const { errorType, reason } = exitFailure(exit, this.#sandbox?.outOfMemory() ?? false, this.#stderrTail);
    if (this.#state === "init") this.#failInit(errorType, undefined, reason);
    if (this.#current) this.#finish({ kind: "crash", errorType, reason }, false);
    this.#die(this.#stopReason || reason);
  }

  #die(reason: string): void {
    this.#state = "dead";
    // Whatever the runtime started goes with it.
    this.#sandbox?.kill();
    this.#parkedNext?.destroy();
    this.#parkedNext = undefined;
    this.api.close();
    const listeners = this.#stopListeners;
    this.#stopListeners = [];
    this.#opts.onDead(this);
    for (const l of listeners) l(reason);
  }

  #onLine(line: string): void {
    const cur = this.#current;
    if (cur) cur.tail.add(line);
    else if (this.#settleInit) this.#initTail.add(line);
    this.#opts.logs.write({
      functionName: this.#opts.fn.functionName,
      version: this.#opts.fn.version,
      instanceId: this.id,
      requestId: cur?.req.requestId,
      timestamp: this.#opts.clock.now(),
      message: line,
    });
  }
}
