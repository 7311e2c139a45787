/**
 * The SQL of `sqlite-storage.ts`: its inserts (every column by name, from `storage-row.ts`), the
 * key-range conditions of its listings, and a version's row as SQLite binds it.
 */
import type { ObjectVersionRecord } from "../services/storage/model.js";
import {
  BUCKET_COLUMNS,
  EVENT_COLUMNS,
  type KeyRange,
  PART_COLUMNS,
  PART_UPDATED_COLUMNS,
  UPLOAD_COLUMNS,
  VERSION_COLUMNS,
  versionRow,
} from "./storage-row.js";

/** `INSERT` of every column by name; `onConflict` (SQL) follows it. */
export function insertSql(table: string, columns: readonly string[], onConflict = ""): string {
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")}) ${onConflict}`;
}

export const INSERT_BUCKET = insertSql("storage_buckets", BUCKET_COLUMNS, "ON CONFLICT DO NOTHING");
export const INSERT_VERSION = `${insertSql("storage_versions", [...VERSION_COLUMNS, "is_latest"])} RETURNING seq`;
export const INSERT_UPLOAD = insertSql("storage_uploads", UPLOAD_COLUMNS);
export const UPSERT_PART = insertSql(
  "storage_parts",
  PART_COLUMNS,
  `ON CONFLICT (upload_id, part_number) DO UPDATE SET ${PART_UPDATED_COLUMNS.map((c) => `${c} = excluded.${c}`).join(", ")}`,
);
export const INSERT_EVENT = insertSql("storage_events", EVENT_COLUMNS);

/** The seq of a key's newest version (a subquery over `@bucket`, `@key`). */
export const NEWEST_OF_KEY =
  "(SELECT seq FROM storage_versions WHERE bucket = @bucket AND key = @key ORDER BY seq DESC LIMIT 1)";

/** The condition of `range` on `key`, over the parameters `@from` and `@to`. */
export function rangeSql(range: KeyRange): string {
  return `key ${range.inclusive ? ">=" : ">"} @from${range.to === undefined ? "" : " AND key < @to"}`;
}

/** The parameters of `range`'s condition. */
export function rangeParams(range: KeyRange): { from: string; to?: string } {
  return range.to === undefined ? { from: range.from } : { from: range.from, to: range.to };
}

/** A version's row as SQLite binds it (flags as 0/1). */
export const boundVersion = (v: ObjectVersionRecord) => ({
  ...versionRow(v),
  is_delete_marker: v.isDeleteMarker ? 1 : 0,
  is_latest: 1,
});
