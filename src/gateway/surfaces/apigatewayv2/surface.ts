/**
 * API Gateway v2's management API as a surface: every path under `/v2/`, signed with SigV4
 * for the service "apigateway" (the name the SDK and the aws CLI sign with) over the whole
 * body, errors in API Gateway's shape.
 */
import { MAX_CONTROL_BODY_BYTES } from "../../../protocol/limits.js";
import type { Surface } from "../../surface.js";
import { apigatewayErrorResponse } from "./errors.js";
import { type ApiGatewayV2Deps, apiGatewayV2Api } from "./routes.js";

/** Documents are small; a template's worth of routes fits many times over. */
const MAX_BODY_BYTES = 1024 * 1024;
const LIMIT = {
  bytes: Math.min(MAX_BODY_BYTES, MAX_CONTROL_BODY_BYTES),
  tooLarge: `Request must be smaller than ${Math.min(MAX_BODY_BYTES, MAX_CONTROL_BODY_BYTES)} bytes`,
};

export function apiGatewayV2Surface(d: ApiGatewayV2Deps): Surface {
  return {
    name: "apigatewayv2",
    reach: { pathPrefix: "/v2" },
    auth: { kind: "platform-key", service: "apigateway" },
    body: { mode: "buffered", limit: () => LIMIT },
    renderError: apigatewayErrorResponse,
    app: apiGatewayV2Api(d),
  };
}
