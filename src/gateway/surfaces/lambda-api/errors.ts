/** Errors on the Lambda API: status, `x-amzn-ErrorType` and a JSON body, as the SDK parses them. */
import type { ErrorCode, NimbusError, Problem, ProblemRule } from "../../../shared/errors.js";

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
    message: lambdaMessage(err),
  };
  for (const [k, v] of Object.entries(err.details)) {
    if (k === "retryAfterSeconds") headers["retry-after"] = String(v);
    else body[k] = v;
  }
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

/** The rules Lambda reports as "validation errors"; the others carry a message of their own. */
const VALIDATION_RULES: ReadonlySet<ProblemRule> = new Set([
  "required",
  "type",
  "range",
  "length",
  "pattern",
  "oneOf",
  "entries",
  "key",
]);

/**
 * Lambda's names for the registry's fields (a prefix names the members below it too), and
 * how Lambda shows their value.
 */
const LAMBDA_FIELDS: Readonly<Record<string, { name: string; value?: (v: unknown) => unknown }>> = {
  memoryMb: { name: "memorySize" },
  timeoutS: { name: "timeout" },
  ephemeralStorageMb: { name: "ephemeralStorage.size" },
  environment: { name: "environment.variables" },
  architecture: { name: "architectures", value: (v) => [v] },
  additionalVersionWeights: { name: "routingConfig.additionalVersionWeights" },
  reservedConcurrency: { name: "reservedConcurrentExecutions" },
  provisionedConcurrency: { name: "provisionedConcurrentExecutions" },
  deadLetterTarget: { name: "deadLetterConfig.targetArn" },
  expectedRevision: { name: "revisionId" },
};

/** The message Lambda would give: its validation-error form, or its words for a few rules. */
export function lambdaMessage(err: NimbusError): string {
  const validation = err.problems.filter((p) => VALIDATION_RULES.has(p.rule));
  if (validation.length > 0) {
    const n = validation.length;
    return `${n} validation error${n === 1 ? "" : "s"} detected: ${validation.map(constraint).join("; ")}`;
  }
  for (const p of err.problems) {
    if (p.field === "environment" && p.rule === "reserved")
      return `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${(p.value as string[]).join(", ")}`;
    if (p.field === "environment" && p.rule === "size")
      return `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${String(p.value)} bytes`;
  }
  return err.message;
}

/** "Value '127' at 'memorySize' failed to satisfy constraint: Member must be …". */
function constraint(p: Problem): string {
  const [prefix, rest] = splitField(p.field);
  const lambda = LAMBDA_FIELDS[prefix];
  const field = lambda ? lambda.name + rest : p.field;
  const value = lambda?.value && rest === "" ? lambda.value(p.value) : p.value;
  // A missing member reads "null", as in Lambda's own messages.
  const shown = typeof value === "string" ? value : (JSON.stringify(value) ?? "null");
  const subject = p.rule === "key" ? "Keys" : "Member";
  return `Value '${shown}' at '${field}' failed to satisfy constraint: ${subject} must ${p.expected}`;
}

/** "environment.FOO" → ["environment", ".FOO"]. */
function splitField(field: string): [string, string] {
  const dot = field.indexOf(".");
  return dot === -1 ? [field, ""] : [field.slice(0, dot), field.slice(dot)];
}
