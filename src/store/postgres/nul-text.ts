/**
 * PostgreSQL's `text` cannot hold NUL (U+0000), which a function's output, or the error type it
 * reports, may contain; SQLite keeps it. Such a string is stored twice: exactly, as UTF-8 in a
 * `bytea` column beside its text column, and readably in the text column with each NUL shown
 * as U+FFFD. Any other string is its text column alone (the bytes column NULL), so the common
 * case costs one `includes` and the rows stay readable in psql.
 */

const NUL = "\u0000";
const REPLACEMENT = "\uFFFD";

/** The text column's value and the bytes column's (null: the text is exact). */
export function nulSafe(s: string): [text: string, bytes: Buffer | null] {
  if (!s.includes(NUL)) return [s, null];
  return [s.replaceAll(NUL, REPLACEMENT), Buffer.from(s, "utf8")];
}

/** The string stored by `nulSafe`. */
export function fromNulSafe(text: string, bytes: Buffer | null): string {
  return bytes === null ? text : bytes.toString("utf8");
}
