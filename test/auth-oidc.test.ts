/**
 * The OpenID Connect provider end to end, through `openid-client` (as a third-party app signs
 * its users in with Nimbus) and `fetch` as the user's browser: clients registered through
 * Nimbus's API, the authorization code flow with PKCE for a first-party confidential client and
 * a third-party public one (with its consent page), the ID token, userinfo, refresh, and what
 * bad input gets: no redirect to an unchecked URI, no code without PKCE, a code good once (a
 * second redemption revokes what the first got).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as client from "openid-client";
import { FakeClock } from "../src/shared/clock.js";
import { authClient, authKeys, nimbusClient, totp } from "./helpers/auth.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";

let t: TestPlatform;
const clock = new FakeClock(Date.now());
const now = () => clock.now();
const issuer = () => `${t.url}/auth/v1`;
const EMAIL = "ada@example.com";
const PASSWORD = "correct horse battery staple";
const FIRST_REDIRECT = "http://app.localhost:3000/callback";
const THIRD_REDIRECT = "https://photos.example/oidc/callback";
let userId: string;
let first: { clientId: string; clientSecret: string };
let third: { clientId: string };

before(async () => {
  t = await startPlatform({ poolSize: 0, authSiteUrl: "http://app.localhost:3000" }, clock);
  const { serviceKey } = await authKeys(t, now);
  const admin = authClient(t, { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` }).admin;
  const data = { name: "Ada Lovelace" };
  const created = await admin.createUser({
    email: EMAIL,
    password: PASSWORD,
    email_confirm: true,
    user_metadata: data,
  });
  assert.equal(created.error, null);
  userId = created.data.user?.id ?? "";
  first = await register({ name: "Nimbus Console", redirectUris: [FIRST_REDIRECT], firstParty: true });
  third = await register({ name: "Photo <Printer>", redirectUris: [THIRD_REDIRECT], public: true });
});
after(() => t?.close());

async function register(body: Record<string, unknown>): Promise<{ clientId: string; clientSecret: string }> {
  const res = await operator("POST", "/nimbus/v1/auth/clients", body);
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { clientId: string; clientSecret: string };
}

function operator(method: string, path: string, body?: unknown): Promise<Response> {
  const opts =
    body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  return nimbusClient(t, now).request(method, path, opts);
}

/** openid-client as an app configures it from the discovery document (plain http: a test platform). */
function discover(clientId: string, secret?: string): Promise<client.Configuration> {
  const auth = secret === undefined ? client.None() : client.ClientSecretBasic(secret);
  return client.discovery(new URL(issuer()), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
}

/** An authorization URL with PKCE, state and nonce, and what the app keeps to check the answer. */
async function start(config: client.Configuration, redirectUri: string, scope: string) {
  const verifier = client.randomPKCECodeVerifier();
  const [state, nonce] = [client.randomState(), client.randomNonce()];
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  return { url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce } };
}

/** The browser: GETs a URL without following redirects. */
const browse = (url: URL | string) => fetch(url, { redirect: "manual" });

/** The browser submits a form of the provider's pages. */
const submit = (fields: Record<string, string>) =>
  fetch(`${issuer()}/oauth/authorize`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });

/** A hidden field's value in a page. */
function hidden(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  assert.ok(value, `no hidden ${name} in ${html}`);
  return value;
}

/** Opens the sign-in page and signs in; the answer (a redirect, or the consent page). */
async function signIn(url: URL, email = EMAIL, password = PASSWORD): Promise<Response> {
  const page = await browse(url);
  assert.equal(page.status, 200);
  return submit({ pending: hidden(await page.text(), "pending"), email, password });
}

const location = (res: Response) => new URL(res.headers.get("location") ?? "about:blank");

/** The OAuth error code of a failed openid-client call. */
async function oauthError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    if (err instanceof client.ResponseBodyError || err instanceof client.AuthorizationResponseError)
      return err.error;
    if (err instanceof client.WWWAuthenticateChallengeError)
      return ((await err.response.json()) as { error: string }).error;
    throw err;
  }
  assert.fail("the call succeeded");
}

