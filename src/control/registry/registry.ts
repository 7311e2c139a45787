/**
 * The function registry: functions, their immutable versions and aliases. Every write is
 * validated in full before anything is stored, and a deploy stores and pre-downloads the
 * package before the new configuration is committed, so a failed deploy changes nothing.
 */
import { randomUUID } from "node:crypto";
import { type Alias, type FunctionRecord, type FunctionVersion, LATEST } from "../../protocol/function.js";
import { DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S } from "../../protocol/limits.js";
import type { FunctionSandbox } from "../../protocol/sandbox.js";
import type { Clock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import { inspectZip } from "../../shared/zip.js";
import type { CodeStore } from "../code-store.js";
import type { Placement } from "../placement/types.js";
import { buildAlias } from "./aliases.js";
import type { AliasInput, CreateFunctionInput, UpdateCodeInput, UpdateConfigurationInput } from "./inputs.js";
import type { FunctionsRepo } from "./repo.js";
import { Resolver, type Target } from "./resolver.js";
import {
  aliasNotFound,
  checkRevision,
  conflictExists,
  listMarker,
  readListMarker,
  sameConfig,
  versionNotFound,
} from "./rules.js";
import { checkSandbox, type SandboxCapabilities } from "./sandbox-settings.js";
import * as v from "./validate.js";

export type { Target } from "./resolver.js";

export interface RegistryEvents {
  /** A function's instances of `version` (or all) must not serve new invocations. */
  retire(functionName: string, version?: string): void;
  reservationChanged(functionName: string, reserved: number | undefined): void;
  /** An alias was created, pointed elsewhere or deleted. */
  aliasChanged?(functionName: string): void;
  /** A version was published; PublishVersion answers once this settles (its snapshot is built). */
  published?(fn: FunctionVersion): Promise<void>;
}

const DEFAULT_ROLE = "arn:aws:iam::000000000000:role/nimbus-function";

export class Registry {
  readonly #store: FunctionsRepo;
  readonly #code: CodeStore;
  readonly #placement: Placement;
  readonly #clock: Clock;
  readonly #events: RegistryEvents;
  readonly #arn: (name: string, qualifier?: string) => string;
  /** Reads for invocations, from memory; told to forget a function on every write to it. */
  readonly #reads: Resolver;
  readonly #sandboxes: SandboxCapabilities | undefined;

  constructor(deps: {
    store: FunctionsRepo;
    code: CodeStore;
    placement: Placement;
    clock: Clock;
    events: RegistryEvents;
    /** The function's ARN, as Lambda names it in "not found" messages. */
    arn: (name: string, qualifier?: string) => string;
    random?: () => number;
    /** What the platform's sandboxes can do (validates sandbox settings). */
    sandboxes?: SandboxCapabilities;
  }) {
    this.#sandboxes = deps.sandboxes;
    this.#store = deps.store;
    this.#code = deps.code;
    this.#placement = deps.placement;
    this.#clock = deps.clock;
    this.#events = deps.events;
    this.#arn = deps.arn;
    this.#reads = new Resolver(deps.store, deps.arn, deps.random ?? Math.random);
  }

  /** Tells the dispatcher every reservation stored, at start. */
  async load(): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const page = await this.#store.listFunctions(after, 500);
      for (const r of page)
        if (r.reservedConcurrency !== undefined)
          this.#events.reservationChanged(r.name, r.reservedConcurrency);
      if (page.length < 500) break;
      after = page[page.length - 1]!.name;
    }
  }

  async create(input: CreateFunctionInput): Promise<FunctionVersion> {
    const name = v.checkName(input.FunctionName);
    if (input.PackageType !== undefined && input.PackageType !== "Zip") {
      throw v.invalid(
        "packageType",
        input.PackageType,
        "Member must be Zip: container images are not supported",
      );
    }
    const runtime = v.checkRuntime(input.Runtime);
    const handler =
      input.Handler === undefined && runtime.startsWith("provided")
        ? "bootstrap"
        : v.checkHandler(input.Handler);
    const memoryMb = input.MemorySize === undefined ? DEFAULT_MEMORY_MB : v.checkMemory(input.MemorySize);
    const timeoutS = input.Timeout === undefined ? DEFAULT_TIMEOUT_S : v.checkTimeout(input.Timeout);
    const environment = v.checkEnvironment(input.Environment);
    const description = v.checkDescription(input.Description);
    const architecture = v.checkArchitectures(input.Architectures);
    const role = typeof input.Role === "string" && input.Role ? input.Role : DEFAULT_ROLE;
    const deadLetterTarget = await this.#deadLetterTarget(input.DeadLetterConfig, name);
    const snapStart = v.checkSnapStart(input.SnapStart);
    const ephemeralStorageMb =
      input.EphemeralStorage === undefined ? undefined : v.checkEphemeralStorage(input.EphemeralStorage);
    if (await this.#store.getFunction(name)) throw conflictExists(name);
    const pkg = await this.#storeCode(input.Code?.ZipFile, input.Code);
    const now = this.#clock.now();
    const latest: FunctionVersion = {
      functionName: name,
      version: LATEST,
      runtime,
      handler,
      memoryMb,
      timeoutS,
      environment,
      description,
      role,
      ...pkg,
      revisionId: randomUUID(),
      lastModified: now,
      architecture,
      deadLetterTarget,
      ...(snapStart ? { snapStart } : {}),
      ...(ephemeralStorageMb ? { ephemeralStorageMb } : {}),
    };
    if (!(await this.#store.createFunction(latest, now))) throw conflictExists(name);
    this.#reads.forget(name);
    if (input.Publish === true) return this.publish(name, {});
    return latest;
  }

  async #storeCode(
    zipField: unknown,
    code: unknown,
  ): Promise<Pick<FunctionVersion, "packageId" | "codeSha256" | "codeSize">> {
    const zip = v.checkZipFile(zipField, code);
    await inspectZip(zip);
    const stored = await this.#code.put(zip);
    // Pre-download: every worker caches the package before the version can be invoked.
    await Promise.all(this.#placement.workers().map((w) => w.prefetch(stored.packageId)));
    return { packageId: stored.packageId, codeSha256: stored.codeSha256, codeSize: stored.size };
  }

  async updateCode(nameRaw: string, input: UpdateCodeInput): Promise<FunctionVersion> {
    const { name } = v.parseFunctionRef(nameRaw);
    const current = await this.#latest(name);
    checkRevision(current.revisionId, input.RevisionId);
    if (input.Architectures !== undefined) v.checkArchitectures(input.Architectures);
    const pkg = await this.#storeCode(input.ZipFile, input);
    if (input.DryRun === true) return { ...current, ...pkg };
    const next: FunctionVersion = {
      ...current,
      ...pkg,
      revisionId: randomUUID(),
      lastModified: this.#clock.now(),
    };
    await this.#replaceLatest(next, current.revisionId);
    if (input.Publish === true) return this.publish(name, {});
    return next;
  }

  async updateConfiguration(nameRaw: string, input: UpdateConfigurationInput): Promise<FunctionVersion> {
    const { name } = v.parseFunctionRef(nameRaw);
    const current = await this.#latest(name);
    checkRevision(current.revisionId, input.RevisionId);
    const next: FunctionVersion = {
      ...current,
      runtime: input.Runtime === undefined ? current.runtime : v.checkRuntime(input.Runtime),
      handler: input.Handler === undefined ? current.handler : v.checkHandler(input.Handler),
      memoryMb: input.MemorySize === undefined ? current.memoryMb : v.checkMemory(input.MemorySize),
      timeoutS: input.Timeout === undefined ? current.timeoutS : v.checkTimeout(input.Timeout),
      environment:
        input.Environment === undefined ? current.environment : v.checkEnvironment(input.Environment),
      description:
        input.Description === undefined ? current.description : v.checkDescription(input.Description),
      role: typeof input.Role === "string" && input.Role ? input.Role : current.role,
      deadLetterTarget:
        input.DeadLetterConfig === undefined
          ? current.deadLetterTarget
          : await this.#deadLetterTarget(input.DeadLetterConfig, name),
      snapStart: input.SnapStart === undefined ? current.snapStart : v.checkSnapStart(input.SnapStart),
      ephemeralStorageMb:
        input.EphemeralStorage === undefined
          ? current.ephemeralStorageMb
          : v.checkEphemeralStorage(input.EphemeralStorage),
      revisionId: randomUUID(),
      lastModified: this.#clock.now(),
    };
    await this.#replaceLatest(next, current.revisionId);
    return next;
  }

  /** DeadLetterConfig: `{TargetArn}` naming an existing function (or empty to remove it). */
  async #deadLetterTarget(raw: unknown, self: string): Promise<string | undefined> {
    const target = v.checkDeadLetterTarget(raw);
    const targetName = target && v.parseFunctionRef(target).name;
    if (targetName && targetName !== self && !(await this.#store.getFunction(targetName))) {
      throw new NimbusError("InvalidParameter", `The dead-letter target ${target} does not exist.`);
    }
    return target;
  }

  async #replaceLatest(next: FunctionVersion, expected: string): Promise<void> {
    if (!(await this.#store.replaceLatest(next, expected))) {
      throw new NimbusError(
        "PreconditionFailed",
        `The function ${next.functionName} was changed by another request; get it again and retry.`,
      );
    }
    this.#reads.forget(next.functionName);
    this.#events.retire(next.functionName, LATEST);
  }

  async publish(
    nameRaw: string,
    input: { Description?: unknown; CodeSha256?: unknown; RevisionId?: unknown },
  ): Promise<FunctionVersion> {
    const { name } = v.parseFunctionRef(nameRaw);
    const latest = await this.#latest(name);
    checkRevision(latest.revisionId, input.RevisionId);
    if (input.CodeSha256 !== undefined && input.CodeSha256 !== latest.codeSha256) {
      throw new NimbusError(
        "InvalidParameter",
        `CodeSha256 (${String(input.CodeSha256)}) is different from the current $LATEST code (${latest.codeSha256}).`,
      );
    }
    // Lambda publishes nothing when $LATEST is unchanged since the last published version; a
    // match with an older version is a rollback and gets a new number.
    const last = (await this.#store.listVersions(name)).at(-1);
    if (last && last.version !== LATEST && last.codeSha256 === latest.codeSha256 && sameConfig(last, latest))
      return last;
    const description =
      input.Description === undefined ? latest.description : v.checkDescription(input.Description);
    const published = await this.#store.publishVersion(name, (n) => ({
      ...latest,
      version: String(n),
      description,
      revisionId: randomUUID(),
      lastModified: this.#clock.now(),
    }));
    this.#reads.forget(name);
    await this.#events.published?.((await this.#reads.withSandbox(published)) ?? published);
    return published;
  }

  async listVersions(nameRaw: string): Promise<FunctionVersion[]> {
    const { name } = v.parseFunctionRef(nameRaw);
    await this.#reads.record(name);
    return this.#store.listVersions(name);
  }

  async get(
    nameRaw: string,
    qualifierParam?: string,
  ): Promise<{ fn: FunctionVersion; record: FunctionRecord }> {
    const ref = v.parseFunctionRef(nameRaw, qualifierParam);
    const t = await this.resolve(ref.name, ref.qualifier, false);
    return { fn: t.fn, record: t.record };
  }

  async list(
    marker: string | undefined,
    maxItems: number,
  ): Promise<{ fns: FunctionVersion[]; next: string | undefined }> {
    const after = marker === undefined ? undefined : readListMarker(marker);
    const page = await this.#store.listFunctions(after, maxItems + 1);
    const more = page.length > maxItems;
    const fns: FunctionVersion[] = [];
    for (const r of page.slice(0, maxItems)) {
      const fn = await this.#store.getVersion(r.name, LATEST);
      if (fn) fns.push(fn);
    }
    return { fns, next: more ? listMarker(page[maxItems - 1]!.name) : undefined };
  }

  async delete(nameRaw: string, qualifierParam?: string): Promise<void> {
    const ref = v.parseFunctionRef(nameRaw, qualifierParam);
    await this.#reads.record(ref.name);
    if (ref.qualifier !== undefined && ref.qualifier !== LATEST) {
      if (!/^\d+$/.test(ref.qualifier))
        throw v.invalid("qualifier", ref.qualifier, "Member must be a version number to delete a version");
      if (!(await this.#store.getVersion(ref.name, ref.qualifier)))
        throw versionNotFound(this.#arn(ref.name, ref.qualifier));
      const users = (await this.#store.listAliases(ref.name)).filter(
        (a) => a.functionVersion === ref.qualifier || ref.qualifier! in a.additionalVersionWeights,
      );
      if (users.length > 0) {
        throw new NimbusError(
          "Conflict",
          `Unable to delete version because the following aliases reference it: [${users.map((a) => a.name).join(", ")}]`,
        );
      }
      await this.#store.deleteVersion(ref.name, ref.qualifier);
      this.#reads.forget(ref.name);
      this.#events.retire(ref.name, ref.qualifier);
    } else {
      await this.#store.deleteFunction(ref.name);
      this.#reads.forget(ref.name);
      this.#events.retire(ref.name);
      this.#events.reservationChanged(ref.name, undefined);
    }
    await this.#code.collect(await this.#store.referencedPackages(), this.#clock.now());
  }

  /** `unreservedMinimum`: what reservations must leave to the functions without one. */
  async putConcurrency(
    nameRaw: string,
    value: unknown,
    unreservedLeft: number,
    unreservedMinimum: number,
  ): Promise<number> {
    const { name } = v.parseFunctionRef(nameRaw);
    await this.#reads.record(name);
    const n = v.checkReservedConcurrency(value);
    if (n > unreservedLeft - unreservedMinimum) {
      throw new NimbusError(
        "InvalidParameter",
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${unreservedMinimum}]: ${n} requested, ${unreservedLeft} unreserved available`,
      );
    }
    await this.#store.setReservedConcurrency(name, n);
    this.#reads.forget(name);
    this.#events.reservationChanged(name, n);
    return n;
  }

  async deleteConcurrency(nameRaw: string): Promise<void> {
    const { name } = v.parseFunctionRef(nameRaw);
    await this.#reads.record(name);
    await this.#store.setReservedConcurrency(name, undefined);
    this.#reads.forget(name);
    this.#events.reservationChanged(name, undefined);
  }

  /** A function's sandbox settings (the defaults when none are set). */
  async getSandbox(nameRaw: string): Promise<FunctionSandbox> {
    const { name } = v.parseFunctionRef(nameRaw);
    return (await this.#reads.record(name)).sandbox ?? { internet: false, allow: [] };
  }

  /**
   * Sets a function's sandbox settings. Its instances stop (busy ones once their invocation
   * ends): new ones start under the new settings.
   */
  async putSandbox(nameRaw: string, body: Record<string, unknown>): Promise<FunctionSandbox> {
    const { name } = v.parseFunctionRef(nameRaw);
    await this.#reads.record(name);
    if (!this.#sandboxes) throw new NimbusError("InvalidParameter", "this platform has no sandbox settings");
    const settings = checkSandbox(body, this.#sandboxes);
    await this.#store.setSandbox(name, settings);
    this.#reads.forget(name);
    this.#events.retire(name);
    return settings;
  }

  async deleteSandbox(nameRaw: string): Promise<void> {
    const { name } = v.parseFunctionRef(nameRaw);
    await this.#reads.record(name);
    await this.#store.setSandbox(name, undefined);
    this.#reads.forget(name);
    this.#events.retire(name);
  }

  async getConcurrency(nameRaw: string): Promise<number | undefined> {
    const { name } = v.parseFunctionRef(nameRaw);
    return (await this.#reads.record(name)).reservedConcurrency;
  }

  // ── Aliases ─────────────────────────────────────────────────────────────────

  async createAlias(nameRaw: string, input: AliasInput): Promise<Alias> {
    const { name } = v.parseFunctionRef(nameRaw);
    await this.#reads.record(name);
    const alias = await buildAlias(
      this.#store,
      this.#arn,
      name,
      v.checkAliasName(input.Name),
      input,
      undefined,
    );
    if (!(await this.#store.putAlias(alias, null))) {
      throw new NimbusError("Conflict", `Alias already exists: ${alias.name}`);
    }
    this.#reads.forget(name);
    return alias;
  }

  async updateAlias(nameRaw: string, aliasName: string, input: AliasInput): Promise<Alias> {
    const { name } = v.parseFunctionRef(nameRaw);
    const current = await this.getAlias(name, aliasName);
    checkRevision(current.revisionId, input.RevisionId);
    const alias = await buildAlias(this.#store, this.#arn, name, aliasName, input, current);
    if (!(await this.#store.putAlias(alias, current.revisionId))) {
      throw new NimbusError(
        "PreconditionFailed",
        `The alias ${aliasName} was changed by another request; get it again and retry.`,
      );
    }
    this.#reads.forget(name);
    this.#events.aliasChanged?.(name);
    return alias;
  }

  async getAlias(nameRaw: string, aliasName: string): Promise<Alias> {
    const { name } = v.parseFunctionRef(nameRaw);
    await this.#reads.record(name);
    const alias = await this.#store.getAlias(name, aliasName);
    if (!alias) throw aliasNotFound(name, aliasName);
    return alias;
  }

  async listAliases(nameRaw: string): Promise<Alias[]> {
    const { name } = v.parseFunctionRef(nameRaw);
    await this.#reads.record(name);
    return this.#store.listAliases(name);
  }

  async deleteAlias(nameRaw: string, aliasName: string): Promise<void> {
    const { name } = v.parseFunctionRef(nameRaw);
    await this.#reads.record(name);
    await this.#store.deleteAlias(name, aliasName);
    this.#reads.forget(name);
    this.#events.aliasChanged?.(name);
  }

  /** The version an invocation runs: by version, by alias (with weighted routing), or $LATEST. */
  resolve(name: string, qualifier: string | undefined, route = true): Promise<Target> {
    return this.#reads.resolve(name, qualifier, route);
  }

  async #latest(name: string): Promise<FunctionVersion> {
    await this.#reads.record(name);
    const fn = await this.#store.getVersion(name, LATEST);
    if (!fn) throw new NimbusError("NotFound", `Function not found: ${this.#arn(name)}`);
    return fn;
  }
}
