/** The error body of every surface that has no format of its own to follow (not Lambda's, not S3's). */
import type { NimbusError } from "../shared/errors.js";

/**
 * `{ "error": { "code", "message", "requestId" } }` with the code's status; an input refused
 * field by field adds `problems: [{ field, value, rule, expected }]` (value null when missing),
 * for a console to show each beside its field.
 */
export function nimbusErrorResponse(err: NimbusError, requestId: string): Response {
  const problems =
    err.problems.length === 0
      ? {}
      : {
          problems: err.problems.map((p) => ({
            field: p.field,
            value: p.value ?? null,
            rule: p.rule,
            expected: p.expected,
          })),
        };
  return Response.json(
    { error: { code: err.code, message: err.message, requestId, ...problems } },
    { status: err.status },
  );
}
