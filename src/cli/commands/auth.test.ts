import assert from "node:assert/strict";
import { test } from "node:test";
import { auditTable, describeKeys, describeMail } from "./auth.js";

test("a mail prints its date, recipient and subject, then its text with the link and code", () => {
  const text = describeMail({
    id: "m-1",
    to: "ada@example.com",
    subject: "Confirm your email",
    text: "Confirm your address.\n\nConfirm: http://127.0.0.1:9000/auth/v1/verify?token=t\n\nOr enter this code: 123456",
    kind: "signup",
    createdAt: "2030-06-01T10:00:00.123Z",
  });
  assert.equal(
    text,
    "Date:    2030-06-01 10:00:00Z\nTo:      ada@example.com\nSubject: Confirm your email\n\n" +
      "Confirm your address.\n\nConfirm: http://127.0.0.1:9000/auth/v1/verify?token=t\n\nOr enter this code: 123456\n",
  );
});

test("keys show the issuer, both keys, and which signing key signs now", () => {
  const text = describeKeys({
    issuer: "http://127.0.0.1:9000/auth/v1",
    publishableKey: "pk",
    serviceKey: "sk",
    signingKeys: [
      { kid: "new", createdAt: "2030-06-01T10:00:00.000Z", retiredAt: null },
      { kid: "old", createdAt: "2030-05-01T10:00:00.000Z", retiredAt: "2030-06-01T10:00:00.000Z" },
    ],
  });
  assert.equal(
    text,
    "issuer           http://127.0.0.1:9000/auth/v1\npublishable key  pk\nservice key      sk\n\n" +
      "SIGNING KEY  STATE    CREATED               RETIRED\n" +
      "new          signing  2030-06-01 10:00:00Z  -\n" +
      "old          retired  2030-05-01 10:00:00Z  2030-06-01 10:00:00Z\n",
  );
});

test("audit entries show their time, action, user, address and detail", () => {
  const text = auditTable([
    {
      id: "a-1",
      userId: "u-1",
      action: "user_banned",
      ip: "127.0.0.1",
      detail: { until: 1 },
      at: "2030-06-01T10:00:00.000Z",
    },
    { id: "a-2", action: "login_failed", detail: {}, at: "2030-06-01T09:00:00.000Z" },
  ]);
  assert.equal(
    text,
    "TIME                  ACTION        USER  IP         DETAIL\n" +
      '2030-06-01 10:00:00Z  user_banned   u-1   127.0.0.1  {"until":1}\n' +
      "2030-06-01 09:00:00Z  login_failed  -     -\n",
  );
});
