/**
 * Lambda's function URL operations (2021-10-31): Create, Get, Update, Delete and List
 * FunctionUrlConfig, in Lambda's shapes. `FunctionUrl` in every answer is an address that
 * works from where the caller reached the platform (`function-url/address.ts`).
 */
import type { Context, Hono } from "hono";
import type { FunctionUrls } from "../../../control/urls/function-urls.js";
import type { FunctionUrlConfig } from "../../../control/urls/repo.js";
import { NimbusError } from "../../../shared/errors.js";
import { parseJsonObject } from "../../body.js";
import { bodyOf, type SurfaceEnv } from "../../surface.js";
import { functionUrlFor } from "../function-url/address.js";
import * as decode from "./decode.js";
import { functionUrlPatch, functionUrlSpec } from "./decode-urls.js";
import { type ArnContext, functionArnOf } from "./shapes.js";

export interface FunctionUrlRoutesDeps {
  readonly urls: FunctionUrls;
  readonly arn: ArnContext;
}

export function functionUrlRoutes(app: Hono<SurfaceEnv>, d: FunctionUrlRoutesDeps): void {
  const path = "/2021-10-31/functions/:name/url";
  const target = (c: Context<SurfaceEnv>) =>
    decode.functionRef(c.req.param("name")!, c.req.query("Qualifier"));
  const shape = (c: Context<SurfaceEnv>, config: FunctionUrlConfig, withModified: boolean) =>
    urlConfiguration(d.arn, new URL(c.req.url).origin, config, withModified);

  app.post(path, async (c) => {
    const spec = functionUrlSpec(parseJsonObject(bodyOf(c)));
    const ref = target(c);
    return c.json(shape(c, await d.urls.create(ref.name, ref.qualifier, spec), false), 201);
  });
  app.get(path, async (c) => {
    const ref = target(c);
    return c.json(shape(c, await d.urls.get(ref.name, ref.qualifier), true));
  });
  app.put(path, async (c) => {
    const patch = functionUrlPatch(parseJsonObject(bodyOf(c)));
    const ref = target(c);
    return c.json(shape(c, await d.urls.update(ref.name, ref.qualifier, patch), true));
  });
  app.delete(path, async (c) => {
    const ref = target(c);
    await d.urls.delete(ref.name, ref.qualifier);
    return c.body(null, 204);
  });
  app.get("/2021-10-31/functions/:name/urls", async (c) => {
    const maxRaw = c.req.query("MaxItems");
    const maxItems = maxRaw === undefined ? 50 : Number(maxRaw);
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 50)
      throw new NimbusError("InvalidParameter", `MaxItems must be an integer from 1 to 50, got ${maxRaw}`);
    const name = decode.functionName(c.req.param("name")!);
    const { configs, next } = await d.urls.list(name, c.req.query("Marker") || undefined, maxItems);
    return c.json({
      FunctionUrlConfigs: configs.map((config) => shape(c, config, true)),
      ...(next ? { NextMarker: next } : {}),
    });
  });
}

function urlConfiguration(arn: ArnContext, origin: string, c: FunctionUrlConfig, withModified: boolean) {
  return {
    FunctionUrl: functionUrlFor(origin, arn.region, c.urlId),
    FunctionArn: functionArnOf(arn, c.functionName, c.qualifier === "$LATEST" ? undefined : c.qualifier),
    AuthType: c.authType,
    ...(c.cors ? { Cors: corsShape(c.cors) } : {}),
    CreationTime: new Date(c.createdAt).toISOString(),
    ...(withModified ? { LastModifiedTime: new Date(c.lastModified).toISOString() } : {}),
    InvokeMode: c.invokeMode,
  };
}

function corsShape(c: NonNullable<FunctionUrlConfig["cors"]>) {
  return {
    ...(c.allowCredentials === undefined ? {} : { AllowCredentials: c.allowCredentials }),
    ...(c.allowHeaders ? { AllowHeaders: c.allowHeaders } : {}),
    ...(c.allowMethods ? { AllowMethods: c.allowMethods } : {}),
    ...(c.allowOrigins ? { AllowOrigins: c.allowOrigins } : {}),
    ...(c.exposeHeaders ? { ExposeHeaders: c.exposeHeaders } : {}),
    ...(c.maxAge === undefined ? {} : { MaxAge: c.maxAge }),
  };
}
