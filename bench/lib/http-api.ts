/**
 * The HTTP figure's HTTP API: made through API Gateway v2's management API as a user's SDK or
 * template would, so the figure measures what a deployed API serves: an AWS_PROXY 2.0
 * integration to the bench's function, a JWT authorizer, a route that requires it, and a
 * `$default` stage that deploys itself.
 */
import type { Control } from "./functions.js";
import { type Headers, keepAliveAgent, send } from "./http-client.js";

export interface JwtApi {
  readonly apiId: string;
  /** The route by the path form, on the platform's own port: `/execute-api/{apiId}/hello`. */
  readonly path: string;
  /** With `openRoute`: `GET /open`, the same integration without an authorizer. */
  readonly openPath?: string;
  remove(): Promise<void>;
}

export const JWT_API_AUDIENCE = "bench";

/**
 * Creates the API; on any failure, removes what was made and rethrows. `audience`: the
 * authorizer's (default JWT_API_AUDIENCE); `openRoute`: also `GET /open`, without authorization.
 */
export async function createJwtApi(
  control: Control,
  functionArn: string,
  issuer: string,
  o: { audience?: string; openRoute?: boolean } = {},
): Promise<JwtApi> {
  const { apiId } = await control.apigateway<{ apiId: string }>("POST", "/v2/apis", {
    name: "bench-http-jwt",
    protocolType: "HTTP",
  });
  const remove = async () => {
    await control.apigateway("DELETE", `/v2/apis/${encodeURIComponent(apiId)}`);
  };
  try {
    const api = `/v2/apis/${encodeURIComponent(apiId)}`;
    const { integrationId } = await control.apigateway<{ integrationId: string }>(
      "POST",
      `${api}/integrations`,
      { integrationType: "AWS_PROXY", integrationUri: functionArn, payloadFormatVersion: "2.0" },
    );
    const { authorizerId } = await control.apigateway<{ authorizerId: string }>(
      "POST",
      `${api}/authorizers`,
      {
        name: "bench-users",
        authorizerType: "JWT",
        identitySource: ["$request.header.Authorization"],
        jwtConfiguration: { issuer, audience: [o.audience ?? JWT_API_AUDIENCE] },
      },
    );
    await control.apigateway("POST", `${api}/routes`, {
      routeKey: "GET /hello",
      target: `integrations/${integrationId}`,
      authorizationType: "JWT",
      authorizerId,
    });
    if (o.openRoute)
      await control.apigateway("POST", `${api}/routes`, {
        routeKey: "GET /open",
        target: `integrations/${integrationId}`,
        authorizationType: "NONE",
      });
    await control.apigateway("POST", `${api}/stages`, { stageName: "$default", autoDeploy: true });
  } catch (err) {
    await remove().catch(() => {});
    throw err;
  }
  return {
    apiId,
    path: `/execute-api/${apiId}/hello`,
    ...(o.openRoute ? { openPath: `/execute-api/${apiId}/open` } : {}),
    remove,
  };
}

/** The JWT route answers 200 with the function's `ok` to the token, and 401 without one. */
export async function jwtRouteAnswers(base: URL, path: string, withToken: Headers): Promise<void> {
  const agent = keepAliveAgent(1);
  try {
    const ok = await send(agent, base, path, withToken, null);
    if (ok.status !== 200 || ok.body.toString("utf8") !== "ok")
      throw new Error(
        `GET ${path} with a token: HTTP ${ok.status} ${ok.body.toString("utf8").slice(0, 300)}`,
      );
    const refused = await send(agent, base, path, {}, null);
    if (refused.status !== 401)
      throw new Error(`GET ${path} without a token: HTTP ${refused.status}, expected 401`);
  } finally {
    agent.destroy();
  }
}
