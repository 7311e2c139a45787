/**
 * Functions' tags (Lambda's ListTags, TagResource, UntagResource; a template deploy's record of
 * which stack made a function). Tags belong to the function, not to a version, and change
 * nothing an invocation sees.
 */
import { NimbusError } from "../../shared/errors.js";
import type { FunctionsRepo } from "./repo.js";
import * as v from "./validate.js";

type Tags = Record<string, string>;

export class FunctionTags {
  readonly #store: FunctionsRepo;
  readonly #arn: (name: string) => string;
  readonly #forget: (name: string) => void;

  /** `forget`: drops the function from the invocation cache, whose records carry the tags. */
  constructor(store: FunctionsRepo, arn: (name: string) => string, forget: (name: string) => void) {
    this.#store = store;
    this.#arn = arn;
    this.#forget = forget;
  }

  /** A function's tags, read from the store (not the invocation cache): another node may have changed them. */
  async list(name: string): Promise<Tags> {
    const record = await this.#store.getFunction(name);
    if (!record) throw this.#notFound(name);
    return { ...record.tags };
  }

  /** Adds tags to a function, or changes their values; at most 50 in all once added. */
  async add(name: string, tags: Readonly<Tags>): Promise<Tags> {
    v.report(v.tags(tags));
    return this.#update(name, (current) => {
      const next = { ...current, ...tags };
      v.report(v.tagCount(next));
      return next;
    });
  }

  /** Removes tags by key; keys the function does not have are ignored. */
  async remove(name: string, keys: readonly string[]): Promise<Tags> {
    return this.#update(name, (current) =>
      Object.fromEntries(Object.entries(current).filter(([k]) => !keys.includes(k))),
    );
  }

  async #update(name: string, change: (current: Readonly<Tags>) => Tags): Promise<Tags> {
    const next = await this.#store.updateTags(name, change);
    if (!next) throw this.#notFound(name);
    this.#forget(name);
    return next;
  }

  #notFound(name: string): NimbusError {
    return new NimbusError("NotFound", `Function not found: ${this.#arn(name)}`);
  }
}
