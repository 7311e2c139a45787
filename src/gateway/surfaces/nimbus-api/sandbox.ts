/**
 * A function's sandbox settings (`/nimbus/v1/functions/{name}/sandbox`): the tier its instances
 * run in and the network they may reach. Nimbus's own: Lambda has no such setting.
 */
import { Hono } from "hono";
import type { Registry } from "../../../control/registry/registry.js";
import type { FunctionSandbox } from "../../../protocol/sandbox.js";
import { parseJsonObject } from "../../body.js";
import { type BodyLimitRule, bodyOf, type SurfaceEnv } from "../../surface.js";

/** Sixty-four destinations and a tier fit in far less. */
const MAX_SANDBOX_BODY = 8192;

/** The limit of a sandbox settings body, which the gateway reads before authenticating its request. */
export const SANDBOX_BODY_LIMIT: BodyLimitRule = {
  method: "PUT",
  path: /^\/nimbus\/v1\/functions\/[^/]+\/sandbox$/,
  limit: {
    bytes: MAX_SANDBOX_BODY,
    tooLarge: `a sandbox settings body is at most ${MAX_SANDBOX_BODY} bytes`,
  },
};

export function sandboxApi(d: {
  registry: Pick<Registry, "getSandbox" | "putSandbox" | "deleteSandbox">;
}): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();
  const path = "/nimbus/v1/functions/:name/sandbox";

  app.get(path, async (c) => {
    return c.json(wire(await d.registry.getSandbox(c.req.param("name"))));
  });
  app.put(path, async (c) => {
    return c.json(wire(await d.registry.putSandbox(c.req.param("name"), parseJsonObject(bodyOf(c)))));
  });
  app.delete(path, async (c) => {
    await d.registry.deleteSandbox(c.req.param("name"));
    return c.body(null, 204);
  });
  return app;
}

function wire(s: FunctionSandbox) {
  return { tier: s.tier ?? "default", internet: s.internet, allow: s.allow };
}
