/**
 * Supabase's admin API under `/auth/v1/admin` and `/auth/v1/invite`, for the service key:
 * users (with the paging headers auth-js reads), their factors, invitations and generated
 * links, and Nimbus's own: a user's sessions, listed and revoked.
 */
import type { Context, Hono } from "hono";
import {
  adminCreateUser,
  adminDeleteUser,
  adminGenerateLink,
  adminGetUser,
  adminInvite,
  adminListSessions,
  adminListUsers,
  adminRevokeSessions,
  adminUpdateUser,
  DEFAULT_PER_PAGE,
  MAX_PER_PAGE,
} from "../../../services/auth/admin.js";
import type { AuthService } from "../../../services/auth/auth.js";
import { AuthError, invalid } from "../../../services/auth/errors.js";
import { factorJson } from "../../../services/auth/shapes.js";
import type { SurfaceEnv } from "../../surface.js";
import { callerOf, json, jsonBody, param } from "./http.js";

type Route = (
  run: (c: Context<SurfaceEnv>, s: AuthService) => Promise<Response>,
) => (c: Context<SurfaceEnv>) => Promise<Response>;

/** A positive integer query parameter; `fallback` when absent or empty (auth-js sends `page=`). */
function positive(raw: string | undefined, name: string, fallback: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw invalid(`${name} must be an integer from 1 to ${max}, not ${raw}`);
  return n;
}

export function adminRoutes(
  app: Hono<SurfaceEnv>,
  base: string,
  route: Route,
  requireServiceKey: (c: Context<SurfaceEnv>, s: AuthService) => void,
): void {
  const admin = (run: (c: Context<SurfaceEnv>, s: AuthService) => Promise<Response>) =>
    route(async (c, s) => {
      requireServiceKey(c, s);
      return run(c, s);
    });
  const redirectTo = (c: Context<SurfaceEnv>) => c.req.query("redirect_to") || undefined;

  app.get(
    `${base}/admin/users`,
    admin(async (c, s) => {
      const page = positive(c.req.query("page"), "page", 1, 1_000_000);
      const perPage = positive(c.req.query("per_page"), "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE);
      const listed = await adminListUsers(s.ctx, page, perPage);
      const last = Math.max(1, Math.ceil(listed.total / perPage));
      // auth-js reads these exactly: `page=` first in each URL, the rel quoted.
      const links = [];
      if (page < last) links.push(`<${base}/admin/users?page=${page + 1}&per_page=${perPage}>; rel="next"`);
      links.push(`<${base}/admin/users?page=${last}&per_page=${perPage}>; rel="last"`);
      return json({ users: listed.users, aud: "authenticated" }, 200, {
        link: links.join(", "),
        "x-total-count": String(listed.total),
      });
    }),
  );
  app.post(
    `${base}/admin/users`,
    admin(async (c, s) => json(await adminCreateUser(s.ctx, jsonBody(c), callerOf(c)))),
  );
  app.get(
    `${base}/admin/users/:id`,
    admin(async (c, s) => json(await adminGetUser(s.ctx, param(c, "id")))),
  );
  app.put(
    `${base}/admin/users/:id`,
    admin(async (c, s) => json(await adminUpdateUser(s.ctx, param(c, "id"), jsonBody(c), callerOf(c)))),
  );
  app.delete(
    `${base}/admin/users/:id`,
    admin(async (c, s) => {
      await adminDeleteUser(s.ctx, param(c, "id"), callerOf(c));
      return json({});
    }),
  );
  app.get(
    `${base}/admin/users/:id/factors`,
    admin(async (c, s) => {
      const user = await s.ctx.repo.getUser(param(c, "id"));
      if (user === undefined) throw new AuthError("user_not_found", 404, "User not found");
      return json((await s.ctx.repo.listFactors(user.id)).map(factorJson));
    }),
  );
  app.delete(
    `${base}/admin/users/:id/factors/:factor`,
    admin(async (c, s) => {
      const factor = await s.ctx.repo.getFactor(param(c, "factor"));
      if (factor === undefined || factor.userId !== param(c, "id"))
        throw new AuthError("mfa_factor_not_found", 404, `Factor ${param(c, "factor")} not found`);
      await s.ctx.repo.deleteFactor(factor.id);
      return json(factorJson(factor));
    }),
  );
  app.get(
    `${base}/admin/users/:id/sessions`,
    admin(async (c, s) => json(await adminListSessions(s.ctx, param(c, "id")))),
  );
  app.delete(
    `${base}/admin/users/:id/sessions`,
    admin(async (c, s) =>
      json({ revoked: await adminRevokeSessions(s.ctx, param(c, "id"), undefined, callerOf(c)) }),
    ),
  );
  app.delete(
    `${base}/admin/users/:id/sessions/:session`,
    admin(async (c, s) =>
      json({ revoked: await adminRevokeSessions(s.ctx, param(c, "id"), param(c, "session"), callerOf(c)) }),
    ),
  );
  app.post(
    `${base}/invite`,
    admin(async (c, s) => json(await adminInvite(s.ctx, jsonBody(c), redirectTo(c), callerOf(c)))),
  );
  app.post(
    `${base}/admin/generate_link`,
    admin(async (c, s) => json(await adminGenerateLink(s.ctx, jsonBody(c), redirectTo(c), callerOf(c)))),
  );
  app.get(
    `${base}/admin/audit`,
    admin(async (c, s) => {
      const limit = positive(c.req.query("limit"), "limit", 100, 1000);
      const userId = c.req.query("user_id") || undefined;
      return json(
        (await s.ctx.repo.listAudit({ userId, limit })).map((a) => ({
          ...a,
          at: new Date(a.at).toISOString(),
        })),
      );
    }),
  );
}
