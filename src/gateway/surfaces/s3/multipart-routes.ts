/** Multipart uploads: create, upload a part (or copy one), complete, abort, list parts, list uploads. */
import { CHECKSUM_HEADERS, COMPOSITE_ALGORITHMS } from "../../../services/storage/checksums.js";
import { invalidArgument, malformedXml, S3Error } from "../../../services/storage/errors.js";
import type { ChecksumAlgorithm } from "../../../services/storage/model.js";
import { MAX_PARTS } from "../../../services/storage/multipart.js";
import { type Handler, isoDate, ownerXml, type S3Deps } from "./deps.js";
import { conditionsOf, contentHeadersOf, taggingHeaderOf, userMetadataOf } from "./headers.js";
import { eventOrigin } from "./notification-routes.js";
import { intParam, objectUrl, parseCopySource, type S3Call } from "./request.js";
import { checksumDeclared, readSmallBody, uploadBody } from "./upload.js";
import { el, listOf, node, parseXml, textOf, xmlDocument, xmlResponse } from "./xml.js";

const MAX_LISTED = 1000;
/** A CompleteMultipartUpload of 10,000 parts, each with its ETag and a checksum. */
const MAX_COMPLETE_BYTES = 4 * 1024 * 1024;

const target = (call: S3Call) => ({ bucket: call.bucket ?? "", key: call.key ?? "" });

function uploadIdOf(call: S3Call): string {
  const id = call.query.get("uploadId");
  if (id === undefined || id === "")
    throw invalidArgument("This operation needs an uploadId.", "uploadId", id ?? "");
  return id;
}

const checksumAlgorithmXml = (algorithm: ChecksumAlgorithm | undefined) =>
  algorithm === undefined ? "" : el("ChecksumAlgorithm", algorithm) + el("ChecksumType", "COMPOSITE");

/** Initiator and Owner: both the platform's account. */
const peopleXml = (d: S3Deps) => ownerXml(d, "Initiator") + ownerXml(d);

export const createMultipartUpload: Handler = async (call, d) => {
  const { bucket, key } = target(call);
  const type = call.headers.get("x-amz-checksum-type");
  if (type !== null && type.toUpperCase() !== "COMPOSITE")
    throw invalidArgument(
      `Checksum type ${type} is not supported for multipart uploads: Nimbus keeps COMPOSITE checksums of parts.`,
      "x-amz-checksum-type",
      type,
    );
  const algorithm = checksumDeclared(call.headers).algorithm;
  if (algorithm !== undefined && !COMPOSITE_ALGORITHMS.some((a) => a === algorithm))
    throw new S3Error(
      "InvalidRequest",
      400,
      `The ${algorithm} checksum of a multipart upload is FULL_OBJECT only, which Nimbus does not compute: use ${COMPOSITE_ALGORITHMS.join(", ")}.`,
    );
  const uploadId = await d.multipart.create(bucket, key, {
    headers: contentHeadersOf(call.headers),
    userMetadata: userMetadataOf(call.headers),
    tags: taggingHeaderOf(call.headers),
    checksumAlgorithm: algorithm,
  });
  const headers: Record<string, string> =
    algorithm === undefined
      ? {}
      : { "x-amz-checksum-algorithm": algorithm, "x-amz-checksum-type": "COMPOSITE" };
  return xmlResponse(
    xmlDocument(
      "InitiateMultipartUploadResult",
      el("Bucket", bucket) + el("Key", key) + el("UploadId", uploadId),
    ),
    headers,
  );
};

export const uploadPart: Handler = async (call, d) => {
  const { bucket, key } = target(call);
  const partNumber = intParam(call, "partNumber", 0);
  const up = uploadBody(call, d);
  const r = await d.multipart.uploadPart(
    bucket,
    key,
    uploadIdOf(call),
    partNumber,
    up.body,
    up.size,
    up.checks,
  );
  const headers: Record<string, string> = { etag: r.etag };
  if (r.checksum !== undefined) headers[CHECKSUM_HEADERS[r.checksum.algorithm]] = r.checksum.value;
  return new Response(null, { status: 200, headers });
};

export const completeMultipartUpload: Handler = async (call, d) => {
  const { bucket, key } = target(call);
  const doc = parseXml(await readSmallBody(call, d, MAX_COMPLETE_BYTES), "CompleteMultipartUpload", [
    "CompleteMultipartUpload.Part",
  ]);
  const parts = listOf(doc.Part).map((p) => {
    const number = textOf(p.PartNumber, true) ?? "";
    const etag = textOf(p.ETag, true);
    if (!/^\d+$/.test(number))
      throw malformedXml(`a <Part> has <PartNumber> "${number}"; expected an integer`);
    if (etag === undefined) throw malformedXml(`part ${number} has no <ETag>`);
    return { partNumber: Number(number), etag };
  });
  if (parts.length > MAX_PARTS)
    throw malformedXml(`${parts.length} parts; an upload has at most ${MAX_PARTS}`);
  const r = await d.multipart.complete(bucket, key, uploadIdOf(call), parts, eventOrigin(call));
  const checksum =
    r.checksum === undefined
      ? ""
      : el(`Checksum${r.checksum.algorithm}`, r.checksum.value) + el("ChecksumType", r.checksum.type);
  return xmlResponse(
    xmlDocument(
      "CompleteMultipartUploadResult",
      el("Location", objectUrl(call, bucket, key)) +
        el("Bucket", bucket) +
        el("Key", key) +
        el("ETag", r.etag) +
        checksum,
    ),
    r.versionId === undefined ? {} : { "x-amz-version-id": r.versionId },
  );
};

