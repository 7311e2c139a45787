/** Request parameters SQS reads the same way in every action: bounded integers, receipt handles, page tokens. */
import { invalidParameter, SqsError } from "./errors.js";

export function intParam(v: unknown, fallback: number, min: number, max: number, name: string): number {
  if (v === undefined || v === null) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw invalidParameter(
      `Value ${JSON.stringify(v)} for parameter ${name} is invalid. Reason: must be an integer from ${min} to ${max}.`,
    );
  return n;
}

export function receiptParam(v: unknown): string {
  if (typeof v !== "string" || v.length === 0)
    throw new SqsError("MissingParameter", "The request must contain the parameter ReceiptHandle.");
  return v;
}

export function decodeToken(token: unknown): string {
  if (typeof token !== "string" || !/^[A-Za-z0-9_-]+$/.test(token))
    throw invalidParameter("Invalid NextToken: pass the NextToken of the previous answer as it was.");
  return Buffer.from(token, "base64url").toString("utf8");
}
