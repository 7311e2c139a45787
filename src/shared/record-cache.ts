/**
 * A repository's records cached in front of it, by name: the one read a request makes of the
 * thing it addresses (a bucket, a queue) answered from memory while fresh. A change made through
 * the cached repository invalidates its entry at once (before and after the write, and a read
 * that began before a change does not store what it read); one made by another node of a
 * cluster is seen once the entry is older than `ttlMs`. Every other method passes through.
 */
import type { Clock } from "./clock.js";

/** A platform with more records than this reads the rest from the store each time. */
const MAX_CACHED = 10_000;

export interface RecordCacheOptions<R> {
  /** The method reading one record by its name. */
  readonly get: keyof R;
  /** The methods that change a record: each takes its name, or the record with a `name`, first. */
  readonly changes: readonly (keyof R)[];
  readonly clock: Clock;
  readonly ttlMs: number;
}

export function withRecordCache<R extends object>(repo: R, o: RecordCacheOptions<R>): R {
  const entries = new Map<string, { record: unknown; at: number }>();
  /** Bumped by every change: a read that began before it does not store what it read. */
  let generation = 0;
  const invalidate = (name: string) => {
    generation++;
    entries.delete(name);
  };
  const read = (repo[o.get] as (name: string) => Promise<unknown>).bind(repo);
  const get = async (name: string): Promise<unknown> => {
    const hit = entries.get(name);
    if (hit !== undefined && o.clock.now() - hit.at < o.ttlMs) return hit.record;
    const began = generation;
    const record = await read(name);
    if (record !== undefined && began === generation) {
      if (entries.size >= MAX_CACHED) entries.delete(entries.keys().next().value!);
      entries.set(name, { record, at: o.clock.now() });
    }
    return record;
  };
  const changes = new Set<PropertyKey>(o.changes);
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(repo, {
    get(target, prop) {
      if (prop === o.get) return get;
      let fn = bound.get(prop);
      if (fn !== undefined) return fn;
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      fn = changes.has(prop)
        ? async (first: string | { readonly name: string }, ...rest: unknown[]) => {
            const name = typeof first === "string" ? first : first.name;
            invalidate(name);
            try {
              return await method.call(target, first, ...rest);
            } finally {
              invalidate(name);
            }
          }
        : method.bind(target);
      bound.set(prop, fn);
      return fn;
    },
  });
}
