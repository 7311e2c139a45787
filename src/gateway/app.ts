/** The platform's surfaces, in the order the gateway tries their paths (narrower prefixes first). */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Hono } from "hono";
import type { Logger } from "../shared/logger.js";
import type { Authenticator } from "./auth/principal.js";
import { serveOnNode, serveSurfaces } from "./dispatch.js";
import type { Surface } from "./surface.js";
import type { ApiGatewayV2Deps } from "./surfaces/apigatewayv2/routes.js";
import { apiGatewayV2Surface } from "./surfaces/apigatewayv2/surface.js";
import { type AuthSurfaceDeps, authSurface, wellKnownSurface } from "./surfaces/auth/surface.js";
import { type EventBridgeDeps, eventBridgeSurface } from "./surfaces/eventbridge/surface.js";
import { type ExecuteApiDeps, executeApiSurface } from "./surfaces/execute-api/surface.js";
import { type FunctionUrlDeps, functionUrlSurface } from "./surfaces/function-url/surface.js";
import { healthSurface } from "./surfaces/health/surface.js";
import type { LambdaApiDeps } from "./surfaces/lambda-api/routes.js";
import { lambdaApiSurface } from "./surfaces/lambda-api/surface.js";
import { metricsSurface } from "./surfaces/metrics/surface.js";
import { type NimbusApiDeps, nimbusApiSurface } from "./surfaces/nimbus-api/surface.js";
import { packagesSurface } from "./surfaces/packages/surface.js";
import { type RenderSurfaceDeps, renderSurface } from "./surfaces/render/surface.js";
import { type S3Deps, s3Surface } from "./surfaces/s3/surface.js";
import { type SchedulerSurfaceDeps, schedulerSurface } from "./surfaces/scheduler/surface.js";
import { type SqsDeps, sqsSurface } from "./surfaces/sqs/surface.js";
import { type TusSurfaceDeps, tusSurface } from "./surfaces/tus/surface.js";

export type GatewayDeps = LambdaApiDeps &
  NimbusApiDeps &
  FunctionUrlDeps &
  ExecuteApiDeps &
  ApiGatewayV2Deps &
  SqsDeps &
  S3Deps &
  EventBridgeDeps &
  SchedulerSurfaceDeps &
  AuthSurfaceDeps &
  TusSurfaceDeps &
  RenderSurfaceDeps & {
    /** Checks each request's credentials against its surface's policy. */
    readonly auth: Authenticator;
    readonly logger: Logger;
    /** Function packages by id, which Code.Location links download. */
    readonly packages: { read(packageId: string): Promise<Buffer> };
    /** The Prometheus exposition `GET /metrics` answers with. */
    readonly metrics: { expose(): Promise<{ contentType: string; body: string }> };
  };

/** Every surface of the platform, in the order their path prefixes are tried. */
export function platformSurfaces(d: Omit<GatewayDeps, "auth">): Surface[] {
  return [
    healthSurface(),
    functionUrlSurface(d),
    executeApiSurface(d),
    packagesSurface(d),
    authSurface(d),
    wellKnownSurface(d),
    nimbusApiSurface(d),
    metricsSurface(d),
    apiGatewayV2Surface(d),
    // Path style at `/s3/{bucket}/{key}`, virtual-host style at `{bucket}.s3.localhost`.
    s3Surface(d),
    // tus resumable uploads at `/storage/v1/upload/resumable`, into the same buckets.
    tusSurface(d),
    // Image transforms at `/storage/v1/render/image`, of the same buckets' objects.
    renderSurface(d),
    // Before the Lambda API: it shares `/` with it and takes only SQS's requests.
    sqsSurface(d),
    eventBridgeSurface(d),
    schedulerSurface(d),
    // Last: it takes every path the others do not.
    lambdaApiSurface(d),
  ];
}

/** The gateway: its fetch, and what serves requests on Node's objects first (`Surface.node`). */
export function createGateway(d: GatewayDeps): {
  app: Hono;
  onNode: (req: IncomingMessage, res: ServerResponse) => boolean;
} {
  const surfaces = platformSurfaces(d);
  const deps = { authenticator: d.auth, logger: d.logger };
  return { app: serveSurfaces(surfaces, deps), onNode: serveOnNode(surfaces, deps) };
}