describe("signing in with openid-client", () => {
  test("a first-party client gets a code without consent; tokens, ID token, userinfo and refresh follow", async () => {
    const config = await discover(first.clientId, first.clientSecret);
    assert.equal(config.serverMetadata().issuer, issuer());
    const { url, checks } = await start(config, FIRST_REDIRECT, "openid email profile");
    const page = await browse(url);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(page.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
    const html = await page.text();
    assert.match(html, /<label for="password">Password<\/label>/);
    assert.match(html, /to continue to <strong>Nimbus Console<\/strong>/);

    const signed = await submit({ pending: hidden(html, "pending"), email: EMAIL, password: PASSWORD });
    assert.equal(signed.status, 303);
    const back = location(signed);
    assert.equal(`${back.origin}${back.pathname}`, FIRST_REDIRECT);
    assert.equal(back.searchParams.get("state"), checks.expectedState);
    assert.equal(back.searchParams.get("iss"), issuer());

    const tokens = await client.authorizationCodeGrant(config, back, checks);
    assert.equal(tokens.token_type, "bearer");
    assert.equal(tokens.scope, "openid email profile");
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.iss, issuer());
    assert.equal(claims.sub, userId);
    assert.equal(claims.aud, first.clientId);
    assert.equal(claims.nonce, checks.expectedNonce);
    assert.equal(claims.email, EMAIL);
    assert.equal(claims.email_verified, true);
    assert.equal(claims.name, "Ada Lovelace");
    assert.equal(typeof claims.auth_time, "number");

    // The access token is the platform's own: the Supabase API takes it too.
    const user = await fetch(`${issuer()}/user`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(((await user.json()) as { id: string }).id, userId);
    const info = await client.fetchUserInfo(config, tokens.access_token, userId);
    assert.deepEqual(
      [info.sub, info.email, info.email_verified, info.name],
      [userId, EMAIL, true, "Ada Lovelace"],
    );

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? "");
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.equal(refreshed.claims()?.sub, userId);
    assert.equal(refreshed.claims()?.auth_time, claims.auth_time, "auth_time stays the sign-in's");
    assert.equal(refreshed.scope, "openid email profile");
    // The spent refresh token again: reuse, which ends the session.
    assert.equal(
      await oauthError(client.refreshTokenGrant(config, tokens.refresh_token ?? "")),
      "invalid_grant",
    );
    assert.equal(
      await oauthError(client.refreshTokenGrant(config, refreshed.refresh_token ?? "")),
      "invalid_grant",
    );
  });

  test("a user with a second factor enters a TOTP code after the password; the session is aal2", async () => {
    const email = "two-step@example.com";
    const { serviceKey } = await authKeys(t, now);
    const admin = authClient(t, { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` }).admin;
    assert.equal((await admin.createUser({ email, password: PASSWORD, email_confirm: true })).error, null);
    const app = authClient(t);
    await app.signInWithPassword({ email, password: PASSWORD });
    const enrolled = await app.mfa.enroll({ factorType: "totp" });
    const secret = enrolled.data?.totp.secret ?? "";
    assert.equal(
      (await app.mfa.challengeAndVerify({ factorId: enrolled.data?.id ?? "", code: totp(secret, now()) }))
        .error,
      null,
    );
    clock.advance(30_000); // a new step: the enrolment's code is spent

    const config = await discover(first.clientId, first.clientSecret);
    const { url, checks } = await start(config, FIRST_REDIRECT, "openid email");
    const asked = await signIn(url, email);
    assert.equal(asked.status, 200, "no code yet: the second factor is asked for");
    const form = await asked.text();
    assert.match(form, /Two-step verification/);
    const step = hidden(form, "mfa");
    const wrong = await submit({ mfa: step, code: totp(secret, now()) === "000000" ? "111111" : "000000" });
    assert.equal(wrong.status, 400);
    assert.match(await wrong.text(), /That code is not right/);

    const done = await submit({ mfa: step, code: totp(secret, now()) });
    assert.equal(done.status, 303);
    const tokens = await client.authorizationCodeGrant(config, location(done), checks);
    const access = JSON.parse(
      Buffer.from(tokens.access_token.split(".")[1] ?? "", "base64url").toString(),
    ) as {
      aal: string;
      amr: { method: string }[];
    };
    assert.equal(access.aal, "aal2");
    assert.deepEqual(
      access.amr.map((m) => m.method),
      ["password", "totp"],
    );
  });

  test("a third-party public client asks for consent, listing the scopes; allowing it completes the flow", async () => {
    const config = await discover(third.clientId);
    const { url, checks } = await start(config, THIRD_REDIRECT, "openid email");
    const consent = await signIn(url);
    assert.equal(consent.status, 200);
    const html = await consent.text();
    assert.match(html, /Allow Photo &#60;Printer&#62; to use your account\?/, "the client's name is escaped");
    assert.match(html, /<li>See your email address<\/li>/);
    assert.doesNotMatch(html, /See your profile/);
    assert.match(html, /go back to photos\.example/);

    const allowed = await submit({ consent: hidden(html, "consent"), decision: "allow" });
    assert.equal(allowed.status, 303);
    const tokens = await client.authorizationCodeGrant(config, location(allowed), checks);
    const claims = tokens.claims();
    assert.equal(claims?.aud, third.clientId);
    assert.equal(claims?.email, EMAIL);
    assert.equal(claims?.name, undefined, "no profile scope, no name");
    const info = await client.fetchUserInfo(config, tokens.access_token, userId);
    assert.deepEqual(Object.keys(info).sort(), ["email", "email_verified", "sub"]);

    // Its refresh token is its own: the first-party client cannot spend it.
    const other = await discover(first.clientId, first.clientSecret);
    assert.equal(
      await oauthError(client.refreshTokenGrant(other, tokens.refresh_token ?? "")),
      "invalid_grant",
    );
    assert.ok((await client.refreshTokenGrant(config, tokens.refresh_token ?? "")).access_token);
  });

  test("denying consent sends the browser back with access_denied and the state", async () => {
    const config = await discover(third.clientId);
    const { url, checks } = await start(config, THIRD_REDIRECT, "openid");
    const consent = await signIn(url);
    const denied = await submit({ consent: hidden(await consent.text(), "consent"), decision: "deny" });
    assert.equal(denied.status, 303);
    const back = location(denied);
    assert.equal(back.searchParams.get("error"), "access_denied");
    assert.equal(back.searchParams.get("state"), checks.expectedState);
    assert.equal(await oauthError(client.authorizationCodeGrant(config, back, checks)), "access_denied");
  });
});

describe("what bad input gets", () => {
  test("an unknown client or an unregistered redirect_uri gets an error page, never a redirect", async () => {
    const config = await discover(first.clientId, first.clientSecret);
    const unknown = new URL((await start(config, FIRST_REDIRECT, "openid")).url);
    unknown.searchParams.set("client_id", "no-such-client");
    const evil = (await start(config, "https://evil.example/steal", "openid")).url;
    for (const url of [unknown, evil]) {
      const res = await browse(url);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("location"), null);
      assert.match(await res.text(), /Unknown application|not one of the redirect URIs/);
    }
  });

  test("a request without PKCE, or with the plain method, is refused at the app's redirect URI", async () => {
    const config = await discover(first.clientId, first.clientSecret);
    const bare = client.buildAuthorizationUrl(config, {
      redirect_uri: FIRST_REDIRECT,
      scope: "openid",
      state: "s1",
    });
    const plain = client.buildAuthorizationUrl(config, {
      redirect_uri: FIRST_REDIRECT,
      scope: "openid",
      state: "s2",
      code_challenge: "x".repeat(43),
      code_challenge_method: "plain",
    });
    for (const [url, state] of [
      [bare, "s1"],
      [plain, "s2"],
    ] as const) {
      const res = await browse(url);
      assert.equal(res.status, 303);
      const back = location(res);
      assert.equal(`${back.origin}${back.pathname}`, FIRST_REDIRECT);
      assert.equal(back.searchParams.get("error"), "invalid_request");
      assert.match(back.searchParams.get("error_description") ?? "", /code_challenge/);
      assert.equal(back.searchParams.get("state"), state);
    }
    const noOpenid = await browse((await start(config, FIRST_REDIRECT, "email")).url);
    assert.equal(location(noOpenid).searchParams.get("error"), "invalid_scope");
  });

  test("a wrong password re-renders the form without telling whether the address has an account", async () => {
    const config = await discover(first.clientId, first.clientSecret);
    const { url } = await start(config, FIRST_REDIRECT, "openid");
    const wrong = await signIn(url, EMAIL, "not the password at all");
    const unknown = await signIn(url, "nobody@example.com", PASSWORD);
    const errors = [];
    for (const res of [wrong, unknown]) {
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("location"), null);
      const html = await res.text();
      assert.ok(hidden(html, "pending"), "the form is shown again");
      errors.push(/role="alert">([^<]*)</.exec(html)?.[1]);
    }
    assert.deepEqual(errors, ["Incorrect email or password.", "Incorrect email or password."]);
  });

  test("a wrong code_verifier, a wrong secret, a Supabase exchange of the code: all refused", async () => {
    const config = await discover(first.clientId, first.clientSecret);
    const attempt = async () => {
      const { url, checks } = await start(config, FIRST_REDIRECT, "openid");
      return { back: location(await signIn(url)), checks };
    };
    const a = await attempt();
    const wrongVerifier = { ...a.checks, pkceCodeVerifier: client.randomPKCECodeVerifier() };
    assert.equal(
      await oauthError(client.authorizationCodeGrant(config, a.back, wrongVerifier)),
      "invalid_grant",
    );

    const c = await attempt();
    const impostor = await discover(first.clientId, "not-the-secret");
    assert.equal(
      await oauthError(client.authorizationCodeGrant(impostor, c.back, c.checks)),
      "invalid_client",
    );

    // A code of the provider is not a code of Supabase's PKCE flow.
    const d = await attempt();
    const supabase = await fetch(`${issuer()}/token?grant_type=pkce`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth_code: d.back.searchParams.get("code"),
        code_verifier: d.checks.pkceCodeVerifier,
      }),
    });
    assert.equal(((await supabase.json()) as { code: string }).code, "flow_state_not_found");
  });

  test("a code redeemed twice is refused, and the tokens of its first redemption are revoked", async () => {
    const config = await discover(first.clientId, first.clientSecret);
    const { url, checks } = await start(config, FIRST_REDIRECT, "openid email");
    const back = location(await signIn(url));
    const tokens = await client.authorizationCodeGrant(config, back, checks);
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, userId)).sub, userId);

    assert.equal(await oauthError(client.authorizationCodeGrant(config, back, checks)), "invalid_grant");
    assert.equal(
      await oauthError(client.refreshTokenGrant(config, tokens.refresh_token ?? "")),
      "invalid_grant",
      "the refresh token of the first redemption no longer works",
    );
    const user = await fetch(`${issuer()}/user`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(user.status, 403);
    assert.equal(((await user.json()) as { code: string }).code, "session_not_found");

    const { serviceKey } = await authKeys(t, now);
    const audit = await fetch(`${issuer()}/admin/audit?user_id=${userId}&limit=20`, {
      headers: { apikey: serviceKey, authorization: `Bearer ${serviceKey}` },
    });
    const entries = (await audit.json()) as { action: string; detail: Record<string, unknown> }[];
    const reused = entries.find((e) => e.action === "oauth_code_reused");
    assert.deepEqual(reused?.detail, { client_id: first.clientId, session_id: tokens.claims()?.sid });
  });

  test("userinfo refuses a bad token with a Bearer challenge", async () => {
    const res = await fetch(`${issuer()}/oauth/userinfo`, {
      headers: { authorization: "Bearer not.a.token" },
    });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer .*error="invalid_token"/);
  });

  test("a code is good for a minute", async () => {
    const config = await discover(first.clientId, first.clientSecret);
    const { url, checks } = await start(config, FIRST_REDIRECT, "openid");
    const back = location(await signIn(url));
    clock.advance(61_000);
    const res = await fetch(`${issuer()}/oauth/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${first.clientId}:${first.clientSecret}`).toString("base64")}`,
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: back.searchParams.get("code") ?? "",
        redirect_uri: FIRST_REDIRECT,
        code_verifier: checks.pkceCodeVerifier,
      }),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.deepEqual(await res.json(), { error: "invalid_grant", error_description: "the code has expired" });
  });
});

