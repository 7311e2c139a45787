/**
 * The OpenID Connect provider under `/auth/v1/oauth` (the endpoints the discovery document
 * names): `/authorize` answers a browser with pages and redirects; `/token` and `/userinfo`
 * answer apps in OAuth's JSON (RFC 6749 §5, RFC 6750 §3), not in Supabase's error shape.
 * Forms and token requests are `application/x-www-form-urlencoded`.
 */
import type { Context, Hono } from "hono";
import type { AuthService } from "../../../services/auth/auth.js";
import { AuthError } from "../../../services/auth/errors.js";
import {
  type AuthorizeOutcome,
  authorize,
  decide,
  oidcProvider,
  secondFactor,
  signIn,
} from "../../../services/auth/oidc.js";
import {
  consentPage,
  errorPage,
  mfaPage,
  PAGE_HEADERS,
  signInPage,
} from "../../../services/auth/oidc-pages.js";
import { type OAuthAnswer, token, userinfo } from "../../../services/auth/oidc-token.js";
import { newRequestId } from "../../../shared/ids.js";
import { bodyOf, type SurfaceEnv } from "../../surface.js";
import { CORS_HEADERS, callerOf } from "./http.js";

type Route = (
  run: (c: Context<SurfaceEnv>, s: AuthService) => Promise<Response>,
) => (c: Context<SurfaceEnv>) => Promise<Response>;

export function oidcRoutes(app: Hono<SurfaceEnv>, base: string, route: Route): void {
  const oauth = `${base}/oauth`;
  const provider = (s: AuthService) => oidcProvider(s.ctx, s.serviceKey);
  const pages = (run: (c: Context<SurfaceEnv>, s: AuthService) => Promise<AuthorizeOutcome>) =>
    route(async (c, s) => {
      try {
        return render(s, await run(c, s));
      } catch (err) {
        const appName = s.ctx.settings.appName;
        if (err instanceof AuthError && err.status < 500)
          return html(errorPage({ appName, title: "Sign-in failed", message: err.message }), err.status);
        const requestId = newRequestId();
        s.ctx.log("auth oidc page failed", {
          requestId,
          err: err instanceof Error ? err.stack : String(err),
        });
        const message = `Something went wrong on our side (request ${requestId}). Try again later.`;
        return html(errorPage({ appName, title: "Sign-in failed", message }), 500);
      }
    });

  app.get(
    `${oauth}/authorize`,
    pages(async (c, s) => authorize(provider(s), new URL(c.req.url).searchParams)),
  );
  app.post(
    `${oauth}/authorize`,
    pages(async (c, s) => {
      const form = formOf(c);
      if (form.has("consent")) return decide(provider(s), form, callerOf(c));
      if (form.has("mfa")) return secondFactor(provider(s), form, callerOf(c));
      if (form.has("pending")) return signIn(provider(s), form, callerOf(c));
      // OIDC Core §3.1.2.1: an authorization request may also be POSTed.
      return authorize(provider(s), form);
    }),
  );
  app.post(
    `${oauth}/token`,
    route(async (c, s) =>
      answer(await token(provider(s), formOf(c), c.req.header("authorization"), callerOf(c))),
    ),
  );
  app.on(
    ["GET", "POST"],
    `${oauth}/userinfo`,
    route(async (c, s) => {
      const bearer = /^bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
      // RFC 6750 §2.2: the token may come in a form body instead.
      const fromForm = c.req.method === "POST" ? (formOf(c).get("access_token") ?? undefined) : undefined;
      return answer(await userinfo(provider(s), bearer ?? fromForm));
    }),
  );
}

function render(s: AuthService, outcome: AuthorizeOutcome): Response {
  const appName = s.ctx.settings.appName;
  switch (outcome.kind) {
    case "error":
      return html(errorPage({ appName, ...outcome }), outcome.status);
    case "redirect":
      return new Response(null, {
        status: 303,
        headers: { location: outcome.location, "cache-control": "no-store" },
      });
    case "sign-in": {
      const retry: Record<string, string> =
        outcome.retryAfterSeconds === undefined ? {} : { "retry-after": String(outcome.retryAfterSeconds) };
      return html(signInPage({ appName, ...outcome }), outcome.status, retry);
    }
    case "mfa": {
      const retry: Record<string, string> =
        outcome.retryAfterSeconds === undefined ? {} : { "retry-after": String(outcome.retryAfterSeconds) };
      return html(mfaPage({ appName, ...outcome }), outcome.status, retry);
    }
    case "consent":
      return html(consentPage({ appName, ...outcome }), 200);
  }
}

function html(body: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...PAGE_HEADERS, ...headers } });
}

function answer(a: OAuthAnswer): Response {
  return new Response(JSON.stringify(a.body), {
    status: a.status,
    headers: {
      "content-type": "application/json",
      ...CORS_HEADERS,
      "access-control-expose-headers": `${CORS_HEADERS["access-control-expose-headers"]}, www-authenticate`,
      ...a.headers,
    },
  });
}

/** A form body (the surface has buffered it). */
function formOf(c: Context<SurfaceEnv>): URLSearchParams {
  return new URLSearchParams(bodyOf(c).toString("utf8"));
}
