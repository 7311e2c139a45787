/**
 * Lambda's provisioned concurrency (Put/Get/Delete/ListProvisionedConcurrencyConfigs): for a
 * published version or an alias, N instances initialised ahead and kept. The configurations
 * are stored; the dispatcher keeps the instances (`Dispatcher.setProvisioned`), per version:
 * an alias's provisioned instances are instances of the version it points to, and move when
 * the alias does. Status is IN_PROGRESS until all are initialised, then READY; FAILED when an
 * init failed (with the reason), until the configuration is put again.
 */
import { type FunctionVersion, LATEST, versionKey } from "../protocol/function.js";
import type { Clock } from "../shared/clock.js";
import { NimbusError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import type { Dispatcher } from "./dispatcher.js";
import type { ProvisionedConfig, ProvisionedRepo } from "./provisioned-repo.js";
import type { Registry } from "./registry/registry.js";
import * as v from "./registry/validate.js";

export type ProvisionedStatus = "IN_PROGRESS" | "READY" | "FAILED";

export interface ProvisionedView extends ProvisionedConfig {
  /** Initialised instances (idle or busy) of the version the qualifier points to. */
  readonly allocated: number;
  readonly status: ProvisionedStatus;
  readonly statusReason: string | undefined;
}

export class ProvisionedConcurrency {
  readonly #store: ProvisionedRepo;
  readonly #registry: Registry;
  readonly #dispatcher: Dispatcher;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #accountConcurrency: number;
  /** What the dispatcher was last asked to keep, per version: to set it back to 0 when dropped. */
  #applied = new Map<string, FunctionVersion>();

  constructor(deps: {
    store: ProvisionedRepo;
    registry: Registry;
    dispatcher: Dispatcher;
    clock: Clock;
    logger: Logger;
    accountConcurrency: number;
  }) {
    this.#store = deps.store;
    this.#registry = deps.registry;
    this.#dispatcher = deps.dispatcher;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#accountConcurrency = deps.accountConcurrency;
  }

  /** Keeps `requested` instances of the version `qualifier` (a number or an alias) initialised. */
  async put(name: string, qualifier: string | undefined, requested: number): Promise<ProvisionedView> {
    const { fn, qualifier: q } = await this.#target(name, qualifier);
    const limit = this.#accountConcurrency - this.#dispatcher.unreservedMinimum();
    if (!Number.isInteger(requested) || requested < 1 || requested > limit) {
      throw v.invalid(
        "provisionedConcurrency",
        requested,
        `be an integer from 1 to ${limit} (the platform's concurrency less what stays unreserved)`,
      );
    }
    const reserved = await this.#registry.getConcurrency(name);
    if (reserved !== undefined && requested > reserved) {
      throw new NimbusError(
        "InvalidParameter",
        `Requested Provisioned Concurrency (${requested}) should not be greater than the reservedConcurrentExecution for function (${reserved}).`,
      );
    }
    await this.#store.putProvisionedConfig({
      functionName: name,
      qualifier: q,
      requested,
      lastModified: this.#clock.now(),
    });
    await this.apply();
    return this.#view((await this.#find(name, q))!, fn);
  }

  async get(name: string, qualifier: string | undefined): Promise<ProvisionedView> {
    const { fn, qualifier: q } = await this.#target(name, qualifier);
    const config = await this.#find(name, q);
    if (!config) throw notFound();
    return this.#view(config, fn);
  }

  async delete(name: string, qualifier: string | undefined): Promise<void> {
    const { qualifier: q } = await this.#target(name, qualifier);
    if (!(await this.#store.deleteProvisionedConfig(name, q))) throw notFound();
    await this.apply();
  }

  async list(name: string): Promise<ProvisionedView[]> {
    await this.#registry.resolve(name, undefined, false);
    const views: ProvisionedView[] = [];
    for (const config of await this.#store.listProvisionedConfigs(name)) {
      const fn = await this.#resolve(config);
      if (fn) views.push(this.#view(config, fn));
    }
    return views;
  }

  /**
   * Tells the dispatcher what to keep for every stored configuration: at start, and after
   * anything that changes them or what their qualifiers point to (an alias updated, a
   * version or function deleted).
   */
  async apply(): Promise<void> {
    const wanted = new Map<string, { fn: FunctionVersion; count: number }>();
    for (const config of await this.#store.listProvisionedConfigs()) {
      const fn = await this.#resolve(config);
      if (!fn) continue;
      const key = versionKey(fn);
      const entry = wanted.get(key) ?? { fn, count: 0 };
      entry.count += config.requested;
      wanted.set(key, entry);
    }
    for (const [key, fn] of this.#applied) if (!wanted.has(key)) this.#dispatcher.setProvisioned(fn, 0);
    for (const { fn, count } of wanted.values()) this.#dispatcher.setProvisioned(fn, count);
    this.#applied = new Map([...wanted].map(([k, e]) => [k, e.fn]));
  }

  /** The version a configuration provisions, or undefined if its target is gone. */
  async #resolve(config: ProvisionedConfig): Promise<FunctionVersion | undefined> {
    try {
      return (await this.#registry.resolve(config.functionName, config.qualifier, false)).fn;
    } catch (err) {
      if (err instanceof NimbusError && err.code === "NotFound") {
        this.#logger.warn("provisioned concurrency for a version or alias that no longer exists", {
          function: config.functionName,
          qualifier: config.qualifier,
        });
        return undefined;
      }
      throw err;
    }
  }

  async #find(name: string, qualifier: string): Promise<ProvisionedConfig | undefined> {
    return (await this.#store.listProvisionedConfigs(name)).find((c) => c.qualifier === qualifier);
  }

  #view(config: ProvisionedConfig, fn: FunctionVersion): ProvisionedView {
    const state = this.#dispatcher.provisionedState(fn);
    // Several configurations may provision one version (an alias and the version itself).
    const allocated = Math.min(config.requested, state.allocated);
    const status: ProvisionedStatus =
      state.failure !== undefined ? "FAILED" : allocated >= config.requested ? "READY" : "IN_PROGRESS";
    return { ...config, allocated, status, statusReason: state.failure };
  }

  async #target(
    name: string,
    qualifier: string | undefined,
  ): Promise<{ qualifier: string; fn: FunctionVersion }> {
    if (qualifier === undefined || qualifier === LATEST) {
      throw new NimbusError(
        "InvalidParameter",
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions: give a published version or an alias as Qualifier.",
      );
    }
    const { fn } = await this.#registry.resolve(name, qualifier, false);
    return { qualifier, fn };
  }
}

function notFound(): NimbusError {
  return new NimbusError(
    "ProvisionedConcurrencyConfigNotFound",
    "No Provisioned Concurrency Config found for this function",
  );
}
