/**
 * Listing: ListObjectsV2 (continuation tokens), ListObjects (v1, markers) and
 * ListObjectVersions, each with prefix, delimiter, max-keys and `encoding-type=url`.
 */
import { invalidArgument } from "../../../services/storage/errors.js";
import { decodeToken, encodeToken, parseMaxKeys } from "../../../services/storage/listing.js";
import type { ObjectVersionRecord } from "../../../services/storage/model.js";
import type { StorageRepo } from "../../../services/storage/repo.js";
import { type Handler, isoDate, ownerXml, type S3Deps } from "./deps.js";
import type { S3Call } from "./request.js";
import { el, node, xmlDocument, xmlResponse } from "./xml.js";

/** Sorts after every key that starts with a given prefix (the highest code point). */
const PAST = "\u{10FFFF}";

/**
 * S3's `encoding-type=url`: Go's query escaping with S3's exceptions (as MinIO does it), so
 * clients that decode with `+` as a space (boto3, minio-js) get the key back: a space is `+`,
 * `/` and `*` stay, every other byte but letters, digits, `-`, `_` and `.` is `%XX`.
 */
export function s3UrlEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.*/]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

interface ListParams {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  /** Encodes a key, prefix or marker as the client asked. */
  readonly enc: (text: string) => string;
  readonly encodingType: string | undefined;
}

function listParams(call: S3Call): ListParams {
  const encodingType = call.query.get("encoding-type");
  if (encodingType !== undefined && encodingType !== "url")
    throw invalidArgument("Invalid Encoding Method specified in Request", "encoding-type", encodingType);
  const delimiter = call.query.get("delimiter");
  return {
    prefix: call.query.get("prefix") ?? "",
    delimiter: delimiter === "" ? undefined : delimiter,
    maxKeys: parseMaxKeys(call.query.get("max-keys")),
    enc: encodingType === "url" ? s3UrlEncode : (t) => t,
    encodingType,
  };
}

function contentsXml(v: ObjectVersionRecord, p: ListParams, owner: string): string {
  return node(
    "Contents",
    el("Key", p.enc(v.key)) +
      el("LastModified", isoDate(v.createdAt)) +
      el("ETag", v.etag) +
      el("Size", v.size) +
      el("StorageClass", "STANDARD") +
      owner +
      (v.checksum === undefined
        ? ""
        : el("ChecksumAlgorithm", v.checksum.algorithm) + el("ChecksumType", v.checksum.type)),
  );
}

const prefixesXml = (prefixes: readonly string[], p: ListParams) =>
  prefixes.map((cp) => node("CommonPrefixes", el("Prefix", p.enc(cp)))).join("");

const optional = (name: string, value: string | undefined) => (value === undefined ? "" : el(name, value));

export const listObjectsV2: Handler = async (call, d) => {
  const bucket = call.bucket ?? "";
  const p = listParams(call);
  const token = call.query.get("continuation-token");
  const startAfter = call.query.get("start-after");
  if (token === "")
    throw invalidArgument("The continuation token provided is incorrect", "continuation-token", token);
  const after = token !== undefined ? decodeToken(token) : startAfter === "" ? undefined : startAfter;
  const page = await d.storage.list(bucket, {
    prefix: p.prefix,
    delimiter: p.delimiter,
    maxKeys: p.maxKeys,
    after,
  });
  const owner = call.query.get("fetch-owner") === "true" ? ownerXml(d) : "";
  const truncated = page.isTruncated && page.last !== undefined;
  return xmlResponse(
    xmlDocument(
      "ListBucketResult",
      el("Name", bucket) +
        el("Prefix", p.enc(p.prefix)) +
        optional("ContinuationToken", token) +
        (truncated ? el("NextContinuationToken", encodeToken(page.last ?? "")) : "") +
        el("KeyCount", page.contents.length + page.commonPrefixes.length) +
        el("MaxKeys", p.maxKeys) +
        optional("Delimiter", p.delimiter === undefined ? undefined : p.enc(p.delimiter)) +
        el("IsTruncated", truncated) +
        page.contents.map((v) => contentsXml(v, p, owner)).join("") +
        prefixesXml(page.commonPrefixes, p) +
        optional("EncodingType", p.encodingType) +
        optional("StartAfter", startAfter === undefined ? undefined : p.enc(startAfter)),
    ),
  );
};

