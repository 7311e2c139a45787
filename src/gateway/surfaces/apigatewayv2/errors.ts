/**
 * Errors on the API Gateway v2 management API: status, `x-amzn-ErrorType` and `{"message": …}`,
 * as the SDK's REST-JSON protocol parses them (the type from the header, the message from the
 * body). Validation problems arrive already worded by the service: each field, its value and
 * what is expected, joined into one message.
 */
import type { ErrorCode, NimbusError } from "../../../shared/errors.js";

/** API Gateway's name for each code of the catalogue: a new code fails to compile until it has one. */
export const APIGATEWAY_NAMES: Readonly<Record<ErrorCode, string>> = {
  NotFound: "NotFoundException",
  ProvisionedConcurrencyConfigNotFound: "NotFoundException",
  Conflict: "ConflictException",
  InvalidParameter: "BadRequestException",
  InvalidRequestContent: "BadRequestException",
  RequestTooLarge: "BadRequestException",
  InvalidZipFile: "BadRequestException",
  TooManyRequests: "TooManyRequestsException",
  PreconditionFailed: "ConflictException",
  NotImplemented: "NotImplementedException",
  MissingAuthenticationToken: "MissingAuthenticationTokenException",
  InvalidSignature: "InvalidSignatureException",
  UnrecognizedClient: "UnrecognizedClientException",
  RequestExpired: "InvalidSignatureException",
  IncompleteSignature: "IncompleteSignatureException",
  BudgetExceeded: "BudgetExceededException",
  ServiceUnavailable: "ServiceUnavailableException",
  Internal: "InternalServerErrorException",
};

export function apigatewayErrorResponse(err: NimbusError, requestId: string): Response {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-amzn-errortype": APIGATEWAY_NAMES[err.code],
    "x-amzn-requestid": requestId,
  };
  const body: Record<string, unknown> = { message: err.message };
  if (err.code === "TooManyRequests") body.limitType = "ManagementApi";
  const retry = err.details.retryAfterSeconds;
  if (retry !== undefined) headers["retry-after"] = String(retry);
  return new Response(JSON.stringify(body), { status: err.status, headers });
}
