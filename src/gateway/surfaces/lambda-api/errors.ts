/** Errors on the Lambda API: status, `x-amzn-ErrorType` and a JSON body, as the SDK parses them. */
import type { ErrorCode, NimbusError } from "../../../shared/errors.js";

/**
 * The name Lambda's API gives each code of the catalogue (`x-amzn-ErrorType`), which the SDKs
 * turn into the exception's name. Typed over every code: a new code fails to compile until
 * it has its Lambda name here (and its row in docs/errors.md, which a test checks).
 */
export const LAMBDA_NAMES: Readonly<Record<ErrorCode, string>> = {
  NotFound: "ResourceNotFoundException",
  ProvisionedConcurrencyConfigNotFound: "ProvisionedConcurrencyConfigNotFoundException",
  Conflict: "ResourceConflictException",
  InvalidParameter: "InvalidParameterValueException",
  InvalidRequestContent: "InvalidRequestContentException",
  RequestTooLarge: "RequestTooLargeException",
  InvalidZipFile: "InvalidZipFileException",
  TooManyRequests: "TooManyRequestsException",
  PreconditionFailed: "PreconditionFailedException",
  NotImplemented: "NotImplementedException",
  // Lambda answers authentication failures with the same names as the other AWS APIs.
  MissingAuthenticationToken: "MissingAuthenticationTokenException",
  InvalidSignature: "InvalidSignatureException",
  UnrecognizedClient: "UnrecognizedClientException",
  RequestExpired: "InvalidSignatureException",
  IncompleteSignature: "IncompleteSignatureException",
  BudgetExceeded: "BudgetExceededException",
  ServiceUnavailable: "ServiceException",
  Internal: "ServiceException",
};

export function lambdaErrorResponse(err: NimbusError, requestId: string): Response {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-amzn-errortype": LAMBDA_NAMES[err.code],
    "x-amzn-requestid": requestId,
  };
  const body: Record<string, unknown> = {
    Type: err.fault === "user" ? "User" : "Service",
    message: err.message,
  };
  for (const [k, v] of Object.entries(err.details)) {
    if (k === "retryAfterSeconds") headers["retry-after"] = String(v);
    else body[k] = v;
  }
  return new Response(JSON.stringify(body), { status: err.status, headers });
}
