/**
 * The OpenID Connect provider's endpoints for apps (`oidc.ts` has the browser's side):
 * `/token` authenticates the client (client_secret_basic, client_secret_post, or none for a
 * public client) and exchanges a code (with its PKCE verifier) or a refresh token for the
 * platform's tokens and an ID token; `/userinfo` answers the claims an access token's scope
 * grants. Errors are RFC 6749 §5.2's JSON.
 */
import { createHash } from "node:crypto";
import { decodeJwt } from "jose";
import { sameSecret } from "../../shared/secrets.js";
import { audit, type Caller, sha256 } from "./context.js";
import { AuthError } from "./errors.js";
import { pkceMatches } from "./flows.js";
import type { AuthorizationCodeRecord, OAuthClientRecord, SessionRecord, UserRecord } from "./model.js";
import { type Oidc, seal, unseal } from "./oidc.js";
import { refreshSession, reissue, verifyAccess } from "./sessions.js";
import type { SessionJson } from "./shapes.js";

/** OIDC's profile claims, from user_metadata; the second names are the ones Supabase's own providers write. */
const PROFILE_CLAIMS: Record<string, readonly string[]> = {
  name: ["name", "full_name"],
  given_name: ["given_name"],
  family_name: ["family_name"],
  nickname: ["nickname"],
  preferred_username: ["preferred_username", "user_name"],
  picture: ["picture", "avatar_url"],
  website: ["website"],
  locale: ["locale"],
  zoneinfo: ["zoneinfo"],
};

interface RefreshGrant {
  readonly clientId: string;
  readonly scope: string;
  readonly token: string;
}

/** An answer of the token or userinfo endpoint: a JSON body, its status and headers. */
export interface OAuthAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Readonly<Record<string, string>>;
}

