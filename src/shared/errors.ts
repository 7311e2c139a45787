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
}

/** Turns anything thrown into a NimbusError; unknown errors become a generic internal error. */
export function toNimbusError(err: unknown): NimbusError {
  if (err instanceof NimbusError) return err;
  return new NimbusError("Internal", "An internal error occurred. It has been logged with the request id.");
}
