/**
 * The OpenID Connect provider (OpenID Connect Core 1.0, authorization code flow). Apps the
 * operator registered send their users' browsers to `/authorize`, where a user signs in with
 * their password (by the rules of password sign-in, `signInWithPassword`) and, for a third-party
 * app, approves what it asks for; the app exchanges the code at `/token` for the platform's
 * tokens and an ID token. PKCE (S256) is required of every client, a browser is sent only to a
 * URI registered for the client, and a code is good once, for a minute (presented again, it
 * revokes the session it was redeemed for: `oidc-token.ts`).
 *
 * What the provider hands out between requests is sealed (HMAC-SHA256, key derived from the
 * service key) instead of stored, so any node of a cluster opens it: the authorization request
 * behind the sign-in form, the pending consent (bound to the user and the session their sign-in
 * opened, five minutes), and the refresh token, wrapped with the client and the scope granted so
 * that no other client can spend it and a refresh keeps the scope. The token and userinfo
 * endpoints are in `oidc-token.ts`.
 */
import { createHmac } from "node:crypto";
import { decodeJwt } from "jose";
import { sameSecret } from "../../shared/secrets.js";
import { limit, signInWithPassword } from "./accounts.js";
import { type AuthContext, audit, type Caller, newId, newSecret, sha256 } from "./context.js";
import { AuthError } from "./errors.js";
import type { OAuthClientRecord } from "./model.js";
import { hashCode } from "./recovery-codes.js";
import type { SessionJson } from "./shapes.js";
import { verifyTotp } from "./totp.js";

const CODE_TTL_MS = 60_000;
/** How long a sign-in form may stay open before it must be started again from the app. */
const SIGN_IN_TTL_MS = 30 * 60_000;
const CONSENT_TTL_MS = 5 * 60_000;
const MFA_TTL_MS = 5 * 60_000;
const MAX_STATE_CHARS = 2048;
const MAX_NONCE_CHARS = 512;
export const MAX_REDIRECT_URI_CHARS = 2000;
export const OIDC_SCOPES = ["openid", "email", "profile"] as const;
/** Parameters an authorization request may carry once each (RFC 6749 §3.1). */
const SINGLE_PARAMS = [
  "response_type",
  "scope",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
  "prompt",
];

/** The provider: the auth service's context and the key that seals what it hands out. */
export interface Oidc {
  readonly ctx: AuthContext;
  readonly key: Buffer;
}

export function oidcProvider(ctx: AuthContext, serviceKey: string): Oidc {
  return { ctx, key: createHmac("sha256", serviceKey).update("nimbus oidc provider").digest() };
}

/** An authorization request, checked. */
interface AuthRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string;
}

interface PendingConsent {
  readonly request: AuthRequest;
  readonly userId: string;
  readonly sessionId: string;
}

/** What the authorization endpoint answers: a page (never a redirect to an unchecked URI) or a redirect. */
export type AuthorizeOutcome =
  | { readonly kind: "error"; readonly status: number; readonly title: string; readonly message: string }
  | { readonly kind: "redirect"; readonly location: string }
  | {
      readonly kind: "sign-in";
      readonly status: number;
      readonly client: string;
      readonly pending: string;
      readonly email: string;
      readonly message: string | undefined;
      readonly retryAfterSeconds: number | undefined;
    }
  | {
      /** The user has a second factor: a TOTP code (or a recovery code) before going on. */
      readonly kind: "mfa";
      readonly status: number;
      readonly client: string;
      readonly mfa: string;
      readonly message: string | undefined;
      readonly retryAfterSeconds: number | undefined;
    }
  | {
      readonly kind: "consent";
      readonly client: string;
      readonly redirectHost: string;
      readonly email: string;
      readonly scopes: readonly string[];
      readonly consent: string;
    };

