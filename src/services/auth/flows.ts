/**
 * The mail-driven flows a client starts: a magic link or code (`/otp`), a password reset
 * (`/recover`), a resend, and their completion by code (`POST /verify`) or by link
 * (`GET /verify`, which redirects the browser back to the app with the session in the URL's
 * fragment, or with a code to exchange when the client started a PKCE flow).
 */
import { createHash } from "node:crypto";
import { sameSecret } from "../../shared/secrets.js";
import { createUser, limit, newUser, requireEmail, requireMetadata } from "./accounts.js";
import { checkCaptcha } from "./captcha.js";
import { safeRedirect } from "./config.js";
import { type AuthContext, type Caller, newSecret, sha256 } from "./context.js";
import { AuthError, invalid } from "./errors.js";
import type { AuthorizationCodeRecord } from "./model.js";
import { consumeCode, consumeLink, purposesFor, redeem, sendLink } from "./one-time.js";
import { openSession } from "./sessions.js";
import type { SessionJson } from "./shapes.js";

/** The PKCE pair a client sends with a flow it starts; undefined in the implicit flow. */
export function challengeOf(body: {
  code_challenge?: unknown;
  code_challenge_method?: unknown;
}): string | undefined {
  if (body.code_challenge === undefined || body.code_challenge === null || body.code_challenge === "")
    return undefined;
  if (typeof body.code_challenge !== "string" || !/^[A-Za-z0-9._~-]{43,128}$/.test(body.code_challenge))
    throw invalid("code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, '.', '_', '~', '-'");
  const method =
    typeof body.code_challenge_method === "string" ? body.code_challenge_method.toLowerCase() : "s256";
  if (method !== "s256" && method !== "plain")
    throw invalid(`code_challenge_method must be s256 or plain, not ${String(body.code_challenge_method)}`);
  return `${method}:${body.code_challenge}`;
}

/** Mails a magic link and code; creates the user first when allowed. Answers alike whether or not the address has an account. */
export async function sendOtp(
  ctx: AuthContext,
  body: {
    email?: unknown;
    data?: unknown;
    create_user?: unknown;
    code_challenge?: unknown;
    code_challenge_method?: unknown;
    captchaToken?: string | undefined;
  },
  redirectTo: string | undefined,
  caller: Caller,
): Promise<void> {
  await checkCaptcha(ctx, body.captchaToken, caller);
  const email = requireEmail(body.email);
  limit(ctx, "otp", { ip: caller.ip, account: email });
  const codeChallenge = challengeOf(body);
  let user = await ctx.repo.getUserByEmail(email);
  if (user === undefined) {
    if (body.create_user === false || !ctx.settings.allowSignup)
      throw new AuthError("otp_disabled", 422, "Signups not allowed for otp");
    user = newUser(ctx, { email, userMetadata: requireMetadata(ctx, body.data, "data") });
    if (!(await createUser(ctx, user, caller))) user = await ctx.repo.getUserByEmail(email);
    if (user === undefined) throw new AuthError("unexpected_failure", 500, "the user could not be created");
  }
  const purpose =
    user.emailConfirmedAt === undefined && user.passwordHash !== undefined ? "signup" : "magiclink";
  await sendLink(ctx, user, purpose, email, { redirectTo, codeChallenge });
}

/** Mails a reset link and code to an address with an account; answers the same for one without. */
export async function recover(
  ctx: AuthContext,
  body: {
    email?: unknown;
    code_challenge?: unknown;
    code_challenge_method?: unknown;
    captchaToken?: string | undefined;
  },
  redirectTo: string | undefined,
  caller: Caller,
): Promise<void> {
  await checkCaptcha(ctx, body.captchaToken, caller);
  const email = requireEmail(body.email);
  limit(ctx, "recover", { ip: caller.ip, account: email });
  const codeChallenge = challengeOf(body);
  const user = await ctx.repo.getUserByEmail(email);
  if (user === undefined) return;
  await sendLink(ctx, user, "recovery", email, { redirectTo, codeChallenge });
}

/** `POST /verify`: a typed code (with its email) or a token hash completes its flow with a session. */
export async function verify(
  ctx: AuthContext,
  body: { type?: unknown; email?: unknown; token?: unknown; token_hash?: unknown },
  caller: Caller,
): Promise<SessionJson> {
  if (typeof body.type !== "string")
    throw invalid("type is required: signup, magiclink, email, recovery, invite or email_change");
  const purposes = purposesFor(body.type);
  limit(ctx, "verify", { ip: caller.ip });
  if (typeof body.token_hash === "string" && body.token_hash !== "") {
    return redeem(ctx, await consumeLink(ctx, body.token_hash, purposes), caller);
  }
  const email = requireEmail(body.email);
  limit(ctx, "verify", { account: email });
  if (typeof body.token !== "string" || body.token === "")
    throw invalid("token (the code from the mail) is required");
  return redeem(ctx, await consumeCode(ctx, email, body.token, purposes), caller);
}

