/**
 * Signing up and signing in: with a password, anonymously, or with a mailed link or code; and
 * what a signed-in user changes of their own account. No answer tells whether an address has
 * an account: a wrong address and a wrong password get the same error after the same work (a
 * hash is checked either way), and mail-sending requests answer alike for known and unknown
 * addresses.
 */
import { checkCaptcha } from "./captcha.js";
import { type AuthContext, audit, type Caller, isEmail, newId, normalizeEmail } from "./context.js";
import { AuthError, invalid, invalidCredentials, rateLimited } from "./errors.js";
import type { Metadata, UserRecord } from "./model.js";
import { sendLink } from "./one-time.js";
import { checkPassword, normalizePassword } from "./password-policy.js";
import { hashPassword, verifyAgainstNothing, verifyPassword } from "./passwords.js";
import type { AuthRateAction } from "./rate-limits.js";
import { openSession } from "./sessions.js";
import { type SessionJson, type UserJson, userJson } from "./shapes.js";

/** Takes one of `action` by the caller's address and by the account; 429 with the longer wait if either is over its limit. */
export function limit(
  ctx: AuthContext,
  action: "signin" | "signup" | "otp" | "recover" | "verify" | "refresh" | "mfa",
  o: { ip?: string | undefined; account?: string | undefined },
): void {
  let wait = 0;
  const take = (rule: AuthRateAction, key: string | undefined) => {
    if (key === undefined) return;
    const taken = ctx.limits.take(rule, key);
    if (!taken.ok) wait = Math.max(wait, taken.retryAfterSeconds);
  };
  take(`${action}:ip`, o.ip);
  take(`${action}:account`, o.account);
  if (wait > 0) throw rateLimited(action, wait);
}

export function requireEmail(raw: unknown): string {
  if (typeof raw !== "string" || raw.trim() === "")
    throw new AuthError("validation_failed", 400, "an email is required");
  const email = normalizeEmail(raw);
  if (!isEmail(email))
    throw new AuthError(
      "email_address_invalid",
      400,
      `email "${raw.slice(0, 100)}" is not a valid address (name@example.com)`,
    );
  return email;
}

export function requirePassword(ctx: AuthContext, raw: unknown, email: string | undefined): string {
  if (typeof raw !== "string" || raw === "") throw invalid("a password is required");
  const password = normalizePassword(raw);
  const checked = checkPassword(password, { email, minLength: ctx.settings.passwordMinLength });
  if (!checked.ok)
    throw new AuthError("weak_password", 422, checked.message, {
      extra: { weak_password: { reasons: checked.reasons } },
    });
  return password;
}

/** Metadata a caller sends: a JSON object whose text is within the limit. */
export function requireMetadata(ctx: AuthContext, raw: unknown, field: string): Metadata {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw invalid(`${field} must be a JSON object`);
  const bytes = Buffer.byteLength(JSON.stringify(raw));
  if (bytes > ctx.settings.maxMetadataBytes)
    throw invalid(`${field} is ${bytes} bytes of JSON; at most ${ctx.settings.maxMetadataBytes} are allowed`);
  return raw as Metadata;
}

export function newUser(ctx: AuthContext, o: Partial<UserRecord>): UserRecord {
  const now = ctx.clock.now();
  return {
    id: newId(),
    email: undefined,
    emailConfirmedAt: undefined,
    newEmail: undefined,
    passwordHash: undefined,
    isAnonymous: false,
    userMetadata: {},
    appMetadata: {},
    bannedUntil: undefined,
    lastSignInAt: undefined,
    createdAt: now,
    updatedAt: now,
    ...o,
  };
}

/** Stores a new user after the before-user-created hook allowed it; false if the email was taken meanwhile. */
export async function createUser(ctx: AuthContext, user: UserRecord, caller: Caller): Promise<boolean> {
  await ctx.hooks.beforeUserCreated({
    metadata: {
      uuid: newId(),
      time: new Date(ctx.clock.now()).toISOString(),
      name: "before-user-created",
      ip_address: caller.ip ?? "",
    },
    user: { ...userJson(user) },
  });
  if (!(await ctx.repo.createUser(user))) return false;
  await audit(ctx, "user_signedup", { userId: user.id, caller, detail: { anonymous: user.isAnonymous } });
  ctx.publish({
    detailType: "User Created",
    detail: { user_id: user.id, email: user.email ?? null, anonymous: user.isAnonymous },
  });
  return true;
}