/** `GET /authorize` (or a POSTed request): checks the request, then shows the sign-in form. */
export async function authorize(o: Oidc, q: URLSearchParams): Promise<AuthorizeOutcome> {
  const ids = q.getAll("client_id");
  const client = ids.length === 1 && ids[0] !== "" ? await o.ctx.repo.getClient(ids[0]!) : undefined;
  if (client === undefined)
    return page(
      "Unknown application",
      ids.length === 0
        ? "The request names no application (client_id)."
        : `No application is registered as ${JSON.stringify(clip(ids.join(",")))}.`,
    );
  const uris = q.getAll("redirect_uri");
  const redirectUri = uris[0];
  if (uris.length !== 1 || redirectUri === undefined || !client.redirectUris.includes(redirectUri))
    return page(
      "Invalid redirect",
      `${client.name} asked to return to ${redirectUri === undefined ? "no address (redirect_uri)" : JSON.stringify(clip(redirectUri))}, which is not one of the redirect URIs registered for it.`,
    );
  const state = q.get("state") ?? undefined;
  const fail = (error: string, description: string): AuthorizeOutcome => ({
    kind: "redirect",
    location: errorLocation(o, redirectUri, state, error, description),
  });
  const repeated = SINGLE_PARAMS.find((name) => q.getAll(name).length > 1);
  if (repeated !== undefined) return fail("invalid_request", `${repeated} is given more than once`);
  if (q.has("request")) return fail("request_not_supported", "request objects are not supported");
  if (q.has("request_uri")) return fail("request_uri_not_supported", "request_uri is not supported");
  const responseType = q.get("response_type");
  if (responseType !== "code")
    return fail(
      responseType === null ? "invalid_request" : "unsupported_response_type",
      "response_type must be code (the authorization code flow)",
    );
  const scopes = (q.get("scope") ?? "").split(" ");
  if (!scopes.includes("openid")) return fail("invalid_scope", "scope must include openid");
  const challenge = q.get("code_challenge");
  if (challenge === null)
    return fail("invalid_request", "code_challenge is required: every client uses PKCE with S256");
  if (q.get("code_challenge_method") !== "S256")
    return fail("invalid_request", "code_challenge_method must be S256 (plain is not accepted)");
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
    return fail(
      "invalid_request",
      "code_challenge must be the 43-character base64url SHA-256 of the verifier",
    );
  const nonce = q.get("nonce") ?? undefined;
  if ((state?.length ?? 0) > MAX_STATE_CHARS || (nonce?.length ?? 0) > MAX_NONCE_CHARS)
    return fail(
      "invalid_request",
      `state is limited to ${MAX_STATE_CHARS} characters, nonce to ${MAX_NONCE_CHARS}`,
    );
  // No sign-in is remembered between requests (no cookie), so there is never one to reuse silently.
  if ((q.get("prompt") ?? "").split(" ").includes("none"))
    return fail("login_required", "the user must sign in");
  const scope = OIDC_SCOPES.filter((s) => scopes.includes(s)).join(" ");
  const request: AuthRequest = {
    clientId: client.clientId,
    redirectUri,
    scope,
    state,
    nonce,
    codeChallenge: challenge,
  };
  return signInForm(client, seal(o, "pending", request, SIGN_IN_TTL_MS));
}

/** The sign-in form's POST: the password's checks, then a code (first party) or the consent page. */
export async function signIn(o: Oidc, form: URLSearchParams, caller: Caller): Promise<AuthorizeOutcome> {
  const pending = form.get("pending") ?? "";
  const request = unseal<AuthRequest>(o, "pending", pending);
  if (request === undefined) return expired();
  const client = await registered(o, request);
  if (client === undefined) return gone();
  const email = form.get("email") ?? "";
  let session: SessionJson;
  try {
    session = await signInWithPassword(o.ctx, { email, password: form.get("password") ?? "" }, caller);
  } catch (err) {
    const refused = err instanceof AuthError ? refusal(err) : undefined;
    if (refused === undefined) throw err;
    return { ...signInForm(client, pending), email: clip(email), ...refused };
  }
  const userId = session.user.id;
  const sessionId = String(decodeJwt(session.access_token).session_id);
  const factors = await o.ctx.repo.listFactors(userId);
  if (factors.some((f) => f.status === "verified")) {
    const step: PendingConsent = { request, userId, sessionId };
    return mfaForm(client, seal(o, "mfa", step, MFA_TTL_MS), undefined);
  }
  return proceed(o, client, { request, userId, sessionId }, session.user.email, caller);
}

/**
 * The second-factor form's POST: a TOTP code of a verified factor (each accepted once) or a
 * recovery code steps the session up to aal2, then the flow goes on as after the password.
 */
export async function secondFactor(
  o: Oidc,
  form: URLSearchParams,
  caller: Caller,
): Promise<AuthorizeOutcome> {
  const sealed = form.get("mfa") ?? "";
  const pending = unseal<PendingConsent>(o, "mfa", sealed);
  if (pending === undefined) return expired();
  const client = await registered(o, pending.request);
  if (client === undefined) return gone();
  const code = (form.get("code") ?? "").trim();
  try {
    limit(o.ctx, "mfa", { ip: caller.ip, account: pending.userId });
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    return {
      ...mfaForm(client, sealed, "Too many tries. Wait a little, then try again."),
      status: 429,
      retryAfterSeconds: err.retryAfterSeconds,
    };
  }
  const method = await checkSecondFactor(o, pending.userId, code);
  if (method === undefined) {
    await audit(o.ctx, "mfa_failed", { userId: pending.userId, caller, detail: { via: "oidc" } });
    return {
      ...mfaForm(
        client,
        sealed,
        "That code is not right. Enter the current code from your authenticator app.",
      ),
      status: 400,
    };
  }
  const session = await o.ctx.repo.getSession(pending.sessionId);
  if (session === undefined) return expired();
  const now = o.ctx.clock.now();
  await o.ctx.repo.updateSession({
    ...session,
    aal: "aal2",
    amr: [...session.amr, { method, timestamp: Math.floor(now / 1000) }],
    refreshedAt: now,
  });
  const user = await o.ctx.repo.getUser(pending.userId);
  return proceed(o, client, pending, user?.email ?? "", caller);
}

