import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { signInWithPassword, signUp, signUpAnonymously } from "./accounts.js";
import { type CaptchaVerifier, checkCaptcha, siteverify } from "./captcha.js";
import type { AuthContext, Caller } from "./context.js";
import { AuthError } from "./errors.js";
import { recover, sendOtp } from "./flows.js";

const CALLER: Caller = { ip: "203.0.113.7", userAgent: "test" };
const VERIFY_URL = "https://captcha.example/siteverify";

/** A verifier that takes only "good", and remembers what it was asked. */
function fakeVerifier(): CaptchaVerifier & { asked: [string | undefined, string | undefined][] } {
  const asked: [string | undefined, string | undefined][] = [];
  return {
    asked,
    async verify(token, ip) {
      asked.push([token, ip]);
      if (token !== "good")
        throw new AuthError("captcha_failed", 400, "captcha protection: request disallowed (x)");
    },
  };
}

/**
 * A context with a verifier and nothing else: an operation that touched the store, the limits or
 * the settings before asking the verifier would fail with a TypeError instead of captcha_failed.
 */
const onlyCaptcha = (captcha: CaptchaVerifier | undefined) => ({ captcha }) as unknown as AuthContext;

const isCaptchaFailed = (err: unknown) => err instanceof AuthError && err.code === "captcha_failed";

describe("the protected operations ask the verifier before anything else", () => {
  const operations: [string, (ctx: AuthContext, token: string | undefined) => Promise<unknown>][] = [
    ["sign-up", (ctx, t) => signUp(ctx, { email: "a@example.com", password: "pw", captchaToken: t }, CALLER)],
    ["anonymous sign-up", (ctx, t) => signUpAnonymously(ctx, { captchaToken: t }, CALLER)],
    [
      "password sign-in",
      (ctx, t) =>
        signInWithPassword(ctx, { email: "a@example.com", password: "pw", captchaToken: t }, CALLER),
    ],
    ["/otp", (ctx, t) => sendOtp(ctx, { email: "a@example.com", captchaToken: t }, undefined, CALLER)],
    ["/recover", (ctx, t) => recover(ctx, { email: "a@example.com", captchaToken: t }, undefined, CALLER)],
  ];
  for (const [name, run] of operations) {
    test(`${name} is refused with a wrong token or none, the verifier given the token and the caller's address`, async () => {
      const verifier = fakeVerifier();
      await assert.rejects(run(onlyCaptcha(verifier), "bad"), isCaptchaFailed);
      await assert.rejects(run(onlyCaptcha(verifier), undefined), isCaptchaFailed);
      assert.deepEqual(verifier.asked, [
        ["bad", "203.0.113.7"],
        [undefined, "203.0.113.7"],
      ]);
    });
  }

  test("without a verifier, checkCaptcha lets every request through", async () => {
    await checkCaptcha(onlyCaptcha(undefined), undefined, CALLER);
  });
});

type Fetch = typeof fetch;

/** A siteverify service in a function: answers `answer` and records each request's form. */
function fakeService(answer: () => Response | Promise<Response>): { fetch: Fetch; forms: URLSearchParams[] } {
  const forms: URLSearchParams[] = [];
  const fetch: Fetch = async (url, init) => {
    assert.equal(String(url), VERIFY_URL);
    assert.equal(init?.method, "POST");
    forms.push(new URLSearchParams(init?.body as URLSearchParams));
    return answer();
  };
  return { fetch, forms };
}

const reply = (body: unknown, status = 200) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), { status });

function verifier(fetch: Fetch, o: { timeoutMs?: number } = {}) {
  const logged: Record<string, unknown>[] = [];
  const v = siteverify({
    url: VERIFY_URL,
    secret: "site-secret",
    fetch,
    log: (message, fields) => logged.push({ message, ...fields }),
    ...o,
  });
  return { v, logged };
}

/** Rejects with captcha_failed, 400, and this reason in Supabase's words. */
const refusedFor = (reason: string) => (err: unknown) => {
  assert.ok(err instanceof AuthError, String(err));
  assert.equal(err.code, "captcha_failed");
  assert.equal(err.status, 400);
  assert.equal(err.message, `captcha protection: request disallowed (${reason})`);
  return true;
};

describe("siteverify", () => {
  test("posts the secret, the token and the caller's address as a form; success lets the request through", async () => {
    const service = fakeService(() => reply({ success: true, hostname: "app.example" }));
    const { v } = verifier(service.fetch);
    await v.verify("tok-1", "203.0.113.7");
    await v.verify("tok-2", "::ffff:198.51.100.4");
    await v.verify("tok-3", undefined);
    assert.deepEqual(
      service.forms.map((f) => Object.fromEntries(f)),
      [
        { secret: "site-secret", response: "tok-1", remoteip: "203.0.113.7" },
        { secret: "site-secret", response: "tok-2", remoteip: "198.51.100.4" },
        { secret: "site-secret", response: "tok-3" },
      ],
    );
  });

  test("a token the service refuses fails with the service's error codes", async () => {
    const service = fakeService(() =>
      reply({ success: false, "error-codes": ["invalid-input-response", "timeout-or-duplicate"] }),
    );
    await assert.rejects(
      verifier(service.fetch).v.verify("stale", undefined),
      refusedFor("invalid-input-response, timeout-or-duplicate"),
    );
  });

  test("a missing token fails without asking the service", async () => {
    const service = fakeService(() => reply({ success: true }));
    await assert.rejects(
      verifier(service.fetch).v.verify(undefined, undefined),
      refusedFor("no captcha response (captcha_token) found in request"),
    );
    assert.equal(service.forms.length, 0);
  });

  test("a service that is down, errs or answers nonsense refuses the request (fail closed), and is logged", async () => {
    const down: Fetch = async () => {
      throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") });
    };
    const cases: [Fetch, string][] = [
      [down, "the verification service could not be reached"],
      [fakeService(() => reply("oops", 503)).fetch, "the verification service answered HTTP 503"],
      [fakeService(() => reply("<html>")).fetch, "the verification service's answer is not JSON"],
    ];
    for (const [fetch, reason] of cases) {
      const { v, logged } = verifier(fetch);
      await assert.rejects(v.verify("tok", undefined), refusedFor(reason));
      assert.equal(logged.length, 1);
      assert.equal(logged[0]?.reason, reason);
      assert.equal(logged[0]?.url, VERIFY_URL);
    }
  });

  test("a service slower than the timeout refuses the request", async () => {
    const slow: Fetch = (_url, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    const { v, logged } = verifier(slow, { timeoutMs: 30 });
    await assert.rejects(
      v.verify("tok", undefined),
      refusedFor("the verification service did not answer within 30 ms"),
    );
    assert.equal(logged.length, 1);
  });
});
