/**
 * `GET /metrics`, the Prometheus exposition. Prometheus cannot sign requests: it may send the
 * platform's key as HTTP Basic instead. Its errors keep the Lambda shape they have always had
 * (status and message are what a scraper reads).
 */
import { Hono } from "hono";
import type { Surface, SurfaceEnv } from "../../surface.js";
import { lambdaErrorResponse } from "../lambda-api/errors.js";

export function metricsSurface(d: {
  metrics: { expose(): Promise<{ contentType: string; body: string }> };
}): Surface {
  const app = new Hono<SurfaceEnv>();
  app.get("/metrics", async (c) => {
    const { contentType, body } = await d.metrics.expose();
    return c.body(body, 200, { "content-type": contentType });
  });
  return {
    name: "metrics",
    reach: { pathPrefix: "/metrics" },
    auth: { kind: "platform-key", service: "lambda", basic: true },
    body: { mode: "buffered", limit: () => ({ bytes: 1024, tooLarge: "a scrape takes no body" }) },
    renderError: lambdaErrorResponse,
    app,
  };
}
