/**
 * A bucket's lifecycle configuration (`?lifecycle`: PutBucketLifecycleConfiguration,
 * GetBucketLifecycleConfiguration, DeleteBucketLifecycle), the operator's only. The XML is read
 * here into the storage service's input and written back from its stored form; the rules are
 * checked by `services/storage/lifecycle-config.ts` (S3's errors; Transitions are 501, Nimbus
 * having one storage class) and applied by the hourly sweep, `services/storage/lifecycle.ts`.
 * A PUT must carry Content-MD5 or an x-amz-checksum-* of its body, as S3 requires.
 */

import { noSuchBucket, S3Error } from "../../../services/storage/errors.js";
import {
  checkLifecycle,
  type LifecycleConfiguration,
  type LifecycleFilter,
  type LifecycleInput,
  type LifecycleTag,
  lifecycleOf,
  type RuleInput,
  type TagInput,
} from "../../../services/storage/lifecycle-config.js";
import type { Handler } from "./deps.js";
import type { Operation } from "./operations.js";
import type { S3Call } from "./request.js";
import { readSmallBody } from "./upload.js";
import {
  childOf,
  el,
  listOf,
  node,
  parseXml,
  textOf,
  type XmlObject,
  xmlDocument,
  xmlResponse,
} from "./xml.js";

/** 1,000 rules with a filter of tags each fit well within it. */
const MAX_LIFECYCLE_BYTES = 2 * 1024 * 1024;
const ROOT = "LifecycleConfiguration";
const RULE = `${ROOT}.Rule`;
const LISTS = [RULE, `${RULE}.Filter.And.Tag`, `${RULE}.Transition`, `${RULE}.NoncurrentVersionTransition`];

/** A LifecycleConfiguration document as the storage service's input (texts, unchecked). */
export function lifecycleInputOf(body: Buffer): LifecycleInput {
  const doc = parseXml(body, ROOT, LISTS);
  return {
    Rules: listOf(doc.Rule).map((r): RuleInput => {
      const texts = (o: XmlObject, names: readonly string[]) =>
        Object.fromEntries(names.map((name) => [name, textOf(o[name], true)]));
      const element = (name: string) => (r[name] === undefined ? undefined : childOf(r, name));
      const filter = element("Filter");
      const and = filter?.And === undefined ? undefined : childOf(filter, "And");
      const expiration = element("Expiration");
      const noncurrent = element("NoncurrentVersionExpiration");
      const abort = element("AbortIncompleteMultipartUpload");
      return {
        // A prefix is kept as it is: spaces in it are the keys'.
        ID: textOf(r.ID, true),
        Status: textOf(r.Status, true),
        Prefix: textOf(r.Prefix),
        Filter:
          filter === undefined
            ? undefined
            : {
                Prefix: textOf(filter.Prefix),
                Tag: filter.Tag === undefined ? undefined : tagOf(childOf(filter, "Tag")),
                ...texts(filter, ["ObjectSizeGreaterThan", "ObjectSizeLessThan"]),
                And:
                  and === undefined
                    ? undefined
                    : {
                        Prefix: textOf(and.Prefix),
                        Tags: listOf(and.Tag).map(tagOf),
                        ...texts(and, ["ObjectSizeGreaterThan", "ObjectSizeLessThan"]),
                      },
              },
        Expiration: expiration && texts(expiration, ["Days", "Date", "ExpiredObjectDeleteMarker"]),
        NoncurrentVersionExpiration:
          noncurrent && texts(noncurrent, ["NoncurrentDays", "NewerNoncurrentVersions"]),
        AbortIncompleteMultipartUpload: abort && texts(abort, ["DaysAfterInitiation"]),
        transitions: [r.Transition, r.NoncurrentVersionTransition].filter((t) => t !== undefined).length,
      };
    }),
  };
}

const tagOf = (t: XmlObject): TagInput => ({ Key: textOf(t.Key), Value: textOf(t.Value) ?? "" });

