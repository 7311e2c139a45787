/**
 * A batch request's entries, checked as SQS checks them before any entry runs: 1 to 10, each
 * with an `Id` of up to 80 letters, digits, `-` and `_`, no two alike.
 */
import { SqsError } from "./errors.js";

export const MAX_BATCH_ENTRIES = 10;
const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

export interface Batch<E> {
  readonly entries: ReadonlyArray<{ readonly id: string; readonly entry: E }>;
}

export function batchOf<E>(entries: unknown): Batch<E> {
  if (!Array.isArray(entries) || entries.length === 0)
    throw new SqsError("EmptyBatchRequest", "There should be at least one entry in the request (Entries).");
  if (entries.length > MAX_BATCH_ENTRIES)
    throw new SqsError(
      "TooManyEntriesInBatchRequest",
      `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
    );
  const seen = new Set<string>();
  const out: Array<{ id: string; entry: E }> = [];
  for (const entry of entries as Array<Record<string, unknown>>) {
    const id = entry?.Id;
    if (typeof id !== "string" || !ENTRY_ID.test(id))
      throw new SqsError(
        "InvalidBatchEntryId",
        `A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long (got ${JSON.stringify(id)}).`,
      );
    if (seen.has(id)) throw new SqsError("BatchEntryIdsNotDistinct", `Id ${id} repeated.`);
    seen.add(id);
    out.push({ id, entry: entry as E });
  }
  return { entries: out };
}
