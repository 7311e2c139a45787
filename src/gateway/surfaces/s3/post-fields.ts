/**
 * What a browser form upload's fields (`post-object.ts`) store with the object, as a PUT's headers
 * would: its content headers, `x-amz-meta-*` metadata, `tagging` (S3's XML) and a declared
 * checksum; and the `acl` field, which may only say what every object is (`private`).
 */

import { isHeaderName } from "../../../protocol/header-name.js";
import { invalidArgument, notImplemented, S3Error } from "../../../services/storage/errors.js";
import type { ContentHeaders } from "../../../services/storage/model.js";
import type { BodyChecks } from "../../../services/storage/storage.js";
import { checkHeaderValue, checkTags, metadataOf } from "./headers.js";
import type { FormField } from "./post-policy.js";
import { checksumDeclared } from "./upload.js";
import { childOf, listOf, parseXml, textOf } from "./xml.js";

/** A field's value by lower-case name, undefined when the form does not have it. */
type Fields = (name: string) => string | undefined;

/** S3's canned ACLs: a form may name `private` (what every object is); the others need object ACLs. */
const CANNED_ACLS = [
  "private",
  "public-read",
  "public-read-write",
  "aws-exec-read",
  "authenticated-read",
  "bucket-owner-read",
  "bucket-owner-full-control",
  "log-delivery-write",
];

/** What the form's fields store with the object: its content headers, metadata, tags and the checksum to check. */
export function objectSettingsOf(fields: ReadonlyMap<string, FormField>): {
  headers: ContentHeaders;
  userMetadata: Record<string, string>;
  tags: Record<string, string>;
  checks: BodyChecks;
} {
  const f: Fields = (name) => fields.get(name)?.value;
  checkAcl(f("acl"));
  const headers = contentHeadersOf(f);
  const userMetadata = metadataOf(
    [...fields].map(([name, f]): [string, string] => [name, f.value]),
    "x-amz-meta-* fields",
  );
  // Each metadata entry goes back out as a header on every GET and HEAD of the object.
  for (const [name, value] of Object.entries(userMetadata)) {
    if (!isHeaderName(name))
      throw invalidArgument(
        `x-amz-meta-${name} is not a valid HTTP header name: metadata names may use letters, digits and !#$%&'*+-.^_\`|~.`,
        `x-amz-meta-${name}`,
        value,
      );
    checkHeaderValue(value, `x-amz-meta-${name}`);
  }
  return {
    headers,
    userMetadata,
    tags: taggingOf(f("tagging")),
    checks: checksOf(fields),
  };
}

/**
 * The content headers a PUT would take from its headers, from the fields of the same names; each
 * goes back out as a header on every GET and HEAD of the object, so each must be able to.
 */
function contentHeadersOf(fields: Fields): ContentHeaders {
  const f: Fields = (name) => {
    const value = fields(name);
    if (value !== undefined) checkHeaderValue(value, name);
    return value;
  };
  return {
    contentType: f("content-type"),
    contentEncoding: f("content-encoding"),
    contentDisposition: f("content-disposition"),
    contentLanguage: f("content-language"),
    cacheControl: f("cache-control"),
    expires: f("expires"),
  };
}

/** The `acl` field: `private`, what every object is; another canned ACL would need object ACLs. */
function checkAcl(acl: string | undefined): void {
  if (acl === undefined || acl === "private") return;
  if (!CANNED_ACLS.includes(acl))
    throw invalidArgument(`acl must be one of S3's canned ACLs, got "${acl}".`, "acl", acl);
  throw notImplemented(
    `the acl field "${acl}" (Nimbus has no object ACLs: every object is private, and a bucket's policy or public-read says who else may read it)`,
  );
}

/** The `tagging` field: S3's `<Tagging><TagSet><Tag><Key>…</Key><Value>…</Value></Tag>…`. */
function taggingOf(xml: string | undefined): Record<string, string> {
  if (xml === undefined || xml.trim() === "") return {};
  const doc = parseXml(Buffer.from(xml), "Tagging", ["Tagging.TagSet.Tag"]);
  return checkTags(
    listOf(childOf(doc, "TagSet").Tag).map((t) => [textOf(t.Key) ?? "", textOf(t.Value) ?? ""] as const),
  );
}

/** A checksum the form declares (`x-amz-checksum-algorithm`, one `x-amz-checksum-<algorithm>`), as a PUT's headers do. */
function checksOf(fields: ReadonlyMap<string, FormField>): BodyChecks {
  const h = new Headers();
  for (const [name, { value }] of fields)
    if (name.startsWith("x-amz-checksum-") || name === "x-amz-sdk-checksum-algorithm")
      try {
        h.set(name, value);
      } catch {
        throw new S3Error("InvalidRequest", 400, `Value for ${name} is invalid.`);
      }
  const declared = checksumDeclared(h);
  const value = declared.value;
  return {
    checksumAlgorithm: declared.algorithm,
    checksumValue: value === undefined ? undefined : () => value,
  };
}
