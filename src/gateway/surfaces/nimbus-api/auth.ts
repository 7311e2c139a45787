/**
 * The auth service's operator routes in Nimbus's API (`/nimbus/v1/auth/…`, signed with the
 * platform's key): the development inbox, the signing keys and their rotation, the keys apps
 * and servers use (publishable and service), and the audit log. Users themselves are managed
 * through the auth API's admin routes, with the service key these routes hand out.
 */
import { Hono } from "hono";
import type { AuthService } from "../../../services/auth/auth.js";
import { NimbusError } from "../../../shared/errors.js";
import type { SurfaceEnv } from "../../surface.js";
import { authClientsApi } from "./auth-clients.js";

export function authApi(d: { authService: AuthService | undefined }): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();
  const service = () => {
    if (d.authService === undefined)
      throw new NimbusError("NotFound", "the auth service is not enabled on this platform");
    return d.authService;
  };
  const limitOf = (raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw new NimbusError("InvalidParameter", `limit must be an integer from 1 to 1000, not ${raw}`);
    return n;
  };

  app.get("/nimbus/v1/auth/inbox", async (c) => {
    const to = c.req.query("to")?.trim().toLowerCase() || undefined;
    const mails = await service().ctx.repo.listMail({ to, limit: limitOf(c.req.query("limit"), 50) });
    return c.json({ mails: mails.map((m) => ({ ...m, createdAt: new Date(m.createdAt).toISOString() })) });
  });
  app.get("/nimbus/v1/auth/keys", async (c) => {
    const s = service();
    return c.json({
      issuer: s.ctx.settings.issuer(),
      publishableKey: s.publishableKey,
      serviceKey: s.serviceKey,
      signingKeys: s.ctx.keys.list().map((k) => ({
        kid: k.kid,
        createdAt: new Date(k.createdAt).toISOString(),
        retiredAt: k.retiredAt === undefined ? null : new Date(k.retiredAt).toISOString(),
      })),
    });
  });
  app.post("/nimbus/v1/auth/keys/rotate", async (c) => c.json(await service().ctx.keys.rotate()));
  app.get("/nimbus/v1/auth/audit", async (c) => {
    const userId = c.req.query("user") || undefined;
    const entries = await service().ctx.repo.listAudit({ userId, limit: limitOf(c.req.query("limit"), 100) });
    return c.json({ entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) });
  });
  app.route("/", authClientsApi(d));
  return app;
}