export const abortMultipartUpload: Handler = async (call, d) => {
  const { bucket, key } = target(call);
  await d.multipart.abort(bucket, key, uploadIdOf(call));
  return new Response(null, { status: 204 });
};

export const listParts: Handler = async (call, d) => {
  const { bucket, key } = target(call);
  const uploadId = uploadIdOf(call);
  const after = intParam(call, "part-number-marker", 0);
  const max = Math.min(intParam(call, "max-parts", MAX_LISTED), MAX_LISTED);
  const r = await d.multipart.listParts(bucket, key, uploadId, after, max);
  const parts = r.parts
    .map((p) =>
      node(
        "Part",
        el("PartNumber", p.partNumber) +
          el("LastModified", isoDate(p.createdAt)) +
          el("ETag", p.etag) +
          el("Size", p.size) +
          (p.checksum === undefined ? "" : el(`Checksum${p.checksum.algorithm}`, p.checksum.value)),
      ),
    )
    .join("");
  const last = r.parts[r.parts.length - 1];
  return xmlResponse(
    xmlDocument(
      "ListPartsResult",
      el("Bucket", bucket) +
        el("Key", key) +
        el("UploadId", uploadId) +
        el("PartNumberMarker", after) +
        (r.isTruncated && last !== undefined ? el("NextPartNumberMarker", last.partNumber) : "") +
        el("MaxParts", max) +
        el("IsTruncated", r.isTruncated) +
        parts +
        peopleXml(d) +
        el("StorageClass", "STANDARD") +
        checksumAlgorithmXml(r.upload.checksumAlgorithm),
    ),
  );
};

export const listMultipartUploads: Handler = async (call, d) => {
  const bucket = call.bucket ?? "";
  const prefix = call.query.get("prefix") ?? "";
  const keyMarker = call.query.get("key-marker") || undefined;
  const uploadIdMarker =
    keyMarker === undefined ? undefined : call.query.get("upload-id-marker") || undefined;
  const max = Math.min(intParam(call, "max-uploads", MAX_LISTED), MAX_LISTED);
  const r = await d.multipart.listUploads(bucket, {
    prefix,
    afterKey: keyMarker,
    afterUploadId: uploadIdMarker,
    limit: max,
  });
  const uploads = r.uploads
    .map((u) =>
      node(
        "Upload",
        el("Key", u.key) +
          el("UploadId", u.uploadId) +
          peopleXml(d) +
          el("StorageClass", "STANDARD") +
          el("Initiated", isoDate(u.createdAt)) +
          checksumAlgorithmXml(u.checksumAlgorithm),
      ),
    )
    .join("");
  const last = r.uploads[r.uploads.length - 1];
  return xmlResponse(
    xmlDocument(
      "ListMultipartUploadsResult",
      el("Bucket", bucket) +
        el("KeyMarker", keyMarker ?? "") +
        el("UploadIdMarker", uploadIdMarker ?? "") +
        (r.isTruncated && last !== undefined
          ? el("NextKeyMarker", last.key) + el("NextUploadIdMarker", last.uploadId)
          : "") +
        el("Prefix", prefix) +
        el("MaxUploads", max) +
        el("IsTruncated", r.isTruncated) +
        uploads,
    ),
  );
};

/**
 * UploadPartCopy: a part whose bytes are (a range of) an existing object's, named as CopyObject
 * names its source; no event until the upload completes.
 */
export const uploadPartCopy: Handler = async (call, d) => {
  const { bucket, key } = target(call);
  const src = parseCopySource(call.headers.get("x-amz-copy-source") ?? "");
  const r = await d.multipart.copyPart(bucket, key, uploadIdOf(call), intParam(call, "partNumber", 0), {
    ...src,
    conditions: conditionsOf(call.headers, "x-amz-copy-source-"),
    range: call.headers.get("x-amz-copy-source-range") ?? undefined,
  });
  const checksum = r.checksum === undefined ? "" : el(`Checksum${r.checksum.algorithm}`, r.checksum.value);
  return xmlResponse(
    xmlDocument(
      "CopyPartResult",
      el("ETag", r.etag) + el("LastModified", isoDate(r.lastModified)) + checksum,
    ),
    r.sourceVersionId === undefined ? {} : { "x-amz-copy-source-version-id": r.sourceVersionId },
  );
};
