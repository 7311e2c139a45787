/**
 * The operator's user API (`/auth/v1/admin/*`, Supabase's admin API, called with the service
 * key): create, list, read, update (metadata, roles in app metadata, bans, confirmation),
 * delete users; invite and generate links; list and revoke a user's sessions.
 */
import { createUser, newUser, requireEmail, requireMetadata, requirePassword } from "./accounts.js";
import { type AuthContext, audit, type Caller } from "./context.js";
import { AuthError, invalid } from "./errors.js";
import type { UserRecord } from "./model.js";
import { sendLink } from "./one-time.js";
import { hashPassword } from "./passwords.js";
import { sessionJson, type UserJson, userJson } from "./shapes.js";

export const DEFAULT_PER_PAGE = 50;
export const MAX_PER_PAGE = 1000;

export interface AdminUserInput {
  readonly email?: unknown;
  readonly password?: unknown;
  readonly user_metadata?: unknown;
  readonly app_metadata?: unknown;
  readonly email_confirm?: unknown;
  readonly ban_duration?: unknown;
}

/** A Go duration as Supabase's `ban_duration` takes it (`24h`, `30m`, `1h30m`), or `none`; ms, or undefined for none. */
export function parseBanDuration(raw: string): number | undefined {
  if (raw === "none") return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  let consumed = 0;
  for (const m of raw.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * (units[m[2]!] ?? 0);
    consumed += m[0].length;
  }
  if (consumed !== raw.length || consumed === 0)
    throw invalid(`ban_duration "${raw}" is not a duration like 24h, 30m, 1h30m, or none`);
  return total;
}

export async function adminCreateUser(
  ctx: AuthContext,
  body: AdminUserInput,
  caller: Caller,
): Promise<UserJson> {
  const email = requireEmail(body.email);
  const now = ctx.clock.now();
  const password = body.password === undefined ? undefined : requirePassword(ctx, body.password, email);
  const ban = typeof body.ban_duration === "string" ? parseBanDuration(body.ban_duration) : undefined;
  const user = newUser(ctx, {
    email,
    passwordHash: password === undefined ? undefined : await hashPassword(password),
    userMetadata: requireMetadata(ctx, body.user_metadata, "user_metadata"),
    appMetadata: requireMetadata(ctx, body.app_metadata, "app_metadata"),
    emailConfirmedAt: body.email_confirm === true ? now : undefined,
    bannedUntil: ban === undefined ? undefined : now + ban,
  });
  if (!(await createUser(ctx, user, caller)))
    throw new AuthError("email_exists", 422, "A user with this email address has already been registered");
  return userJson(user);
}

export async function adminListUsers(
  ctx: AuthContext,
  page: number,
  perPage: number,
): Promise<{ users: UserJson[]; total: number; page: number; perPage: number }> {
  const { users, total } = await ctx.repo.listUsers({ offset: (page - 1) * perPage, limit: perPage });
  return { users: users.map((u) => userJson(u)), total, page, perPage };
}

export async function adminGetUser(ctx: AuthContext, id: string): Promise<UserJson> {
  const user = await mustGet(ctx, id);
  return userJson(user, await ctx.repo.listFactors(id));
}

export async function adminUpdateUser(
  ctx: AuthContext,
  id: string,
  body: AdminUserInput,
  caller: Caller,
): Promise<UserJson> {
  const user = await mustGet(ctx, id);
  const now = ctx.clock.now();
  let next: UserRecord = { ...user, updatedAt: now };
  if (body.email !== undefined) next = { ...next, email: requireEmail(body.email), isAnonymous: false };
  if (body.password !== undefined)
    next = { ...next, passwordHash: await hashPassword(requirePassword(ctx, body.password, next.email)) };
  if (body.user_metadata !== undefined)
    next = {
      ...next,
      userMetadata: requireMetadata(
        ctx,
        { ...user.userMetadata, ...requireMetadata(ctx, body.user_metadata, "user_metadata") },
        "user_metadata",
      ),
    };
  if (body.app_metadata !== undefined)
    next = {
      ...next,
      appMetadata: requireMetadata(
        ctx,
        { ...user.appMetadata, ...requireMetadata(ctx, body.app_metadata, "app_metadata") },
        "app_metadata",
      ),
    };
  if (body.email_confirm === true && next.emailConfirmedAt === undefined)
    next = { ...next, emailConfirmedAt: now };
  let banned = false;
  if (typeof body.ban_duration === "string") {
    const ban = parseBanDuration(body.ban_duration);
    next = { ...next, bannedUntil: ban === undefined ? undefined : now + ban };
    banned = ban !== undefined;
  }
  const written = await ctx.repo.updateUser(next);
  if (written === "missing") throw userNotFound();
  if (written === "email-taken")
    throw new AuthError("email_exists", 422, "A user with this email address has already been registered");
  if (banned) {
    // A ban ends the user's sessions: their refresh tokens stop working at once.
    await ctx.repo.deleteUserSessions(id);
    await audit(ctx, "user_banned", { userId: id, caller, detail: { until: next.bannedUntil } });
  }
  await audit(ctx, "user_modified", { userId: id, caller });
  return userJson(next, await ctx.repo.listFactors(id));
}

