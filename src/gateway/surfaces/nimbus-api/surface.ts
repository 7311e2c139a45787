/**
 * Nimbus's own API (`/nimbus/…`): logs, invocation records and provisioned up-time, cost and
 * budgets, sandbox settings, a bus's events as they pass, why a bucket's policy denies a
 * request (`policy-explain.ts`), a bucket's quota (`storage-quota.ts`) and image transforms
 * setting (`storage-transforms.ts`). Signed with the
 * platform's key as the Lambda API is (the CLI signs for the service "lambda"); errors in
 * Nimbus's JSON.
 */
import type { Hono } from "hono";
import { nimbusErrorResponse } from "../../errors.js";
import { bodyLimits, type Surface, type SurfaceEnv } from "../../surface.js";
import { authApi } from "./auth.js";
import { AUTH_CLIENT_BODY_LIMIT } from "./auth-clients.js";
import { BUDGET_BODY_LIMIT, type CostApiDeps, costApi } from "./cost.js";
import { eventsTailApi } from "./events-tail.js";
import { POLICY_EXPLAIN_BODY_LIMIT, policyExplainApi } from "./policy-explain.js";
import { nimbusApi } from "./routes.js";
import { SANDBOX_BODY_LIMIT, sandboxApi } from "./sandbox.js";
import { QUOTA_BODY_LIMIT, storageQuotaApi } from "./storage-quota.js";
import { storageTransformsApi, TRANSFORMS_BODY_LIMIT } from "./storage-transforms.js";

/** Its other routes take no body: a few bytes of JSON, if a client sends `{}`. */
const MAX_OTHER_BODY_BYTES = 1024;

export type NimbusApiDeps = Parameters<typeof nimbusApi>[0] &
  CostApiDeps &
  Parameters<typeof sandboxApi>[0] &
  Parameters<typeof eventsTailApi>[0] &
  Parameters<typeof authApi>[0] &
  Parameters<typeof policyExplainApi>[0] &
  Parameters<typeof storageQuotaApi>[0] &
  Parameters<typeof storageTransformsApi>[0];

export function nimbusApiSurface(d: NimbusApiDeps): Surface {
  const app: Hono<SurfaceEnv> = nimbusApi(d);
  app.route("/", costApi(d));
  app.route("/", sandboxApi(d));
  app.route("/", eventsTailApi(d));
  app.route("/", authApi(d));
  app.route("/", policyExplainApi(d));
  app.route("/", storageQuotaApi(d));
  app.route("/", storageTransformsApi(d));
  return {
    name: "nimbus-api",
    reach: { pathPrefix: "/nimbus" },
    auth: { kind: "platform-key", service: "lambda" },
    body: {
      mode: "buffered",
      limit: bodyLimits(
        [
          BUDGET_BODY_LIMIT,
          SANDBOX_BODY_LIMIT,
          AUTH_CLIENT_BODY_LIMIT,
          POLICY_EXPLAIN_BODY_LIMIT,
          QUOTA_BODY_LIMIT,
          TRANSFORMS_BODY_LIMIT,
        ],
        {
          bytes: MAX_OTHER_BODY_BYTES,
          tooLarge: `a request body on this route is at most ${MAX_OTHER_BODY_BYTES} bytes: it takes none`,
        },
      ),
    },
    renderError: nimbusErrorResponse,
    app,
  };
}
