/** The registry's rows, as both stores keep them (same columns), and what they read as. */
import type { FunctionRecord, FunctionVersion } from "../protocol/function.js";
import type { FunctionSandbox } from "../protocol/sandbox.js";

export interface FunctionRow {
  name: string;
  reserved_concurrency: number | null;
  created_at: number;
  last_version: number;
  sandbox: string | null;
  /** JSON; NULL when the function has no tags. */
  tags: string | null;
}

/** A version's stored body: its sandbox settings belong to the function, not to the version. */
export function versionBody(v: FunctionVersion): string {
  const { sandbox: _, ...body } = v;
  return JSON.stringify(body);
}

export function toRecord(row: FunctionRow): FunctionRecord {
  return {
    name: row.name,
    reservedConcurrency: row.reserved_concurrency ?? undefined,
    createdAt: row.created_at,
    lastVersion: row.last_version,
    ...(row.sandbox ? { sandbox: JSON.parse(row.sandbox) as FunctionSandbox } : {}),
    ...(row.tags ? { tags: JSON.parse(row.tags) as Record<string, string> } : {}),
  };
}

/** Tags as stored: none is NULL, so that a function without tags reads back without the key. */
export function tagsColumn(tags: Readonly<Record<string, string>> | undefined): string | null {
  return tags === undefined || Object.keys(tags).length === 0 ? null : JSON.stringify(tags);
}
