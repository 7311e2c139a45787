/** The error body of every surface that has no format of its own to follow (not Lambda's, not S3's). */
import type { NimbusError } from "../shared/errors.js";

/** `{ "error": { "code", "message", "requestId" } }` with the code's status. */
export function nimbusErrorResponse(err: NimbusError, requestId: string): Response {
  return Response.json(
    { error: { code: err.code, message: err.message, requestId } },
    { status: err.status },
  );
}
