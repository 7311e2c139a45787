/**
 * What a signed-in user does with their own account (`/user`, `/logout`): read it, change
 * their metadata, password or address (a new address is confirmed by mail before it takes
 * over), link an email to an anonymous account (keeping its id), and sign out of this
 * session, the others, or all.
 */
import { requireEmail, requireMetadata, requirePassword } from "./accounts.js";
import { type AuthContext, audit, type Caller } from "./context.js";
import { AuthError, invalid } from "./errors.js";
import { challengeOf } from "./flows.js";
import type { UserRecord } from "./model.js";
import { sendLink } from "./one-time.js";
import { hashPassword, verifyPassword } from "./passwords.js";
import { type AccessClaims, verifyAccess } from "./sessions.js";
import { type UserJson, userJson } from "./shapes.js";

export async function currentUser(
  ctx: AuthContext,
  token: string,
): Promise<{ user: UserRecord; claims: AccessClaims }> {
  const claims = await verifyAccess(ctx, token, { checkSession: true });
  const user = await ctx.repo.getUser(claims.sub);
  if (user === undefined)
    throw new AuthError("user_not_found", 404, "User from sub claim in JWT does not exist");
  return { user, claims };
}

export async function getUser(ctx: AuthContext, token: string): Promise<UserJson> {
  const { user } = await currentUser(ctx, token);
  return userJson(user, await ctx.repo.listFactors(user.id));
}

export async function updateUser(
  ctx: AuthContext,
  token: string,
  body: {
    email?: unknown;
    password?: unknown;
    data?: unknown;
    code_challenge?: unknown;
    code_challenge_method?: unknown;
  },
  redirectTo: string | undefined,
  caller: Caller,
): Promise<UserJson> {
  const { user, claims } = await currentUser(ctx, token);
  const factors = await ctx.repo.listFactors(user.id);
  if (
    factors.some((f) => f.status === "verified") &&
    claims.aal !== "aal2" &&
    (body.password !== undefined || body.email !== undefined)
  )
    throw new AuthError(
      "insufficient_aal",
      403,
      "AAL2 required to change the password or email of a user with MFA",
    );
  const now = ctx.clock.now();
  let next: UserRecord = user;
  if (body.data !== undefined) {
    const data = requireMetadata(ctx, body.data, "data");
    const merged = { ...user.userMetadata, ...data };
    requireMetadata(ctx, merged, "data");
    next = { ...next, userMetadata: merged };
  }
  if (body.password !== undefined) {
    const password = requirePassword(ctx, body.password, next.email);
    if (user.passwordHash !== undefined && (await verifyPassword(password, user.passwordHash)).ok)
      throw new AuthError("same_password", 422, "New password should be different from the old password.");
    next = { ...next, passwordHash: await hashPassword(password) };
  }
  let mailTo: string | undefined;
  if (body.email !== undefined) {
    const email = requireEmail(body.email);
    if (email !== user.email) {
      const owner = await ctx.repo.getUserByEmail(email);
      if (owner !== undefined && owner.id !== user.id)
        throw new AuthError(
          "email_exists",
          422,
          "A user with this email address has already been registered",
        );
      next = { ...next, newEmail: email };
      mailTo = email;
    }
  }
  if (next === user) return userJson(user, factors);
  next = { ...next, updatedAt: now };
  const written = await ctx.repo.updateUser(next);
  if (written === "missing") throw new AuthError("user_not_found", 404, "User not found");
  if (written === "email-taken")
    throw new AuthError("email_exists", 422, "A user with this email address has already been registered");
  if (body.password !== undefined) await audit(ctx, "password_changed", { userId: user.id, caller });
  if (mailTo !== undefined) {
    await sendLink(ctx, next, "email_change", mailTo, { redirectTo, codeChallenge: challengeOf(body) });
    await audit(ctx, "email_change_requested", { userId: user.id, caller });
  }
  return userJson(next, factors);
}

export type SignOutScope = "global" | "local" | "others";

export async function signOut(ctx: AuthContext, token: string, scope: string, caller: Caller): Promise<void> {
  if (scope !== "global" && scope !== "local" && scope !== "others")
    throw invalid(`scope "${scope}" is not one of global, local, others`);
  const claims = await verifyAccess(ctx, token, { checkSession: false });
  if (scope === "local") await ctx.repo.deleteSession(claims.session_id);
  else await ctx.repo.deleteUserSessions(claims.sub, scope === "others" ? claims.session_id : undefined);
  await audit(ctx, "logout", { userId: claims.sub, caller, detail: { scope } });
}
