/**
 * CAPTCHA on the requests that create accounts, send mail or check passwords: sign-up (with an
 * email or anonymous), password sign-in, `/otp`, `/recover`, `/resend`. The app's widget gives
 * the browser a token, `@supabase/auth-js` sends it as `gotrue_meta_security.captcha_token`,
 * and the service checks it with the siteverify protocol hCaptcha, Cloudflare Turnstile and
 * reCAPTCHA all speak. It fails closed: a missing token, a refused one, and a verification
 * service that is down or slow all refuse the request.
 */
import type { AuthContext, Caller } from "./context.js";
import { AuthError } from "./errors.js";

export interface CaptchaVerifier {
  /** Resolves when `token` is good; throws `captcha_failed` otherwise. */
  verify(token: string | undefined, ip: string | undefined): Promise<void>;
}

/** How long the verification service may take before the request is refused. */
export const DEFAULT_CAPTCHA_TIMEOUT_MS = 5000;

export const captchaFailed = (reason: string) =>
  new AuthError("captcha_failed", 400, `captcha protection: request disallowed (${reason})`);

/** Checks the request's token when CAPTCHA is configured; the first step of every protected request. */
export async function checkCaptcha(
  ctx: AuthContext,
  token: string | undefined,
  caller: Caller,
): Promise<void> {
  if (ctx.captcha !== undefined) await ctx.captcha.verify(token, caller.ip);
}

/**
 * A verifier speaking siteverify: `POST url` with the form fields `secret`, `response` (the
 * token) and `remoteip`, answered with `{ "success": true|false, "error-codes": [...] }`.
 */
export function siteverify(o: {
  url: string;
  secret: string;
  timeoutMs?: number;
  /** Where the service's own failures (down, slow, a malformed answer) are logged. */
  log: (message: string, fields: Record<string, unknown>) => void;
  fetch?: typeof fetch;
}): CaptchaVerifier {
  const timeoutMs = o.timeoutMs ?? DEFAULT_CAPTCHA_TIMEOUT_MS;
  const send = o.fetch ?? fetch;
  const unavailable = (reason: string, err?: unknown) => {
    // fetch's own message is "fetch failed"; what failed (ECONNREFUSED, a TLS error) is its cause.
    const detail =
      err instanceof Error ? `${err.message}${err.cause ? `: ${String(err.cause)}` : ""}` : undefined;
    o.log("captcha verification failed", { url: o.url, reason, ...(detail ? { err: detail } : {}) });
    return captchaFailed(reason);
  };
  return {
    async verify(token, ip) {
      if (token === undefined || token === "")
        throw captchaFailed("no captcha response (captcha_token) found in request");
      const form = new URLSearchParams({ secret: o.secret, response: token });
      // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; the services want a.b.c.d.
      if (ip !== undefined) form.set("remoteip", ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, ""));
      let answer: unknown;
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), timeoutMs);
      try {
        const res = await send(o.url, { method: "POST", body: form, signal: deadline.signal });
        if (!res.ok) {
          await res.body?.cancel();
          throw unavailable(`the verification service answered HTTP ${res.status}`);
        }
        answer = await res.json();
      } catch (err) {
        if (err instanceof AuthError) throw err;
        if (deadline.signal.aborted)
          throw unavailable(`the verification service did not answer within ${timeoutMs} ms`);
        if (err instanceof SyntaxError)
          throw unavailable("the verification service's answer is not JSON", err);
        throw unavailable("the verification service could not be reached", err);
      } finally {
        clearTimeout(timer);
      }
      const { success, "error-codes": codes } = (answer ?? {}) as {
        success?: unknown;
        "error-codes"?: unknown;
      };
      if (success === true) return;
      const named = Array.isArray(codes) ? codes.filter((c): c is string => typeof c === "string") : [];
      throw captchaFailed(named.length > 0 ? named.join(", ") : "the token was not accepted");
    },
  };
}
