/**
 * The S3 operations `nimbus storage` lists and deletes with: ListBuckets, ListObjectsV2,
 * ListObjectVersions and ListMultipartUploads a page at a time, DeleteObjects in batches of
 * 1,000, and what `buckets rm --force` does to empty a bucket.
 */
import { createHash } from "node:crypto";
import { objectPath } from "./storage-paths.js";
import { itemsOf, type S3Api, textOf, type Xml } from "./storage-s3.js";

/** The most keys a listing page and a DeleteObjects request hold. */
export const MAX_BATCH_KEYS = 1000;

/** A bucket as ListBuckets answers it. */
export interface BucketEntry {
  Name: string;
  CreationDate: string;
}

/** An object as ListObjectsV2 answers it. */
export interface ObjectEntry {
  Key: string;
  LastModified: string;
  ETag: string;
  Size: number;
  StorageClass: string;
}

/** A page of ListObjectsV2: objects, common prefixes, and the token of the next page. */
export interface ObjectsPage {
  contents: ObjectEntry[];
  prefixes: string[];
  next: string | undefined;
}

/** Every bucket, page by page. */
export async function listBuckets(api: S3Api): Promise<BucketEntry[]> {
  const out: BucketEntry[] = [];
  let token: string | undefined;
  do {
    const doc = await api.xml("GET", "", "ListAllMyBucketsResult", {
      query: token ? { "continuation-token": token } : {},
    });
    for (const b of itemsOf(doc.Buckets, "Bucket"))
      out.push({ Name: textOf(b, "Name"), CreationDate: textOf(b, "CreationDate") });
    token = textOf(doc, "ContinuationToken") || undefined;
  } while (token);
  return out;
}

/** One page of ListObjectsV2 under `prefix`, rolled up at `/` unless recursive. */
export async function listObjectsPage(
  api: S3Api,
  bucket: string,
  o: { prefix: string; recursive: boolean; token?: string | undefined },
): Promise<ObjectsPage> {
  const doc = await api.xml("GET", objectPath(bucket), "ListBucketResult", {
    query: {
      "list-type": "2",
      "max-keys": String(MAX_BATCH_KEYS),
      prefix: o.prefix,
      ...(o.recursive ? {} : { delimiter: "/" }),
      ...(o.token ? { "continuation-token": o.token } : {}),
    },
  });
  return {
    contents: itemsOf(doc, "Contents").map((c) => ({
      Key: textOf(c, "Key"),
      LastModified: textOf(c, "LastModified"),
      ETag: textOf(c, "ETag"),
      Size: Number(textOf(c, "Size")),
      StorageClass: textOf(c, "StorageClass") || "STANDARD",
    })),
    prefixes: itemsOf(doc, "CommonPrefixes").map((p) => textOf(p, "Prefix")),
    next:
      textOf(doc, "IsTruncated") === "true" ? textOf(doc, "NextContinuationToken") || undefined : undefined,
  };
}

/** Every object under `prefix`, page by page. */
export async function* objectsUnder(
  api: S3Api,
  bucket: string,
  prefix: string,
): AsyncGenerator<ObjectEntry[]> {
  let token: string | undefined;
  do {
    const page = await listObjectsPage(api, bucket, { prefix, recursive: true, token });
    if (page.contents.length > 0) yield page.contents;
    token = page.next;
  } while (token);
}

/** What DeleteObjects did: the keys deleted, and those it could not delete with S3's reason. */
export interface DeleteOutcome {
  deleted: string[];
  errors: Array<{ Key: string; Code: string; Message: string }>;
}

/** DeleteObjects of up to 1,000 keys (with their version ids when given). */
export async function deleteObjects(
  api: S3Api,
  bucket: string,
  objects: ReadonlyArray<{ Key: string; VersionId?: string | undefined }>,
): Promise<DeleteOutcome> {
  const body = Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><Delete>${objects
      .map(
        (o) =>
          `<Object><Key>${escapeXml(o.Key)}</Key>${o.VersionId === undefined ? "" : `<VersionId>${escapeXml(o.VersionId)}</VersionId>`}</Object>`,
      )
      .join("")}</Delete>`,
  );
  const doc = await api.xml("POST", objectPath(bucket), "DeleteResult", {
    query: { delete: "" },
    // S3 refuses a DeleteObjects without a digest of its body.
    headers: {
      "content-md5": createHash("md5").update(body).digest("base64"),
      "content-type": "application/xml",
    },
    body,
  });
  return {
    deleted: itemsOf(doc, "Deleted").map((d) => textOf(d, "Key")),
    errors: itemsOf(doc, "Error").map((e) => ({
      Key: textOf(e, "Key"),
      Code: textOf(e, "Code"),
      Message: textOf(e, "Message"),
    })),
  };
}

/**
 * Deletes every version and delete marker in a bucket (a page of ListObjectVersions per
 * DeleteObjects) and aborts its multipart uploads, as DeleteBucket needs; answers how many
 * versions went. An error deleting one stops it.
 */
export async function emptyBucket(api: S3Api, bucket: string): Promise<number> {
  let count = 0;
  let markers: Record<string, string> = {};
  for (;;) {
    const doc = await api.xml("GET", objectPath(bucket), "ListVersionsResult", {
      query: { versions: "", "max-keys": String(MAX_BATCH_KEYS), ...markers },
    });
    const versions = [...itemsOf(doc, "Version"), ...itemsOf(doc, "DeleteMarker")].map((v: Xml) => ({
      Key: textOf(v, "Key"),
      VersionId: textOf(v, "VersionId"),
    }));
    if (versions.length > 0) {
      const out = await deleteObjects(api, bucket, versions);
      const first = out.errors[0];
      if (first) throw new Error(`cannot delete ${first.Key}: ${first.Message} (${first.Code})`);
      count += versions.length;
    }
    if (textOf(doc, "IsTruncated") !== "true") break;
    markers = { "key-marker": textOf(doc, "NextKeyMarker") };
    const versionMarker = textOf(doc, "NextVersionIdMarker");
    if (versionMarker) markers["version-id-marker"] = versionMarker;
  }
  for (;;) {
    const doc = await api.xml("GET", objectPath(bucket), "ListMultipartUploadsResult", {
      query: { uploads: "", "max-uploads": String(MAX_BATCH_KEYS) },
    });
    const uploads = itemsOf(doc, "Upload");
    for (const u of uploads)
      await api.headers("DELETE", objectPath(bucket, textOf(u, "Key")), {
        query: { uploadId: textOf(u, "UploadId") },
      });
    // Those aborted are gone: the next listing starts from the first left.
    if (uploads.length === 0 || textOf(doc, "IsTruncated") !== "true") break;
  }
  return count;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}
