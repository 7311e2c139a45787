/**
 * The function registry: functions, their immutable versions and aliases. Every write is
 * validated in full before anything is stored, and a deploy stores and pre-downloads the
 * package before the new configuration is committed, so a failed deploy changes nothing.
 */
import { randomUUID } from "node:crypto";
import {
  type Alias,
  type FunctionRecord,
  type FunctionVersion,
  LATEST,
  runtimeKind,
} from "../../protocol/function.js";
import { DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S } from "../../protocol/limits.js";
import type { FunctionSandbox } from "../../protocol/sandbox.js";
import type { Clock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import { inspectZip } from "../../shared/zip.js";
import { checkTargetQueue, isQueueArn, type TargetQueues } from "../async/queue-targets.js";
import type { CodeStore } from "../code-store.js";
import type { Placement } from "../placement/types.js";
import { buildAlias } from "./aliases.js";
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
import type {
  AliasPatch,
  AliasSpec,
  CodeSource,
  CodeUpdate,
  FunctionPatch,
  FunctionSpec,
  PublishSpec,
  SandboxSpec,
} from "./spec.js";
import { FunctionTags } from "./tags.js";
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
  /** A function was created, changed (its configuration or code) or deleted, for the platform's own events. */
  lifecycle?(change: FunctionLifecycle): void;
}

