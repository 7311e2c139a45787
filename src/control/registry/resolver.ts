/**
 * Reads of the registry as invocations make them, served from memory after the first: a
 * function's record, its versions (with the function's sandbox settings, as instances run them)
 * and aliases. The registry forgets a function's entries on every write to it.
 */
import { type Alias, type FunctionRecord, type FunctionVersion, LATEST } from "../../protocol/function.js";
import { NimbusError } from "../../shared/errors.js";
import type { FunctionsRepo } from "./repo.js";
import { aliasNotFound, versionNotFound } from "./rules.js";

/** A resolved invocation target. */
export interface Target {
  readonly fn: FunctionVersion;
  readonly record: FunctionRecord;
  /** The qualifier the caller used, if any (for the invoked ARN). */
  readonly qualifier: string | undefined;
}

export class Resolver {
  readonly #store: FunctionsRepo;
  readonly #arn: (name: string, qualifier?: string) => string;
  readonly #random: () => number;
  /** Versions by `name\0version`, aliases by `name\0alias`, records by name. */
  readonly #versions = new Map<string, FunctionVersion>();
  readonly #aliases = new Map<string, Alias>();
  readonly #records = new Map<string, FunctionRecord>();

  constructor(store: FunctionsRepo, arn: (name: string, qualifier?: string) => string, random: () => number) {
    this.#store = store;
    this.#arn = arn;
    this.#random = random;
  }

  /** The version an invocation runs: by version, by alias (with weighted routing), or $LATEST. */
  async resolve(name: string, qualifier: string | undefined, route = true): Promise<Target> {
    const record = await this.record(name);
    const q = qualifier ?? LATEST;
    if (q === LATEST || /^\d+$/.test(q)) {
      const fn = await this.version(name, q);
      if (!fn) throw versionNotFound(this.#arn(name, q));
      return { fn, record, qualifier };
    }
    const alias = await this.alias(name, q);
    let version = alias.functionVersion;
    if (route) {
      for (const [ver, weight] of Object.entries(alias.additionalVersionWeights)) {
        if (this.#random() < weight) version = ver;
      }
    }
    const fn = await this.version(name, version);
    if (!fn) throw versionNotFound(this.#arn(name, version));
    return { fn, record, qualifier };
  }

  async alias(name: string, aliasName: string): Promise<Alias> {
    const key = `${name}\u0000${aliasName}`;
    let alias = this.#aliases.get(key);
    if (!alias) {
      alias = await this.#store.getAlias(name, aliasName);
      if (!alias) throw aliasNotFound(name, aliasName);
      this.#aliases.set(key, alias);
    }
    return alias;
  }

  async version(name: string, version: string): Promise<FunctionVersion | undefined> {
    const key = `${name}\u0000${version}`;
    let fn = this.#versions.get(key);
    if (!fn) {
      fn = await this.withSandbox(await this.#store.getVersion(name, version));
      if (fn) this.#versions.set(key, fn);
    }
    return fn;
  }

  /** The version as instances run it: with its function's sandbox settings. */
  async withSandbox(fn: FunctionVersion | undefined): Promise<FunctionVersion | undefined> {
    if (!fn) return fn;
    const { sandbox } = await this.record(fn.functionName);
    return sandbox ? { ...fn, sandbox } : fn;
  }

  async record(name: string): Promise<FunctionRecord> {
    let r = this.#records.get(name);
    if (!r) {
      r = await this.#store.getFunction(name);
      if (!r) throw new NimbusError("NotFound", `Function not found: ${this.#arn(name)}`);
      this.#records.set(name, r);
    }
    return r;
  }

  /** Drops what is held of `name`: the next read goes to the store. */
  forget(name: string): void {
    this.#records.delete(name);
    const prefix = `${name}\u0000`;
    for (const k of this.#versions.keys()) if (k.startsWith(prefix)) this.#versions.delete(k);
    for (const k of this.#aliases.keys()) if (k.startsWith(prefix)) this.#aliases.delete(k);
  }
}
