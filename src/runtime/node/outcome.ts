/** How a handler's invocation ended, as the runtime hands it on; shared by plain and streaming handlers. */
export type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