export interface FunctionLifecycle {
  readonly kind: "created" | "updated" | "deleted";
  readonly functionName: string;
  /** The version deleted, when one version was. */
  readonly version?: string | undefined;
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
  readonly #queues: TargetQueues | undefined;
  /** Functions' tags: ListTags, TagResource, UntagResource. */
  readonly tags: FunctionTags;

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
    /** The platform's queues: a dead-letter target may be one. */
    queues?: TargetQueues;
  }) {
    this.#sandboxes = deps.sandboxes;
    this.#queues = deps.queues;
    this.#store = deps.store;
    this.#code = deps.code;
    this.#placement = deps.placement;
    this.#clock = deps.clock;
    this.#events = deps.events;
    this.#arn = deps.arn;
    this.#reads = new Resolver(deps.store, deps.arn, deps.random ?? Math.random);
    this.tags = new FunctionTags(deps.store, deps.arn, (name) => this.#reads.forget(name));
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

  async create(spec: FunctionSpec): Promise<FunctionVersion> {
    const name = spec.functionName;
    const handler =
      spec.handler === undefined && runtimeKind(spec.runtime) === "custom" ? "bootstrap" : spec.handler;
    const environment = spec.environment ?? {};
    const description = spec.description ?? "";
    v.report(
      v.functionName(name),
      v.runtime(spec.runtime),
      v.handler(handler),
      spec.memoryMb === undefined ? undefined : v.memoryMb(spec.memoryMb),
      spec.timeoutS === undefined ? undefined : v.timeoutS(spec.timeoutS),
      v.environment(environment),
      v.description(description),
      spec.architecture === undefined ? undefined : v.architecture(spec.architecture),
      spec.ephemeralStorageMb === undefined ? undefined : v.ephemeralStorageMb(spec.ephemeralStorageMb),
      v.tags(spec.tags ?? {}),
      v.tagCount(spec.tags ?? {}),
    );
    const deadLetterTarget = await this.#deadLetterTarget(spec.deadLetterTarget, name);
    if (await this.#store.getFunction(name)) throw conflictExists(name);
    const pkg = await this.#storeCode(spec.code);
    const now = this.#clock.now();
    const latest: FunctionVersion = {
      functionName: name,
      version: LATEST,
      runtime: spec.runtime,
      handler: handler!,
      memoryMb: spec.memoryMb ?? DEFAULT_MEMORY_MB,
      timeoutS: spec.timeoutS ?? DEFAULT_TIMEOUT_S,
      environment: { ...environment },
      description,
      role: spec.role || DEFAULT_ROLE,
      ...pkg,
      revisionId: randomUUID(),
      lastModified: now,
      architecture: v.HOST_ARCHITECTURE,
      deadLetterTarget,
      ...(spec.snapStart ? { snapStart: spec.snapStart } : {}),
      ...(spec.ephemeralStorageMb ? { ephemeralStorageMb: spec.ephemeralStorageMb } : {}),
    };
    if (!(await this.#store.createFunction(latest, now, spec.tags))) throw conflictExists(name);
    this.#reads.forget(name);
    this.#events.lifecycle?.({ kind: "created", functionName: name });
    if (spec.publish === true) return this.publish(name, {});
    return latest;
  }

  async #storeCode(
    code: CodeSource,
  ): Promise<Pick<FunctionVersion, "packageId" | "codeSha256" | "codeSize">> {
    const zip = code.kind === "zip" ? code.zip : await this.#package(code.packageId);
    await inspectZip(zip);
    const stored = await this.#code.put(zip);
    // Pre-download: every worker caches the package before the version can be invoked.
    await Promise.all(this.#placement.workers().map((w) => w.prefetch(stored.packageId)));
    return { packageId: stored.packageId, codeSha256: stored.codeSha256, codeSize: stored.size };
  }

  /** A package the code store holds, by id. */
  async #package(packageId: string): Promise<Buffer> {
    try {
      return await this.#code.read(packageId);
    } catch {
      throw new NimbusError("InvalidParameter", `package ${packageId} is not stored: upload it first`, {}, [
        v.problem("code.packageId", packageId, "exists", "name a stored package"),
      ]);
    }
  }

  async updateCode(name: string, update: CodeUpdate): Promise<FunctionVersion> {
    const current = await this.#latest(name);
    checkRevision(current.revisionId, update.expectedRevision);
    v.report(update.architecture === undefined ? undefined : v.architecture(update.architecture));
    const pkg = await this.#storeCode(update.code);
    if (update.dryRun === true) return { ...current, ...pkg };
    const next: FunctionVersion = {
      ...current,
      ...pkg,
      revisionId: randomUUID(),
      lastModified: this.#clock.now(),
    };
    await this.#replaceLatest(next, current.revisionId);
    if (update.publish === true) return this.publish(name, {});
    return next;
  }

  async updateConfiguration(name: string, patch: FunctionPatch): Promise<FunctionVersion> {
    const current = await this.#latest(name);
    checkRevision(current.revisionId, patch.expectedRevision);
    v.report(
      patch.runtime === undefined ? undefined : v.runtime(patch.runtime),
      patch.handler === undefined ? undefined : v.handler(patch.handler),
      patch.memoryMb === undefined ? undefined : v.memoryMb(patch.memoryMb),
      patch.timeoutS === undefined ? undefined : v.timeoutS(patch.timeoutS),
      patch.environment === undefined ? undefined : v.environment(patch.environment),
      patch.description === undefined ? undefined : v.description(patch.description),
      patch.ephemeralStorageMb === undefined ? undefined : v.ephemeralStorageMb(patch.ephemeralStorageMb),
    );
    const next: FunctionVersion = {
      ...current,
      runtime: patch.runtime ?? current.runtime,
      handler: patch.handler ?? current.handler,
      memoryMb: patch.memoryMb ?? current.memoryMb,
      timeoutS: patch.timeoutS ?? current.timeoutS,
      environment: patch.environment === undefined ? current.environment : { ...patch.environment },
      description: patch.description ?? current.description,
      role: patch.role || current.role,
      deadLetterTarget:
        patch.deadLetterTarget === undefined
          ? current.deadLetterTarget
          : await this.#deadLetterTarget(patch.deadLetterTarget ?? undefined, name),
      snapStart: patch.snapStart === undefined ? current.snapStart : (patch.snapStart ?? undefined),
      ephemeralStorageMb: patch.ephemeralStorageMb ?? current.ephemeralStorageMb,
      revisionId: randomUUID(),
      lastModified: this.#clock.now(),
    };
    await this.#replaceLatest(next, current.revisionId);
    return next;
  }

  /** The stored dead-letter target (a function's ARN, or a queue's) of `target`, which must exist. */
  async #deadLetterTarget(target: string | undefined, self: string): Promise<string | undefined> {
    if (target === undefined) return undefined;
    if (isQueueArn(target)) {
      const subject = `The dead-letter target ${target}`;
      return checkTargetQueue(this.#queues, target, "deadLetterTarget", subject, "dead-letter queues");
    }
    v.report(v.functionName(target, "deadLetterTarget"));
    if (target !== self && !(await this.#store.getFunction(target))) {
      throw new NimbusError("InvalidParameter", `The dead-letter target ${target} does not exist.`, {}, [
        v.problem("deadLetterTarget", target, "exists", "name an existing function"),
      ]);
    }
    return this.#arn(target);
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
    this.#events.lifecycle?.({ kind: "updated", functionName: next.functionName });
  }

  async publish(name: string, spec: PublishSpec): Promise<FunctionVersion> {
    const latest = await this.#latest(name);
    checkRevision(latest.revisionId, spec.expectedRevision);
    v.report(spec.description === undefined ? undefined : v.description(spec.description));
    if (spec.codeSha256 !== undefined && spec.codeSha256 !== latest.codeSha256) {
      throw new NimbusError(
        "InvalidParameter",
        `CodeSha256 (${spec.codeSha256}) is different from the current $LATEST code (${latest.codeSha256}).`,
        {},
        [v.problem("codeSha256", spec.codeSha256, "consistent", `be $LATEST's, ${latest.codeSha256}`)],
      );
    }
    // Lambda publishes nothing when $LATEST is unchanged since the last published version; a
    // match with an older version is a rollback and gets a new number.
    const last = (await this.#store.listVersions(name)).at(-1);
    if (last && last.version !== LATEST && last.codeSha256 === latest.codeSha256 && sameConfig(last, latest))
      return last;
    const description = spec.description ?? latest.description;
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

  async listVersions(name: string): Promise<FunctionVersion[]> {
    await this.#reads.record(name);
    return this.#store.listVersions(name);
  }

  /** A version, by number, alias or ($LATEST when `qualifier` is undefined), without routing. */
  async get(name: string, qualifier?: string): Promise<{ fn: FunctionVersion; record: FunctionRecord }> {
    const t = await this.resolve(name, qualifier, false);
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

  /** Deletes the function, or only its version `qualifier` (a published number). */
  async delete(name: string, qualifier?: string): Promise<void> {
    await this.#reads.record(name);
    if (qualifier !== undefined && qualifier !== LATEST) {
      if (!v.isVersionNumber(qualifier))
        throw v.invalid("qualifier", qualifier, "be a version number to delete a version", "pattern");
      if (!(await this.#store.getVersion(name, qualifier))) throw versionNotFound(this.#arn(name, qualifier));
      const users = (await this.#store.listAliases(name)).filter(
        (a) => a.functionVersion === qualifier || qualifier in a.additionalVersionWeights,
      );
      if (users.length > 0) {
        throw new NimbusError(
          "Conflict",
          `Unable to delete version because the following aliases reference it: [${users.map((a) => a.name).join(", ")}]`,
        );
      }
      await this.#store.deleteVersion(name, qualifier);
      this.#reads.forget(name);
      this.#events.retire(name, qualifier);
      this.#events.lifecycle?.({ kind: "deleted", functionName: name, version: qualifier });
    } else {
      await this.#store.deleteFunction(name);
      this.#reads.forget(name);
      this.#events.retire(name);
      this.#events.reservationChanged(name, undefined);
      this.#events.lifecycle?.({ kind: "deleted", functionName: name });
    }
    await this.#code.collect(await this.#store.referencedPackages(), this.#clock.now());
  }

  /**
   * Reserves `reserved` instances for the function. `unreservedMinimum`: what reservations
   * must leave to the functions without one.
   */
  async putConcurrency(
    name: string,
    reserved: number,
    unreservedLeft: number,
    unreservedMinimum: number,
  ): Promise<number> {
    await this.#reads.record(name);
    v.report(v.reservedConcurrency(reserved));
    if (reserved > unreservedLeft - unreservedMinimum) {
      throw new NimbusError(
        "InvalidParameter",
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${unreservedMinimum}]: ${reserved} requested, ${unreservedLeft} unreserved available`,
        {},
        [
          v.problem(
            "reservedConcurrency",
            reserved,
            "available",
            `leave at least ${unreservedMinimum} of the ${unreservedLeft} unreserved to the functions without a reservation`,
          ),
        ],
      );
    }
    await this.#store.setReservedConcurrency(name, reserved);
    this.#reads.forget(name);
    this.#events.reservationChanged(name, reserved);
    return reserved;
  }

  async deleteConcurrency(name: string): Promise<void> {
    await this.#reads.record(name);
    await this.#store.setReservedConcurrency(name, undefined);
    this.#reads.forget(name);
    this.#events.reservationChanged(name, undefined);
  }

  /** A function's sandbox settings (the defaults when none are set). */
  async getSandbox(name: string): Promise<FunctionSandbox> {
    return (await this.#reads.record(name)).sandbox ?? { internet: false, allow: [] };
  }

  /**
   * Sets a function's sandbox settings. Its instances stop (busy ones once their invocation
   * ends): new ones start under the new settings.
   */
  async putSandbox(name: string, spec: SandboxSpec): Promise<FunctionSandbox> {
    await this.#reads.record(name);
    if (!this.#sandboxes) throw new NimbusError("InvalidParameter", "this platform has no sandbox settings");
    const settings = checkSandbox(spec, this.#sandboxes);
    await this.#store.setSandbox(name, settings);
    this.#reads.forget(name);
    this.#events.retire(name);
    return settings;
  }

  async deleteSandbox(name: string): Promise<void> {
    await this.#reads.record(name);
    await this.#store.setSandbox(name, undefined);
    this.#reads.forget(name);
    this.#events.retire(name);
  }

  async getConcurrency(name: string): Promise<number | undefined> {
    return (await this.#reads.record(name)).reservedConcurrency;
  }

  // ── Aliases ─────────────────────────────────────────────────────────────────

  async createAlias(name: string, spec: AliasSpec): Promise<Alias> {
    await this.#reads.record(name);
    const alias = await buildAlias(this.#store, this.#arn, name, spec.name, spec, undefined);
    if (!(await this.#store.putAlias(alias, null))) {
      throw new NimbusError("Conflict", `Alias already exists: ${alias.name}`);
    }
    this.#reads.forget(name);
    return alias;
  }

  async updateAlias(name: string, aliasName: string, patch: AliasPatch): Promise<Alias> {
    const current = await this.getAlias(name, aliasName);
    checkRevision(current.revisionId, patch.expectedRevision);
    const alias = await buildAlias(this.#store, this.#arn, name, aliasName, patch, current);
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

  async getAlias(name: string, aliasName: string): Promise<Alias> {
    await this.#reads.record(name);
    const alias = await this.#store.getAlias(name, aliasName);
    if (!alias) throw aliasNotFound(name, aliasName);
    return alias;
  }

  async listAliases(name: string): Promise<Alias[]> {
    await this.#reads.record(name);
    return this.#store.listAliases(name);
  }

  async deleteAlias(name: string, aliasName: string): Promise<void> {
    await this.#reads.record(name);
    await this.#store.deleteAlias(name, aliasName);
    this.#reads.forget(name);
    this.#events.aliasChanged?.(name);
  }

  /** The ARN that stored references to a function (a version or alias of it) hold: dead-letter targets, destinations. */
  arn(name: string, qualifier?: string): string {
    return this.#arn(name, qualifier);
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
