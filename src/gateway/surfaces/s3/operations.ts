/**
 * Which S3 operation a request is: by its method, whether it names a bucket and a key, and its
 * subresource parameters (`?versioning`, `?uploads`, `?tagging`…), as S3 itself decides. An
 * operation Nimbus does not implement is still named, for its 501 to say which.
 */
import type { S3Call } from "./request.js";

/** Subresources of a bucket S3 has and Nimbus does not, by the name their operations carry. */
const BUCKET_SUBRESOURCES: Readonly<Record<string, string>> = {
  accelerate: "BucketAccelerateConfiguration",
  acl: "BucketAcl",
  analytics: "BucketAnalyticsConfiguration",
  encryption: "BucketEncryption",
  "intelligent-tiering": "BucketIntelligentTieringConfiguration",
  inventory: "BucketInventoryConfiguration",
  logging: "BucketLogging",
  metadataTable: "BucketMetadataTableConfiguration",
  metrics: "BucketMetricsConfiguration",
  notification: "BucketNotificationConfiguration",
  "object-lock": "ObjectLockConfiguration",
  ownershipControls: "BucketOwnershipControls",
  policy: "BucketPolicy",
  policyStatus: "BucketPolicyStatus",
  publicAccessBlock: "PublicAccessBlock",
  replication: "BucketReplication",
  requestPayment: "BucketRequestPayment",
  tagging: "BucketTagging",
  website: "BucketWebsite",
};

/** Subresources of an object S3 has and Nimbus does not. */
const OBJECT_SUBRESOURCES: Readonly<Record<string, string>> = {
  acl: "ObjectAcl",
  attributes: "ObjectAttributes",
  "legal-hold": "ObjectLegalHold",
  retention: "ObjectRetention",
  torrent: "ObjectTorrent",
  restore: "RestoreObject",
  select: "SelectObjectContent",
  renameObject: "RenameObject",
};

const VERB: Readonly<Record<string, string>> = {
  GET: "Get",
  HEAD: "Head",
  PUT: "Put",
  POST: "Post",
  DELETE: "Delete",
};

/** The operations the routes serve. */
export type Operation =
  | "ListBuckets"
  | "CreateBucket"
  | "HeadBucket"
  | "DeleteBucket"
  | "GetBucketLocation"
  | "GetBucketVersioning"
  | "PutBucketVersioning"
  | "GetBucketPolicy"
  | "PutBucketPolicy"
  | "DeleteBucketPolicy"
  | "PutBucketAcl"
  | "GetBucketPolicyStatus"
  | "GetBucketCors"
  | "PutBucketCors"
  | "DeleteBucketCors"
  | "GetBucketLifecycleConfiguration"
  | "PutBucketLifecycleConfiguration"
  | "DeleteBucketLifecycle"
  | "GetBucketNotificationConfiguration"
  | "PutBucketNotificationConfiguration"
  | "ListObjects"
  | "ListObjectsV2"
  | "ListObjectVersions"
  | "ListMultipartUploads"
  | "DeleteObjects"
  | "PutObject"
  | "PostObject"
  | "CopyObject"
  | "GetObject"
  | "HeadObject"
  | "DeleteObject"
  | "GetObjectTagging"
  | "PutObjectTagging"
  | "DeleteObjectTagging"
  | "CreateMultipartUpload"
  | "UploadPart"
  | "UploadPartCopy"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "ListParts";

export type Resolved = { readonly op: Operation } | { readonly unsupported: string };

/** The operation of a request; `unsupported` names one S3 has that Nimbus does not serve. */
export function resolveOperation(call: S3Call): Resolved {
  const { method, query } = call;
  const has = (name: string) => query.has(name);
  const verb = VERB[method] ?? method;
  if (call.bucket === undefined)
    return method === "GET" ? { op: "ListBuckets" } : { unsupported: `${verb} on the service` };

  if (call.key === undefined) {
    if (has("notification") && method === "PUT") return { op: "PutBucketNotificationConfiguration" };
    if (has("notification") && (method === "GET" || method === "HEAD"))
      return { op: "GetBucketNotificationConfiguration" };
    // Access (policy-routes.ts): a bucket's policy, its canned public-read ACL, whether it is public.
    const get = method === "GET" || method === "HEAD";
    if (has("policy") && (get || method === "PUT" || method === "DELETE"))
      return { op: get ? "GetBucketPolicy" : method === "PUT" ? "PutBucketPolicy" : "DeleteBucketPolicy" };
    if (has("acl") && method === "PUT") return { op: "PutBucketAcl" };
    if (has("policyStatus") && get) return { op: "GetBucketPolicyStatus" };
    if (has("lifecycle") && (get || method === "PUT" || method === "DELETE"))
      return {
        op: get
          ? "GetBucketLifecycleConfiguration"
          : method === "PUT"
            ? "PutBucketLifecycleConfiguration"
            : "DeleteBucketLifecycle",
      };
    if (has("cors") && (get || method === "PUT" || method === "DELETE"))
      return { op: get ? "GetBucketCors" : method === "PUT" ? "PutBucketCors" : "DeleteBucketCors" };
    for (const [param, name] of Object.entries(BUCKET_SUBRESOURCES))
      if (has(param)) return { unsupported: `${verb === "Head" ? "Get" : verb}${name}` };
    switch (method) {
      case "GET":
        if (has("location")) return { op: "GetBucketLocation" };
        if (has("versioning")) return { op: "GetBucketVersioning" };
        if (has("versions")) return { op: "ListObjectVersions" };
        if (has("uploads")) return { op: "ListMultipartUploads" };
        if (query.get("list-type") === "2") return { op: "ListObjectsV2" };
        return { op: "ListObjects" };
      case "HEAD":
        return { op: "HeadBucket" };
      case "PUT":
        if (has("versioning")) return { op: "PutBucketVersioning" };
        return { op: "CreateBucket" };
      case "DELETE":
        return { op: "DeleteBucket" };
      case "POST":
        if (has("delete")) return { op: "DeleteObjects" };
        // A browser form upload (post-object.ts); its key is in the form.
        return { op: "PostObject" };
    }
    return { unsupported: `${method} on a bucket` };
  }

  for (const [param, name] of Object.entries(OBJECT_SUBRESOURCES))
    if (has(param))
      return { unsupported: param === "restore" || param === "select" ? name : `${verb}${name}` };
  const copy = call.headers.has("x-amz-copy-source");
  switch (method) {
    case "GET":
      if (has("tagging")) return { op: "GetObjectTagging" };
      if (has("uploadId")) return { op: "ListParts" };
      return { op: "GetObject" };
    case "HEAD":
      return { op: "HeadObject" };
    case "PUT":
      if (has("tagging")) return { op: "PutObjectTagging" };
      if (has("uploadId") || has("partNumber")) return { op: copy ? "UploadPartCopy" : "UploadPart" };
      return copy ? { op: "CopyObject" } : { op: "PutObject" };
    case "DELETE":
      if (has("tagging")) return { op: "DeleteObjectTagging" };
      if (has("uploadId")) return { op: "AbortMultipartUpload" };
      return { op: "DeleteObject" };
    case "POST":
      if (has("uploads")) return { op: "CreateMultipartUpload" };
      if (has("uploadId")) return { op: "CompleteMultipartUpload" };
      return { unsupported: "POST on an object" };
  }
  return { unsupported: `${method} on an object` };
}
