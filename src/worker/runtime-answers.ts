/**
 * What a runtime's answer means for its invocation: where a streamed response's bytes go; the
 * error type and the body the invoker gets, from an error post (its header, its JSON body,
 * without the tracing-only cause), from a stream the runtime ended with an error, for a
 * response mode Lambda does not know, and for a runtime that exited.
 */
import type { ResponseStreamSink } from "../protocol/invoke.js";
import { MAX_STREAMED_RESPONSE_BYTES, MAX_SYNC_RESPONSE_BYTES } from "../protocol/limits.js";
import { RUNTIME_HEADERS } from "../protocol/runtime-api.js";
import type { RuntimeBody, StreamError } from "./runtime-api/target.js";
import type { SandboxExit } from "./sandbox/types.js";

const EMPTY = Buffer.alloc(0);

/**
 * A streamed response's bytes: to the invoker's sink as they come (up to the streamed limit),
 * or, for an invoker that wants the answer whole, into a buffer within the synchronous limit.
 */
export class StreamedBody {
  readonly #sink: ResponseStreamSink | undefined;
  readonly #parts: Buffer[] = [];
  #size = 0;
  #over = false;

  constructor(sink: ResponseStreamSink | undefined) {
    this.#sink = sink;
  }

  get size(): number {
    return this.#size;
  }

  /** A whole answer past the synchronous limit: read on, and refused at its end (413). */
  get over(): boolean {
    return this.#over;
  }

  /** Takes a chunk: the sink's answer (false: wait for it to drain), or "cut" past the streamed limit. */
  add(chunk: Buffer): boolean | "cut" {
    if (this.#over) return true;
    this.#size += chunk.length;
    if (this.#sink) return this.#size <= MAX_STREAMED_RESPONSE_BYTES ? this.#sink.write(chunk) : "cut";
    if (this.#size <= MAX_SYNC_RESPONSE_BYTES) this.#parts.push(chunk);
    else {
      this.#over = true;
      this.#parts.length = 0;
    }
    return true;
  }

  /** What the invoker gets as the payload: nothing when the sink had it all. */
  payload(): Buffer {
    if (this.#sink) return EMPTY;
    return this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
  }
}

/** The body as a JSON object, or undefined when it is not one. */
function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body.toString("utf8")) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function parseErrorBody(req: RuntimeBody, body: Buffer): { errorType: string; payload: Buffer } {
  const headerType = req.header(RUNTIME_HEADERS.errorType);
  const parsed = jsonObject(body);
  let payload = body;
  if (
    parsed &&
    String(req.header("content-type")).startsWith("application/vnd.aws.lambda.error.cause+json")
  ) {
    // The cause is for tracing only; the invoker receives the error without it.
    const { errorCause: _cause, ...rest } = parsed;
    payload = Buffer.from(JSON.stringify(rest));
  }
  const bodyType = typeof parsed?.errorType === "string" ? parsed.errorType : undefined;
  const errorType = (typeof headerType === "string" && headerType) || bodyType || "Unhandled";
  return { errorType, payload };
}

/** The error type and body of a stream the runtime cut short, from its trailers or its frame. */
export function streamError(error: StreamError): { errorType: string; payload: Buffer } {
  const parsed = jsonObject(error.body);
  const bodyType = typeof parsed?.errorType === "string" ? parsed.errorType : undefined;
  const errorType = error.errorType || bodyType || "Unhandled";
  // A trailer without a readable body still reaches the caller as an error body.
  const payload = parsed
    ? error.body
    : Buffer.from(JSON.stringify({ errorType, errorMessage: error.body.toString("utf8") }));
  return { errorType, payload };
}

export function invalidModeBody(mode: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      errorType: "Runtime.InvalidResponseModeHeader",
      errorMessage: `Invalid response mode header value: ${String(mode)}`,
    }),
  );
}

/** What Node and V8 print on stderr as a heap runs out. */
const OOM_MARKERS = ["JavaScript heap out of memory", "Reached heap limit", "out of memory"];

/**
 * How a runtime's exit fails what it was doing (its init, its invocation): out of memory when
 * the sandbox says so or its last stderr does, else an exit error; the reason as Lambda words it.
 */
export function exitFailure(
  exit: SandboxExit,
  outOfMemory: boolean,
  stderrTail: string,
): { errorType: "Runtime.OutOfMemory" | "Runtime.ExitError"; reason: string } {
  const oom = outOfMemory || OOM_MARKERS.some((m) => stderrTail.includes(m));
  const how = exit.signal
    ? `signal: ${exit.signal === "SIGKILL" ? "killed" : exit.signal}`
    : `exit status ${exit.code}`;
  return {
    errorType: oom ? "Runtime.OutOfMemory" : "Runtime.ExitError",
    reason: `Runtime exited with error: ${how}`,
  };
}
