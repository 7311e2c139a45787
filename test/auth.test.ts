/**
 * End to end through `@supabase/auth-js` (as an app written for Supabase uses it) and `jose`
 * (as any service verifying tokens does): sign-up with a mailed confirmation, password and
 * magic-link sign-in, refresh rotation and reuse, keys and their rotation, anonymous users that
 * link an email, TOTP MFA, and what bad input gets.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AuthApiError, AuthWeakPasswordError } from "@supabase/auth-js";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { FakeClock } from "../src/shared/clock.js";
import { authClient, authKeys as keysOf, lastMail as mailOf, nimbusClient, totp } from "./helpers/auth.js";
import { startPlatform, type TestPlatform } from "./helpers/platform.js";

let t: TestPlatform;
const clock = new FakeClock(Date.now());
before(async () => {
  t = await startPlatform({ poolSize: 0, authSiteUrl: "http://app.localhost:3000" }, clock);
});
after(async () => {
  await t.close();
});

const now = () => clock.now();
const lastMail = (_t: TestPlatform, to: string) => mailOf(t, to, now);
const authKeys = (_t: TestPlatform) => keysOf(t, now);
const PASSWORD = "correct horse battery staple";
const issuer = () => `${t.url}/auth/v1`;
const jwks = () => createRemoteJWKSet(new URL(`${t.url}/auth/v1/.well-known/jwks.json`));

async function confirmedUser(email: string): Promise<void> {
  const auth = authClient(t);
  const { error } = await auth.signUp({ email, password: PASSWORD });
  assert.equal(error, null);
  const { code } = await lastMail(t, email);
  const verified = await auth.verifyOtp({ email, token: code, type: "signup" });
  assert.equal(verified.error, null);
}

describe("accounts", () => {
  test("a sign-up confirms its address by mail; then the user signs in with the password", async () => {
    const auth = authClient(t);
    const signed = await auth.signUp({
      email: "Ada@Example.com",
      password: PASSWORD,
      options: { data: { name: "Ada" } },
    });
    assert.equal(signed.error, null);
    assert.equal(signed.data.session, null, "no session before the address is confirmed");
    assert.equal(signed.data.user?.email, "ada@example.com");

    const early = await auth.signInWithPassword({ email: "ada@example.com", password: PASSWORD });
    assert.equal((early.error as AuthApiError).code, "email_not_confirmed");

    const { mail, code } = await lastMail(t, "ada@example.com");
    assert.equal(mail.kind, "signup");
    const verified = await auth.verifyOtp({ email: "ada@example.com", token: code, type: "signup" });
    assert.equal(verified.error, null);
    assert.ok(verified.data.session?.access_token);

    const again = authClient(t);
    const { data, error } = await again.signInWithPassword({ email: "ada@example.com", password: PASSWORD });
    assert.equal(error, null);
    assert.equal(data.user?.user_metadata.name, "Ada");
    assert.ok(data.user?.email_confirmed_at);
    const user = await again.getUser();
    assert.equal(user.data.user?.id, data.user?.id);
  });

  test("a wrong password and an unknown address get the same answer", async () => {
    await confirmedUser("grace@example.com");
    const auth = authClient(t);
    const wrong = await auth.signInWithPassword({
      email: "grace@example.com",
      password: "not the password at all",
    });
    const unknown = await auth.signInWithPassword({ email: "nobody@example.com", password: PASSWORD });
    for (const r of [wrong, unknown]) {
      assert.ok(r.error instanceof AuthApiError);
      assert.equal(r.error.code, "invalid_credentials");
      assert.equal(r.error.status, 400);
      assert.equal(r.error.message, "Invalid login credentials");
    }
  });

  test("a weak password, a malformed address and oversized metadata are refused, saying why", async () => {
    const auth = authClient(t);
    const weak = await auth.signUp({ email: "weak@example.com", password: "password1" });
    assert.ok(weak.error instanceof AuthWeakPasswordError, String(weak.error));
    assert.deepEqual(weak.error.reasons, ["pwned"]);
    const short = await auth.signUp({ email: "weak@example.com", password: "x7#q" });
    assert.ok(short.error instanceof AuthWeakPasswordError);
    assert.match(short.error.message, /4 characters; at least 8/);
    const malformed = await auth.signUp({ email: "not an address", password: PASSWORD });
    assert.equal((malformed.error as AuthApiError).code, "email_address_invalid");
    const big = await auth.signUp({
      email: "big@example.com",
      password: PASSWORD,
      options: { data: { blob: "x".repeat(17 * 1024) } },
    });
    assert.equal((big.error as AuthApiError).code, "validation_failed");
    assert.match(big.error!.message, /at most 16384/);
  });

  test("a magic link from the inbox signs in, and is good once", async () => {
    await confirmedUser("linus@example.com");
    const auth = authClient(t);
    const sent = await auth.signInWithOtp({
      email: "linus@example.com",
      options: { shouldCreateUser: false },
    });
    assert.equal(sent.error, null);
    const { link } = await lastMail(t, "linus@example.com");
    const res = await fetch(link, { redirect: "manual" });
    assert.equal(res.status, 303);
    const location = new URL(res.headers.get("location") ?? "");
    assert.equal(location.origin, "http://app.localhost:3000");
    const fragment = new URLSearchParams(location.hash.slice(1));
    const access = fragment.get("access_token") ?? "";
    assert.equal(decodeJwt(access).email, "linus@example.com");
    assert.ok(fragment.get("refresh_token"));

    const reused = await fetch(link, { redirect: "manual" });
    const error = new URLSearchParams(new URL(reused.headers.get("location") ?? "").hash.slice(1));
    assert.equal(error.get("error_code"), "otp_expired");
  });

  test("a mailed code locks after five wrong tries: the right one no longer works", async () => {
    await confirmedUser("guess@example.com");
    const auth = authClient(t);
    await auth.signInWithOtp({ email: "guess@example.com", options: { shouldCreateUser: false } });
    const { code } = await lastMail(t, "guess@example.com");
    const wrong = code === "000000" ? "111111" : "000000";
    for (let i = 0; i < 5; i++) {
      const r = await auth.verifyOtp({ email: "guess@example.com", token: wrong, type: "email" });
      assert.equal((r.error as AuthApiError).code, "otp_expired");
    }
    const right = await auth.verifyOtp({ email: "guess@example.com", token: code, type: "email" });
    assert.equal((right.error as AuthApiError).code, "otp_expired", "locked");
  });

  test("a password reset mails a code that signs in; the new password then works and the old does not", async () => {
    await confirmedUser("forgot@example.com");
    const auth = authClient(t);
    assert.equal((await auth.resetPasswordForEmail("forgot@example.com")).error, null);
    // An address without an account gets the same answer, and no mail.
    assert.equal((await auth.resetPasswordForEmail("stranger@example.com")).error, null);
    const { code } = await lastMail(t, "forgot@example.com");
    const recovered = await auth.verifyOtp({ email: "forgot@example.com", token: code, type: "recovery" });
    assert.equal(recovered.error, null);
    assert.equal((await auth.updateUser({ password: "a brand new passphrase" })).error, null);
    const old = await authClient(t).signInWithPassword({ email: "forgot@example.com", password: PASSWORD });
    assert.equal((old.error as AuthApiError).code, "invalid_credentials");
    const fresh = await authClient(t).signInWithPassword({
      email: "forgot@example.com",
      password: "a brand new passphrase",
    });
    assert.equal(fresh.error, null);
  });

  test("in the PKCE flow a link redirects with a code that only the client holding the verifier can exchange", async () => {
    await confirmedUser("pkce@example.com");
    const store = new Map<string, string>();
    const { GoTrueClient } = await import("@supabase/auth-js");
    const auth = new GoTrueClient({
      url: issuer(),
      flowType: "pkce",
      autoRefreshToken: false,
      detectSessionInUrl: false,
      storage: {
        getItem: (k: string) => store.get(k) ?? null,
        setItem: (k: string, v: string) => void store.set(k, v),
        removeItem: (k: string) => void store.delete(k),
      },
    });
    await auth.signInWithOtp({ email: "pkce@example.com", options: { shouldCreateUser: false } });
    const { link } = await lastMail(t, "pkce@example.com");
    const res = await fetch(link, { redirect: "manual" });
    const location = new URL(res.headers.get("location") ?? "");
    const code = location.searchParams.get("code") ?? "";
    assert.ok(code, location.toString());
    assert.equal(location.hash, "", "no tokens in the URL");
    const exchanged = await auth.exchangeCodeForSession(code);
    assert.equal(exchanged.error, null);
    assert.equal(exchanged.data.user?.email, "pkce@example.com");
    const exchange = (authCode: string) =>
      fetch(`${issuer()}/token?grant_type=pkce`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ auth_code: authCode, code_verifier: "x".repeat(64) }),
      }).then(async (r) => ((await r.json()) as { code: string }).code);
    assert.equal(await exchange(code), "flow_state_not_found", "a code is single use");
    // A code taken from the URL is useless without the verifier.
    await auth.signInWithOtp({ email: "pkce@example.com", options: { shouldCreateUser: false } });
    const again = await fetch((await lastMail(t, "pkce@example.com")).link, { redirect: "manual" });
    const stolen = new URL(again.headers.get("location") ?? "").searchParams.get("code") ?? "";
    assert.equal(await exchange(stolen), "bad_code_verifier");
  });

  test("a link naming a redirect the settings do not allow goes to the site instead (no open redirect)", async () => {
    await confirmedUser("redirect@example.com");
    const auth = authClient(t);
    await auth.signInWithOtp({
      email: "redirect@example.com",
      options: { emailRedirectTo: "https://evil.example/steal" },
    });
    const { link } = await lastMail(t, "redirect@example.com");
    const res = await fetch(link, { redirect: "manual" });
    assert.equal(new URL(res.headers.get("location") ?? "").origin, "http://app.localhost:3000");
  });

  test("an anonymous user links an email and keeps its id", async () => {
    const auth = authClient(t);
    const anon = await auth.signInAnonymously();
    assert.equal(anon.error, null);
    const id = anon.data.user?.id;
    assert.equal(anon.data.user?.is_anonymous, true);
    assert.equal(decodeJwt(anon.data.session?.access_token ?? "").is_anonymous, true);

    const asked = await auth.updateUser({ email: "former-anon@example.com" });
    assert.equal(asked.error, null);
    assert.equal(asked.data.user?.new_email, "former-anon@example.com");
    const { code } = await lastMail(t, "former-anon@example.com");
    const verified = await auth.verifyOtp({
      email: "former-anon@example.com",
      token: code,
      type: "email_change",
    });
    assert.equal(verified.error, null);
    assert.equal(verified.data.user?.id, id);
    assert.equal(verified.data.user?.email, "former-anon@example.com");
    assert.equal(verified.data.user?.is_anonymous, false);
  });
});

describe("tokens", () => {
  test("access tokens verify with jose against the published key set, for the issuer and audience", async () => {
    await confirmedUser("tokens@example.com");
    const auth = authClient(t);
    const { data } = await auth.signInWithPassword({ email: "tokens@example.com", password: PASSWORD });
    const token = data.session?.access_token ?? "";
    const discovery = (await (await fetch(`${t.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      string
    >;
    assert.equal(discovery.issuer, issuer());
    assert.equal(discovery.jwks_uri, `${issuer()}/.well-known/jwks.json`);
    const { payload, protectedHeader } = await jwtVerify(token, jwks(), {
      issuer: issuer(),
      audience: "authenticated",
      currentDate: new Date(clock.now()),
    });
    assert.equal(protectedHeader.alg, "ES256");
    assert.equal(payload.sub, data.user?.id);
    assert.equal(payload.role, "authenticated");
    assert.equal(payload.aal, "aal1");
    assert.deepEqual(
      (payload.amr as { method: string }[]).map((m) => m.method),
      ["password"],
    );
    // auth-js verifies it itself with the same key set.
    const claims = await auth.getClaims();
    assert.equal(claims.error, null);
    assert.equal(claims.data?.claims.sub, data.user?.id);
  });

  test("a refresh token is spent once; reusing it revokes the whole session", async () => {
    await confirmedUser("rotate@example.com");
    const auth = authClient(t);
    const { data } = await auth.signInWithPassword({ email: "rotate@example.com", password: PASSWORD });
    const first = data.session?.refresh_token ?? "";
    const refreshed = await auth.refreshSession();
    assert.equal(refreshed.error, null);
    const second = refreshed.data.session?.refresh_token ?? "";
    assert.notEqual(second, first);

    const thief = authClient(t);
    const reused = await thief.refreshSession({ refresh_token: first });
    assert.equal((reused.error as AuthApiError).code, "refresh_token_already_used");
    // The family is revoked: the legitimate holder's newer token no longer works either.
    const after = await authClient(t).refreshSession({ refresh_token: second });
    assert.equal((after.error as AuthApiError).code, "refresh_token_not_found");
  });

  test("after a key rotation, tokens of the old key stay valid until they expire; new ones use the new key", async () => {
    await confirmedUser("keys@example.com");
    const auth = authClient(t);
    const old =
      (await auth.signInWithPassword({ email: "keys@example.com", password: PASSWORD })).data.session
        ?.access_token ?? "";
    const rotated = await nimbusClient(t, now).call("POST", "/nimbus/v1/auth/keys/rotate");
    assert.equal(rotated.status, 200);
    const { kid } = (await rotated.json()) as { kid: string };
    const fresh =
      (await authClient(t).signInWithPassword({ email: "keys@example.com", password: PASSWORD })).data.session
        ?.access_token ?? "";
    assert.equal(decodeProtectedHeader(fresh).kid, kid);
    assert.notEqual(decodeProtectedHeader(old).kid, kid);
    for (const token of [old, fresh]) {
      await jwtVerify(token, createRemoteJWKSet(new URL(`${issuer()}/.well-known/jwks.json`)), {
        issuer: issuer(),
        currentDate: new Date(clock.now()),
      });
    }
    const user = await fetch(`${issuer()}/user`, { headers: { authorization: `Bearer ${old}` } });
    assert.equal(user.status, 200);

    // Once every token of the old key has expired, the key leaves the key set.
    clock.advance(3600 * 1000 + 10 * 60_000);
    await clock.settle();
    const published = (await (await fetch(`${issuer()}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    assert.deepEqual(
      published.keys.map((k) => k.kid),
      [kid],
    );
  });

  test("tampered, unsigned, foreign and expired tokens are refused with bad_jwt", async () => {
    await confirmedUser("tamper@example.com");
    const { data } = await authClient(t).signInWithPassword({
      email: "tamper@example.com",
      password: PASSWORD,
    });
    const token = data.session?.access_token ?? "";
    const [h, p, s] = token.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, role: "service_role" })).toString("base64url");
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const cases = {
      tampered: `${h}.${forged}.${s}`,
      "alg none": `${none}.${p}.`,
      garbage: "not-a-jwt",
    };
    for (const [name, bad] of Object.entries(cases)) {
      const res = await fetch(`${issuer()}/user`, { headers: { authorization: `Bearer ${bad}` } });
      assert.equal(res.status, 403, name);
      assert.equal(((await res.json()) as { code: string }).code, "bad_jwt", name);
    }
    clock.advance(3601 * 1000);
    const expired = await fetch(`${issuer()}/user`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(expired.status, 403);
    assert.match(((await expired.json()) as { msg: string }).msg, /exp/);
  });
});

describe("multi-factor authentication", () => {
  test("enrolling TOTP and verifying a code steps the session up to aal2; a code is accepted once", async () => {
    await confirmedUser("mfa@example.com");
    const auth = authClient(t);
    await auth.signInWithPassword({ email: "mfa@example.com", password: PASSWORD });
    const enrolled = await auth.mfa.enroll({ factorType: "totp", friendlyName: "phone" });
    assert.equal(enrolled.error, null);
    const { id, totp: secret } = enrolled.data!;
    assert.match(secret.uri, /^otpauth:\/\/totp\/Nimbus:mfa%40example\.com\?secret=[A-Z2-7]+&issuer=Nimbus/);
    assert.match(secret.qr_code, /^data:image\/svg\+xml;utf-8,<svg/);

    const code = totp(secret.secret, clock.now());
    const verified = await auth.mfa.challengeAndVerify({ factorId: id, code });
    assert.equal(verified.error, null, String(verified.error));
    const aal = await auth.mfa.getAuthenticatorAssuranceLevel();
    assert.equal(aal.data?.currentLevel, "aal2");
    assert.deepEqual(
      ((aal.data?.currentAuthenticationMethods ?? []) as { method: string }[]).map((m) => m.method),
      ["password", "totp"],
    );
    const factors = await auth.mfa.listFactors();
    assert.equal(factors.data?.totp[0]?.status, "verified");

    const replay = await auth.mfa.challengeAndVerify({ factorId: id, code });
    assert.equal((replay.error as AuthApiError).code, "mfa_verification_failed");
  });

  test("after the step-up the aal1 refresh token is refused, without ending the aal2 session", async () => {
    await confirmedUser("step-up@example.com");
    const auth = authClient(t);
    const signedIn = await auth.signInWithPassword({ email: "step-up@example.com", password: PASSWORD });
    const aal1 = signedIn.data.session;
    const enrolled = await auth.mfa.enroll({ factorType: "totp" });
    const factorId = enrolled.data?.id ?? "";
    const code = totp(enrolled.data?.totp.secret ?? "", clock.now());
    const verified = await auth.mfa.challengeAndVerify({ factorId, code });
    assert.equal(verified.error, null, String(verified.error));
    const aal2 = decodeJwt(verified.data?.access_token ?? "");
    assert.equal(aal2.aal, "aal2");
    assert.equal(
      aal2.session_id,
      decodeJwt(aal1?.access_token ?? "").session_id,
      "the same session, stepped up",
    );

    const stale = await authClient(t).refreshSession({ refresh_token: aal1?.refresh_token ?? "" });
    assert.equal((stale.error as AuthApiError).code, "refresh_token_not_found");
    const refreshed = await auth.refreshSession();
    assert.equal(refreshed.error, null, "not taken for reuse: the aal2 session lives on");
    assert.equal(decodeJwt(refreshed.data.session?.access_token ?? "").aal, "aal2");
  });
});

describe("the admin API", () => {
  test("the service key creates, lists, bans and deletes users; anything else is refused", async () => {
    const { serviceKey, publishableKey } = await authKeys(t);
    const admin = authClient(t, { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` }).admin;
    const created = await admin.createUser({
      email: "made@example.com",
      password: PASSWORD,
      email_confirm: true,
      app_metadata: { roles: ["editor"] },
    });
    assert.equal(created.error, null);
    const id = created.data.user?.id ?? "";
    const listed = await admin.listUsers({ page: 1, perPage: 1 });
    assert.equal(listed.error, null);
    assert.equal(listed.data.users.length, 1);
    assert.ok((listed.data as { total: number }).total >= 1);

    const signedIn = await authClient(t).signInWithPassword({
      email: "made@example.com",
      password: PASSWORD,
    });
    assert.deepEqual(decodeJwt(signedIn.data.session?.access_token ?? "").app_metadata, {
      provider: "email",
      providers: ["email"],
      roles: ["editor"],
    });
    const banned = await admin.updateUserById(id, { ban_duration: "24h" });
    assert.ok(banned.data.user?.banned_until);
    const refused = await authClient(t).signInWithPassword({ email: "made@example.com", password: PASSWORD });
    assert.equal((refused.error as AuthApiError).code, "user_banned");
    const refresh = await authClient(t).refreshSession({
      refresh_token: signedIn.data.session?.refresh_token ?? "",
    });
    assert.ok(refresh.error, "a ban ends the user's sessions");

    assert.equal((await admin.deleteUser(id)).error, null);
    assert.equal(((await admin.getUserById(id)).error as AuthApiError).code, "user_not_found");

    const anon = authClient(t, { apikey: publishableKey, Authorization: `Bearer ${publishableKey}` }).admin;
    assert.equal(((await anon.listUsers()).error as AuthApiError).code, "not_admin");
  });
});

describe("abuse limits", () => {
  test("too many wrong passwords for one account get 429 with Retry-After, until the window passes", async () => {
    await confirmedUser("target@example.com");
    const attempt = () =>
      fetch(`${issuer()}/token?grant_type=password`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "target@example.com", password: "wrong password guess" }),
      });
    let limited: Response | undefined;
    for (let i = 0; i < 12 && limited === undefined; i++) {
      const res = await attempt();
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 400);
    }
    assert.ok(limited, "the account's limit answered 429");
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.equal(((await limited.json()) as { code: string }).code, "over_request_rate_limit");
    clock.advance(5 * 60_000);
    assert.equal((await attempt()).status, 400, "allowed again once the window passed");
  });
});
