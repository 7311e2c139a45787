/**
 * CAPTCHA through `@supabase/auth-js` (`options.captchaToken`) against a platform whose
 * `authCaptchaVerifyUrl` names a real local HTTP server speaking siteverify, as hCaptcha,
 * Turnstile and reCAPTCHA do: the right token lets sign-ups, sign-ins and mail requests
 * through; a wrong one, none, or a verifier that does not answer in time refuses them with
 * `captcha_failed`, before anything is created or sent.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { AuthApiError, type AuthError, type GoTrueClient } from "@supabase/auth-js";
import { authClient, inbox, lastMail } from "./helpers/auth.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";

const PASSWORD = "correct horse battery staple";
const SECRET = "site-secret-0x5EED";
const GOOD = "10000000-aaaa-bbbb-cccc-000000000001";
/** A token the fake service never answers for. */
const SLOW = "slow-token";
const TIMEOUT_MS = 300;

let verifier: Server;
/** The forms the siteverify server received. */
const asked: URLSearchParams[] = [];
let t: TestPlatform;

before(async () => {
  verifier = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      asked.push(form);
      if (req.method !== "POST" || req.url !== "/siteverify") return void res.writeHead(404).end();
      if (form.get("response") === SLOW) return; // never answers
      const ok = form.get("secret") === SECRET && form.get("response") === GOOD;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          ok ? { success: true } : { success: false, "error-codes": ["invalid-input-response"] },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => verifier.listen(0, "127.0.0.1", resolve));
  const { port } = verifier.address() as { port: number };
  t = await startPlatform({
    poolSize: 0,
    authCaptchaVerifyUrl: `http://127.0.0.1:${port}/siteverify`,
    authCaptchaSecret: SECRET,
    authCaptchaTimeoutMs: TIMEOUT_MS,
  });
});
after(async () => {
  await t.close();
  verifier.closeAllConnections();
  await new Promise<void>((resolve) => verifier.close(() => resolve()));
});

function assertCaptchaFailed(error: AuthError | null, reason: string): void {
  assert.ok(error instanceof AuthApiError, `refused, got ${String(error)}`);
  assert.equal(error.code, "captcha_failed");
  assert.equal(error.status, 400);
  assert.equal(error.message, `captcha protection: request disallowed (${reason})`);
}

describe("CAPTCHA", () => {
  test("a sign-up with the right token passes; the verifier is given the secret, the token and the caller's address", async () => {
    const before = asked.length;
    const { error } = await authClient(t).signUp({
      email: "ada@example.com",
      password: PASSWORD,
      options: { captchaToken: GOOD },
    });
    assert.equal(error, null);
    const form = asked[before];
    assert.ok(form, "the verifier was asked");
    assert.equal(form.get("secret"), SECRET);
    assert.equal(form.get("response"), GOOD);
    assert.equal(form.get("remoteip"), "127.0.0.1");
    assert.equal((await lastMail(t, "ada@example.com")).mail.kind, "signup");
  });

  test("a sign-up with a wrong token or none is refused, and no account is made", async () => {
    const auth = authClient(t);
    const wrong = await auth.signUp({
      email: "grace@example.com",
      password: PASSWORD,
      options: { captchaToken: "forged" },
    });
    assertCaptchaFailed(wrong.error, "invalid-input-response");
    const none = await auth.signUp({ email: "grace@example.com", password: PASSWORD });
    assertCaptchaFailed(none.error, "no captcha response (captcha_token) found in request");
    assert.deepEqual(await inbox(t, "grace@example.com"), [], "no mail was sent");

    // The address is still free: a sign-up with the right token is a first one.
    const right = await auth.signUp({
      email: "grace@example.com",
      password: PASSWORD,
      options: { captchaToken: GOOD },
    });
    assert.equal(right.error, null);
    assert.equal((await lastMail(t, "grace@example.com")).mail.kind, "signup");
  });

  test("a verifier that does not answer in time refuses the request (fail closed)", async () => {
    const started = Date.now();
    const { error } = await authClient(t).signUp({
      email: "slow@example.com",
      password: PASSWORD,
      options: { captchaToken: SLOW },
    });
    assertCaptchaFailed(error, `the verification service did not answer within ${TIMEOUT_MS} ms`);
    assert.ok(Date.now() - started < 5_000);
  });

  test("anonymous sign-up, password sign-in, magic links, password resets and resends all take the token", async () => {
    // A confirmed account to sign in to.
    const setup = authClient(t);
    await setup.signUp({ email: "linus@example.com", password: PASSWORD, options: { captchaToken: GOOD } });
    const { code } = await lastMail(t, "linus@example.com");
    assert.equal(
      (await setup.verifyOtp({ email: "linus@example.com", token: code, type: "signup" })).error,
      null,
    );

    const email = "linus@example.com";
    const operations: [
      string,
      (auth: GoTrueClient, captchaToken?: string) => Promise<{ error: AuthError | null }>,
    ][] = [
      ["anonymous sign-up", (auth, captchaToken) => auth.signInAnonymously({ options: { captchaToken } })],
      [
        "password sign-in",
        (auth, captchaToken) =>
          auth.signInWithPassword({ email, password: PASSWORD, options: { captchaToken } }),
      ],
      ["magic link", (auth, captchaToken) => auth.signInWithOtp({ email, options: { captchaToken } })],
      ["password reset", (auth, captchaToken) => auth.resetPasswordForEmail(email, { captchaToken })],
      ["resend", (auth, captchaToken) => auth.resend({ type: "signup", email, options: { captchaToken } })],
    ];
    for (const [name, run] of operations) {
      const refused = await run(authClient(t));
      assertCaptchaFailed(refused.error, "no captcha response (captcha_token) found in request");
      const forged = await run(authClient(t), "forged");
      assertCaptchaFailed(forged.error, "invalid-input-response");
      const passed = await run(authClient(t), GOOD);
      assert.equal(passed.error, null, `${name} with the right token: ${String(passed.error)}`);
    }
  });
});
