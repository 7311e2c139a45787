/**
 * What every route of the auth surface shares: the caller (address, user agent), the body as
 * a JSON object, the bearer token, and answers in Supabase's auth API's format, with CORS for
 * browser apps (any origin: the API takes tokens in headers and bodies, never cookies).
 */
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import type { Caller } from "../../../services/auth/context.js";
import { AuthError } from "../../../services/auth/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import { bodyOf, type SurfaceEnv } from "../../surface.js";

/** The API version auth-js reads to find the error code in `code`. */
export const API_VERSION = "2024-01-01";

export const CORS_HEADERS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "x-supabase-api-version, link, x-total-count, retry-after",
};

const PREFLIGHT_HEADERS: Record<string, string> = {
  ...CORS_HEADERS,
  "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
  "access-control-allow-headers":
    "apikey, authorization, content-type, x-client-info, x-supabase-api-version",
  "access-control-max-age": "86400",
};

export const preflight = () => new Response(null, { status: 204, headers: PREFLIGHT_HEADERS });

export function callerOf(c: Context<SurfaceEnv>): Caller {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return { ip: incoming?.socket.remoteAddress ?? undefined, userAgent: c.req.header("user-agent") };
}

/** The body as a JSON object; `{}` when empty (auth-js posts nothing with a JSON content type). */
export function jsonBody(c: Context<SurfaceEnv>): Record<string, unknown> {
  const body = bodyOf(c);
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new AuthError("bad_json", 400, `Could not parse request body as JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new AuthError("bad_json", 400, "The request body must be a JSON object");
  return value as Record<string, unknown>;
}

/** A path parameter of the route. */
export function param(c: Context<SurfaceEnv>, name: string): string {
  const value = c.req.param(name) as string | undefined;
  if (value === undefined) throw new AuthError("validation_failed", 400, `the path has no ${name}`);
  return value;
}

/** The token after `Bearer `; 401 `no_authorization` without one. */
export function bearer(c: Context<SurfaceEnv>): string {
  const header = c.req.header("authorization") ?? "";
  const m = /^bearer\s+(\S+)$/i.exec(header);
  if (!m) throw new AuthError("no_authorization", 401, "This endpoint requires a Bearer token");
  return m[1]!;
}

export function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: {
      "content-type": "application/json",
      "x-supabase-api-version": API_VERSION,
      ...CORS_HEADERS,
      ...headers,
    },
  });
}

/** An auth error as Supabase's auth server answers it (the code under both names auth-js reads). */
export function authErrorResponse(err: AuthError): Response {
  const headers: Record<string, string> = {};
  if (err.retryAfterSeconds !== undefined) headers["retry-after"] = String(err.retryAfterSeconds);
  return json(
    { code: err.code, error_code: err.code, msg: err.message, message: err.message, ...err.extra },
    err.status,
    headers,
  );
}

/** Runs a route; its AuthError becomes Supabase's error body, anything else a logged 500. */
export function handle(
  log: (message: string, fields: Record<string, unknown>) => void,
  run: (c: Context<SurfaceEnv>) => Promise<Response>,
) {
  return async (c: Context<SurfaceEnv>): Promise<Response> => {
    try {
      return await run(c);
    } catch (err) {
      if (err instanceof AuthError) return authErrorResponse(err);
      const requestId = newRequestId();
      log("auth request failed", {
        requestId,
        path: c.req.path,
        err: err instanceof Error ? err.stack : String(err),
      });
      return json(
        {
          code: "unexpected_failure",
          error_code: "unexpected_failure",
          msg: `internal error (request ${requestId})`,
        },
        500,
      );
    }
  };
}
