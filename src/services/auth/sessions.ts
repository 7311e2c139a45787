/**
 * Sessions and their tokens. Signing in opens a session with its first refresh token; each
 * refresh spends the live refresh token and issues the next (rotation). A spent token presented
 * again means it leaked or was copied: the whole session (every token of its family) is
 * revoked, and its holder must sign in again. Access tokens are ES256 JWTs carrying Supabase's
 * claims, checked by anyone with the JWKS; they are not revocable before they expire (an hour
 * by default), which is why `getUser` also checks that the session still exists.
 */
import type { JWTPayload } from "jose";
import { limit } from "./accounts.js";
import { AUDIENCE } from "./config.js";
import { type AuthContext, audit, type Caller, newId, newSecret, sha256 } from "./context.js";
import { AuthError, badJwt } from "./errors.js";
import { TokenError } from "./keys.js";
import type { AuthMethod, RefreshTokenRecord, SessionRecord, UserRecord } from "./model.js";
import { appMetadataOf, type SessionJson, userJson } from "./shapes.js";

/** The claims of a verified access token that the service reads. */
export interface AccessClaims extends JWTPayload {
  readonly sub: string;
  readonly session_id: string;
  readonly aal: "aal1" | "aal2";
  readonly role: string;
  readonly email?: string;
  readonly is_anonymous?: boolean;
}

export async function openSession(
  ctx: AuthContext,
  user: UserRecord,
  method: string,
  caller: Caller,
): Promise<SessionJson> {
  assertNotBanned(ctx, user);
  const now = ctx.clock.now();
  const session: SessionRecord = {
    id: newId(),
    userId: user.id,
    aal: "aal1",
    amr: [{ method, timestamp: Math.floor(now / 1000) }],
    userAgent: caller.userAgent?.slice(0, 512),
    ip: caller.ip,
    createdAt: now,
    refreshedAt: now,
  };
  const refresh = newSecret();
  await ctx.repo.createSession(session, refreshRecord(refresh, session, now), now);
  const signedIn: UserRecord = { ...user, lastSignInAt: now };
  await audit(ctx, "login", { userId: user.id, caller, detail: { method, session_id: session.id } });
  ctx.publish({ detailType: "User Signed In", detail: { user_id: user.id, method, session_id: session.id } });
  return sessionAnswer(ctx, signedIn, session, refresh, method);
}

/** Spends `refreshToken` for a new pair; a reused token revokes its session. */
export async function refreshSession(
  ctx: AuthContext,
  refreshToken: string,
  caller: Caller,
): Promise<SessionJson> {
  limit(ctx, "refresh", { ip: caller.ip });
  const now = ctx.clock.now();
  const next = newSecret();
  const outcome = await ctx.repo.rotateRefreshToken(sha256(refreshToken), sha256(next), now);
  switch (outcome.kind) {
    case "unknown":
      throw notFound();
    case "reused": {
      await ctx.repo.deleteSession(outcome.token.sessionId);
      await audit(ctx, "token_reused", {
        userId: outcome.token.userId,
        caller,
        detail: { session_id: outcome.token.sessionId },
      });
      ctx.log("auth: a spent refresh token was presented again; its session is revoked", {
        user: outcome.token.userId,
        session: outcome.token.sessionId,
      });
      throw new AuthError(
        "refresh_token_already_used",
        400,
        "Invalid Refresh Token: Already Used (the session is revoked; sign in again)",
      );
    }
    case "rotated": {
      const user = await ctx.repo.getUser(outcome.session.userId);
      if (user === undefined) throw notFound();
      assertNotBanned(ctx, user);
      await audit(ctx, "token_refreshed", {
        userId: user.id,
        caller,
        detail: { session_id: outcome.session.id },
      });
      return sessionAnswer(ctx, user, outcome.session, next, "token_refresh");
    }
  }
}

/**
 * A fresh pair for a session whose assurance changed (MFA verified) or whose tokens go to an app
 * (an OIDC code redeemed): `session` is written and its earlier refresh tokens end (presented
 * again, they are unknown: no reuse, no revocation), at once. Undefined if the session is gone.
 */
export async function reissue(
  ctx: AuthContext,
  user: UserRecord,
  session: SessionRecord,
): Promise<SessionJson | undefined> {
  const refresh = newSecret();
  if (!(await ctx.repo.reissueSession(session, refreshRecord(refresh, session, ctx.clock.now()))))
    return undefined;
  return sessionAnswer(ctx, user, session, refresh, session.amr.at(-1)?.method ?? "password");
}

/** The claims of a valid access token whose session still exists; 403 `bad_jwt` / `session_not_found` otherwise. */
export async function verifyAccess(
  ctx: AuthContext,
  token: string,
  o: { checkSession: boolean },
): Promise<AccessClaims> {
  let claims: JWTPayload;
  try {
    claims = await ctx.keys.verify(token, { issuer: ctx.settings.issuer(), audience: AUDIENCE });
  } catch (err) {
    throw badJwt(
      `invalid JWT: ${err instanceof TokenError ? err.message : "unable to parse or verify signature"}`,
    );
  }
  if (typeof claims.session_id !== "string" || typeof claims.sub !== "string")
    throw badJwt("invalid JWT: it is not a user's access token (no session_id)");
  if (o.checkSession && (await ctx.repo.getSession(claims.session_id)) === undefined)
    throw new AuthError("session_not_found", 403, "Session from session_id claim in JWT does not exist");
  return claims as AccessClaims;
}

async function sessionAnswer(
  ctx: AuthContext,
  user: UserRecord,
  session: SessionRecord,
  refreshToken: string,
  method: string,
): Promise<SessionJson> {
  const now = ctx.clock.now();
  const iat = Math.floor(now / 1000);
  const ttl = ctx.settings.accessTokenTtlSeconds;
  const base: Record<string, unknown> = {
    iss: ctx.settings.issuer(),
    sub: user.id,
    aud: AUDIENCE,
    exp: iat + ttl,
    iat,
    email: user.email ?? "",
    phone: "",
    app_metadata: appMetadataOf(user),
    user_metadata: { ...user.userMetadata },
    role: "authenticated",
    aal: session.aal,
    amr: session.amr.map((m: AuthMethod) => ({ method: m.method, timestamp: m.timestamp })),
    session_id: session.id,
    is_anonymous: user.isAnonymous,
  };
  const claims = await ctx.hooks.customAccessToken({
    user_id: user.id,
    claims: base,
    authentication_method: method,
  });
  const factors = await ctx.repo.listFactors(user.id);
  return {
    access_token: await ctx.keys.sign(claims),
    token_type: "bearer",
    expires_in: ttl,
    expires_at: iat + ttl,
    refresh_token: refreshToken,
    user: userJson(user, factors),
  };
}

function refreshRecord(
  token: string,
  session: { id: string; userId: string },
  now: number,
): RefreshTokenRecord {
  return {
    tokenHash: sha256(token),
    sessionId: session.id,
    userId: session.userId,
    spentAt: undefined,
    createdAt: now,
  };
}

function assertNotBanned(ctx: AuthContext, user: UserRecord): void {
  if (user.bannedUntil !== undefined && user.bannedUntil > ctx.clock.now())
    throw new AuthError("user_banned", 403, "User is banned");
}

const notFound = () =>
  new AuthError("refresh_token_not_found", 400, "Invalid Refresh Token: Refresh Token Not Found");
