/**
 * Supabase's auth API under `/auth/v1`, so `@supabase/auth-js` (`supabase.auth`) signs users in
 * against Nimbus unchanged: sign-up, password, link and code sign-in, refresh, the user, sign
 * out, MFA, and the admin API (with the service key). Open to anyone (the routes check tokens
 * themselves); the admin routes take only the service key. `/.well-known/…` beside it serves
 * the issuer's discovery document and key set, also at the platform's root.
 */
import { type Context, Hono } from "hono";
import { signInWithPassword, signUp, signUpAnonymously } from "../../../services/auth/accounts.js";
import type { AuthService } from "../../../services/auth/auth.js";
import { AuthError, invalid } from "../../../services/auth/errors.js";
import {
  challengeOf,
  exchangeCode,
  recover,
  sendOtp,
  verify,
  verifyLink,
} from "../../../services/auth/flows.js";
import { challenge, enroll, unenroll, verifyFactor, verifyRecoveryCode } from "../../../services/auth/mfa.js";
import { refreshSession } from "../../../services/auth/sessions.js";
import { getUser, signOut, updateUser } from "../../../services/auth/user.js";
import { sameSecret } from "../../../shared/secrets.js";
import { nimbusErrorResponse } from "../../errors.js";
import type { Surface, SurfaceEnv } from "../../surface.js";
import { adminRoutes } from "./admin-routes.js";
import { bearer, callerOf, handle, json, jsonBody, param, preflight } from "./http.js";
import { oidcRoutes } from "./oidc-routes.js";

export interface AuthSurfaceDeps {
  /** Undefined while the platform runs without the auth service. */
  readonly authService: AuthService | undefined;
}

const MAX_BODY_BYTES = 64 * 1024;

export function authSurface(d: AuthSurfaceDeps): Surface {
  const app = new Hono<SurfaceEnv>();
  const service = () => {
    if (d.authService === undefined)
      throw new AuthError("unexpected_failure", 404, "the auth service is not enabled on this platform");
    return d.authService;
  };
  const log = (message: string, fields: Record<string, unknown>) => d.authService?.ctx.log(message, fields);
  const route = (run: (c: Context<SurfaceEnv>, s: AuthService) => Promise<Response>) =>
    handle(log, (c) => run(c, service()));
  const redirectTo = (c: Context<SurfaceEnv>) => c.req.query("redirect_to") || undefined;
  const base = "/auth/v1";

  app.options(`${base}/*`, () => preflight());
  app.get(
    `${base}/health`,
    route(async () =>
      json({ name: "nimbus-auth", description: "Nimbus auth, speaking Supabase's auth API" }),
    ),
  );
  app.get(
    `${base}/settings`,
    route(async (_c, s) =>
      json({
        external: { email: true, anonymous_users: s.ctx.settings.allowAnonymous, phone: false },
        disable_signup: !s.ctx.settings.allowSignup,
        mailer_autoconfirm: !s.ctx.settings.confirmEmail,
        phone_autoconfirm: false,
      }),
    ),
  );
  app.get(
    `${base}/.well-known/jwks.json`,
    route(async (_c, s) => json(s.ctx.keys.jwks())),
  );
  app.get(
    `${base}/.well-known/openid-configuration`,
    route(async (_c, s) => json(s.discovery())),
  );

  app.post(
    `${base}/signup`,
    route(async (c, s) => {
      const body = jsonBody(c);
      if (body.email === undefined && body.phone === undefined)
        return json(
          await signUpAnonymously(s.ctx, { data: body.data, captchaToken: captchaToken(body) }, callerOf(c)),
        );
      if (body.phone !== undefined && body.email === undefined)
        throw invalid("phone sign-up is not supported; use an email");
      return json(
        await signUp(
          s.ctx,
          {
            ...body,
            redirectTo: redirectTo(c),
            codeChallenge: challengeOf(body),
            captchaToken: captchaToken(body),
          },
          callerOf(c),
        ),
      );
    }),
  );

  app.post(
    `${base}/token`,
    route(async (c, s) => {
      const body = jsonBody(c);
      const grant = c.req.query("grant_type");
      switch (grant) {
        case "password":
          return json(
            await signInWithPassword(s.ctx, { ...body, captchaToken: captchaToken(body) }, callerOf(c)),
          );
        case "refresh_token":
          if (typeof body.refresh_token !== "string" || body.refresh_token === "")
            throw invalid("refresh_token is required");
          return json(await refreshSession(s.ctx, body.refresh_token, callerOf(c)));
        case "pkce":
          return json(await exchangeCode(s.ctx, body, callerOf(c)));
        default:
          throw invalid(
            `grant_type ${JSON.stringify(grant ?? null)} is not one of password, refresh_token, pkce`,
          );
      }
    }),
  );

  app.post(
    `${base}/otp`,
    route(async (c, s) => {
      const body = jsonBody(c);
      if (body.email === undefined) throw invalid("an email is required (phone sign-in is not supported)");
      await sendOtp(s.ctx, { ...body, captchaToken: captchaToken(body) }, redirectTo(c), callerOf(c));
      return json({});
    }),
  );
  app.post(
    `${base}/magiclink`,
    route(async (c, s) => {
      const body = jsonBody(c);
      await sendOtp(s.ctx, { ...body, captchaToken: captchaToken(body) }, redirectTo(c), callerOf(c));
      return json({});
    }),
  );
  app.post(
    `${base}/recover`,
    route(async (c, s) => {
      const body = jsonBody(c);
      await recover(s.ctx, { ...body, captchaToken: captchaToken(body) }, redirectTo(c), callerOf(c));
      return json({});
    }),
  );
  app.post(
    `${base}/resend`,
    route(async (c, s) => {
      const body = jsonBody(c);
      if (body.type !== "signup") throw invalid(`type must be signup, not ${JSON.stringify(body.type)}`);
      const request = { ...body, create_user: false, captchaToken: captchaToken(body) };
      await sendOtp(s.ctx, request, redirectTo(c), callerOf(c)).catch((err: unknown) => {
        // An address without an account is answered like one with (no enumeration).
        if (!(err instanceof AuthError && err.code === "otp_disabled")) throw err;
      });
      return json({});
    }),
  );
  app.post(
    `${base}/verify`,
    route(async (c, s) => json(await verify(s.ctx, jsonBody(c), callerOf(c)))),
  );
  app.get(
    `${base}/verify`,
    route(async (c, s) => {
      const location = await verifyLink(
        s.ctx,
        { token: c.req.query("token"), type: c.req.query("type"), redirect_to: redirectTo(c) },
        callerOf(c),
      );
      return new Response(null, { status: 303, headers: { location, "cache-control": "no-store" } });
    }),
  );

  app.get(
    `${base}/user`,
    route(async (c, s) => json(await getUser(s.ctx, bearer(c)))),
  );
  app.put(
    `${base}/user`,
    route(async (c, s) => json(await updateUser(s.ctx, bearer(c), jsonBody(c), redirectTo(c), callerOf(c)))),
  );
  app.get(
    `${base}/reauthenticate`,
    route(async () => json({})),
  );
  app.post(
    `${base}/logout`,
    route(async (c, s) => {
      await signOut(s.ctx, bearer(c), c.req.query("scope") ?? "global", callerOf(c));
      return new Response(null, { status: 204, headers: { "access-control-allow-origin": "*" } });
    }),
  );

  app.post(
    `${base}/factors`,
    route(async (c, s) => json(await enroll(s.ctx, bearer(c), jsonBody(c), callerOf(c)))),
  );
  app.post(
    `${base}/factors/recovery`,
    route(async (c, s) => json(await verifyRecoveryCode(s.ctx, bearer(c), jsonBody(c).code, callerOf(c)))),
  );
  app.post(
    `${base}/factors/:id/challenge`,
    route(async (c, s) => json(await challenge(s.ctx, bearer(c), param(c, "id")))),
  );
  app.post(
    `${base}/factors/:id/verify`,
    route(async (c, s) =>
      json(await verifyFactor(s.ctx, bearer(c), param(c, "id"), jsonBody(c), callerOf(c))),
    ),
  );
  app.delete(
    `${base}/factors/:id`,
    route(async (c, s) => json(await unenroll(s.ctx, bearer(c), param(c, "id"), callerOf(c)))),
  );

  adminRoutes(app, base, route, (c, s) => requireServiceKey(c, s));
  oidcRoutes(app, base, route);

  return {
    name: "auth",
    reach: { pathPrefix: base },
    auth: { kind: "anonymous" },
    body: {
      mode: "buffered",
      limit: () => ({
        bytes: MAX_BODY_BYTES,
        tooLarge: `a request body of the auth API is at most ${MAX_BODY_BYTES} bytes`,
      }),
    },
    renderError: nimbusErrorResponse,
    app,
  };
}