export async function signUp(
  ctx: AuthContext,
  body: {
    email?: unknown;
    password?: unknown;
    data?: unknown;
    redirectTo?: string | undefined;
    codeChallenge?: string | undefined;
    captchaToken?: string | undefined;
  },
  caller: Caller,
): Promise<SessionJson | UserJson> {
  await checkCaptcha(ctx, body.captchaToken, caller);
  if (!ctx.settings.allowSignup)
    throw new AuthError("signup_disabled", 422, "Signups not allowed for this instance");
  const email = requireEmail(body.email);
  limit(ctx, "signup", { ip: caller.ip, account: email });
  const password = requirePassword(ctx, body.password, email);
  const data = requireMetadata(ctx, body.data, "data");
  const passwordHash = await hashPassword(password);
  const existing = await ctx.repo.getUserByEmail(email);
  if (existing !== undefined) {
    if (!ctx.settings.confirmEmail)
      throw new AuthError("user_already_exists", 422, "User already registered");
    // With confirmations on, the answer looks like a fresh sign-up's; the owner gets a mail.
    await ctx.mailer.send({
      to: email,
      kind: "signup_existing",
      subject: `Someone tried to sign up to ${ctx.settings.appName} with your address`,
      text: `Someone tried to create an account with ${email}, which already has one. If it was you, sign in instead or reset your password.`,
      html: `<p>Someone tried to create an account with ${email}, which already has one. If it was you, sign in instead or reset your password.</p>`,
    });
    return userJson(newUser(ctx, { email, userMetadata: data }));
  }
  const user = newUser(ctx, {
    email,
    passwordHash,
    userMetadata: data,
    emailConfirmedAt: ctx.settings.confirmEmail ? undefined : ctx.clock.now(),
  });
  if (!(await createUser(ctx, user, caller)))
    throw new AuthError("user_already_exists", 422, "User already registered");
  if (!ctx.settings.confirmEmail) return openSession(ctx, user, "password", caller);
  await sendLink(ctx, user, "signup", email, {
    redirectTo: body.redirectTo,
    codeChallenge: body.codeChallenge,
  });
  return userJson(user);
}

export async function signUpAnonymously(
  ctx: AuthContext,
  body: { data?: unknown; captchaToken?: string | undefined },
  caller: Caller,
): Promise<SessionJson> {
  await checkCaptcha(ctx, body.captchaToken, caller);
  if (!ctx.settings.allowAnonymous)
    throw new AuthError("anonymous_provider_disabled", 422, "Anonymous sign-ins are disabled");
  limit(ctx, "signup", { ip: caller.ip });
  const user = newUser(ctx, { isAnonymous: true, userMetadata: requireMetadata(ctx, body.data, "data") });
  await createUser(ctx, user, caller);
  return openSession(ctx, user, "anonymous", caller);
}

export async function signInWithPassword(
  ctx: AuthContext,
  body: { email?: unknown; password?: unknown; captchaToken?: string | undefined },
  caller: Caller,
): Promise<SessionJson> {
  await checkCaptcha(ctx, body.captchaToken, caller);
  const email = requireEmail(body.email);
  if (typeof body.password !== "string" || body.password === "") throw invalid("a password is required");
  limit(ctx, "signin", { ip: caller.ip, account: email });
  const password = normalizePassword(body.password);
  const user = await ctx.repo.getUserByEmail(email);
  if (user?.passwordHash === undefined) {
    await verifyAgainstNothing(password);
    await audit(ctx, "login_failed", { userId: user?.id, caller, detail: { email } });
    throw invalidCredentials();
  }
  const checked = await verifyPassword(password, user.passwordHash);
  if (!checked.ok) {
    await audit(ctx, "login_failed", { userId: user.id, caller, detail: { reason: "password" } });
    throw invalidCredentials();
  }
  if (user.emailConfirmedAt === undefined && ctx.settings.confirmEmail)
    throw new AuthError("email_not_confirmed", 400, "Email not confirmed");
  let current = user;
  if (checked.needsRehash) {
    // The parameters changed since this hash was made: store it anew while the password is at hand.
    current = { ...user, passwordHash: await hashPassword(password), updatedAt: ctx.clock.now() };
    await ctx.repo.updateUser(current);
    await audit(ctx, "password_rehashed", { userId: user.id, caller });
  }
  return openSession(ctx, current, "password", caller);
}
