/**
 * A queue's three names: its name, its URL (`<endpoint>/<account-id>/<name>`, on the host the
 * client used, as function URLs are) and its ARN (`arn:aws:sqs:<region>:<account-id>:<name>`).
 */
import { invalidParameter, noSuchQueue, SqsError } from "./errors.js";

export const MAX_QUEUE_NAME = 80;
const NAME = /^[A-Za-z0-9_-]+$/;

export interface QueueAccount {
  readonly region: string;
  readonly accountId: string;
}

/** Checks a name for CreateQueue: 1 to 80 of letters, digits, `-`, `_`; a FIFO queue's ends in `.fifo`. */
export function checkQueueName(name: unknown, fifo: boolean): string {
  if (typeof name !== "string" || name.length === 0)
    throw new SqsError("MissingParameter", "The request must contain the parameter QueueName.");
  const base = name.endsWith(".fifo") ? name.slice(0, -".fifo".length) : name;
  if (name.length > MAX_QUEUE_NAME || !NAME.test(base))
    throw invalidParameter(
      `Can only include alphanumeric characters, hyphens, or underscores. 1 to ${MAX_QUEUE_NAME} in length` +
        ` (queue name ${JSON.stringify(name.slice(0, 100))}).`,
    );
  if (fifo && base === name)
    throw invalidParameter(
      "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
    );
  if (!fifo && base !== name)
    throw invalidParameter(
      "A queue whose name ends with .fifo must be created with the FifoQueue attribute set to true.",
    );
  return name;
}

export function queueUrl(endpoint: string, account: QueueAccount, name: string): string {
  return `${endpoint.replace(/\/+$/, "")}/${account.accountId}/${encodeURIComponent(name)}`;
}

export function queueArn(account: QueueAccount, name: string): string {
  return `arn:aws:sqs:${account.region}:${account.accountId}:${name}`;
}

/** The queue a QueueUrl names: its last path segment, in this account. Any host is accepted (clients keep URLs across hosts). */
export function nameFromUrl(url: unknown, account: QueueAccount): string {
  if (typeof url !== "string" || url.length === 0)
    throw new SqsError("MissingParameter", "The request must contain the parameter QueueUrl.");
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url.startsWith("/") ? url : "";
  }
  const parts = path.split("/").filter(Boolean);
  if (parts.length !== 2 || parts[0] !== account.accountId) {
    if (parts.length === 2) throw noSuchQueue();
    throw new SqsError(
      "InvalidAddress",
      `The address ${JSON.stringify(url)} is not valid for this endpoint: expected <endpoint>/${account.accountId}/<queue-name>.`,
      404,
    );
  }
  return decodeURIComponent(parts[1]!);
}

/** The queue an ARN names, in this account and region. */
export function nameFromArn(arn: unknown, account: QueueAccount, what: string): string {
  const parts = typeof arn === "string" ? arn.split(":") : [];
  if (parts.length !== 6 || parts[0] !== "arn" || parts[2] !== "sqs" || !parts[5])
    throw invalidParameter(
      `${what} must be a queue ARN, arn:aws:sqs:<region>:<account-id>:<queue-name>; got ${JSON.stringify(arn)}.`,
    );
  if (parts[3] !== account.region || parts[4] !== account.accountId) throw noSuchQueue();
  return parts[5];
}
