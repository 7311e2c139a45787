import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "commander";
import type { AuthUser } from "./auth-admin.js";
import { banDuration, jsonObject, pageNote, passwordOf, sessionsTable, usersTable } from "./auth-users.js";

const NOW = Date.parse("2030-06-01T12:00:00Z");

const user = (over: Partial<AuthUser>): AuthUser => ({
  id: "u-1",
  email: "ada@example.com",
  is_anonymous: false,
  created_at: "2030-01-01T00:00:00.000Z",
  ...over,
});

test("users show whether they are confirmed, their last sign-in, and only a ban still in force", () => {
  const text = usersTable(
    [
      user({
        email_confirmed_at: "2030-01-01T00:00:00.000Z",
        last_sign_in_at: "2030-05-31T09:08:07.654Z",
        banned_until: "2030-06-02T12:00:00.000Z",
      }),
      user({ id: "u-2", email: "grace@example.com", banned_until: "2030-05-01T00:00:00.000Z" }),
      user({ id: "u-3", email: "", is_anonymous: true }),
    ],
    NOW,
  );
  assert.equal(
    text,
    "ID   EMAIL              CONFIRMED  LAST SIGN-IN          BANNED\n" +
      "u-1  ada@example.com    yes        2030-05-31 09:08:07Z  until 2030-06-02 12:00:00Z\n" +
      "u-2  grace@example.com  no         -                     no\n" +
      "u-3  (anonymous)        no         -                     no\n",
  );
});

test("sessions show when they were opened and refreshed, their level, address and agent", () => {
  const text = sessionsTable([
    {
      id: "s-1",
      aal: "aal2",
      ip: "127.0.0.1",
      user_agent: null,
      created_at: "2030-06-01T10:00:00.000Z",
      refreshed_at: "2030-06-01T11:00:00.000Z",
    },
  ]);
  assert.equal(
    text,
    "ID   OPENED                REFRESHED             AAL   IP         USER AGENT\n" +
      "s-1  2030-06-01 10:00:00Z  2030-06-01 11:00:00Z  aal2  127.0.0.1  -\n",
  );
});

test("a page of users says how to get the next one, and nothing on the last", () => {
  assert.equal(pageNote(1, 50, 120), "page 1 of 3 (120 users): --page 2 for the next\n");
  assert.equal(pageNote(3, 50, 120), "");
  assert.equal(pageNote(1, 50, 50), "");
  assert.equal(pageNote(1, 50, Number.NaN), "");
});

test("a ban lasts a Go duration of hours, minutes and seconds, longer than zero", () => {
  for (const ok of ["24h", "30m", "1h30m", "1.5h", "90s"]) assert.equal(banDuration(ok), ok);
  for (const bad of ["", "24", "1d", "h", "24 h", "none", "-1h", "1h-30m"])
    assert.throws(() => banDuration(bad), InvalidArgumentError, bad);
  assert.throws(() => banDuration("0h0m"), /longer than zero/);
});

test("metadata must be a JSON object", () => {
  assert.deepEqual(jsonObject('{"roles":["admin"]}'), { roles: ["admin"] });
  for (const bad of ["[1]", "null", '"x"', "{bad"])
    assert.throws(() => jsonObject(bad), /expected a JSON object/);
});

test("a password read from standard input loses its trailing newline, and must not be empty", () => {
  assert.equal(passwordOf("s3cret phrase\n"), "s3cret phrase");
  assert.equal(passwordOf("s3cret\r\n"), "s3cret");
  assert.equal(passwordOf("two\nlines\n"), "two\nlines");
  assert.throws(() => passwordOf("\n"), /read no password/);
});
