/**
 * A function's sandbox settings (`/nimbus/v1/functions/{name}/sandbox`): the tier its instances
 * run in and the network they may reach. Nimbus's own: Lambda has no such setting.
 */
import { hash } from "node:crypto";
import type { Context } from "hono";
import { Hono } from "hono";
import type { Registry } from "../../../control/registry/registry.js";
import type { FunctionSandbox } from "../../../protocol/sandbox.js";
import type { Authenticator } from "../../auth/middleware.js";
import { EMPTY_SHA256, parseJsonObject, readBody } from "../../body.js";

/** Sixty-four destinations and a tier fit in far less. */
const MAX_SANDBOX_BODY = 8192;

export function sandboxApi(d: {
  auth: Authenticator;
  registry: Pick<Registry, "getSandbox" | "putSandbox" | "deleteSandbox">;
}): Hono {
  const app = new Hono();
  const path = "/nimbus/v1/functions/:name/sandbox";
  const authed = (c: Context, bodySha256 = EMPTY_SHA256) => d.auth.check(c.req.raw, c.req.url, bodySha256);

  app.get(path, async (c) => {
    await authed(c);
    return c.json(wire(await d.registry.getSandbox(c.req.param("name"))));
  });
  app.put(path, async (c) => {
    const bytes = await readBody(
      c,
      MAX_SANDBOX_BODY,
      `a sandbox settings body is at most ${MAX_SANDBOX_BODY} bytes`,
    );
    await authed(c, hash("sha256", bytes, "hex"));
    return c.json(wire(await d.registry.putSandbox(c.req.param("name"), parseJsonObject(bytes))));
  });
  app.delete(path, async (c) => {
    await authed(c);
    await d.registry.deleteSandbox(c.req.param("name"));
    return c.body(null, 204);
  });
  return app;
}

function wire(s: FunctionSandbox) {
  return { tier: s.tier ?? "default", internet: s.internet, allow: s.allow };
}
