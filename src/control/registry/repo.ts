/**
 * The registry's storage: functions with their $LATEST, published versions and aliases, and
 * the function-wide settings (reserved concurrency, sandbox). Every update of $LATEST or an
 * alias is conditional on the revision the caller read, so concurrent updates cannot
 * overwrite each other unseen.
 */
import type { Alias, FunctionRecord, FunctionVersion } from "../../protocol/function.js";
import type { FunctionSandbox } from "../../protocol/sandbox.js";

/** What GetAccountSettings reports as used. */
export interface AccountUsage {
  readonly functionCount: number;
  /** Bytes: each version's package ($LATEST and published), even where versions share one. */
  readonly totalCodeSize: number;
}

export interface FunctionsRepo {
  getFunction(name: string): Promise<FunctionRecord | undefined>;
  /** Functions in name order, starting after `afterName`. */
  listFunctions(afterName: string | undefined, limit: number): Promise<FunctionRecord[]>;
  /** Creates the function with its $LATEST version (and tags) in one transaction; false if it exists. */
  createFunction(
    latest: FunctionVersion,
    createdAt: number,
    tags?: Readonly<Record<string, string>>,
  ): Promise<boolean>;
  /**
   * Replaces $LATEST if its revision is still `expectedRevision`; false otherwise. Used for
   * every update so concurrent updates cannot overwrite each other unseen.
   */
  replaceLatest(next: FunctionVersion, expectedRevision: string): Promise<boolean>;
  /** Publishes a copy of $LATEST as the next version number, atomically. */
  publishVersion(functionName: string, make: (number: number) => FunctionVersion): Promise<FunctionVersion>;
  getVersion(functionName: string, version: string): Promise<FunctionVersion | undefined>;
  listVersions(functionName: string): Promise<FunctionVersion[]>;
  deleteVersion(functionName: string, version: string): Promise<void>;
  /** Deletes the function, its versions and aliases. */
  deleteFunction(name: string): Promise<boolean>;
  setReservedConcurrency(name: string, value: number | undefined): Promise<void>;
  /** Sets or (undefined) clears a function's sandbox settings. */
  setSandbox(name: string, value: FunctionSandbox | undefined): Promise<void>;
  /**
   * Replaces a function's tags with what `change` makes of the current ones, atomically (two
   * concurrent changes both apply); `change` may throw to refuse. Undefined if there is no
   * such function.
   */
  updateTags(
    name: string,
    change: (current: Readonly<Record<string, string>>) => Record<string, string>,
  ): Promise<Record<string, string> | undefined>;
  getAlias(functionName: string, name: string): Promise<Alias | undefined>;
  listAliases(functionName: string): Promise<Alias[]>;
  /** Inserts when `expectedRevision` is null (false if it exists), else replaces if it matches. */
  putAlias(alias: Alias, expectedRevision: string | null): Promise<boolean>;
  deleteAlias(functionName: string, name: string): Promise<void>;
  /** Every package id a function version still references. */
  referencedPackages(): Promise<Set<string>>;
  /** How many functions there are, and the code size of every version summed, as Lambda counts storage. */
  accountUsage(): Promise<AccountUsage>;
}
