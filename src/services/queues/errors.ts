/**
 * SQS's errors, by the codes the JSON protocol names (`QueueDoesNotExist`); the gateway's SQS
 * surface renders them in the protocol the client spoke, with the legacy Query code beside.
 * `sender` is false only for the platform's own failures.
 */
/** The errors SQS answers with another status than 400 (the model's `httpError` traits). */
const STATUS: Readonly<Record<string, number>> = {
  ReceiptHandleIsInvalid: 404,
  InvalidAddress: 404,
  ResourceNotFoundException: 404,
  PurgeQueueInProgress: 403,
  OverLimit: 403,
  RequestThrottled: 403,
  InvalidSecurity: 403,
};

export class SqsError extends Error {
  override readonly name = "SqsError";
  readonly code: string;
  readonly status: number;
  readonly sender: boolean;

  constructor(code: string, message: string, status = STATUS[code] ?? 400, sender = true) {
    super(message);
    this.code = code;
    this.status = status;
    this.sender = sender;
  }
}

export const invalidParameter = (message: string) => new SqsError("InvalidParameterValue", message);
export const missingParameter = (name: string) =>
  new SqsError("MissingParameter", `The request must contain the parameter ${name}.`);
export const invalidAttributeValue = (message: string) => new SqsError("InvalidAttributeValue", message);
export const noSuchQueue = () => new SqsError("QueueDoesNotExist", "The specified queue does not exist.");
