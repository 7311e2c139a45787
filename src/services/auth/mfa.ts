/**
 * TOTP multi-factor authentication (RFC 6238), as Supabase's `mfa` API: enrol a factor (its
 * secret, `otpauth://` URI and QR code), challenge it, verify a code: the session steps up to
 * `aal2` and gets a new token pair. The first verified factor also gets ten recovery codes,
 * each usable once instead of a code. Codes are accepted once each (the factor remembers the
 * last step), and wrong codes count against the `mfa` rate limit.
 */
import { limit } from "./accounts.js";
import { type AuthContext, audit, type Caller, newId } from "./context.js";
import { AuthError, invalid } from "./errors.js";
import type { FactorRecord, RecoveryCodeRecord, SessionRecord } from "./model.js";
import { otpauthSvg } from "./qr.js";
import { generateRecoveryCodes, hashCode } from "./recovery-codes.js";
import { reissue } from "./sessions.js";
import type { SessionJson } from "./shapes.js";
import { generateSecret, otpauthUri, verifyTotp } from "./totp.js";
import { currentUser } from "./user.js";

const CHALLENGE_TTL_MS = 5 * 60_000;
const MAX_FACTORS = 10;

export async function enroll(
  ctx: AuthContext,
  token: string,
  body: { factor_type?: unknown; friendly_name?: unknown; issuer?: unknown },
  caller: Caller,
): Promise<Record<string, unknown>> {
  const { user } = await currentUser(ctx, token);
  if (body.factor_type !== "totp")
    throw invalid(`factor_type must be totp, not ${JSON.stringify(body.factor_type)}`);
  const factors = await ctx.repo.listFactors(user.id);
  if (factors.length >= MAX_FACTORS)
    throw new AuthError(
      "validation_failed",
      422,
      `a user may have at most ${MAX_FACTORS} factors; remove one first`,
    );
  const friendlyName =
    typeof body.friendly_name === "string" && body.friendly_name !== ""
      ? body.friendly_name.slice(0, 128)
      : undefined;
  if (friendlyName !== undefined && factors.some((f) => f.friendlyName === friendlyName))
    throw new AuthError("validation_failed", 422, `a factor named "${friendlyName}" exists for this user`);
  const issuer = typeof body.issuer === "string" && body.issuer !== "" ? body.issuer : ctx.settings.appName;
  const now = ctx.clock.now();
  const factor: FactorRecord = {
    id: newId(),
    userId: user.id,
    type: "totp",
    friendlyName,
    secret: generateSecret(),
    status: "unverified",
    lastStep: undefined,
    createdAt: now,
    updatedAt: now,
  };
  await ctx.repo.createFactor(factor);
  const uri = otpauthUri({ issuer, account: user.email ?? user.id, secret: factor.secret });
  await audit(ctx, "mfa_enrolled", { userId: user.id, caller, detail: { factor_id: factor.id } });
  return {
    id: factor.id,
    type: "totp",
    friendly_name: friendlyName ?? "",
    totp: { qr_code: await otpauthSvg(uri), secret: factor.secret, uri },
  };
}

export async function challenge(
  ctx: AuthContext,
  token: string,
  factorId: string,
): Promise<Record<string, unknown>> {
  const { user } = await currentUser(ctx, token);
  const factor = await ctx.repo.getFactor(factorId);
  if (factor === undefined || factor.userId !== user.id) throw factorNotFound(factorId);
  const now = ctx.clock.now();
  const id = newId();
  await ctx.repo.createChallenge({
    id,
    factorId,
    userId: user.id,
    createdAt: now,
    expiresAt: now + CHALLENGE_TTL_MS,
  });
  return { id, type: "totp", expires_at: Math.floor((now + CHALLENGE_TTL_MS) / 1000) };
}

