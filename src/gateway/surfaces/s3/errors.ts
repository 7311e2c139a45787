/**
 * S3's error answer: `<Error><Code><Message>…<RequestId></Error>` as application/xml with the
 * request id in `x-amz-request-id`; a HEAD's error has no body (clients then name it by its
 * status: `NotFound`). The gateway's own errors (authentication, a method no route takes, the
 * platform's failures) are given S3's codes for them, as S3 clients and tools match on those.
 */
import { S3Error } from "../../../services/storage/errors.js";
import type { NimbusError } from "../../../shared/errors.js";
import { el } from "./xml.js";

/** The response for an S3 error; `method` decides whether it has a body. */
export function s3ErrorAnswer(err: S3Error, requestId: string, method: string): Response {
  const headers: Record<string, string> = {
    "x-amz-request-id": requestId,
    "x-amz-id-2": requestId,
  };
  if (err.code === "MethodNotAllowed") headers.allow = "GET, HEAD, PUT, POST, DELETE";
  if (method === "HEAD") return new Response(null, { status: err.status, headers });
  const fields = Object.entries(err.fields)
    .map(([name, value]) => el(name, value))
    .join("");
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${el("Code", err.code)}${el("Message", err.message)}` +
    `${fields}${el("RequestId", requestId)}${el("HostId", requestId)}</Error>`;
  return new Response(body, {
    status: err.status,
    headers: { ...headers, "content-type": "application/xml" },
  });
}

/** The surface's renderer: a gateway error (authentication, no route, a failure) under S3's code. */
export function s3ErrorResponse(err: NimbusError, requestId: string, request: Request): Response {
  return s3ErrorAnswer(toS3Error(err, request), requestId, request.method);
}

/** Whether a request is signed in its query (a presigned URL) rather than its headers. */
function isPresigned(request: Request): boolean {
  return /[?&]X-Amz-(Signature|Credential|Algorithm)=/i.test(request.url);
}

/** Whether a request is signed with Signature Version 2 (`AWS key:sig`, or `AWSAccessKeyId=` in a link). */
function isSigV2(request: Request): boolean {
  return /^AWS /.test(request.headers.get("authorization") ?? "") || /[?&]AWSAccessKeyId=/.test(request.url);
}

export function toS3Error(err: NimbusError, request: Request): S3Error {
  if ((err.code === "MissingAuthenticationToken" || err.code === "IncompleteSignature") && isSigV2(request))
    return new S3Error(
      "InvalidRequest",
      400,
      "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256 (Signature Version 4; for the AWS CLI v1, set s3.signature_version = s3v4).",
    );
  switch (err.code) {
    case "MissingAuthenticationToken":
      // S3 answers an unsigned request to a private resource so; the message says how to sign.
      return new S3Error("AccessDenied", 403, err.message);
    case "UnrecognizedClient":
      return new S3Error(
        "InvalidAccessKeyId",
        403,
        "The AWS Access Key Id you provided does not exist in our records.",
        {
          AWSAccessKeyId: accessKeyOf(request),
        },
      );
    case "InvalidSignature":
      return new S3Error(
        "SignatureDoesNotMatch",
        403,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      );
    case "RequestExpired":
      if (isPresigned(request) && /expired at/.test(err.message))
        return new S3Error("AccessDenied", 403, "Request has expired", {});
      return new S3Error(
        "RequestTimeTooSkewed",
        403,
        `The difference between the request time and the current time is too large: ${err.message}`,
      );
    case "IncompleteSignature":
      if (isPresigned(request))
        return new S3Error(
          "AuthorizationQueryParametersError",
          400,
          err.message.replace(/^The request signature is malformed: /, ""),
        );
      if (request.headers.get("x-amz-content-sha256") === null && request.headers.has("authorization"))
        return new S3Error(
          "MissingSecurityHeader",
          400,
          "Your request was missing a required header: x-amz-content-sha256.",
          {
            MissingHeaderName: "x-amz-content-sha256",
          },
        );
      return new S3Error("AuthorizationHeaderMalformed", 400, err.message);
    case "NotFound":
      return new S3Error(
        "MethodNotAllowed",
        405,
        "The specified method is not allowed against this resource.",
        {
          Method: request.method,
        },
      );
    case "NotImplemented":
      return new S3Error("NotImplemented", 501, err.message);
    case "RequestTooLarge":
      return new S3Error("EntityTooLarge", 400, err.message);
    case "PreconditionFailed":
      return new S3Error("PreconditionFailed", 412, err.message);
    case "TooManyRequests":
    case "ServiceUnavailable":
      return new S3Error("SlowDown", 503, "Please reduce your request rate.");
    case "Internal":
      return new S3Error("InternalError", 500, "We encountered an internal error. Please try again.");
    default:
      return new S3Error(err.status >= 500 ? "InternalError" : "InvalidRequest", err.status, err.message);
  }
}

/** The access key id a request names (header or query), for InvalidAccessKeyId's detail. */
function accessKeyOf(request: Request): string {
  const header = /Credential=([^/,\s]+)\//.exec(request.headers.get("authorization") ?? "")?.[1];
  if (header !== undefined) return header;
  const query = /[?&]X-Amz-Credential=([^&%/]+)(%2F|\/)/i.exec(request.url)?.[1];
  return query === undefined ? "" : decodeURIComponent(query);
}