/**
 * `GET /verify`: a link from a mail. Where the browser goes next: the app's redirect (only one
 * the settings allow) with the session in the fragment, or `?code=` for a PKCE flow, or the
 * error in the fragment as Supabase sends it.
 */
export async function verifyLink(
  ctx: AuthContext,
  query: { token?: string | undefined; type?: string | undefined; redirect_to?: string | undefined },
  caller: Caller,
): Promise<string> {
  const fallback = safeRedirect(ctx.settings, query.redirect_to);
  try {
    if (!query.token || !query.type)
      throw new AuthError("otp_expired", 403, "Email link is invalid or has expired");
    const token = await consumeLink(ctx, query.token, purposesFor(query.type));
    const target = safeRedirect(ctx.settings, token.redirectTo ?? query.redirect_to);
    if (token.codeChallenge !== undefined) {
      const code = newSecret();
      const now = ctx.clock.now();
      const [method, challenge] = splitChallenge(token.codeChallenge);
      const record: AuthorizationCodeRecord = {
        codeHash: sha256(code),
        clientId: "",
        userId: token.userId,
        sessionId: `${token.purpose}:${token.id}`,
        redirectUri: target,
        scope: token.purpose,
        nonce: undefined,
        codeChallenge: challenge,
        codeChallengeMethod: method,
        createdAt: now,
        expiresAt: now + 5 * 60_000,
      };
      await ctx.repo.putAuthorizationCode(record);
      return withQuery(target, { code });
    }
    const session = await redeem(ctx, token, caller);
    const fragment = new URLSearchParams({
      access_token: session.access_token,
      expires_at: String(session.expires_at),
      expires_in: String(session.expires_in),
      refresh_token: session.refresh_token,
      token_type: "bearer",
      type: query.type,
    });
    return `${target.split("#")[0]}#${fragment.toString()}`;
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    const fragment = new URLSearchParams({
      error: "access_denied",
      error_code: err.code,
      error_description: err.code === "otp_expired" ? "Email link is invalid or has expired" : err.message,
    });
    return `${fallback.split("#")[0]}#${fragment.toString()}`;
  }
}

/** `POST /token?grant_type=pkce`: the code a link redirected with, and the verifier only its client knows. */
export async function exchangeCode(
  ctx: AuthContext,
  body: { auth_code?: unknown; code_verifier?: unknown },
  caller: Caller,
): Promise<SessionJson> {
  if (typeof body.auth_code !== "string" || typeof body.code_verifier !== "string")
    throw invalid("auth_code and code_verifier are required");
  const record = await ctx.repo.consumeAuthorizationCode(sha256(body.auth_code));
  if (record === undefined || record.clientId !== "" || record.expiresAt <= ctx.clock.now())
    throw new AuthError("flow_state_not_found", 404, "invalid flow state, no valid flow state found");
  if (!pkceMatches(record.codeChallengeMethod, record.codeChallenge, body.code_verifier))
    throw new AuthError(
      "bad_code_verifier",
      400,
      "code challenge does not match previously saved code verifier",
    );
  const user = await ctx.repo.getUser(record.userId);
  if (user === undefined)
    throw new AuthError("flow_state_not_found", 404, "invalid flow state, no valid flow state found");
  const now = ctx.clock.now();
  const confirmed =
    user.emailConfirmedAt === undefined && user.email !== undefined
      ? { ...user, emailConfirmedAt: now, updatedAt: now }
      : user;
  if (confirmed !== user) await ctx.repo.updateUser(confirmed);
  return openSession(ctx, confirmed, record.scope === "recovery" ? "recovery" : "otp", caller);
}

/** Whether `verifier` answers the stored challenge (RFC 7636), compared in constant time. */
export function pkceMatches(method: "S256" | "plain", challenge: string, verifier: string): boolean {
  const computed = method === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
  return sameSecret(computed, challenge);
}

function splitChallenge(stored: string): ["S256" | "plain", string] {
  const colon = stored.indexOf(":");
  return [stored.slice(0, colon) === "plain" ? "plain" : "S256", stored.slice(colon + 1)];
}

function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}
