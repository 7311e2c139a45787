/** EventBridge Scheduler's errors, by the names `@aws-sdk/client-scheduler` raises (`x-amzn-ErrorType`). */
export class SchedulerError extends Error {
  override readonly name = "SchedulerError";
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const validation = (message: string) => new SchedulerError("ValidationException", message);
export const notFound = (what: string) =>
  new SchedulerError("ResourceNotFoundException", `${what} does not exist.`, 404);
export const conflict = (message: string) => new SchedulerError("ConflictException", message, 409);
