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

export class NimbusError extends Error {
  readonly code: ErrorCode;
  /** Extra fields the wire format carries, e.g. Lambda's `Reason` on a throttle. */
  readonly details: Readonly<Record<string, string | number>>;

  constructor(code: ErrorCode, message: string, details: Record<string, string | number> = {}) {
    super(message);
    this.name = "NimbusError";
    this.code = code;
    this.details = details;
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

/** Turns anything thrown into a NimbusError; unknown errors become a generic internal error. */
export function toNimbusError(err: unknown): NimbusError {
  if (err instanceof NimbusError) return err;
  return new NimbusError("Internal", "An internal error occurred. It has been logged with the request id.");
}
