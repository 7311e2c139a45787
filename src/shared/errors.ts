/**
 * One error class for the whole platform, with codes from one catalogue. Each code carries
 * its HTTP status, whose fault it is, and the name Lambda-facing routes answer with.
 */

export type Fault = "user" | "platform";

interface CatalogueEntry {
  readonly status: number;
  readonly fault: Fault;
  /** The error name Lambda's API uses for this situation (x-amzn-ErrorType). */
  readonly lambdaName: string;
}

export const ERROR_CATALOGUE = {
  NotFound: { status: 404, fault: "user", lambdaName: "ResourceNotFoundException" },
  ProvisionedConcurrencyConfigNotFound: {
    status: 404,
    fault: "user",
    lambdaName: "ProvisionedConcurrencyConfigNotFoundException",
  },
  Conflict: { status: 409, fault: "user", lambdaName: "ResourceConflictException" },
  InvalidParameter: { status: 400, fault: "user", lambdaName: "InvalidParameterValueException" },
  InvalidRequestContent: { status: 400, fault: "user", lambdaName: "InvalidRequestContentException" },
  RequestTooLarge: { status: 413, fault: "user", lambdaName: "RequestTooLargeException" },
  InvalidZipFile: { status: 400, fault: "user", lambdaName: "InvalidZipFileException" },
  TooManyRequests: { status: 429, fault: "user", lambdaName: "TooManyRequestsException" },
  PreconditionFailed: { status: 412, fault: "user", lambdaName: "PreconditionFailedException" },
  // A Lambda operation Nimbus does not implement: 501, which the SDKs do not retry.
  NotImplemented: { status: 501, fault: "user", lambdaName: "NotImplementedException" },
  // Authentication (SigV4). Lambda answers these with the same names as the other AWS APIs.
  MissingAuthenticationToken: {
    status: 403,
    fault: "user",
    lambdaName: "MissingAuthenticationTokenException",
  },
  InvalidSignature: { status: 403, fault: "user", lambdaName: "InvalidSignatureException" },
  UnrecognizedClient: { status: 403, fault: "user", lambdaName: "UnrecognizedClientException" },
  RequestExpired: { status: 403, fault: "user", lambdaName: "InvalidSignatureException" },
  IncompleteSignature: { status: 400, fault: "user", lambdaName: "IncompleteSignatureException" },
  // Nimbus's own: a monthly budget is spent (402: retrying the same call cannot help).
  BudgetExceeded: { status: 402, fault: "user", lambdaName: "BudgetExceededException" },
  // The platform's own failures.
  ServiceUnavailable: { status: 503, fault: "platform", lambdaName: "ServiceException" },
  Internal: { status: 500, fault: "platform", lambdaName: "ServiceException" },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The rules an input's field can break; an edge may render some in its own words. */
export type ProblemRule =
  | "required"
  | "type"
  | "range"
  | "length"
  | "pattern"
  | "oneOf"
  | "entries"
  /** A key of a map breaks the rule (the value is the key). */
  | "key"
  | "reserved"
  | "size"
  /** Names something that does not exist. */
  | "exists"
  /** Disagrees with another field or with what is stored. */
  | "consistent"
  /** Asks for more than the platform has left. */
  | "available";

/**
 * One thing wrong with an input: the field (as the caller's input names it, dotted for nested
 * members), the value given (undefined when missing), the rule it breaks and what the rule
 * expects, as a phrase that completes "must": "be an integer from 128 to 10240 (MB)".
 */
export interface Problem {
  readonly field: string;
  readonly value: unknown;
  readonly rule: ProblemRule;
  readonly expected: string;
}

export class NimbusError extends Error {
  readonly code: ErrorCode;
  /** Extra fields the wire format carries, e.g. Lambda's `Reason` on a throttle. */
  readonly details: Readonly<Record<string, string | number>>;
  /** What is wrong with the input, field by field, for an edge to render in its own format. */
  readonly problems: readonly Problem[];

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, string | number> = {},
    problems: readonly Problem[] = [],
  ) {
    super(message);
    this.name = "NimbusError";
    this.code = code;
    this.details = details;
    this.problems = problems;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  get fault(): Fault {
    return ERROR_CATALOGUE[this.code].fault;
  }

  get lambdaName(): string {
    return ERROR_CATALOGUE[this.code].lambdaName;
  }
}

/** An `InvalidParameter` error listing `problems`, its message naming each value and what is expected. */
export function invalidInput(problems: readonly Problem[]): NimbusError {
  return new NimbusError("InvalidParameter", problems.map(describeProblem).join("; "), {}, problems);
}

/** `memoryMb is 127: it must be an integer from 128 to 10240 (MB)`. */
export function describeProblem(p: Problem): string {
  if (p.rule === "key") return `${p.field} has the key ${JSON.stringify(p.value)}: keys must ${p.expected}`;
  const shown =
    p.value === undefined
      ? "missing"
      : p.rule === "size"
        ? `${String(p.value)} bytes`
        : (JSON.stringify(p.value) ?? String(p.value));
  return `${p.field} is ${shown}: it must ${p.expected}`;
}

/** Turns anything thrown into a NimbusError; unknown errors become a generic internal error. */
export function toNimbusError(err: unknown): NimbusError {
  if (err instanceof NimbusError) return err;
  return new NimbusError("Internal", "An internal error occurred. It has been logged with the request id.");
}
