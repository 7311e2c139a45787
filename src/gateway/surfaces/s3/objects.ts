/** Object operations: put, get, head, delete (one or many), copy. */
import { Readable } from "node:stream";
import { CHECKSUM_HEADERS } from "../../../services/storage/checksums.js";
import { accessDenied, invalidArgument, malformedXml, S3Error } from "../../../services/storage/errors.js";
import { inlineBytes } from "../../../services/storage/inline-body.js";
import type { StoredChecksum } from "../../../services/storage/model.js";
import { fileBody } from "../../file-body.js";
import { deleteKeyAccess } from "./access.js";
import { type Handler, isoDate } from "./deps.js";
import { conditionsOf, contentHeadersOf, objectHeaders, taggingHeaderOf, userMetadataOf } from "./headers.js";
import { eventOrigin } from "./notification-routes.js";
import { parseCopySource, type S3Call, versionIdOf } from "./request.js";
import { readSmallBody, uploadBody } from "./upload.js";
import { el, listOf, node, parseXml, textOf, xmlDocument, xmlResponse } from "./xml.js";

/** S3 deletes at most 1,000 keys per DeleteObjects; its XML for them fits well within this. */
const MAX_DELETE_KEYS = 1000;
const MAX_DELETE_BODY_BYTES = 2 * 1024 * 1024;

/** Object operations are routed only for requests that name a bucket and a key. */
const target = (call: S3Call) => ({ bucket: call.bucket ?? "", key: call.key ?? "" });

/** The headers that echo a stored checksum (PUT, UploadPart, copy). */
export function checksumEcho(checksum: StoredChecksum | undefined): Record<string, string> {
  if (checksum === undefined) return {};
  return { [CHECKSUM_HEADERS[checksum.algorithm]]: checksum.value, "x-amz-checksum-type": checksum.type };
}

export const putObject: Handler = async (call, d) => {
  const { bucket, key } = target(call);
  // A conditional write that went unnoticed would overwrite what it was meant to protect.
  if (call.headers.has("if-none-match") || call.headers.has("if-match"))
    throw new S3Error(
      "NotImplemented",
      501,
      "Conditional writes (PutObject with If-Match or If-None-Match) are not implemented.",
    );
  const up = uploadBody(call, d);
  const result = await d.storage.putObject(bucket, key, {
    body: up.body,
    size: up.size,
    headers: contentHeadersOf(call.headers),
    userMetadata: userMetadataOf(call.headers),
    tags: taggingHeaderOf(call.headers),
    checks: up.checks,
    origin: eventOrigin(call),
  });
  const headers: Record<string, string> = { etag: result.etag, ...checksumEcho(result.checksum) };
  if (result.versionId !== undefined) headers["x-amz-version-id"] = result.versionId;
  return new Response(null, { status: 200, headers });
};

/** GetObject and HeadObject: a version whole or in its range, after the conditions. */
export const getObject: Handler = async (call, d) => {
  const { bucket, key } = target(call);
  const read = await d.storage.read(bucket, key, {
    versionId: versionIdOf(call),
    range: call.headers.get("range") ?? undefined,
    conditions: conditionsOf(call.headers),
  });
  const v = read.version;
  checkPartNumber(call, v.partsCount);
  if (read.notModified) {
    const headers: Record<string, string> = {
      etag: v.etag,
      "last-modified": new Date(v.createdAt).toUTCString(),
    };
    if (v.versionId !== "null") headers["x-amz-version-id"] = v.versionId;
    return new Response(null, { status: 304, headers });
  }
  const range = read.range;
  const headers = objectHeaders(call, v, range === undefined);
  const length = range === undefined ? v.size : range.end - range.start + 1;
  headers["content-length"] = String(length);
  if (range !== undefined) headers["content-range"] = `bytes ${range.start}-${range.end}/${v.size}`;
  const status = range === undefined ? 200 : 206;
  if (call.method === "HEAD" || length === 0) return new Response(null, { status, headers });
  // A small object's bytes came with its record: answered in one write.
  const inline = inlineBytes(v, range);
  if (inline !== undefined) return new Response(inline, { status, headers });
  // From the blob's file, which the server sends with buffers it reuses (gateway/file-body.ts).
  const file = await d.storage.openBytes(v, range);
  if (file !== undefined) return new Response(fileBody(call.raw, file), { status, headers });
  const stream = d.storage.stream(v, range);
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status, headers });
};