/** `totp` or `recovery` when `code` is a current code of one of the user's verified factors, or an unused recovery code. */
async function checkSecondFactor(o: Oidc, userId: string, code: string): Promise<string | undefined> {
  const now = o.ctx.clock.now();
  if (/^\d{6}$/.test(code)) {
    for (const f of await o.ctx.repo.listFactors(userId)) {
      if (f.status !== "verified") continue;
      const step = verifyTotp(f.secret, code, now, { window: 1 });
      if (step !== undefined && (await o.ctx.repo.acceptFactorStep(f.id, step, now))) return "totp";
    }
    return undefined;
  }
  return code !== "" && (await o.ctx.repo.useRecoveryCode(userId, hashCode(code), now))
    ? "recovery"
    : undefined;
}

/** After the sign-in (and its second factor): a code for a first-party client, else the consent page. */
async function proceed(
  o: Oidc,
  client: OAuthClientRecord,
  pending: PendingConsent,
  email: string,
  caller: Caller,
): Promise<AuthorizeOutcome> {
  const { request, userId, sessionId } = pending;
  if (client.firstParty)
    return { kind: "redirect", location: await issueCode(o, request, userId, sessionId, caller) };
  return {
    kind: "consent",
    client: client.name,
    redirectHost: new URL(request.redirectUri).host,
    email,
    scopes: request.scope.split(" "),
    consent: seal(o, "consent", pending, CONSENT_TTL_MS),
  };
}

function mfaForm(
  client: OAuthClientRecord,
  mfa: string,
  message: string | undefined,
): AuthorizeOutcome & { kind: "mfa" } {
  return { kind: "mfa", status: 200, client: client.name, mfa, message, retryAfterSeconds: undefined };
}

/** The consent form's POST: `decision=allow` issues the code; anything else ends the new session and says access_denied. */
export async function decide(o: Oidc, form: URLSearchParams, caller: Caller): Promise<AuthorizeOutcome> {
  const pending = unseal<PendingConsent>(o, "consent", form.get("consent") ?? "");
  if (pending === undefined) return expired();
  const { request, userId, sessionId } = pending;
  const client = await registered(o, request);
  if (client === undefined) return gone();
  if (form.get("decision") === "allow")
    return { kind: "redirect", location: await issueCode(o, request, userId, sessionId, caller) };
  await o.ctx.repo.deleteSession(sessionId);
  await audit(o.ctx, "oauth_denied", {
    userId,
    caller,
    detail: { client_id: client.clientId, session_id: sessionId },
  });
  return {
    kind: "redirect",
    location: errorLocation(
      o,
      request.redirectUri,
      request.state,
      "access_denied",
      "the user denied the request",
    ),
  };
}

/** Stores a new client; its secret (confidential clients) is returned this once and kept only as a hash. */
export async function registerClient(
  ctx: AuthContext,
  input: { name: string; redirectUris: readonly string[]; firstParty: boolean; isPublic: boolean },
): Promise<{ client: OAuthClientRecord; secret: string | undefined }> {
  const secret = input.isPublic ? undefined : newSecret();
  const client: OAuthClientRecord = {
    clientId: newId(),
    secretHash: secret === undefined ? undefined : sha256(secret),
    name: input.name,
    redirectUris: [...new Set(input.redirectUris)],
    firstParty: input.firstParty,
    createdAt: ctx.clock.now(),
  };
  if (!(await ctx.repo.createClient(client))) throw new Error(`client id ${client.clientId} is taken`);
  return { client, secret };
}

/** Whether `uri` may be registered: absolute https, or http on a loopback or `*.localhost` host; no fragment or user info. */
export function isRedirectUri(uri: string): boolean {
  if (uri.length > MAX_REDIRECT_URI_CHARS || uri.includes("#")) return false;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.username !== "" || url.password !== "") return false;
  if (url.protocol === "https:") return true;
  const host = url.hostname;
  return (
    url.protocol === "http:" &&
    (["localhost", "127.0.0.1", "[::1]"].includes(host) || host.endsWith(".localhost"))
  );
}

