/**
 * Listing as S3 does it over the repository's byte-ordered pages: keys under a prefix, rolled
 * up into common prefixes at the first delimiter after it, `max-keys` counting keys and
 * prefixes together, and an opaque continuation token (the last key or prefix given, base64).
 * A common prefix is skipped whole: the next page starts past every key that begins with it.
 */
import { invalidArgument } from "./errors.js";
import type { ObjectVersionRecord } from "./model.js";
import type { StorageRepo } from "./repo.js";

export const MAX_KEYS = 1000;
/** Sorts after every key that starts with a given prefix (the highest code point). */
const PAST = "\u{10FFFF}";

export interface ListRequest {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxKeys: number;
  /** Exclusive: the listing starts after it (from StartAfter or a continuation token). */
  readonly after: string | undefined;
}

export interface ListPage {
  readonly contents: ObjectVersionRecord[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  /** The last key or prefix given, for the next page (when truncated). */
  readonly last: string | undefined;
}

export function encodeToken(last: string): string {
  return Buffer.from(`v1:${last}`, "utf8").toString("base64url");
}

export function decodeToken(token: string): string {
  const text = Buffer.from(token, "base64url").toString("utf8");
  if (!text.startsWith("v1:"))
    throw invalidArgument("The continuation token provided is incorrect", "continuation-token", token);
  return text.slice(3);
}

export function parseMaxKeys(raw: string | undefined): number {
  if (raw === undefined || raw === "") return MAX_KEYS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw invalidArgument("Provided max-keys not an integer or within integer range", "max-keys", raw);
  return Math.min(n, MAX_KEYS);
}

/** One page of latest versions, keys and common prefixes together in byte order. */
export async function listPage(repo: StorageRepo, bucket: string, r: ListRequest): Promise<ListPage> {
  const contents: ObjectVersionRecord[] = [];
  const commonPrefixes: string[] = [];
  const delimiter = r.delimiter === "" ? undefined : r.delimiter;
  let after = r.after;
  let last: string | undefined;
  // A page that starts inside a common prefix already given starts past it.
  if (after !== undefined && delimiter !== undefined && after.startsWith(r.prefix)) {
    const cut = after.indexOf(delimiter, r.prefix.length);
    if (cut >= 0) after = after.slice(0, cut + delimiter.length) + PAST;
  }
  for (;;) {
    const remaining = r.maxKeys - contents.length - commonPrefixes.length;
    if (remaining <= 0) {
      const more = await repo.listLatest(bucket, { prefix: r.prefix, after, limit: 1 });
      return { contents, commonPrefixes, isTruncated: more.length > 0, last };
    }
    const batch = await repo.listLatest(bucket, { prefix: r.prefix, after, limit: remaining });
    let rolledUp = false;
    for (const v of batch) {
      const cut = delimiter === undefined ? -1 : v.key.indexOf(delimiter, r.prefix.length);
      if (cut >= 0) {
        const common = v.key.slice(0, cut + (delimiter?.length ?? 0));
        commonPrefixes.push(common);
        last = common;
        // The rest of the batch may be under the same prefix: ask again past it.
        after = common + PAST;
        rolledUp = true;
        break;
      }
      contents.push(v);
      last = v.key;
      after = v.key;
    }
    if (!rolledUp && batch.length < remaining) return { contents, commonPrefixes, isTruncated: false, last };
  }
}
