/**
 * End to end through the `nimbus` command, against a real platform: users created, listed,
 * shown by email, banned (which refuses their sign-in), unbanned, signed out and removed with
 * `nimbus auth users …`; a sign-up's confirmation mail read with `nimbus auth inbox`; the keys
 * shown and rotated with `nimbus auth keys`; the audit log; the auth API's own words when it
 * refuses.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { authKeys } from "./helpers/auth.js";
import { type CliResult, cliEnv, NIMBUS, nimbus } from "./helpers/cli.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";

let t: TestPlatform;
let cli: (...args: string[]) => Promise<CliResult>;
const PASSWORD = "correct horse battery staple";

before(async () => {
  t = await startPlatform({ poolSize: 0 });
  cli = (...args) => nimbus(t.dataDir, ...args);
});

after(async () => {
  await t.close();
});

/** Runs the CLI with `input` on its standard input. */
function cliWithInput(input: string, ...args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [NIMBUS, ...args],
      { env: cliEnv(t.dataDir) },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

/** A password sign-in as an app makes it: the status and the body. */
async function signIn(email: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${t.url}/auth/v1/token?grant_type=password`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);

describe("nimbus auth users", () => {
  test("create, ls, get by email, ban (refusing sign-in), unban, sessions, signout, audit, rm", async () => {
    const created = await cliWithInput(
      `${PASSWORD}\n`,
      "auth",
      "users",
      "create",
      "Ada@Example.com",
      "--password-stdin",
      "--confirmed",
      "--app-metadata",
      '{"roles":["admin"]}',
    );
    ok(created);
    const id = /^created the user ada@example\.com: ([0-9a-f-]{36})\n$/.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);

    const listed = await cli("auth", "users", "ls");
    ok(listed);
    assert.match(listed.stdout, /^ID\s+EMAIL\s+CONFIRMED\s+LAST SIGN-IN\s+BANNED$/m);
    assert.match(listed.stdout, new RegExp(`^${id}\\s+ada@example\\.com\\s+yes\\s+-\\s+no$`, "m"));

    const got = await cli("auth", "users", "get", "ADA@example.com");
    ok(got);
    const user = JSON.parse(got.stdout) as { id: string; email: string; app_metadata: { roles: string[] } };
    assert.equal(user.id, id);
    assert.deepEqual(user.app_metadata.roles, ["admin"]);

    const again = await cli("auth", "users", "create", "ada@example.com");
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      "error: A user with this email address has already been registered (email_exists)\n",
    );

    assert.equal((await signIn("ada@example.com")).status, 200, "the password from stdin signs in");
    const banned = await cli("auth", "users", "ban", "ada@example.com", "--for", "24h");
    ok(banned);
    assert.match(banned.stdout, /^banned the user ada@example\.com until \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
    const refused = await signIn("ada@example.com");
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, "user_banned");
    assert.match((await cli("auth", "users", "ls")).stdout, new RegExp(`^${id}\\s.*\\suntil \\d{4}-`, "m"));
    const noSessions = await cli("auth", "users", "sessions", id);
    ok(noSessions);
    assert.equal(noSessions.stdout, "ada@example.com has no sessions\n", "the ban ended the session");

    ok(await cli("auth", "users", "unban", id));
    assert.match(
      (await cli("auth", "users", "ls")).stdout,
      new RegExp(`^${id}\\s+ada@example\\.com\\s+yes\\s+\\S+ \\S+\\s+no$`, "m"),
    );
    assert.equal((await signIn("ada@example.com")).status, 200);
    const sessions = await cli("auth", "users", "sessions", "ada@example.com");
    ok(sessions);
    assert.match(sessions.stdout, /^ID\s+OPENED\s+REFRESHED\s+AAL\s+IP\s+USER AGENT$/m);
    assert.match(sessions.stdout, /^[0-9a-f-]{36}\s+\d{4}-\S+ \S+Z\s+\S+ \S+Z\s+aal1\s/m);
    const signedOut = await cli("auth", "users", "signout", "ada@example.com");
    ok(signedOut);
    assert.equal(signedOut.stdout, "signed out the user ada@example.com: 1 session ended\n");

    const audit = await cli("auth", "audit", "--user", "ada@example.com", "--json");
    ok(audit);
    const actions = (JSON.parse(audit.stdout) as { entries: Array<{ action: string; userId: string }> })
      .entries;
    assert.ok(actions.every((e) => e.userId === id));
    for (const action of ["user_banned", "sessions_revoked"])
      assert.ok(
        actions.some((e) => e.action === action),
        `${action} in ${actions.map((e) => e.action)}`,
      );
    assert.match(
      (await cli("auth", "audit")).stdout,
      new RegExp(`^\\S+ \\S+Z\\s+user_banned\\s+${id}\\s`, "m"),
    );

    const removed = await cli("auth", "users", "rm", "ada@example.com");
    ok(removed);
    assert.equal(removed.stdout, "deleted the user ada@example.com\n");
    const gone = await cli("auth", "users", "get", "ada@example.com");
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, "error: no user has the email ada@example.com (user_not_found)\n");
    const goneById = await cli("auth", "users", "get", id);
    assert.equal(goneById.code, 1);
    assert.equal(goneById.stderr, "error: User not found (user_not_found)\n");
  });

  test("bad durations, bad metadata and two passwords are usage errors, and nothing is sent", async () => {
    const duration = await cli("auth", "users", "ban", "ada@example.com", "--for", "1d");
    assert.equal(duration.code, 2);
    assert.match(duration.stderr, /expected a duration like 24h, 30m or 1h30m/);
    const metadata = await cli("auth", "users", "create", "x@example.com", "--user-metadata", "[1]");
    assert.equal(metadata.code, 2);
    assert.match(metadata.stderr, /expected a JSON object/);
    const both = await cliWithInput(
      "p\n",
      "auth",
      "users",
      "create",
      "x@example.com",
      "--password",
      "p",
      "--password-stdin",
    );
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --password or --password-stdin, not both/);
    const notCreated = await cli("auth", "users", "get", "x@example.com");
    assert.equal(notCreated.stderr, "error: no user has the email x@example.com (user_not_found)\n");
  });
});

describe("nimbus auth inbox", () => {
  test("a sign-up's confirmation mail shows with its link and code", async () => {
    const res = await fetch(`${t.url}/auth/v1/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "grace@example.com", password: PASSWORD }),
    });
    assert.equal(res.status, 200, await res.clone().text());

    const inbox = await cli("auth", "inbox", "--to", "grace@example.com");
    ok(inbox);
    assert.match(
      inbox.stdout,
      /^Date: {4}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\nTo: {6}grace@example\.com\nSubject: Confirm your signup\n\n/,
    );
    assert.match(inbox.stdout, /https?:\/\/\S+\/auth\/v1\/verify\?\S+/);
    const code = /code: (\d{6})/.exec(inbox.stdout)?.[1];
    assert.ok(code, inbox.stdout);

    const json = await cli("auth", "inbox", "--to", "grace@example.com", "--limit", "1", "--json");
    ok(json);
    const { mails } = JSON.parse(json.stdout) as { mails: Array<{ to: string; kind: string; text: string }> };
    assert.equal(mails.length, 1);
    assert.equal(mails[0]?.kind, "signup");
    assert.match(mails[0]?.text ?? "", new RegExp(`code: ${code}`));

    const none = await cli("auth", "inbox", "--to", "nobody@example.com");
    ok(none);
    assert.equal(none.stdout, "no mail to nobody@example.com\n");
  });
});

