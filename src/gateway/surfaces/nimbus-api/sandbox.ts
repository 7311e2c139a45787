/**
 * A function's sandbox settings (`/nimbus/v1/functions/{name}/sandbox`): the tier its instances
 * run in and the network they may reach. Nimbus's own: Lambda has no such setting.
 */
import { Hono } from "hono";
import type { Registry } from "../../../control/registry/registry.js";
import type { SandboxSpec } from "../../../control/registry/spec.js";
import { type FunctionSandbox, SANDBOX_TIERS, type SandboxTier } from "../../../protocol/sandbox.js";
import { NimbusError } from "../../../shared/errors.js";
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
    return c.json(
      wire(await d.registry.putSandbox(c.req.param("name"), decodeSandbox(parseJsonObject(bodyOf(c))))),
    );
  });
  app.delete(path, async (c) => {
    await d.registry.deleteSandbox(c.req.param("name"));
    return c.body(null, 204);
  });
  return app;
}

/** The body's settings, its types checked; the registry checks what they ask for. */
export function decodeSandbox(body: Record<string, unknown>): SandboxSpec {
  for (const key of Object.keys(body))
    if (!["tier", "internet", "allow"].includes(key))
      throw bad(`unknown sandbox setting ${JSON.stringify(key)}: the settings are tier, internet and allow`);
  const { internet = false, allow = [] } = body;
  // "default" (what GET answers when none is set) means the platform's default tier.
  const tier = body.tier === "default" ? undefined : body.tier;
  if (tier !== undefined && !(SANDBOX_TIERS as readonly unknown[]).includes(tier))
    throw bad(`tier must be one of default, ${SANDBOX_TIERS.join(", ")}; got ${JSON.stringify(tier)}`);
  if (typeof internet !== "boolean")
    throw bad(`internet must be true or false; got ${JSON.stringify(internet)}`);
  if (!Array.isArray(allow) || allow.some((a) => typeof a !== "string"))
    throw bad(`allow must be a list of destinations such as "10.0.0.5:5432"; got ${JSON.stringify(allow)}`);
  return { tier: tier as SandboxTier | undefined, internet, allow: allow as string[] };
}

const bad = (message: string) => new NimbusError("InvalidParameter", message);

function wire(s: FunctionSandbox) {
  return { tier: s.tier ?? "default", internet: s.internet, allow: s.allow };
}
