/** EventBridge's errors, by the names `@aws-sdk/client-eventbridge` raises (its `__type`). */
export class EventsError extends Error {
  override readonly name = "EventsError";
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const validation = (message: string) => new EventsError("ValidationException", message);
export const notFound = (what: string) =>
  new EventsError("ResourceNotFoundException", `${what} does not exist.`);
export const exists = (what: string) =>
  new EventsError("ResourceAlreadyExistsException", `${what} already exists.`);
