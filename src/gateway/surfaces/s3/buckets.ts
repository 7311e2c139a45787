/** Bucket operations: list, create, head, delete, location, versioning. */
import { malformedXml, S3Error } from "../../../services/storage/errors.js";
import { type Handler, isoDate, ownerXml } from "./deps.js";
import { intParam, type S3Call } from "./request.js";
import { readSmallBody } from "./upload.js";
import { el, escapeXml, node, parseXml, textOf, xmlDocument, xmlResponse } from "./xml.js";

/** A bucket configuration document is small; S3 refuses far smaller ones than this. */
const MAX_CONFIG_BYTES = 64 * 1024;
const MAX_BUCKETS_PAGE = 10_000;

/** The bucket a bucket-level operation names (the router only sends those that name one). */
const bucketOf = (call: S3Call) => call.bucket ?? "";

export const listBuckets: Handler = async (call, d) => {
  const prefix = call.query.get("prefix") ?? "";
  const token = call.query.get("continuation-token");
  const max = Math.min(intParam(call, "max-buckets", MAX_BUCKETS_PAGE), MAX_BUCKETS_PAGE);
  const after =
    token === undefined || token === "" ? undefined : Buffer.from(token, "base64url").toString("utf8");
  const all = (await d.storage.listBuckets()).filter(
    (b) => b.name.startsWith(prefix) && (after === undefined || b.name > after),
  );
  const page = all.slice(0, max);
  const next = all.length > page.length ? page[page.length - 1]?.name : undefined;
  const buckets = page
    .map((b) => node("Bucket", el("Name", b.name) + el("CreationDate", isoDate(b.createdAt))))
    .join("");
  return xmlResponse(
    xmlDocument(
      "ListAllMyBucketsResult",
      node("Buckets", buckets) +
        ownerXml(d) +
        (next === undefined ? "" : el("ContinuationToken", Buffer.from(next, "utf8").toString("base64url"))) +
        (call.query.has("prefix") ? el("Prefix", prefix) : ""),
    ),
  );
};

export const createBucket: Handler = async (call, d) => {
  const bucket = bucketOf(call);
  const body = await readSmallBody(call, d, MAX_CONFIG_BYTES);
  if (body.length > 0) {
    // The location asked for is accepted whatever it is: the platform has one region.
    const config = parseXml(body, "CreateBucketConfiguration", []);
    textOf(config.LocationConstraint, true);
  }
  await d.storage.createBucket(bucket);
  return new Response(null, { status: 200, headers: { location: `/${bucket}` } });
};

export const headBucket: Handler = async (call, d) => {
  await d.storage.bucket(bucketOf(call));
  return new Response(null, { status: 200, headers: { "x-amz-bucket-region": d.arn.region } });
};

export const deleteBucket: Handler = async (call, d) => {
  await d.storage.deleteBucket(bucketOf(call));
  return new Response(null, { status: 204 });
};

export const getBucketLocation: Handler = async (call, d) => {
  await d.storage.bucket(bucketOf(call));
  // S3 answers its first region, us-east-1, with an empty constraint.
  const region = d.arn.region === "us-east-1" ? "" : d.arn.region;
  return xmlResponse(xmlDocument("LocationConstraint", escapeXml(region)));
};

export const getBucketVersioning: Handler = async (call, d) => {
  const b = await d.storage.bucket(bucketOf(call));
  return xmlResponse(
    xmlDocument("VersioningConfiguration", b.versioning === "Unversioned" ? "" : el("Status", b.versioning)),
  );
};

export const putBucketVersioning: Handler = async (call, d) => {
  const config = parseXml(await readSmallBody(call, d, MAX_CONFIG_BYTES), "VersioningConfiguration", []);
  const status = textOf(config.Status, true);
  if (status === undefined) throw malformedXml("<Status> is missing");
  if (textOf(config.MfaDelete, true) === "Enabled")
    throw new S3Error(
      "NotImplemented",
      501,
      "MFA delete is not implemented: send MfaDelete Disabled or leave it out.",
    );
  await d.storage.setVersioning(bucketOf(call), status);
  return new Response(null, { status: 200 });
};
