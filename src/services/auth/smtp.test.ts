import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import { startSmtpServer } from "../../../test/helpers/smtp.js";
import type { OutgoingMail } from "./mail.js";
import { reasonOf, smtpTransport } from "./smtp.js";

const MAIL: OutgoingMail = {
  to: "ada@example.com",
  subject: "Your sign-in link",
  text: "Sign in: http://127.0.0.1/auth/v1/verify?token=abc&type=magiclink\n\nOr enter this code: 123456",
  html: "<p>Sign in</p>",
  kind: "magiclink",
};
const FROM = "Nimbus <no-reply@nimbus.localhost>";

test("describe names the host and port the URL gives, never its user or password", () => {
  const { describe } = smtpTransport("smtps://mailer:s3cret@mail.example.com:2465");
  assert.equal(describe, "SMTP mail.example.com:2465");
});

test("without a port, describe names nodemailer's default for the scheme: 587, or 465 for smtps", () => {
  assert.equal(smtpTransport("smtp://mail.example.com").describe, "SMTP mail.example.com:587");
  assert.equal(smtpTransport("smtps://user:pw@mail.example.com").describe, "SMTP mail.example.com:465");
  assert.equal(smtpTransport("smtp://[::1]:25").describe, "SMTP [::1]:25");
});

test("a mail goes over STARTTLS to the server the URL names, logged in with its percent-encoded user and password", async (t) => {
  const server = await startSmtpServer({ login: { user: "mail@er", pass: "p:ss/w@rd" } });
  t.after(() => server.close());
  const url = `smtp://mail%40er:p%3Ass%2Fw%40rd@127.0.0.1:${server.port}?tls.rejectUnauthorized=false`;
  await smtpTransport(url).send(FROM, MAIL);
  const [mail] = server.mails;
  assert.ok(mail, "the server received the mail");
  assert.equal(mail.user, "mail@er");
  assert.equal(mail.secure, true, "upgraded with STARTTLS");
  assert.equal(mail.mailFrom, "no-reply@nimbus.localhost");
  assert.deepEqual(mail.rcptTo, ["ada@example.com"]);
  assert.equal(mail.headers.from, FROM);
  assert.equal(mail.headers.subject, MAIL.subject);
  assert.match(mail.body, /verify\?token=abc&type=magiclink/);
});

test("a refused recipient fails with the server's answer, the full error kept as the cause", async (t) => {
  const server = await startSmtpServer({ refuse: () => "5.1.1 mailbox unavailable" });
  t.after(() => server.close());
  const err = await smtpTransport(`smtp://127.0.0.1:${server.port}?ignoreTLS=true`)
    .send(FROM, MAIL)
    .then(
      () => assert.fail("the send should fail"),
      (e: unknown) => e as Error,
    );
  assert.match(err.message, /^the mail server refused it \(550 5\.1\.1 mailbox unavailable\)$/);
  assert.equal((err.cause as { code?: string }).code, "EENVELOPE");
  assert.equal(server.mails.length, 0);
});

test("a wrong password fails saying the login was refused, without the password", async (t) => {
  const server = await startSmtpServer({ login: { user: "mailer", pass: "right" } });
  t.after(() => server.close());
  const url = `smtp://mailer:wrong-secret@127.0.0.1:${server.port}?tls.rejectUnauthorized=false`;
  await assert.rejects(smtpTransport(url).send(FROM, MAIL), (err: Error) => {
    assert.equal(err.message, "the mail server refused the platform's login");
    return true;
  });
});

test("a server that cannot be reached fails saying so, without its address", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const { port } = closed.address() as { port: number };
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await assert.rejects(smtpTransport(`smtp://127.0.0.1:${port}`).send(FROM, MAIL), (err: Error) => {
    assert.equal(err.message, "the mail server could not be reached");
    return true;
  });
});

test("the URL's query sets nodemailer's options: a server that never greets fails after its greetingTimeout", async (t) => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const { port } = silent.address() as { port: number };
  const started = Date.now();
  await assert.rejects(
    smtpTransport(`smtp://127.0.0.1:${port}?greetingTimeout=200`).send(FROM, MAIL),
    (err: Error) => {
      assert.equal(err.message, "the mail server did not answer in time");
      return true;
    },
  );
  assert.ok(Date.now() - started < 5_000, "the URL's 200 ms, not the 10 s default");
});

test("reasonOf quotes the server's refusal on one line, and names other failures without detail", () => {
  assert.equal(
    reasonOf({ code: "EMESSAGE", response: "554 5.7.1\r\n  spam detected" }),
    "the mail server refused it (554 5.7.1 spam detected)",
  );
  assert.equal(reasonOf({ code: "ETLS" }), "TLS with the mail server failed");
  assert.equal(reasonOf({ code: "EPROTOCOL", response: "421 busy" }), "the mail server answered 421 busy");
  assert.equal(reasonOf(new Error("boom")), "the mail could not be handed to the mail server");
});