export async function verifyFactor(
  ctx: AuthContext,
  token: string,
  factorId: string,
  body: { challenge_id?: unknown; code?: unknown },
  caller: Caller,
): Promise<SessionJson & { recovery_codes?: string[] }> {
  const { user, claims } = await currentUser(ctx, token);
  limit(ctx, "mfa", { ip: caller.ip, account: user.id });
  if (typeof body.challenge_id !== "string" || typeof body.code !== "string")
    throw invalid("challenge_id and code are required");
  const factor = await ctx.repo.getFactor(factorId);
  if (factor === undefined || factor.userId !== user.id) throw factorNotFound(factorId);
  const ch = await ctx.repo.consumeChallenge(body.challenge_id);
  const now = ctx.clock.now();
  if (ch === undefined || ch.factorId !== factorId)
    throw new AuthError("mfa_factor_not_found", 404, `challenge ${body.challenge_id} not found`);
  if (ch.expiresAt <= now)
    throw new AuthError("mfa_challenge_expired", 422, `the challenge expired; ask for a new one`);
  const step = verifyTotp(factor.secret, body.code.trim(), now, { window: 1 });
  if (step === undefined || !(await ctx.repo.acceptFactorStep(factor.id, step, now))) {
    await audit(ctx, "mfa_failed", { userId: user.id, caller, detail: { factor_id: factor.id } });
    throw new AuthError("mfa_verification_failed", 422, "Invalid TOTP code entered");
  }
  let recoveryCodes: string[] | undefined;
  if (factor.status === "unverified" && (await ctx.repo.countRecoveryCodes(user.id)) === 0) {
    recoveryCodes = generateRecoveryCodes();
    const records: RecoveryCodeRecord[] = recoveryCodes.map((c) => ({
      userId: user.id,
      codeHash: hashCode(c),
      usedAt: undefined,
    }));
    await ctx.repo.setRecoveryCodes(user.id, records);
  }
  if (factor.status === "unverified") {
    ctx.publish({ detailType: "MFA Factor Enrolled", detail: { user_id: user.id, factor_id: factor.id } });
    await audit(ctx, "mfa_verified", { userId: user.id, caller, detail: { factor_id: factor.id } });
  }
  const answer = await stepUp(ctx, claims.session_id, "totp");
  return recoveryCodes === undefined ? answer : { ...answer, recovery_codes: recoveryCodes };
}

/** A recovery code instead of a TOTP code: the session steps up, the code is spent. */
export async function verifyRecoveryCode(
  ctx: AuthContext,
  token: string,
  code: unknown,
  caller: Caller,
): Promise<SessionJson> {
  const { user, claims } = await currentUser(ctx, token);
  limit(ctx, "mfa", { ip: caller.ip, account: user.id });
  if (typeof code !== "string" || code === "") throw invalid("a recovery code is required");
  if (!(await ctx.repo.useRecoveryCode(user.id, hashCode(code), ctx.clock.now()))) {
    await audit(ctx, "mfa_recovery_failed", { userId: user.id, caller });
    throw new AuthError("mfa_verification_failed", 422, "Invalid recovery code");
  }
  await audit(ctx, "mfa_recovery_used", {
    userId: user.id,
    caller,
    detail: { left: await ctx.repo.countRecoveryCodes(user.id) },
  });
  return stepUp(ctx, claims.session_id, "recovery");
}

export async function unenroll(
  ctx: AuthContext,
  token: string,
  factorId: string,
  caller: Caller,
): Promise<{ id: string }> {
  const { user, claims } = await currentUser(ctx, token);
  const factor = await ctx.repo.getFactor(factorId);
  if (factor === undefined || factor.userId !== user.id) throw factorNotFound(factorId);
  const factors = await ctx.repo.listFactors(user.id);
  if (factors.some((f) => f.status === "verified") && claims.aal !== "aal2")
    throw new AuthError("insufficient_aal", 403, "AAL2 required to unenroll a factor of a user with MFA");
  await ctx.repo.deleteFactor(factorId);
  if (!factors.some((f) => f.id !== factorId && f.status === "verified"))
    await ctx.repo.setRecoveryCodes(user.id, []);
  await audit(ctx, "mfa_unenrolled", { userId: user.id, caller, detail: { factor_id: factorId } });
  return { id: factorId };
}

async function stepUp(ctx: AuthContext, sessionId: string, method: string): Promise<SessionJson> {
  const session = await ctx.repo.getSession(sessionId);
  if (session === undefined) throw sessionNotFound();
  const user = await ctx.repo.getUser(session.userId);
  if (user === undefined) throw new AuthError("user_not_found", 404, "User not found");
  const now = ctx.clock.now();
  const upped: SessionRecord = {
    ...session,
    aal: "aal2",
    amr: [...session.amr, { method, timestamp: Math.floor(now / 1000) }],
    refreshedAt: now,
  };
  // Signed out since it was read: answered as if it had been gone then.
  const answer = await reissue(ctx, user, upped);
  if (answer === undefined) throw sessionNotFound();
  return answer;
}

const sessionNotFound = () =>
  new AuthError("session_not_found", 403, "Session from session_id claim in JWT does not exist");
const factorNotFound = (id: string) => new AuthError("mfa_factor_not_found", 404, `Factor ${id} not found`);
