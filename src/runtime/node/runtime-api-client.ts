// The sandbox side of the Lambda Runtime API: the calls the Node runtime makes, and the error
// body it sends. The transports are in http-client.ts and framed-client.ts. Only node
// built-ins: this file runs inside the sandbox, alone.
import type { IncomingHttpHeaders } from "node:http";
import { types } from "node:util";

// Copied from src/protocol/runtime-api.ts: the runtime must not import project code.
export const PREFIX = "/2018-06-01/runtime";
export const ERROR_TYPE_HEADER = "lambda-runtime-function-error-type";
export const ERROR_BODY_TRAILER = "lambda-runtime-function-error-body";
export const RESPONSE_MODE_HEADER = "lambda-runtime-function-response-mode";

/** An error whose `name` is the Lambda error type it is reported as (`Runtime.HandlerNotFound`). */
export class LambdaError extends Error {
  constructor(type: string, message: string) {
    super(message);
    this.name = type;
  }
}

export interface ErrorBody {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The calls the runtime makes, whichever transport carries them. */
export interface RuntimeApi {
  /**
   * Waits for the next invocation; anything but 200 is a platform fault. The first call says
   * how long loading the function took, where the transport carries it (frames).
   */
  next(functionInitMs?: number): Promise<ApiResponse>;
  postResponse(requestId: string, json: string): Promise<ApiResponse>;
  /** postResponse then next, in one exchange where the transport allows it (frames). */
  respondThenNext?(requestId: string, json: string): Promise<ApiResponse>;
  postError(requestId: string, error: unknown): Promise<ApiResponse>;
  postInitError(error: unknown): Promise<ApiResponse>;
  /** A streamed response to `requestId`, sent as it is written (`/response` in mode `streaming`). */
  openStream(requestId: string): ResponseSink;
}

/** A streamed response on its way to the platform: what a response stream writes through. */
export interface ResponseSink {
  /**
   * Sends `bytes`, the first call with the response's start (its `contentType`); `done` is
   * called once the transport takes more, which is the stream's backpressure.
   */
  write(bytes: Buffer, contentType: string, done: (err?: Error | null) => void): void;
  /** Ends the response (started first if nothing was written), cut short by `error` if given; resolves with the platform's answer. */
  end(contentType: string, error: ErrorBody | undefined): Promise<ApiResponse>;
}

/** The body aws-lambda-ric sends for a thrown value: an Error's name, message and stack lines, else its typeof and String. */
export function errorBody(error: unknown): ErrorBody {
  try {
    if (error instanceof Error || types.isNativeError(error)) {
      const err = error as Error;
      return {
        errorType: escapeDel(String(err.name || err.constructor?.name || "Error")),
        errorMessage: escapeDel(String(err.message)),
        trace: typeof err.stack === "string" ? escapeDel(err.stack).split("\n") : [],
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    // A getter or toString that throws: the AWS runtime answers with this fixed body.
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
      trace: [],
    };
  }
}

// aws-lambda-ric escapes DEL, which the platform's error type and log parsers do not accept.
function escapeDel(text: string): string {
  return text.replaceAll("\x7f", "%7F");
}

// A header value must be visible ASCII; an exotic error name must not make the post itself throw.
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "_");
}

/**
 * The event's headers the runtime reads, copied from src/protocol/runtime-api.ts
 * (RUNTIME_HEADERS): the runtime imports no project code but the frame codec. Lower case, as
 * Node gives incoming names.
 */
export const HEADER = {
  requestId: "lambda-runtime-aws-request-id",
  deadlineMs: "lambda-runtime-deadline-ms",
  functionArn: "lambda-runtime-invoked-function-arn",
  traceId: "lambda-runtime-trace-id",
  clientContext: "lambda-runtime-client-context",
  cognitoIdentity: "lambda-runtime-cognito-identity",
  tenantId: "lambda-runtime-aws-tenant-id",
} as const;
