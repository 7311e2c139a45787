/**
 * Standard Webhooks secrets at their limits (24 and 64 bytes, one byte past each refused), and
 * signatures equal to what the reference library computes; `Retry-After` in both its forms.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { Webhook } from "standardwebhooks";
import { retryAfterMs } from "./http-delivery.js";
import { signsWebhooks, webhookHeaders, webhookKey } from "./webhook-signature.js";

const secret = (bytes: number) => `whsec_${randomBytes(bytes).toString("base64")}`;

test("a secret holds 24 to 64 bytes after whsec_, in base64; anything else is refused saying so", () => {
  assert.equal(webhookKey(secret(24)).length, 24);
  assert.equal(webhookKey(secret(64)).length, 64);
  for (const bad of [secret(23), secret(65), secret(32).slice(6), `whsec_${"!".repeat(40)}`, "whsec_"])
    assert.throws(() => webhookKey(bad), /"whsec_" followed by 24 to 64 random bytes in base64/, bad);
  assert.throws(() => webhookKey(`${secret(32).slice(0, -4)}*${secret(32).slice(-3)}`), /whsec_/);
});

test("the headers are the reference library's, and it verifies them", () => {
  const s = secret(32);
  const body = JSON.stringify({ id: "e-1", detail: { note: "Grüße 👋" } });
  const at = Date.now();
  const h = webhookHeaders(webhookKey(s), "msg-1", at, body);
  assert.equal(h["webhook-id"], "msg-1");
  assert.equal(h["webhook-timestamp"], String(Math.floor(at / 1000)));
  assert.equal(h["webhook-signature"], new Webhook(s).sign("msg-1", new Date(at), body));
  assert.deepEqual(new Webhook(s).verify(body, h), JSON.parse(body));
});

test("only an API key named webhook-signature (any case) signs", () => {
  assert.equal(signsWebhooks("Webhook-Signature"), true);
  assert.equal(signsWebhooks("x-api-key"), false);
});

test("Retry-After in seconds or as an HTTP date, from now; absent or unreadable is 0", () => {
  const now = Date.UTC(2030, 0, 1, 12, 0, 0);
  assert.equal(retryAfterMs("120", now), 120_000);
  assert.equal(retryAfterMs("Tue, 01 Jan 2030 12:00:30 GMT", now), 30_000);
  assert.equal(retryAfterMs("Tue, 01 Jan 2030 11:00:00 GMT", now), 0);
  assert.equal(retryAfterMs(null, now), 0);
  assert.equal(retryAfterMs("soon", now), 0);
});