async function issueCode(
  o: Oidc,
  request: AuthRequest,
  userId: string,
  sessionId: string,
  caller: Caller,
): Promise<string> {
  const code = newSecret();
  const now = o.ctx.clock.now();
  await o.ctx.repo.putAuthorizationCode({
    codeHash: sha256(code),
    clientId: request.clientId,
    userId,
    sessionId,
    redirectUri: request.redirectUri,
    scope: request.scope,
    nonce: request.nonce,
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: "S256",
    createdAt: now,
    expiresAt: now + CODE_TTL_MS,
  });
  const detail = { client_id: request.clientId, scope: request.scope, session_id: sessionId };
  await audit(o.ctx, "oauth_authorized", { userId, caller, detail });
  return withParams(request.redirectUri, { code, state: request.state, iss: o.ctx.settings.issuer() });
}

/** The client, if it still exists and still has the request's redirect URI. */
async function registered(o: Oidc, request: AuthRequest): Promise<OAuthClientRecord | undefined> {
  const client = await o.ctx.repo.getClient(request.clientId);
  return client?.redirectUris.includes(request.redirectUri) ? client : undefined;
}

/** What the sign-in form says when the password's checks refuse; undefined for errors that are not the user's. */
function refusal(
  err: AuthError,
): { status: number; message: string; retryAfterSeconds: number | undefined } | undefined {
  const as = (status: number, message: string) => ({
    status,
    message,
    retryAfterSeconds: err.retryAfterSeconds,
  });
  switch (err.code) {
    case "invalid_credentials":
    case "validation_failed":
    case "email_address_invalid":
      return as(400, "Incorrect email or password.");
    case "email_not_confirmed":
      return as(400, "Confirm your email address first: open the link in the mail you were sent.");
    case "user_banned":
      return as(403, "This account cannot sign in at the moment.");
    case "captcha_failed":
      // The platform asks for a CAPTCHA, whose widget (an external script) this page does not embed.
      return as(
        400,
        "Sign-in is unavailable here: this platform requires a CAPTCHA check this page cannot show.",
      );
    case "over_request_rate_limit":
      return as(429, `Too many attempts. Try again in ${err.retryAfterSeconds ?? 60} seconds.`);
    default:
      return undefined;
  }
}

function signInForm(client: OAuthClientRecord, pending: string): AuthorizeOutcome & { kind: "sign-in" } {
  return {
    kind: "sign-in",
    status: 200,
    client: client.name,
    pending,
    email: "",
    message: undefined,
    retryAfterSeconds: undefined,
  };
}

const page = (title: string, message: string): AuthorizeOutcome => ({
  kind: "error",
  status: 400,
  title,
  message,
});
const expired = () => page("This page has expired", "Go back to the application and sign in again.");
const gone = () =>
  page("Unknown application", "The application is no longer registered with this redirect URI.");
const clip = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

function errorLocation(
  o: Oidc,
  redirectUri: string,
  state: string | undefined,
  error: string,
  description: string,
) {
  // RFC 6749 §4.1.2.1 allows only printable ASCII but `"` and `\` in error_description.
  const error_description = description.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "");
  return withParams(redirectUri, { error, error_description, state, iss: o.ctx.settings.issuer() });
}

function withParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  return url.toString();
}

/** `payload` and what it is for, with an expiry when given, signed: `<base64url JSON>.<base64url HMAC>`. */
export function seal(o: Oidc, purpose: string, payload: object, ttlMs?: number): string {
  const expires = ttlMs === undefined ? {} : { expiresAt: o.ctx.clock.now() + ttlMs };
  const body = Buffer.from(JSON.stringify({ ...payload, purpose, ...expires })).toString("base64url");
  return `${body}.${mac(o, body)}`;
}

/** What `seal` sealed for `purpose`, if the token is intact and unexpired. */
export function unseal<T>(o: Oidc, purpose: string, sealed: string): T | undefined {
  const dot = sealed.indexOf(".");
  if (dot <= 0 || !sameSecret(sealed.slice(dot + 1), mac(o, sealed.slice(0, dot)))) return undefined;
  const value = JSON.parse(Buffer.from(sealed.slice(0, dot), "base64url").toString("utf8")) as {
    purpose?: unknown;
    expiresAt?: unknown;
  };
  if (value.purpose !== purpose) return undefined;
  if (typeof value.expiresAt === "number" && value.expiresAt <= o.ctx.clock.now()) return undefined;
  return value as T;
}

const mac = (o: Oidc, body: string) => createHmac("sha256", o.key).update(body).digest("base64url");
