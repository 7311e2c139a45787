/**
 * One error class for the whole platform, with codes from one catalogue. Each code carries
 * its HTTP status and whose fault it is; each surface renders it in its own format (the Lambda
 * API's names for the codes are its own table, `gateway/surfaces/lambda-api/errors.ts`).
 */

export type Fault = "user" | "platform";

interface CatalogueEntry {
  readonly status: number;
  readonly fault: Fault;
}

export const ERROR_CATALOGUE = {
  NotFound: { status: 404, fault: "user" },
  ProvisionedConcurrencyConfigNotFound: { status: 404, fault: "user" },
  Conflict: { status: 409, fault: "user" },
  InvalidParameter: { status: 400, fault: "user" },
  InvalidRequestContent: { status: 400, fault: "user" },
  RequestTooLarge: { status: 413, fault: "user" },
  InvalidZipFile: { status: 400, fault: "user" },
  TooManyRequests: { status: 429, fault: "user" },
  PreconditionFailed: { status: 412, fault: "user" },
  // An operation Nimbus does not implement: 501, which the SDKs do not retry.
  NotImplemented: { status: 501, fault: "user" },
  // Authentication: a request without valid credentials.
  MissingAuthenticationToken: { status: 403, fault: "user" },
  InvalidSignature: { status: 403, fault: "user" },
  UnrecognizedClient: { status: 403, fault: "user" },
  RequestExpired: { status: 403, fault: "user" },
  IncompleteSignature: { status: 400, fault: "user" },
  // Nimbus's own: a monthly budget is spent (402: retrying the same call cannot help).
  BudgetExceeded: { status: 402, fault: "user" },
  // The platform's own failures.
  ServiceUnavailable: { status: 503, fault: "platform" },
  Internal: { status: 500, fault: "platform" },
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