describe("nimbus auth keys", () => {
  test("shows the service key; rotate makes a new key the signing one", async () => {
    const expected = await authKeys(t);
    const shown = await cli("auth", "keys");
    ok(shown);
    assert.match(shown.stdout, new RegExp(`^issuer\\s+${t.url}/auth/v1$`, "m"));
    assert.match(shown.stdout, new RegExp(`^service key\\s+${expected.serviceKey}$`, "m"));
    assert.match(shown.stdout, new RegExp(`^publishable key\\s+${expected.publishableKey}$`, "m"));
    const before = /^(\S+)\s+signing\s/m.exec(shown.stdout)?.[1];
    assert.ok(before, shown.stdout);

    const rotated = await cli("auth", "keys", "rotate");
    ok(rotated);
    const kid = /^rotated the signing key: (\S+) signs now; (\S+) is retired/.exec(rotated.stdout);
    assert.ok(kid, rotated.stdout);
    assert.notEqual(kid[1], before);
    assert.equal(kid[2], before);

    const after = await cli("auth", "keys", "--json");
    ok(after);
    const { signingKeys } = JSON.parse(after.stdout) as {
      signingKeys: Array<{ kid: string; retiredAt: string | null }>;
    };
    assert.deepEqual(
      signingKeys.filter((k) => k.retiredAt === null).map((k) => k.kid),
      [kid[1]],
    );
    assert.ok(signingKeys.some((k) => k.kid === before && k.retiredAt !== null));
  });

  test("rotate takes its own connection options", async () => {
    const res = await cli("auth", "keys", "rotate", "--endpoint", "http://127.0.0.1:1");
    assert.equal(res.code, 1);
    assert.match(res.stderr, /cannot reach the platform at http:\/\/127\.0\.0\.1:1 \(--endpoint\)/);
  });
});
