/** Every HTTP surface of the platform in one fetch handler. */
import { Hono } from "hono";
import type { InvocationRecords } from "../control/async/queue.js";
import type { LogService } from "../control/logs.js";
import type { ProvisionedSpan } from "../control/provisioned-repo.js";
import type { UsageRecord } from "../control/usage-repo.js";
import { NimbusError, toNimbusError } from "../shared/errors.js";
import { newRequestId } from "../shared/ids.js";
import type { Logger } from "../shared/logger.js";
import { EMPTY_SHA256 } from "./body.js";
import { lambdaErrorResponse } from "./surfaces/lambda-api/errors.js";
import { type LambdaApiDeps, lambdaApi } from "./surfaces/lambda-api/routes.js";
import { type CostApiDeps, costApi } from "./surfaces/nimbus-api/cost.js";
import { nimbusApi } from "./surfaces/nimbus-api/routes.js";
import { sandboxApi } from "./surfaces/nimbus-api/sandbox.js";
import { packageApi } from "./surfaces/packages/surface.js";

export interface GatewayDeps extends LambdaApiDeps, Pick<CostApiDeps, "usage" | "budgets"> {
  readonly logs: LogService;
  /** Invocation records: read by the Nimbus API. */
  readonly records: InvocationRecords;
  readonly redrive: (id: string) => Promise<boolean>;
  /** Provisioned instances' up-time of a function overlapping [from, to): ended and running. */
  readonly provisionedUptime: (functionName: string, from: number, to: number) => Promise<ProvisionedSpan[]>;
  /** The usage records (runs, with what their traces are made of) of a request id. */
  readonly runs: (requestId: string) => Promise<UsageRecord[]>;
  readonly logger: Logger;
  /** Function packages by id, which Code.Location links download. */
  readonly packages: { read(packageId: string): Promise<Buffer> };
  /** The Prometheus exposition `GET /metrics` answers with. */
  readonly metrics: { expose(): Promise<{ contentType: string; body: string }> };
}

export function createGateway(d: GatewayDeps): Hono {
  const app = new Hono();
  app.route("/", lambdaApi(d));
  app.route("/", nimbusApi(d));
  app.route("/", costApi(d));
  app.route("/", sandboxApi(d));
  app.route("/", packageApi(d));
  // Prometheus cannot sign requests: it may send the platform's key as HTTP Basic instead.
  app.get("/metrics", async (c) => {
    await d.auth.checkSignedOrBasic(c.req.raw, c.req.url, EMPTY_SHA256);
    const { contentType, body } = await d.metrics.expose();
    return c.body(body, 200, { "content-type": contentType });
  });

  app.notFound((c) => {
    const err = new NimbusError("NotFound", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`);
    return respond(c.req.url, err, newRequestId());
  });
  app.onError((err, c) => {
    const requestId = newRequestId();
    const nimbus = toNimbusError(err);
    if (!(err instanceof NimbusError))
      d.logger.error("unexpected error", { requestId, path: c.req.path, err });
    return respond(c.req.url, nimbus, requestId);
  });
  return app;
}

function respond(url: string, err: NimbusError, requestId: string): Response {
  if (new URL(url).pathname.startsWith("/nimbus/")) {
    return Response.json(
      { error: { code: err.code, message: err.message, requestId } },
      { status: err.status },
    );
  }
  return lambdaErrorResponse(err, requestId);
}
