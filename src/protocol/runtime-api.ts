/** The Lambda Runtime API (2018-06-01) as served to every instance. */

export const RUNTIME_API_PREFIX = "/2018-06-01";

export const RUNTIME_HEADERS = {
  requestId: "lambda-runtime-aws-request-id",
  deadlineMs: "lambda-runtime-deadline-ms",
  functionArn: "lambda-runtime-invoked-function-arn",
  traceId: "lambda-runtime-trace-id",
  clientContext: "lambda-runtime-client-context",
  cognitoIdentity: "lambda-runtime-cognito-identity",
  errorType: "lambda-runtime-function-error-type",
  responseMode: "lambda-runtime-function-response-mode",
  /** Trailer of a streamed response cut short: its error body, base64 JSON. */
  errorBody: "lambda-runtime-function-error-body",
} as const;

/** The only value `Lambda-Runtime-Function-Response-Mode` may take. */
export const STREAMING_RESPONSE_MODE = "streaming";

/** The error body every runtime sends (Node's `trace`, other runtimes' `stackTrace`). */
export interface RuntimeErrorBody {
  errorType?: string;
  errorMessage?: string;
  trace?: string[];
  stackTrace?: string[];
}
