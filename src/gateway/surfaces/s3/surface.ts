/**
 * S3 as a surface, for `@aws-sdk/client-s3` and other S3 clients, over the storage service.
 * Reached path style at `/s3/{bucket}/{key}` (clients set `endpoint: <platform>/s3` and
 * `forcePathStyle: true`) or virtual-host style at `{bucket}.s3.localhost`. Requests signed with
 * the platform's key for the service "s3" (headers or a presigned URL) are the operator's; a
 * user's bearer token, or none, is held to the bucket's policy (`access.ts`). Bodies stream to
 * the blob store, never held whole. Each request is one operation, decided as S3 decides it
 * (`operations.ts`); an operation S3 has and Nimbus does not answers 501 NotImplemented naming
 * it. Errors, the gateway's own included, are S3's XML.
 */
import type { IncomingMessage } from "node:http";
import { Hono } from "hono";
import { S3Error } from "../../../services/storage/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import { principalOf, type Surface, type SurfaceEnv } from "../../surface.js";
import { authorize, s3AuthPolicy } from "./access.js";
import {
  createBucket,
  deleteBucket,
  getBucketLocation,
  getBucketVersioning,
  headBucket,
  listBuckets,
  putBucketVersioning,
} from "./buckets.js";
import { chunkedErrorToS3 } from "./chunked-body.js";
import { CORS_HANDLERS, corsOnAnswers, PREFLIGHT_AUTH, preflightRoute } from "./cors-routes.js";
import type { Handler, S3Deps } from "./deps.js";
import { s3ErrorAnswer, s3ErrorResponse } from "./errors.js";
import { LIFECYCLE_HANDLERS } from "./lifecycle-routes.js";
import { listObjects, listObjectsV2, listObjectVersions } from "./listing-routes.js";
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from "./multipart-routes.js";
import { getBucketNotification, putBucketNotification } from "./notification-routes.js";
import { copyObject, deleteObject, deleteObjects, getObject, putObject } from "./objects.js";
import { type Operation, resolveOperation } from "./operations.js";
import { ACCESS_HANDLERS } from "./policy-routes.js";
import { postObject } from "./post-object.js";
import { parseCall, S3_HOST_PATTERN, S3_PATH_PREFIX, S3_SERVICE_HOST } from "./request.js";
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from "./tagging.js";

export type { S3Deps } from "./deps.js";

const HANDLERS: Readonly<Record<Operation, Handler>> = {
  ...ACCESS_HANDLERS,
  ...CORS_HANDLERS,
  ...LIFECYCLE_HANDLERS,
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  GetBucketVersioning: getBucketVersioning,
  PutBucketVersioning: putBucketVersioning,
  GetBucketNotificationConfiguration: getBucketNotification,
  PutBucketNotificationConfiguration: putBucketNotification,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  ListObjectVersions: listObjectVersions,
  ListMultipartUploads: listMultipartUploads,
  DeleteObjects: deleteObjects,
  PutObject: putObject,
  PostObject: postObject,
  CopyObject: copyObject,
  GetObject: getObject,
  HeadObject: getObject,
  DeleteObject: deleteObject,
  GetObjectTagging: getObjectTagging,
  PutObjectTagging: putObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
};

export function s3Surface(d: S3Deps): Surface {
  const app = new Hono<SurfaceEnv>();
  // CORS (cors-routes.ts): a browser's preflight here; the bucket's CORS headers on every
  // answer by `around` (below), refusals of the gateway included.
  app.options("/*", preflightRoute(d));
  // One route per method for every path: which operation a request is depends on its query and
  // headers as much as its path, and is decided by `resolveOperation`. (Hono serves HEAD with
  // the GET route, and drops the body of its answer.)
  app.on(["GET", "PUT", "POST", "DELETE"], "/*", async (c) => {
    const requestId = newRequestId();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    try {
      const call = parseCall(c.req.raw, c.get("reach"), { incoming, requestId, principal: principalOf(c) });
      const resolved = resolveOperation(call);
      if ("unsupported" in resolved)
        throw new S3Error("NotImplemented", 501, `Nimbus does not implement ${resolved.unsupported}.`, {
          Operation: resolved.unsupported,
        });
      await authorize(call, resolved.op, d);
      const res = await HANDLERS[resolved.op](call, d);
      res.headers.set("x-amz-request-id", requestId);
      res.headers.set("x-amz-id-2", requestId);
      return res;
    } catch (err) {
      const s3 = chunkedErrorToS3(err);
      if (s3 instanceof S3Error) return s3ErrorAnswer(s3, requestId, c.req.method);
      // The client went away mid-body: its fault, not the platform's; no one reads the answer.
      if (incoming !== undefined && !incoming.complete && (incoming.destroyed || incoming.readableAborted))
        return s3ErrorAnswer(
          new S3Error("IncompleteBody", 400, "The request body ended early: the connection closed."),
          requestId,
          c.req.method,
        );
      throw err;
    }
  });
  return {
    name: "s3",
    reach: { hosts: [S3_HOST_PATTERN, S3_SERVICE_HOST], pathPrefix: S3_PATH_PREFIX },
    auth: (request) => (request.method === "OPTIONS" ? PREFLIGHT_AUTH : s3AuthPolicy(request, d)),
    body: { mode: "stream" },
    renderError: s3ErrorResponse,
    around: corsOnAnswers(d),
    app,
  };
}