/**
 * `?partNumber=`: part 1 of an object stored by one PUT is the whole object, as in S3; a
 * multipart object keeps no part boundaries once completed, so its parts cannot be read apart.
 */
function checkPartNumber(call: S3Call, partsCount: number): void {
  const raw = call.query.get("partNumber");
  if (raw === undefined) return;
  if (partsCount > 0)
    throw new S3Error(
      "NotImplemented",
      501,
      "Reading one part of a multipart object (partNumber) is not implemented: read a Range.",
    );
  if (raw !== "1")
    throw new S3Error(
      "InvalidPartNumber",
      416,
      `The requested partnumber is not satisfiable: the object has 1 part, ${raw} was asked.`,
      {
        PartNumberRequested: raw,
        ActualPartCount: "1",
      },
    );
}

export const deleteObject: Handler = async (call, d) => {
  const { bucket, key } = target(call);
  const out = await d.storage.deleteObject(bucket, key, versionIdOf(call), eventOrigin(call));
  const headers: Record<string, string> = {};
  if (out.deleteMarker) headers["x-amz-delete-marker"] = "true";
  if (out.versionId !== undefined) headers["x-amz-version-id"] = out.versionId;
  return new Response(null, { status: 204, headers });
};

export const deleteObjects: Handler = async (call, d) => {
  const bucket = call.bucket ?? "";
  await d.storage.bucket(bucket);
  const doc = parseXml(await readSmallBody(call, d, MAX_DELETE_BODY_BYTES), "Delete", ["Delete.Object"]);
  const objects = listOf(doc.Object);
  if (objects.length === 0) throw malformedXml("<Delete> names no <Object>");
  if (objects.length > MAX_DELETE_KEYS)
    throw malformedXml(`<Delete> names ${objects.length} objects; at most ${MAX_DELETE_KEYS}`);
  const quiet = textOf(doc.Quiet, true)?.toLowerCase() === "true";
  // A caller other than the operator may delete the keys the bucket's policy lets it (access.ts).
  const mayDelete = await deleteKeyAccess(call, d);
  let out = "";
  for (const o of objects) {
    const key = textOf(o.Key);
    if (key === undefined) throw malformedXml("an <Object> has no <Key>");
    const versionId = textOf(o.VersionId, true) || undefined;
    try {
      if (!mayDelete(key, versionId)) throw accessDenied();
      const r = await d.storage.deleteObject(bucket, key, versionId, eventOrigin(call));
      if (quiet) continue;
      out += node(
        "Deleted",
        el("Key", key) +
          el("VersionId", versionId) +
          (r.deleteMarker ? el("DeleteMarker", "true") + el("DeleteMarkerVersionId", r.versionId) : ""),
      );
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      out += node(
        "Error",
        el("Key", key) + el("VersionId", versionId) + el("Code", err.code) + el("Message", err.message),
      );
    }
  }
  return xmlResponse(xmlDocument("DeleteResult", out));
};

export const copyObject: Handler = async (call, d) => {
  const { bucket, key } = target(call);
  const src = parseCopySource(call.headers.get("x-amz-copy-source") ?? "");
  const directive = (call.headers.get("x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE")
    throw invalidArgument(
      `Unknown metadata directive "${directive}": COPY or REPLACE.`,
      "x-amz-metadata-directive",
      directive,
    );
  const result = await d.storage.copyObject(
    { ...src, conditions: conditionsOf(call.headers, "x-amz-copy-source-") },
    {
      bucket,
      key,
      replace:
        directive === "REPLACE"
          ? { headers: contentHeadersOf(call.headers), userMetadata: userMetadataOf(call.headers) }
          : undefined,
    },
    eventOrigin(call),
  );
  const headers: Record<string, string> = {};
  if (result.versionId !== undefined) headers["x-amz-version-id"] = result.versionId;
  if (result.sourceVersionId !== undefined) headers["x-amz-copy-source-version-id"] = result.sourceVersionId;
  const checksum =
    result.checksum === undefined
      ? ""
      : el(`Checksum${result.checksum.algorithm}`, result.checksum.value) +
        el("ChecksumType", result.checksum.type);
  return xmlResponse(
    xmlDocument(
      "CopyObjectResult",
      el("ETag", result.etag) + el("LastModified", isoDate(result.lastModified)) + checksum,
    ),
    headers,
  );
};