/** An RFC 6749 §5.2 error, thrown inside this module and answered as JSON. */
class OAuthFault extends Error {
  constructor(
    readonly error: string,
    message: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** `POST /token`: authenticates the client, then exchanges a code or a refresh token. */
export async function token(
  o: Oidc,
  form: URLSearchParams,
  authorization: string | undefined,
  caller: Caller,
): Promise<OAuthAnswer> {
  const noStore = { "cache-control": "no-store", pragma: "no-cache" };
  try {
    const repeated = [...new Set(form.keys())].find((name) => form.getAll(name).length > 1);
    if (repeated !== undefined)
      throw new OAuthFault("invalid_request", `${repeated} is given more than once`);
    const client = await authenticate(o, form, authorization);
    const grant = form.get("grant_type");
    if (grant === "authorization_code")
      return { status: 200, body: await exchange(o, client, form, caller), headers: noStore };
    if (grant === "refresh_token")
      return { status: 200, body: await refresh(o, client, form, caller), headers: noStore };
    throw new OAuthFault(
      grant === null ? "invalid_request" : "unsupported_grant_type",
      "grant_type must be authorization_code or refresh_token",
    );
  } catch (err) {
    const fault =
      err instanceof AuthError && err.code === "over_request_rate_limit"
        ? new OAuthFault("invalid_request", err.message, 429, {
            "retry-after": String(err.retryAfterSeconds ?? 60),
          })
        : err;
    if (!(fault instanceof OAuthFault)) throw fault;
    const body = { error: fault.error, error_description: fault.message };
    return { status: fault.status, body, headers: { ...noStore, ...fault.headers } };
  }
}

/** `GET|POST /userinfo`: the claims of the access token's user, as far as its scope allows. */
export async function userinfo(o: Oidc, accessToken: string | undefined): Promise<OAuthAnswer> {
  const realm = `realm="${o.ctx.settings.issuer()}"`;
  if (accessToken === undefined || accessToken === "")
    return {
      status: 401,
      body: {
        error: "invalid_request",
        error_description: "an access token is required (Authorization: Bearer)",
      },
      headers: { "www-authenticate": `Bearer ${realm}` },
    };
  const invalid = (description: string): OAuthAnswer => ({
    status: 401,
    body: { error: "invalid_token", error_description: description },
    headers: { "www-authenticate": `Bearer ${realm}, error="invalid_token"` },
  });
  let claims: Awaited<ReturnType<typeof verifyAccess>>;
  try {
    claims = await verifyAccess(o.ctx, accessToken, { checkSession: true });
  } catch (err) {
    if (err instanceof AuthError) return invalid("the access token is invalid, expired or its session ended");
    throw err;
  }
  const user = await o.ctx.repo.getUser(claims.sub);
  if (user === undefined) return invalid("the token's user does not exist");
  // A token of the platform's own sign-in (no scope) is the user's own: it already carries the email.
  const scopes = typeof claims.scope === "string" ? claims.scope.split(" ") : ["openid", "email"];
  return {
    status: 200,
    body: { sub: user.id, ...claimsFor(user, scopes) },
    headers: { "cache-control": "no-store" },
  };
}

async function authenticate(
  o: Oidc,
  form: URLSearchParams,
  authorization: string | undefined,
): Promise<OAuthClientRecord> {
  const basic = /^basic\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  // RFC 6749 §5.2: a client that authenticated with the header is answered with its scheme's challenge.
  const refuse = (why: string) =>
    new OAuthFault(
      "invalid_client",
      `client authentication failed: ${why}`,
      401,
      basic ? { "www-authenticate": "Basic" } : {},
    );
  let id = form.get("client_id") ?? undefined;
  let secret = form.get("client_secret") ?? undefined;
  if (basic !== undefined) {
    if (secret !== undefined)
      throw new OAuthFault("invalid_request", "use one client authentication method, not two");
    const [user, pass] = splitBasic(basic);
    if (user === undefined || (id !== undefined && id !== user)) throw refuse("malformed Basic credentials");
    [id, secret] = [user, pass];
  }
  if (id === undefined || id === "") throw refuse("no client_id");
  const client = await o.ctx.repo.getClient(id);
  if (client === undefined) throw refuse("unknown client");
  if (client.secretHash === undefined) {
    if (secret !== undefined && secret !== "") throw refuse("a public client has no secret");
  } else if (secret === undefined || !sameSecret(sha256(secret), client.secretHash)) {
    throw refuse("wrong or missing client secret");
  }
  return client;
}

async function exchange(
  o: Oidc,
  client: OAuthClientRecord,
  form: URLSearchParams,
  caller: Caller,
): Promise<Record<string, unknown>> {
  const [code, redirectUri, verifier] = ["code", "redirect_uri", "code_verifier"].map((name) => {
    const value = form.get(name);
    if (value === null || value === "") throw new OAuthFault("invalid_request", `${name} is required`);
    return value;
  }) as [string, string, string];
  const found = await o.ctx.repo.redeemAuthorizationCode(sha256(code), o.ctx.clock.now());
  // clientId "" is a Supabase PKCE flow's code (flows.ts): never one of this provider's.
  if (found.kind === "replayed" && found.code.clientId !== "") {
    await revokeReplayed(o, found.code, caller);
    throw invalidGrant("the code was used already: the tokens issued for it are revoked");
  }
  const record = found.kind === "redeemed" ? found.code : undefined;
  if (record === undefined || record.clientId === "" || record.clientId !== client.clientId)
    throw invalidGrant("the code is unknown, used already, or was issued to another client");
  if (record.expiresAt <= o.ctx.clock.now()) throw invalidGrant("the code has expired");
  if (record.redirectUri !== redirectUri)
    throw invalidGrant("redirect_uri is not the authorization request's");
  if (record.codeChallengeMethod !== "S256" || !pkceMatches("S256", record.codeChallenge, verifier))
    throw invalidGrant("code_verifier does not match the code_challenge");
  const user = await o.ctx.repo.getUser(record.userId);
  const session = await o.ctx.repo.getSession(record.sessionId);
  if (user === undefined || session === undefined || session.userId !== user.id)
    throw invalidGrant("the user signed out or was deleted");
  if (user.bannedUntil !== undefined && user.bannedUntil > o.ctx.clock.now())
    throw invalidGrant("the user is banned");
  const pair = await reissue(o.ctx, user, session);
  if (pair === undefined) throw invalidGrant("the user signed out or was deleted");
  return answer(o, client, {
    user,
    session,
    pair,
    scope: record.scope,
    grantScope: record.scope,
    nonce: record.nonce,
  });
}

/**
 * RFC 6749 §4.1.2: a code redeemed a second time was copied, so what was issued for it is
 * revoked: its session ends, with its refresh tokens (access tokens are checked against it).
 */
async function revokeReplayed(o: Oidc, code: AuthorizationCodeRecord, caller: Caller): Promise<void> {
  await o.ctx.repo.deleteSession(code.sessionId);
  const detail = { client_id: code.clientId, session_id: code.sessionId };
  await audit(o.ctx, "oauth_code_reused", { userId: code.userId, caller, detail });
  o.ctx.log("auth: an authorization code was redeemed again; the session issued for it is revoked", {
    user: code.userId,
    session: code.sessionId,
    client: code.clientId,
  });
}

async function refresh(
  o: Oidc,
  client: OAuthClientRecord,
  form: URLSearchParams,
  caller: Caller,
): Promise<Record<string, unknown>> {
  const grant = unseal<RefreshGrant>(o, "refresh", form.get("refresh_token") ?? "");
  if (grant === undefined || grant.clientId !== client.clientId)
    throw invalidGrant("the refresh token is invalid or was issued to another client");
  const granted = grant.scope.split(" ");
  const asked = form.get("scope")?.split(" ").filter(Boolean) ?? granted;
  if (asked.some((s) => !granted.includes(s)))
    throw new OAuthFault("invalid_scope", `scope may not exceed ${grant.scope}`);
  let pair: SessionJson;
  try {
    pair = await refreshSession(o.ctx, grant.token, caller);
  } catch (err) {
    if (err instanceof AuthError && err.code !== "over_request_rate_limit") throw invalidGrant(err.message);
    throw err;
  }
  const session = await o.ctx.repo.getSession(String(decodeJwt(pair.access_token).session_id));
  const user = await o.ctx.repo.getUser(pair.user.id);
  if (session === undefined || user === undefined) throw invalidGrant("the session ended");
  const scope = granted.filter((s) => asked.includes(s)).join(" ");
  return answer(o, client, { user, session, pair, scope, grantScope: grant.scope, nonce: undefined });
}

/** The token response: the platform's access token (plus client_id and scope), the wrapped refresh token, an ID token. */
async function answer(
  o: Oidc,
  client: OAuthClientRecord,
  g: {
    user: UserRecord;
    session: SessionRecord;
    pair: SessionJson;
    scope: string;
    grantScope: string;
    nonce: string | undefined;
  },
): Promise<Record<string, unknown>> {
  const { ctx } = o;
  const accessToken = await ctx.keys.sign({
    ...decodeJwt(g.pair.access_token),
    client_id: client.clientId,
    scope: g.scope,
  });
  const iat = Math.floor(ctx.clock.now() / 1000);
  const idToken = await ctx.keys.sign({
    iss: ctx.settings.issuer(),
    sub: g.user.id,
    aud: client.clientId,
    exp: iat + g.pair.expires_in,
    iat,
    // When the user proved who they are: the session's first method, also in a refreshed token.
    auth_time: g.session.amr[0]?.timestamp ?? Math.floor(g.session.createdAt / 1000),
    sid: g.session.id,
    ...(g.nonce === undefined ? {} : { nonce: g.nonce }),
    at_hash: createHash("sha256").update(accessToken).digest().subarray(0, 16).toString("base64url"),
    ...claimsFor(g.user, g.scope.split(" ")),
  });
  const refreshGrant: RefreshGrant = {
    clientId: client.clientId,
    scope: g.grantScope,
    token: g.pair.refresh_token,
  };
  return {
    access_token: accessToken,
    token_type: "Bearer",
    expires_in: g.pair.expires_in,
    refresh_token: seal(o, "refresh", refreshGrant),
    id_token: idToken,
    scope: g.scope,
  };
}

/** The user's claims a scope grants: email (email, email_verified), profile (from user_metadata). */
function claimsFor(user: UserRecord, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes("email") && user.email !== undefined) {
    claims.email = user.email;
    claims.email_verified = user.emailConfirmedAt !== undefined;
  }
  if (scopes.includes("profile")) {
    for (const [claim, keys] of Object.entries(PROFILE_CLAIMS)) {
      const value = keys.map((k) => user.userMetadata[k]).find((v) => typeof v === "string" && v !== "");
      if (value !== undefined) claims[claim] = value;
    }
    claims.updated_at = Math.floor(user.updatedAt / 1000);
  }
  return claims;
}

const invalidGrant = (message: string) => new OAuthFault("invalid_grant", message);

/** RFC 6749 §2.3.1: `id:secret`, each form-urlencoded, in base64. */
function splitBasic(encoded: string): [string | undefined, string] {
  const text = Buffer.from(encoded, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) return [undefined, ""];
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, " "));
    } catch {
      return undefined;
    }
  };
  return [decode(text.slice(0, colon)), decode(text.slice(colon + 1)) ?? ""];
}
