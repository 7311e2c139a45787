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
} as const;

/** The error body every runtime sends (Node's `trace`, other runtimes' `stackTrace`). */
export interface RuntimeErrorBody {
  errorType?: string;
  errorMessage?: string;
  trace?: string[];
  stackTrace?: string[];
}
