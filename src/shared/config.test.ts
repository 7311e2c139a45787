import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "./config.js";

test("auth mail goes to the development inbox unless an SMTP URL is set, from Nimbus's own address", () => {
  const config = loadConfig({});
  assert.equal(config.authSmtpUrl, "");
  assert.equal(config.authMailFrom, "Nimbus <no-reply@nimbus.localhost>");
  const set = loadConfig({
    NIMBUS_AUTH_SMTP_URL: "smtps://mailer:p%40ss@mail.example.com:465?requireTLS=true",
    NIMBUS_AUTH_MAIL_FROM: "Acme <auth@acme.example>",
  });
  assert.equal(set.authSmtpUrl, "smtps://mailer:p%40ss@mail.example.com:465?requireTLS=true");
  assert.equal(set.authMailFrom, "Acme <auth@acme.example>");
});

test("a bad SMTP URL is refused without repeating it, since it may hold the password", () => {
  assert.throws(
    () => loadConfig({ NIMBUS_AUTH_SMTP_URL: "http://mailer:hunter2@mail.example.com" }),
    (err: Error) => {
      assert.match(err.message, /authSmtpUrl must be an SMTP URL such as smtp:\/\/user:password@/);
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    },
  );
});

test("a sender with a line break or without an address is refused", () => {
  for (const from of ["Nimbus <a@b.example>\r\nBcc: x@y.example", "Nimbus", "<>"]) {
    assert.throws(() => loadConfig({ NIMBUS_AUTH_MAIL_FROM: from }), /authMailFrom must be an address/);
  }
});

test("CAPTCHA is off by default, and a verify URL needs the site's secret", () => {
  const config = loadConfig({});
  assert.equal(config.authCaptchaVerifyUrl, "");
  assert.equal(config.authCaptchaTimeoutMs, 5000);
  assert.throws(
    () => loadConfig({ NIMBUS_AUTH_CAPTCHA_VERIFY_URL: "https://api.hcaptcha.com/siteverify" }),
    /authCaptchaSecret is required with authCaptchaVerifyUrl/,
  );
  const on = loadConfig({
    NIMBUS_AUTH_CAPTCHA_VERIFY_URL: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    NIMBUS_AUTH_CAPTCHA_SECRET: "0x4AAAAAAA-secret",
    NIMBUS_AUTH_CAPTCHA_TIMEOUT_MS: "2000",
  });
  assert.equal(on.authCaptchaSecret, "0x4AAAAAAA-secret");
  assert.equal(on.authCaptchaTimeoutMs, 2000);
});

test("a CAPTCHA secret with a space is refused without repeating it", () => {
  assert.throws(
    () =>
      loadConfig({
        NIMBUS_AUTH_CAPTCHA_VERIFY_URL: "https://api.hcaptcha.com/siteverify",
        NIMBUS_AUTH_CAPTCHA_SECRET: "top secret",
      }),
    (err: Error) => {
      assert.match(err.message, /authCaptchaSecret must be text without spaces/);
      assert.doesNotMatch(err.message, /top secret/);
      return true;
    },
  );
});
