/**
 * A command line the user must change: a bad option value, a missing argument, a contradiction.
 * The CLI exits 2 for it and 1 for everything else, so scripts can tell "I called it wrong" from
 * "it failed". (The platform's errors have their own catalogue; none of them is a usage error.)
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
