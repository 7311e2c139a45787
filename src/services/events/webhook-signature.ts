/**
 * Standard Webhooks (standardwebhooks.com): each request carries `webhook-id` (the same on every
 * attempt, so receivers drop repeats), `webhook-timestamp` (seconds, the attempt's: receivers
 * refuse stale ones) and `webhook-signature: v1,<base64 HMAC-SHA256>` of `id.timestamp.body`
 * under the secret `whsec_<base64 key>`. A connection opts in by naming its API key
 * `webhook-signature` (`api-destinations.ts`).
 */
import { createHmac } from "node:crypto";

/** The API key name that makes a connection sign as Standard Webhooks instead of sending a header. */
export const SIGNATURE_HEADER = "webhook-signature";
const PREFIX = "whsec_";
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

/** Whether an API key of this name asks for signatures. */
export const signsWebhooks = (apiKeyName: string): boolean =>
  apiKeyName.trim().toLowerCase() === SIGNATURE_HEADER;

/** The key a `whsec_` secret holds; throws saying what a secret looks like. */
export function webhookKey(secret: string): Buffer {
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : "";
  const key = Buffer.from(b64, "base64");
  // Buffer.from skips what is not base64: encoding the key back must give what was written.
  const exact = key.toString("base64").replace(/=+$/, "") === b64.replace(/=+$/, "");
  if (!exact || key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES)
    throw new Error(
      `a Standard Webhooks secret is "${PREFIX}" followed by ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} random bytes in base64 (e.g. whsec_$(openssl rand -base64 32))`,
    );
  return key;
}

/** The three headers of one attempt. */
export function webhookHeaders(
  key: Buffer,
  id: string,
  nowMs: number,
  body: string,
): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const mac = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${mac}` };
}
