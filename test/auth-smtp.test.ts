/**
 * Auth's mail through a real SMTP server (`smtp-server`, started here) when `authSmtpUrl` is
 * set: sign-up confirmations and magic links arrive there with their link and code, over
 * STARTTLS and logged in, and the development inbox stays empty. A server that refuses a
 * mail makes the request fail with 500 saying the mail could not be sent, and a sign-up whose
 * confirmation was refused is completed by asking for it again.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AuthRetryableFetchError } from "@supabase/auth-js";
import { authClient, inbox } from "./helpers/auth.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from "./helpers/smtp.js";

const PASSWORD = "correct horse battery staple";
const FROM = "Acme Accounts <accounts@acme.test>";

let smtp: TestSmtpServer;
let t: TestPlatform;
/** Addresses the SMTP server refuses at RCPT TO, as a full mailbox would. */
const refused = new Set<string>();

before(async () => {
  smtp = await startSmtpServer({
    login: { user: "nimbus", pass: "s3cret/pw" },
    refuse: (rcpt) => (refused.has(rcpt) ? "5.2.2 mailbox full" : undefined),
  });
  t = await startPlatform({
    poolSize: 0,
    // The test server's certificate is self-signed: the URL's query says so to nodemailer.
    authSmtpUrl: `smtp://nimbus:s3cret%2Fpw@127.0.0.1:${smtp.port}?tls.rejectUnauthorized=false`,
    authMailFrom: FROM,
  });
});
after(async () => {
  await t.close();
  await smtp.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${t.url}/auth/v1${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** The one mail the SMTP server got for `to`, with its link and code. */
function mailTo(to: string): { mail: ReceivedMail; link: string; code: string } {
  const mails = smtp.mails.filter((m) => m.rcptTo.includes(to));
  assert.equal(mails.length, 1, `one mail to ${to}, got ${mails.length}`);
  const mail = mails[0]!;
  const link = /https?:\/\/\S+\/auth\/v1\/verify\?\S+/.exec(mail.body)?.[0];
  const code = /code: (\d{6})/.exec(mail.body)?.[1];
  assert.ok(link && code, `a link and a code in: ${mail.body}`);
  return { mail, link, code };
}

describe("mail through SMTP", () => {
  test("a sign-up's confirmation goes to the SMTP server, from the configured sender, and not to the inbox", async () => {
    const res = await post("/signup", { email: "ada@example.com", password: PASSWORD });
    assert.equal(res.status, 200, await res.clone().text());

    const { mail, link, code } = mailTo("ada@example.com");
    assert.equal(mail.user, "nimbus", "logged in with the URL's user");
    assert.equal(mail.secure, true, "upgraded with STARTTLS");
    assert.equal(mail.mailFrom, "accounts@acme.test");
    assert.equal(mail.headers.to, "ada@example.com");
    assert.match(mail.headers.from ?? "", /^"?Acme Accounts"? <accounts@acme\.test>$/);
    assert.equal(mail.headers.subject, "Confirm your signup");
    assert.ok(link.startsWith(`${t.url}/auth/v1/verify?token=`));
    assert.match(link, /type=signup/);
    assert.deepEqual(await inbox(t, "ada@example.com"), [], "the development inbox stays empty");

    // The mailed code is the real one: it confirms the address.
    const verified = await authClient(t).verifyOtp({ email: "ada@example.com", token: code, type: "signup" });
    assert.equal(verified.error, null);
    assert.equal(verified.data.user?.email, "ada@example.com");
  });

  test("/otp mails a magic link and code through SMTP; the link signs in", async () => {
    const res = await post("/otp", { email: "linus@example.com", create_user: true });
    assert.equal(res.status, 200, await res.clone().text());

    const { mail, link } = mailTo("linus@example.com");
    assert.equal(mail.headers.subject, "Your sign-in link");
    assert.deepEqual(await inbox(t, "linus@example.com"), []);
    const followed = await fetch(link, { redirect: "manual" });
    assert.equal(followed.status, 303);
    const fragment = new URLSearchParams(new URL(followed.headers.get("location") ?? "").hash.slice(1));
    assert.ok(fragment.get("access_token"), "a session in the redirect");
  });

  test("when the SMTP server refuses the mail, /otp answers 500 saying the email could not be sent", async () => {
    refused.add("full@example.com");
    const res = await post("/otp", { email: "full@example.com", create_user: true });
    assert.equal(res.status, 500);
    const body = (await res.json()) as { code: string; msg: string };
    assert.equal(body.code, "unexpected_failure");
    assert.equal(
      body.msg,
      "Error sending magic link email: the mail server refused it (550 5.2.2 mailbox full)",
    );
    assert.equal(smtp.mails.filter((m) => m.rcptTo.includes("full@example.com")).length, 0);
    assert.deepEqual(await inbox(t, "full@example.com"), [], "nothing falls back to the inbox");

    // What an app sees: auth-js takes any 500 for a retryable failure and reads only its status.
    const { error } = await authClient(t).signInWithOtp({ email: "full@example.com" });
    assert.ok(error instanceof AuthRetryableFetchError, String(error));
    assert.equal(error.status, 500);
  });

  test("a sign-up whose confirmation was refused leaves the user, who asks for the mail again", async () => {
    refused.add("grace@example.com");
    const failed = await post("/signup", { email: "grace@example.com", password: PASSWORD });
    assert.equal(failed.status, 500);
    assert.match(((await failed.json()) as { msg: string }).msg, /^Error sending confirmation email: /);

    refused.delete("grace@example.com");
    const auth = authClient(t);
    const resent = await auth.resend({ type: "signup", email: "grace@example.com" });
    assert.equal(resent.error, null);
    const { mail, code } = mailTo("grace@example.com");
    assert.equal(mail.headers.subject, "Confirm your signup");
    assert.equal(
      (await auth.verifyOtp({ email: "grace@example.com", token: code, type: "signup" })).error,
      null,
    );
    const signedIn = await authClient(t).signInWithPassword({
      email: "grace@example.com",
      password: PASSWORD,
    });
    assert.equal(signedIn.error, null, "the password given at the failed sign-up is the account's");
  });
});
