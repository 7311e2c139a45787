/**
 * Mailed links and codes: sign-up confirmation, magic links with their 6-digit codes, password
 * recovery, email change, invitations. Each mail carries a link (`GET /auth/v1/verify?token=…`)
 * and a code; either proves the same thing once. Only the newest mail of a purpose works, a
 * code locks after `otpMaxAttempts` wrong tries, and both expire after `otpTtlSeconds`.
 * Secrets are stored as SHA-256 hashes; a link's token is 256 random bits, so its hash needs no
 * salt; a code is hashed with its address, and guarded by the attempt limit.
 */
import { sameSecret } from "../../shared/secrets.js";
import { type AuthContext, audit, type Caller, newCode, newId, newSecret, sha256 } from "./context.js";
import { AuthError, invalid } from "./errors.js";
import { linkMail } from "./mail.js";
import type { OneTimePurpose, OneTimeTokenRecord, UserRecord } from "./model.js";
import { openSession } from "./sessions.js";
import type { SessionJson } from "./shapes.js";

const SUBJECTS: Record<OneTimePurpose, { subject: string; lead: string; action: string }> = {
  signup: {
    subject: "Confirm your signup",
    lead: "Follow this link to confirm your address.",
    action: "Confirm your mail",
  },
  magiclink: { subject: "Your sign-in link", lead: "Follow this link to sign in.", action: "Sign in" },
  recovery: {
    subject: "Reset your password",
    lead: "Follow this link to reset the password of your account.",
    action: "Reset password",
  },
  email_change: {
    subject: "Confirm your new address",
    lead: "Follow this link to confirm the change of your address to this one.",
    action: "Change address",
  },
  invite: {
    subject: "You have been invited",
    lead: "You have been invited to create an account. Follow this link to accept.",
    action: "Accept the invitation",
  },
};

export const codeHash = (email: string, code: string) => sha256(`${email}:${code}`);

/** Stores a fresh token for `purpose` and mails its link and code; returns them (for an operator's generate_link). */
export async function sendLink(
  ctx: AuthContext,
  user: UserRecord,
  purpose: OneTimePurpose,
  email: string,
  o: { redirectTo?: string | undefined; codeChallenge?: string | undefined; mail?: boolean },
): Promise<{ link: string; code: string; tokenHash: string }> {
  const token = newSecret();
  const code = newCode();
  const now = ctx.clock.now();
  const record: OneTimeTokenRecord = {
    id: newId(),
    userId: user.id,
    purpose,
    email,
    linkHash: sha256(token),
    codeHash: codeHash(email, code),
    attempts: 0,
    codeChallenge: o.codeChallenge,
    redirectTo: o.redirectTo,
    createdAt: now,
    expiresAt: now + ctx.settings.otpTtlSeconds * 1000,
  };
  await ctx.repo.putOneTimeToken(record);
  const query = new URLSearchParams({ token, type: purpose });
  if (o.redirectTo !== undefined) query.set("redirect_to", o.redirectTo);
  const link = `${ctx.settings.issuer()}/verify?${query.toString()}`;
  if (o.mail !== false) {
    const words = SUBJECTS[purpose];
    await ctx.mailer.send(
      linkMail({ to: email, kind: purpose, ...words, link, code, appName: ctx.settings.appName }),
    );
  }
  return { link, code, tokenHash: token };
}

/** Which stored purposes a client's verify `type` may consume. */
export function purposesFor(type: string): OneTimePurpose[] {
  switch (type) {
    case "email":
    case "magiclink":
    case "signup":
      return ["magiclink", "signup"];
    case "recovery":
      return ["recovery"];
    case "invite":
      return ["invite"];
    case "email_change":
      return ["email_change"];
    default:
      throw invalid(`type "${type}" is not one of signup, magiclink, email, recovery, invite, email_change`);
  }
}

const expired = () => new AuthError("otp_expired", 403, "Token has expired or is invalid");

/** Checks a typed code for `email`; consumes the token it matches. */
export async function consumeCode(
  ctx: AuthContext,
  email: string,
  code: string,
  purposes: readonly OneTimePurpose[],
): Promise<OneTimeTokenRecord> {
  const token = await ctx.repo.findOneTimeToken(email, purposes);
  if (token === undefined || token.expiresAt <= ctx.clock.now()) throw expired();
  if (token.attempts >= ctx.settings.otpMaxAttempts) throw expired();
  if (!sameSecret(codeHash(email, code.trim()), token.codeHash)) {
    const attempts = await ctx.repo.countOneTimeAttempt(token.id);
    await audit(ctx, "otp_failed", { userId: token.userId, detail: { attempts } });
    throw expired();
  }
  if (!(await ctx.repo.consumeOneTimeToken(token.id))) throw expired();
  return token;
}

/** Consumes the token of a link (or a `token_hash` a client was given). */
export async function consumeLink(
  ctx: AuthContext,
  token: string,
  purposes: readonly OneTimePurpose[],
): Promise<OneTimeTokenRecord> {
  const record = await ctx.repo.consumeOneTimeLink(sha256(token));
  if (record === undefined || record.expiresAt <= ctx.clock.now() || !purposes.includes(record.purpose))
    throw expired();
  return record;
}

/** What a consumed token does to its user: confirms, moves the address, opens a session. */
export async function redeem(
  ctx: AuthContext,
  token: OneTimeTokenRecord,
  caller: Caller,
): Promise<SessionJson> {
  const user = await ctx.repo.getUser(token.userId);
  if (user === undefined) throw expired();
  const now = ctx.clock.now();
  let next: UserRecord = user;
  switch (token.purpose) {
    case "signup":
    case "magiclink":
    case "invite":
    case "recovery":
      if (user.email === token.email && user.emailConfirmedAt === undefined)
        next = { ...user, emailConfirmedAt: now, updatedAt: now };
      break;
    case "email_change":
      if (user.newEmail !== token.email) throw expired();
      next = {
        ...user,
        email: token.email,
        newEmail: undefined,
        emailConfirmedAt: now,
        isAnonymous: false,
        updatedAt: now,
      };
      break;
  }
  if (next !== user) {
    const updated = await ctx.repo.updateUser(next);
    if (updated === "email-taken")
      throw new AuthError("email_exists", 422, "A user with this email address has already been registered");
    await audit(ctx, `${token.purpose}_confirmed`, { userId: user.id, caller });
  }
  const method =
    token.purpose === "recovery" ? "recovery" : token.purpose === "magiclink" ? "magiclink" : "otp";
  return openSession(ctx, next, method, caller);
}