/** A configuration as GetBucketLifecycleConfiguration answers it. */
export function lifecycleXml(config: LifecycleConfiguration): string {
  return xmlDocument(
    ROOT,
    config.Rules.map((r) => {
      const e = r.Expiration;
      const n = r.NoncurrentVersionExpiration;
      return node(
        "Rule",
        el("ID", r.ID) +
          (r.Filter === undefined ? el("Prefix", r.Prefix) : node("Filter", filterXml(r.Filter))) +
          el("Status", r.Status) +
          (e === undefined
            ? ""
            : node(
                "Expiration",
                el("Days", e.Days) +
                  el("Date", e.Date) +
                  el("ExpiredObjectDeleteMarker", e.ExpiredObjectDeleteMarker),
              )) +
          (n === undefined
            ? ""
            : node(
                "NoncurrentVersionExpiration",
                el("NoncurrentDays", n.NoncurrentDays) +
                  el("NewerNoncurrentVersions", n.NewerNoncurrentVersions),
              )) +
          (r.AbortIncompleteMultipartUpload === undefined
            ? ""
            : node(
                "AbortIncompleteMultipartUpload",
                el("DaysAfterInitiation", r.AbortIncompleteMultipartUpload.DaysAfterInitiation),
              )),
      );
    }).join(""),
  );
}

function filterXml(f: LifecycleFilter): string {
  const tagXml = (t: LifecycleTag) => node("Tag", el("Key", t.Key) + el("Value", t.Value));
  const sizes = (s: { ObjectSizeGreaterThan?: number; ObjectSizeLessThan?: number }) =>
    el("ObjectSizeGreaterThan", s.ObjectSizeGreaterThan) + el("ObjectSizeLessThan", s.ObjectSizeLessThan);
  const and = f.And;
  return (
    el("Prefix", f.Prefix) +
    (f.Tag === undefined ? "" : tagXml(f.Tag)) +
    sizes(f) +
    (and === undefined
      ? ""
      : node("And", el("Prefix", and.Prefix) + (and.Tags ?? []).map(tagXml).join("") + sizes(and)))
  );
}

/** S3 refuses a lifecycle configuration whose body is not vouched for by a digest. */
function requireDigest(call: S3Call): void {
  const h = call.headers;
  const checksum = [...h.keys()].some((name) => name.startsWith("x-amz-checksum-"));
  const trailer = (h.get("x-amz-trailer") ?? "").toLowerCase().includes("x-amz-checksum-");
  if (!h.has("content-md5") && !checksum && !trailer)
    throw new S3Error(
      "InvalidRequest",
      400,
      "Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header).",
    );
}

const bucketOf = (call: S3Call) => call.bucket ?? "";

const getBucketLifecycle: Handler = async (call, d) => {
  const config = lifecycleOf(await d.storage.bucket(bucketOf(call)));
  if (config === undefined)
    throw new S3Error("NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist", {
      BucketName: bucketOf(call),
    });
  return xmlResponse(lifecycleXml(config));
};

const putBucketLifecycle: Handler = async (call, d) => {
  const bucket = bucketOf(call);
  await d.storage.bucket(bucket);
  requireDigest(call);
  const config = checkLifecycle(lifecycleInputOf(await readSmallBody(call, d, MAX_LIFECYCLE_BYTES)));
  if (!(await d.storage.deps.repo.putSetting(bucket, "lifecycle", JSON.stringify(config))))
    throw noSuchBucket(bucket);
  return new Response(null, { status: 200 });
};

const deleteBucketLifecycle: Handler = async (call, d) => {
  const bucket = bucketOf(call);
  if (!(await d.storage.deps.repo.putSetting(bucket, "lifecycle", undefined))) throw noSuchBucket(bucket);
  return new Response(null, { status: 204 });
};

/** The handlers of the operations above, for the surface's table. */
export const LIFECYCLE_HANDLERS = {
  GetBucketLifecycleConfiguration: getBucketLifecycle,
  PutBucketLifecycleConfiguration: putBucketLifecycle,
  DeleteBucketLifecycle: deleteBucketLifecycle,
} as const satisfies Partial<Record<Operation, Handler>>;
