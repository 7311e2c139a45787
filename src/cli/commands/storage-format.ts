/** What `nimbus storage ls` and `storage buckets ls` print. */
import { table } from "../output.js";
import type { BucketEntry, ObjectEntry } from "./storage-ops.js";

const TIME_WIDTH = 19;
const SIZE_WIDTH = 10;

/** An ISO time as the listings show it, in UTC to the second: `2026-12-06 21:15:58`. */
export const listTime = (iso: string): string => iso.slice(0, TIME_WIDTH).replace("T", " ");

/**
 * A page of a listing as `aws s3 ls` prints it: `PRE name/` for each common prefix, then each
 * object's time, size in bytes and name. Names are what follows the prefix's last `/` (as a
 * directory listing shows them), or whole keys when `recursive`.
 */
export function lsLines(
  page: { readonly contents: readonly ObjectEntry[]; readonly prefixes: readonly string[] },
  prefix: string,
  recursive: boolean,
): string {
  const cut = recursive ? 0 : prefix.lastIndexOf("/") + 1;
  const pre = "PRE".padStart(TIME_WIDTH + 1 + SIZE_WIDTH);
  return (
    page.prefixes.map((p) => `${pre} ${p.slice(cut)}\n`).join("") +
    page.contents
      .map((c) => `${listTime(c.LastModified)} ${String(c.Size).padStart(SIZE_WIDTH)} ${c.Key.slice(cut)}\n`)
      .join("")
  );
}

/** Buckets by name with the time each was created. */
export function bucketsTable(buckets: readonly BucketEntry[]): string {
  return table(
    ["NAME", "CREATED"],
    buckets.map((b) => [b.Name, listTime(b.CreationDate)]),
  );
}
