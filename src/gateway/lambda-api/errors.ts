/** Errors on the Lambda API: status, `x-amzn-ErrorType` and a JSON body, as the SDK parses them. */
import type { NimbusError } from "../../shared/errors.js";

export function lambdaErrorResponse(err: NimbusError, requestId: string): Response {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-amzn-errortype": err.lambdaName,
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
