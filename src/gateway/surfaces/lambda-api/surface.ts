/**
 * The Lambda API as a surface: every path no other surface takes, signed with SigV4 for the
 * service "lambda" over the whole body (which is why it is buffered), errors in Lambda's shape.
 */
import { MAX_CONTROL_BODY_BYTES, MAX_SYNC_REQUEST_BYTES } from "../../../protocol/limits.js";
import { bodyLimits, type Surface } from "../../surface.js";
import { lambdaErrorResponse } from "./errors.js";
import { type LambdaApiDeps, lambdaApi } from "./routes.js";

const CONTROL_LIMIT = {
  bytes: MAX_CONTROL_BODY_BYTES,
  tooLarge: `Request must be smaller than ${MAX_CONTROL_BODY_BYTES} bytes for this operation`,
};
const INVOKE_LIMIT = {
  bytes: MAX_SYNC_REQUEST_BYTES,
  tooLarge: `Request must be smaller than ${MAX_SYNC_REQUEST_BYTES} bytes for the InvokeFunction operation`,
};
const STREAM_INVOKE_LIMIT = {
  bytes: MAX_SYNC_REQUEST_BYTES,
  tooLarge: `Request must be smaller than ${MAX_SYNC_REQUEST_BYTES} bytes for the InvokeWithResponseStream operation`,
};

export function lambdaApiSurface(d: LambdaApiDeps): Surface {
  return {
    name: "lambda-api",
    reach: { pathPrefix: "/" },
    auth: { kind: "platform-key", service: "lambda" },
    body: {
      mode: "buffered",
      limit: bodyLimits(
        [
          { method: "POST", path: /^\/2015-03-31\/functions\/[^/]+\/invocations$/, limit: INVOKE_LIMIT },
          {
            method: "POST",
            path: /^\/2021-11-15\/functions\/[^/]+\/response-streaming-invocations$/,
            limit: STREAM_INVOKE_LIMIT,
          },
        ],
        CONTROL_LIMIT,
      ),
    },
    renderError: lambdaErrorResponse,
    app: lambdaApi(d),
  };
}
