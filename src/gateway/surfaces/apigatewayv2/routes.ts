/**
 * API Gateway v2's management API for HTTP APIs, at its own paths (`/v2/apis/…`) and status
 * codes, so `@aws-sdk/client-apigatewayv2` and the aws CLI work unchanged. Routes parse and
 * shape; the HTTP APIs service holds every rule. Operations Nimbus does not serve (domain
 * names, VPC links, models, API mappings…) find no route: a 404 naming the path.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import type { HttpApis } from "../../../services/http-apis/http-apis.js";
import { parseJsonObject } from "../../body.js";
import { bodyOf, type SurfaceEnv } from "../../surface.js";
import { executeApiEndpointFor } from "../execute-api/address.js";
import * as decode from "./decode.js";
import {
  apiShape,
  authorizerShape,
  deploymentShape,
  integrationShape,
  page,
  routeShape,
  stageShape,
} from "./shapes.js";

export interface ApiGatewayV2Deps {
  readonly httpApis: HttpApis;
}

type C = Context<SurfaceEnv>;

export function apiGatewayV2Api(d: ApiGatewayV2Deps): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();
  // Read on each request, not when the surface is built: the gateway is composed before it serves.
  const apis = () => d.httpApis;
  const json = (c: C) => parseJsonObject(bodyOf(c));
  const id = (c: C) => c.req.param("apiId")!;
  // On the host and port the caller reached: the address it can call the API at.
  const api = (c: C, a: Parameters<typeof apiShape>[0]) =>
    apiShape(a, executeApiEndpointFor(new URL(c.req.url).origin, a.apiId));
  const listed = <T, S>(c: C, items: readonly T[], shape: (t: T) => S) => {
    const p = page(items, decode.maxResults(c.req.query("maxResults")), c.req.query("nextToken"));
    return c.json({ items: p.items.map(shape), nextToken: p.nextToken });
  };
  const noContent = (c: C) => c.body(null, 204);

  // ── APIs ───────────────────────────────────────────────────────────────────
  app.post("/v2/apis", async (c) => c.json(api(c, await apis().createApi(decode.createApi(json(c)))), 201));
  app.get("/v2/apis", (c) => listed(c, apis().listApis(), (a) => api(c, a)));
  app.get("/v2/apis/:apiId", (c) => c.json(api(c, apis().getApi(id(c)))));
  app.patch("/v2/apis/:apiId", async (c) =>
    c.json(api(c, await apis().updateApi(id(c), decode.updateApi(json(c))))),
  );
  app.delete("/v2/apis/:apiId", async (c) => {
    await apis().deleteApi(id(c));
    return noContent(c);
  });
  app.delete("/v2/apis/:apiId/cors", async (c) => {
    await apis().deleteCors(id(c));
    return noContent(c);
  });

  // ── Routes ─────────────────────────────────────────────────────────────────
  const routeId = (c: C) => c.req.param("routeId")!;
  app.post("/v2/apis/:apiId/routes", async (c) =>
    c.json(routeShape(await apis().createRoute(id(c), decode.route(json(c)))), 201),
  );
  app.get("/v2/apis/:apiId/routes", (c) => listed(c, apis().listRoutes(id(c)), routeShape));
  app.get("/v2/apis/:apiId/routes/:routeId", (c) => c.json(routeShape(apis().getRoute(id(c), routeId(c)))));
  app.patch("/v2/apis/:apiId/routes/:routeId", async (c) =>
    c.json(routeShape(await apis().updateRoute(id(c), routeId(c), decode.route(json(c))))),
  );
  app.delete("/v2/apis/:apiId/routes/:routeId", async (c) => {
    await apis().deleteRoute(id(c), routeId(c));
    return noContent(c);
  });

  // ── Integrations ───────────────────────────────────────────────────────────
  const integrationId = (c: C) => c.req.param("integrationId")!;
  app.post("/v2/apis/:apiId/integrations", async (c) =>
    c.json(integrationShape(await apis().createIntegration(id(c), decode.integration(json(c)))), 201),
  );
  app.get("/v2/apis/:apiId/integrations", (c) => listed(c, apis().listIntegrations(id(c)), integrationShape));
  app.get("/v2/apis/:apiId/integrations/:integrationId", (c) =>
    c.json(integrationShape(apis().getIntegration(id(c), integrationId(c)))),
  );
  app.patch("/v2/apis/:apiId/integrations/:integrationId", async (c) =>
    c.json(
      integrationShape(await apis().updateIntegration(id(c), integrationId(c), decode.integration(json(c)))),
    ),
  );
  app.delete("/v2/apis/:apiId/integrations/:integrationId", async (c) => {
    await apis().deleteIntegration(id(c), integrationId(c));
    return noContent(c);
  });

  // ── Authorizers ────────────────────────────────────────────────────────────
  const authorizerId = (c: C) => c.req.param("authorizerId")!;
  app.post("/v2/apis/:apiId/authorizers", async (c) =>
    c.json(authorizerShape(await apis().createAuthorizer(id(c), decode.authorizer(json(c)))), 201),
  );
  app.get("/v2/apis/:apiId/authorizers", (c) => listed(c, apis().listAuthorizers(id(c)), authorizerShape));
  app.get("/v2/apis/:apiId/authorizers/:authorizerId", (c) =>
    c.json(authorizerShape(apis().getAuthorizer(id(c), authorizerId(c)))),
  );
  app.patch("/v2/apis/:apiId/authorizers/:authorizerId", async (c) =>
    c.json(
      authorizerShape(await apis().updateAuthorizer(id(c), authorizerId(c), decode.authorizer(json(c)))),
    ),
  );
  app.delete("/v2/apis/:apiId/authorizers/:authorizerId", async (c) => {
    await apis().deleteAuthorizer(id(c), authorizerId(c));
    return noContent(c);
  });

  // ── Stages ─────────────────────────────────────────────────────────────────
  const stageName = (c: C) => c.req.param("stageName")!;
  app.post("/v2/apis/:apiId/stages", async (c) =>
    c.json(stageShape(await apis().createStage(id(c), decode.createStage(json(c)))), 201),
  );
  app.get("/v2/apis/:apiId/stages", (c) => listed(c, apis().listStages(id(c)), stageShape));
  app.get("/v2/apis/:apiId/stages/:stageName", (c) =>
    c.json(stageShape(apis().getStage(id(c), stageName(c)))),
  );
  app.patch("/v2/apis/:apiId/stages/:stageName", async (c) =>
    c.json(stageShape(await apis().updateStage(id(c), stageName(c), decode.updateStage(json(c))))),
  );
  app.delete("/v2/apis/:apiId/stages/:stageName", async (c) => {
    await apis().deleteStage(id(c), stageName(c));
    return noContent(c);
  });
  app.delete("/v2/apis/:apiId/stages/:stageName/accesslogsettings", async (c) => {
    await apis().deleteAccessLogSettings(id(c), stageName(c));
    return noContent(c);
  });
  app.delete("/v2/apis/:apiId/stages/:stageName/routesettings/:routeKey", async (c) => {
    await apis().deleteRouteSettings(id(c), stageName(c), c.req.param("routeKey")!);
    return noContent(c);
  });
  app.delete("/v2/apis/:apiId/stages/:stageName/cache/authorizers", (c) => {
    apis().resetAuthorizersCache(id(c), stageName(c));
    return noContent(c);
  });

  // ── Deployments ────────────────────────────────────────────────────────────
  const deploymentId = (c: C) => c.req.param("deploymentId")!;
  app.post("/v2/apis/:apiId/deployments", async (c) =>
    c.json(deploymentShape(await apis().createDeployment(id(c), decode.deployment(json(c)))), 201),
  );
  app.get("/v2/apis/:apiId/deployments", (c) => listed(c, apis().listDeployments(id(c)), deploymentShape));
  app.get("/v2/apis/:apiId/deployments/:deploymentId", (c) =>
    c.json(deploymentShape(apis().getDeployment(id(c), deploymentId(c)))),
  );
  app.patch("/v2/apis/:apiId/deployments/:deploymentId", async (c) =>
    c.json(
      deploymentShape(
        await apis().updateDeployment(id(c), deploymentId(c), decode.updateDeployment(json(c))),
      ),
    ),
  );
  app.delete("/v2/apis/:apiId/deployments/:deploymentId", async (c) => {
    await apis().deleteDeployment(id(c), deploymentId(c));
    return noContent(c);
  });

  // ── Tags, by the resource's ARN (one path segment: its slashes arrive encoded) ──
  const arn = (c: C) => c.req.param("resourceArn")!;
  app.get("/v2/tags/:resourceArn", (c) => c.json({ tags: apis().getTags(arn(c)) }));
  app.post("/v2/tags/:resourceArn", async (c) => {
    await apis().tagResource(arn(c), decode.tags(json(c)));
    return c.json({}, 201);
  });
  app.delete("/v2/tags/:resourceArn", async (c) => {
    await apis().untagResource(arn(c), c.req.queries("tagKeys") ?? []);
    return noContent(c);
  });

  return app;
}