/** The issuer's discovery document and key set at the platform's root, for clients that look there. */
export function wellKnownSurface(d: AuthSurfaceDeps): Surface {
  const app = new Hono<SurfaceEnv>();
  const log = (message: string, fields: Record<string, unknown>) => d.authService?.ctx.log(message, fields);
  const route = (run: (s: AuthService) => Response) =>
    handle(log, async () => {
      if (d.authService === undefined)
        throw new AuthError("unexpected_failure", 404, "the auth service is not enabled on this platform");
      return run(d.authService);
    });
  app.get(
    "/.well-known/jwks.json",
    route((s) => json(s.ctx.keys.jwks())),
  );
  app.get(
    "/.well-known/openid-configuration",
    route((s) => json(s.discovery())),
  );
  return {
    name: "well-known",
    reach: { pathPrefix: "/.well-known" },
    auth: { kind: "anonymous" },
    body: { mode: "buffered", limit: () => ({ bytes: 0, tooLarge: "these routes take no body" }) },
    renderError: nimbusErrorResponse,
    app,
  };
}

/** The CAPTCHA token `@supabase/auth-js` sends with `options.captchaToken`. */
function captchaToken(body: Record<string, unknown>): string | undefined {
  const meta = body.gotrue_meta_security;
  if (meta === null || typeof meta !== "object") return undefined;
  const token = (meta as { captcha_token?: unknown }).captcha_token;
  return typeof token === "string" && token !== "" ? token : undefined;
}

/** The service key, as `apikey` or as the bearer token; 401/403 otherwise. */
function requireServiceKey(c: Context<SurfaceEnv>, s: AuthService): void {
  const candidates = [
    c.req.header("apikey"),
    /^bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1],
  ];
  const given = candidates.filter((k): k is string => k !== undefined);
  if (given.length === 0)
    throw new AuthError("no_authorization", 401, "This endpoint requires the service key (apikey or Bearer)");
  if (!given.some((k) => sameSecret(k, s.serviceKey)))
    throw new AuthError(
      "not_admin",
      403,
      "User not allowed: the admin API takes the service key (nimbus auth keys)",
    );
}