export const listObjects: Handler = async (call, d) => {
  const bucket = call.bucket ?? "";
  const p = listParams(call);
  const marker = call.query.get("marker") ?? "";
  const page = await d.storage.list(bucket, {
    prefix: p.prefix,
    delimiter: p.delimiter,
    maxKeys: p.maxKeys,
    after: marker === "" ? undefined : marker,
  });
  const truncated = page.isTruncated && page.last !== undefined;
  const owner = ownerXml(d);
  return xmlResponse(
    xmlDocument(
      "ListBucketResult",
      el("Name", bucket) +
        el("Prefix", p.enc(p.prefix)) +
        el("Marker", p.enc(marker)) +
        (truncated ? el("NextMarker", p.enc(page.last ?? "")) : "") +
        el("MaxKeys", p.maxKeys) +
        optional("Delimiter", p.delimiter === undefined ? undefined : p.enc(p.delimiter)) +
        el("IsTruncated", truncated) +
        page.contents.map((v) => contentsXml(v, p, owner)).join("") +
        prefixesXml(page.commonPrefixes, p) +
        optional("EncodingType", p.encodingType),
    ),
  );
};

type VersionItem =
  | { readonly version: ObjectVersionRecord; readonly isLatest: boolean }
  | { readonly prefix: string };

/**
 * A page of versions (delete markers too), by key then newest first, rolled up into common
 * prefixes as ListObjectsV2 does. A key's first version in the listing is its latest, unless
 * the page starts inside that key's versions.
 */
async function versionsPage(
  repo: StorageRepo,
  bucket: string,
  p: ListParams,
  keyMarker: string | undefined,
  versionIdMarker: string | undefined,
): Promise<{ items: VersionItem[]; isTruncated: boolean }> {
  const items: VersionItem[] = [];
  let afterKey = keyMarker;
  let afterVersionId = keyMarker === undefined ? undefined : versionIdMarker;
  if (
    afterKey !== undefined &&
    afterVersionId === undefined &&
    p.delimiter !== undefined &&
    afterKey.startsWith(p.prefix)
  ) {
    const cut = afterKey.indexOf(p.delimiter, p.prefix.length);
    if (cut >= 0) afterKey = afterKey.slice(0, cut + p.delimiter.length) + PAST;
  }
  let lastKey = afterVersionId === undefined ? undefined : afterKey;
  for (;;) {
    const remaining = p.maxKeys - items.length;
    const o = { prefix: p.prefix, afterKey, afterVersionId };
    if (remaining <= 0)
      return { items, isTruncated: (await repo.listVersions(bucket, { ...o, limit: 1 })).length > 0 };
    const batch = await repo.listVersions(bucket, { ...o, limit: remaining });
    let rolledUp = false;
    for (const v of batch) {
      const cut = p.delimiter === undefined ? -1 : v.key.indexOf(p.delimiter, p.prefix.length);
      if (cut >= 0) {
        const common = v.key.slice(0, cut + (p.delimiter?.length ?? 0));
        items.push({ prefix: common });
        afterKey = common + PAST;
        afterVersionId = undefined;
        rolledUp = true;
        break;
      }
      items.push({ version: v, isLatest: v.key !== lastKey });
      lastKey = v.key;
      afterKey = v.key;
      afterVersionId = v.versionId;
    }
    if (!rolledUp && batch.length < remaining) return { items, isTruncated: false };
  }
}

export const listObjectVersions: Handler = async (call, d: S3Deps) => {
  const bucket = call.bucket ?? "";
  const p = listParams(call);
  await d.storage.bucket(bucket);
  const keyMarker = call.query.get("key-marker") || undefined;
  const versionIdMarker = call.query.get("version-id-marker") || undefined;
  const { items, isTruncated } = await versionsPage(
    d.storage.deps.repo,
    bucket,
    p,
    keyMarker,
    versionIdMarker,
  );
  const owner = ownerXml(d);
  let body = "";
  for (const item of items) {
    if ("prefix" in item) continue;
    const v = item.version;
    const common =
      el("Key", p.enc(v.key)) +
      el("VersionId", v.versionId) +
      el("IsLatest", item.isLatest) +
      el("LastModified", isoDate(v.createdAt));
    body += v.isDeleteMarker
      ? node("DeleteMarker", common + owner)
      : node(
          "Version",
          common + el("ETag", v.etag) + el("Size", v.size) + el("StorageClass", "STANDARD") + owner,
        );
  }
  const prefixes = items.flatMap((i) => ("prefix" in i ? [i.prefix] : []));
  const last = items[items.length - 1];
  const next =
    !isTruncated || last === undefined
      ? ""
      : "prefix" in last
        ? el("NextKeyMarker", p.enc(last.prefix))
        : el("NextKeyMarker", p.enc(last.version.key)) + el("NextVersionIdMarker", last.version.versionId);
  return xmlResponse(
    xmlDocument(
      "ListVersionsResult",
      el("Name", bucket) +
        el("Prefix", p.enc(p.prefix)) +
        el("KeyMarker", p.enc(keyMarker ?? "")) +
        el("VersionIdMarker", versionIdMarker ?? "") +
        next +
        el("MaxKeys", p.maxKeys) +
        optional("Delimiter", p.delimiter === undefined ? undefined : p.enc(p.delimiter)) +
        el("IsTruncated", isTruncated) +
        body +
        prefixesXml(prefixes, p) +
        optional("EncodingType", p.encodingType),
    ),
  );
};
