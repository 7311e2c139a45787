/** `GET /nimbus/v1/health`: whether the platform answers, for load balancers and probes that hold no key. */
import { Hono } from "hono";
import { nimbusErrorResponse } from "../../errors.js";
import type { Surface, SurfaceEnv } from "../../surface.js";

export function healthSurface(): Surface {
  const app = new Hono<SurfaceEnv>();
  app.get("/nimbus/v1/health", (c) => c.json({ status: "ok" }));
  return {
    name: "health",
    reach: { pathPrefix: "/nimbus/v1/health" },
    auth: { kind: "anonymous" },
    body: { mode: "buffered", limit: () => ({ bytes: 1024, tooLarge: "a health check takes no body" }) },
    renderError: nimbusErrorResponse,
    app,
  };
}
