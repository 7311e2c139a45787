/** API Gateway v2's management client, as the tests' platforms are called with it. */
import { ApiGatewayV2Client } from "@aws-sdk/client-apigatewayv2";
import type { TestPlatform } from "./platform.js";

/** A client of `t`'s management API, signed with its key, with no retries to hide a failure. */
export function apiGatewayClient(t: TestPlatform): ApiGatewayV2Client {
  return new ApiGatewayV2Client({
    endpoint: t.url,
    region: "us-east-1",
    credentials: t.platform.credentials,
    maxAttempts: 1,
  });
}