export async function adminDeleteUser(ctx: AuthContext, id: string, caller: Caller): Promise<void> {
  if (!(await ctx.repo.deleteUser(id))) throw userNotFound();
  await audit(ctx, "user_deleted", { userId: id, caller });
  ctx.publish({ detailType: "User Deleted", detail: { user_id: id } });
}

export async function adminInvite(
  ctx: AuthContext,
  body: { email?: unknown; data?: unknown },
  redirectTo: string | undefined,
  caller: Caller,
): Promise<UserJson> {
  const email = requireEmail(body.email);
  if ((await ctx.repo.getUserByEmail(email)) !== undefined)
    throw new AuthError("email_exists", 422, "A user with this email address has already been registered");
  const user = newUser(ctx, { email, userMetadata: requireMetadata(ctx, body.data, "data") });
  if (!(await createUser(ctx, user, caller)))
    throw new AuthError("email_exists", 422, "A user with this email address has already been registered");
  await sendLink(ctx, user, "invite", email, { redirectTo });
  return userJson(user);
}

/** `generate_link`: the link and code a mail would carry, without sending it (for an operator's own mail). */
export async function adminGenerateLink(
  ctx: AuthContext,
  body: { type?: unknown; email?: unknown; password?: unknown; data?: unknown; new_email?: unknown },
  redirectTo: string | undefined,
  caller: Caller,
): Promise<Record<string, unknown>> {
  const email = requireEmail(body.email);
  const type = body.type;
  let user = await ctx.repo.getUserByEmail(email);
  if (type === "signup" || type === "invite" || type === "magiclink") {
    if (user === undefined) {
      const password = body.password === undefined ? undefined : requirePassword(ctx, body.password, email);
      user = newUser(ctx, {
        email,
        passwordHash: password === undefined ? undefined : await hashPassword(password),
        userMetadata: requireMetadata(ctx, body.data, "data"),
      });
      if (!(await createUser(ctx, user, caller)))
        throw new AuthError(
          "email_exists",
          422,
          "A user with this email address has already been registered",
        );
    }
  } else if (type !== "recovery" && type !== "email_change_new" && type !== "email_change_current") {
    throw invalid(
      `type ${JSON.stringify(type)} is not one of signup, invite, magiclink, recovery, email_change_new`,
    );
  }
  if (user === undefined) throw userNotFound();
  let purpose: "signup" | "invite" | "magiclink" | "recovery" | "email_change" =
    type === "email_change_new" || type === "email_change_current" ? "email_change" : type;
  let to = email;
  if (purpose === "email_change") {
    const newEmail = requireEmail(body.new_email);
    const moved = { ...user, newEmail, updatedAt: ctx.clock.now() };
    await ctx.repo.updateUser(moved);
    user = moved;
    to = newEmail;
  }
  if (purpose === "magiclink" && user.emailConfirmedAt === undefined && user.passwordHash !== undefined)
    purpose = "signup";
  const made = await sendLink(ctx, user, purpose, to, { redirectTo, mail: false });
  return {
    ...userJson(user),
    action_link: made.link,
    email_otp: made.code,
    hashed_token: made.tokenHash,
    redirect_to: redirectTo ?? ctx.settings.siteUrl,
    verification_type: purpose,
  };
}

export async function adminListSessions(ctx: AuthContext, id: string): Promise<Record<string, unknown>[]> {
  await mustGet(ctx, id);
  return (await ctx.repo.listSessions(id)).map(sessionJson);
}

export async function adminRevokeSessions(
  ctx: AuthContext,
  id: string,
  sessionId: string | undefined,
  caller: Caller,
): Promise<number> {
  await mustGet(ctx, id);
  let n: number;
  if (sessionId === undefined) n = await ctx.repo.deleteUserSessions(id);
  else {
    const s = await ctx.repo.getSession(sessionId);
    if (s === undefined || s.userId !== id)
      throw new AuthError("session_not_found", 404, `session ${sessionId} of user ${id} not found`);
    n = (await ctx.repo.deleteSession(sessionId)) ? 1 : 0;
  }
  await audit(ctx, "sessions_revoked", {
    userId: id,
    caller,
    detail: { count: n, session_id: sessionId ?? null },
  });
  return n;
}

async function mustGet(ctx: AuthContext, id: string): Promise<UserRecord> {
  const user = await ctx.repo.getUser(id);
  if (user === undefined) throw userNotFound();
  return user;
}

const userNotFound = () => new AuthError("user_not_found", 404, "User not found");