describe("clients in Nimbus's API", () => {
  test("registration checks every field at once; a list shows no secret; a deleted client is unknown", async () => {
    const bad = await operator("POST", "/nimbus/v1/auth/clients", {
      name: "",
      redirectUris: ["http://example.com/cb", "https://app.example/cb#frag", "/relative"],
      firstParty: "yes",
    });
    assert.equal(bad.status, 400);
    const { error } = (await bad.json()) as { error: { code: string; problems: { field: string }[] } };
    assert.equal(error.code, "InvalidParameter");
    assert.deepEqual(
      error.problems.map((p) => p.field),
      ["name", "redirectUris.0", "redirectUris.1", "redirectUris.2", "firstParty"],
    );
    const many = await operator("POST", "/nimbus/v1/auth/clients", {
      name: "Many",
      redirectUris: Array.from({ length: 11 }, (_, i) => `https://app.example/${i}`),
    });
    assert.equal(many.status, 400);

    const temp = await register({ name: "Temporary", redirectUris: ["http://127.0.0.1:8080/cb"] });
    assert.ok(temp.clientSecret, "a confidential client gets its secret once");
    const listed = (await (await operator("GET", "/nimbus/v1/auth/clients")).json()) as {
      clients: Record<string, unknown>[];
    };
    const entry = listed.clients.find((c) => c.clientId === temp.clientId);
    assert.deepEqual(entry && { ...entry, createdAt: "" }, {
      clientId: temp.clientId,
      name: "Temporary",
      redirectUris: ["http://127.0.0.1:8080/cb"],
      firstParty: false,
      public: false,
      createdAt: "",
    });
    assert.ok(!JSON.stringify(listed).includes(temp.clientSecret));

    assert.equal((await operator("DELETE", `/nimbus/v1/auth/clients/${temp.clientId}`)).status, 204);
    assert.equal((await operator("DELETE", `/nimbus/v1/auth/clients/${temp.clientId}`)).status, 404);
    const config = await discover(temp.clientId, temp.clientSecret);
    const page = await browse((await start(config, "http://127.0.0.1:8080/cb", "openid")).url);
    assert.equal(page.status, 400);
  });
});
