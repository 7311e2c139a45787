/**
 * A bucket's access settings: its policy (`?policy`: Put, Get, Delete), its public-read switch
 * (PutBucketAcl with the canned `x-amz-acl: public-read` or `private`; grants and ACL documents
 * are not implemented), and whether it is public (`?policyStatus`). Only the operator reaches
 * these (`access.ts`). A policy is checked whole before it is stored: every problem is listed
 * in the MalformedPolicy message, each naming its statement and field.
 */
import { parsePolicy } from "../../../services/policy/parse.js";
import { noSuchBucket, S3Error } from "../../../services/storage/errors.js";
import { isPublic, s3PolicyRules } from "./access.js";
import type { Handler } from "./deps.js";
import type { Operation } from "./operations.js";
import type { S3Call } from "./request.js";
import { readSmallBody } from "./upload.js";
import { el, xmlDocument, xmlResponse } from "./xml.js";

/** S3's limit on a bucket policy. */
export const MAX_POLICY_BYTES = 20 * 1024;
/** PutBucketAcl takes no body here; a grant document is refused, read up to this much. */
const MAX_ACL_BYTES = 64 * 1024;
const CANNED_ACLS = ["private", "public-read"];

const bucketOf = (call: S3Call) => call.bucket ?? "";

const getBucketPolicy: Handler = async (call, d) => {
  const b = await d.storage.bucket(bucketOf(call));
  const text = b.settings.policy;
  if (text === undefined)
    throw new S3Error("NoSuchBucketPolicy", 404, "The bucket policy does not exist", { BucketName: b.name });
  return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
};

const putBucketPolicy: Handler = async (call, d) => {
  const bucket = bucketOf(call);
  await d.storage.bucket(bucket);
  const text = (await readSmallBody(call, d, MAX_POLICY_BYTES)).toString("utf8");
  const parsed = parsePolicy(text, s3PolicyRules(bucket));
  if (!parsed.ok)
    throw new S3Error(
      "MalformedPolicy",
      400,
      `The policy has ${parsed.problems.length === 1 ? "a problem" : `${parsed.problems.length} problems`}: ${parsed.problems.join("; ")}`,
    );
  if (!(await d.storage.deps.repo.putSetting(bucket, "policy", text))) throw noSuchBucket(bucket);
  return new Response(null, { status: 204 });
};

const deleteBucketPolicy: Handler = async (call, d) => {
  const bucket = bucketOf(call);
  if (!(await d.storage.deps.repo.putSetting(bucket, "policy", undefined))) throw noSuchBucket(bucket);
  return new Response(null, { status: 204 });
};

const putBucketAcl: Handler = async (call, d) => {
  const bucket = bucketOf(call);
  await d.storage.bucket(bucket);
  const grants = [...call.headers.keys()].filter((h) => h.startsWith("x-amz-grant-"));
  const body = await readSmallBody(call, d, MAX_ACL_BYTES);
  if (grants.length > 0 || body.length > 0)
    throw new S3Error(
      "NotImplemented",
      501,
      `Nimbus sets a bucket's ACL by the canned x-amz-acl header only (${CANNED_ACLS.join(" or ")}): ${grants.length > 0 ? grants.join(", ") : "an AccessControlPolicy document"} is not implemented.`,
    );
  const acl = call.headers.get("x-amz-acl");
  if (acl === null)
    throw new S3Error("InvalidRequest", 400, `PutBucketAcl needs x-amz-acl: ${CANNED_ACLS.join(" or ")}.`);
  if (!CANNED_ACLS.includes(acl))
    throw new S3Error(
      "NotImplemented",
      501,
      `The canned ACL ${JSON.stringify(acl)} is not implemented: Nimbus's buckets are ${CANNED_ACLS.join(" or ")} (grant more with a bucket policy).`,
    );
  if (!(await d.storage.deps.repo.setPublicRead(bucket, acl === "public-read"))) throw noSuchBucket(bucket);
  return new Response(null, { status: 200 });
};

const getBucketPolicyStatus: Handler = async (call, d) => {
  const b = await d.storage.bucket(bucketOf(call));
  return xmlResponse(xmlDocument("PolicyStatus", el("IsPublic", isPublic(b))));
};

/** The handlers of the operations above, for the surface's table. */
export const ACCESS_HANDLERS = {
  GetBucketPolicy: getBucketPolicy,
  PutBucketPolicy: putBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  PutBucketAcl: putBucketAcl,
  GetBucketPolicyStatus: getBucketPolicyStatus,
} as const satisfies Partial<Record<Operation, Handler>>;
