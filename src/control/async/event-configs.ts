/**
 * Asynchronous invocation settings (Lambda's event invoke configuration): per function version
 * or alias, how many times a failed asynchronous invocation is retried, how old an event may
 * grow, and which function or queue hears of each outcome. Callers name a destination function
 * by plain name and qualifier, a queue by its ARN (`EventInvokeSpec`); they must exist when
 * configured (a queue must be a standard one), and are stored as ARNs. Surfaces decode their own
 * requests into the spec (the Lambda API: `lambda-api/decode.ts`).
 */
import { LATEST } from "../../protocol/function.js";
import type { Clock } from "../../shared/clock.js";
import { NimbusError, type Problem } from "../../shared/errors.js";
import type { Registry } from "../registry/registry.js";
import * as v from "../registry/validate.js";
import type { EventConfigsRepo, EventInvokeConfig } from "./event-configs-repo.js";
import { checkTargetQueue, type TargetQueues } from "./queue-targets.js";

export const DEFAULT_RETRY_ATTEMPTS = 2;
export const DEFAULT_EVENT_AGE_S = 21_600;
const MAX_RETRY_ATTEMPTS = 2;
const MIN_EVENT_AGE_S = 60;

/** What each setting expects, completing "must …" (surfaces describe a wrong type with it too). */
export const EVENT_CONFIG_EXPECTED = {
  maximumRetryAttempts: `be an integer from 0 to ${MAX_RETRY_ATTEMPTS}`,
  maximumEventAgeInSeconds: `be an integer from ${MIN_EVENT_AGE_S} to ${DEFAULT_EVENT_AGE_S}`,
} as const;

/** The function (a version or alias of it) or the queue that hears of an outcome. */
export type DestinationRef =
  | {
      readonly functionName: string;
      /** A version or alias; none: the function's $LATEST. */
      readonly qualifier?: string | undefined;
    }
  | { readonly queueArn: string };

/**
 * How a function's asynchronous invocations are retried and routed. `put` replaces the whole
 * configuration (what is left out takes Lambda's defaults); `update` changes only the fields
 * given. `null` removes a destination.
 */
export interface EventInvokeSpec {
  readonly maximumRetryAttempts?: number | undefined;
  readonly maximumEventAgeInSeconds?: number | undefined;
  readonly onSuccess?: DestinationRef | null | undefined;
  readonly onFailure?: DestinationRef | null | undefined;
}

export class EventConfigs {
  readonly #store: EventConfigsRepo;
  readonly #registry: Pick<Registry, "resolve" | "arn">;
  readonly #clock: Clock;
  readonly #queues: TargetQueues | undefined;

  constructor(deps: {
    store: EventConfigsRepo;
    registry: Pick<Registry, "resolve" | "arn">;
    clock: Clock;
    /** The platform's queues: a destination may be one. */
    queues?: TargetQueues;
  }) {
    this.#store = deps.store;
    this.#registry = deps.registry;
    this.#clock = deps.clock;
    this.#queues = deps.queues;
  }

  /** Sets the configuration of (name, qualifier) to `spec`, defaults for what it leaves out. */
  async put(name: string, qualifier: string | undefined, spec: EventInvokeSpec): Promise<EventInvokeConfig> {
    const target = await this.#target(name, qualifier);
    return this.#save(target, undefined, spec);
  }

  /** Changes the fields `spec` gives in the configuration of (name, qualifier), if it has one. */
  async update(
    name: string,
    qualifier: string | undefined,
    spec: EventInvokeSpec,
  ): Promise<EventInvokeConfig> {
    const target = await this.#target(name, qualifier);
    const current = await this.#store.getEventInvokeConfig(target.name, target.qualifier);
    return this.#save(target, current, spec);
  }

  async #save(
    target: { name: string; qualifier: string },
    current: EventInvokeConfig | undefined,
    spec: EventInvokeSpec,
  ): Promise<EventInvokeConfig> {
    const { maximumRetryAttempts: retries, maximumEventAgeInSeconds: age } = spec;
    v.report(
      retries === undefined ? undefined : integerIn("maximumRetryAttempts", retries, 0, MAX_RETRY_ATTEMPTS),
      age === undefined
        ? undefined
        : integerIn("maximumEventAgeInSeconds", age, MIN_EVENT_AGE_S, DEFAULT_EVENT_AGE_S),
    );
    const config: EventInvokeConfig = {
      functionName: target.name,
      qualifier: target.qualifier,
      maximumRetryAttempts: retries ?? current?.maximumRetryAttempts ?? DEFAULT_RETRY_ATTEMPTS,
      maximumEventAgeInSeconds: age ?? current?.maximumEventAgeInSeconds ?? DEFAULT_EVENT_AGE_S,
      onSuccess:
        spec.onSuccess === undefined
          ? current?.onSuccess
          : await this.#destination(spec.onSuccess, "onSuccess"),
      onFailure:
        spec.onFailure === undefined
          ? current?.onFailure
          : await this.#destination(spec.onFailure, "onFailure"),
      lastModified: this.#clock.now(),
    };
    await this.#store.putEventInvokeConfig(config);
    return config;
  }

  async get(name: string, qualifier: string | undefined): Promise<EventInvokeConfig> {
    const target = await this.#target(name, qualifier);
    const config = await this.#store.getEventInvokeConfig(target.name, target.qualifier);
    if (!config) throw noConfig(target);
    return config;
  }

  async list(name: string): Promise<EventInvokeConfig[]> {
    await this.#target(name, undefined);
    return this.#store.listEventInvokeConfigs(name);
  }

  async delete(name: string, qualifier: string | undefined): Promise<void> {
    const target = await this.#target(name, qualifier);
    if (!(await this.#store.deleteEventInvokeConfig(target.name, target.qualifier))) throw noConfig(target);
  }

  /** The configuration that applies to an event sent to (name, qualifier): its own, or Lambda's defaults. */
  async effective(name: string, qualifier: string | undefined): Promise<EventInvokeConfig> {
    const q = qualifier ?? LATEST;
    return (
      (await this.#store.getEventInvokeConfig(name, q)) ?? {
        functionName: name,
        qualifier: q,
        maximumRetryAttempts: DEFAULT_RETRY_ATTEMPTS,
        maximumEventAgeInSeconds: DEFAULT_EVENT_AGE_S,
        onSuccess: undefined,
        onFailure: undefined,
        lastModified: 0,
      }
    );
  }

  async #target(name: string, qualifier: string | undefined): Promise<{ name: string; qualifier: string }> {
    // Resolving checks that the function and its version or alias exist (404 otherwise).
    await this.#registry.resolve(name, qualifier, false);
    return { name, qualifier: qualifier ?? LATEST };
  }

  /** The stored reference (the function's or the queue's ARN) of a destination, which must exist. */
  async #destination(ref: DestinationRef | null, field: string): Promise<string | undefined> {
    if (ref === null) return undefined;
    if ("queueArn" in ref) {
      const subject = `The destination ${ref.queueArn} for ${field}`;
      return checkTargetQueue(this.#queues, ref.queueArn, field, subject, "destinations");
    }
    const arn = this.#registry.arn(ref.functionName, ref.qualifier);
    try {
      await this.#registry.resolve(ref.functionName, ref.qualifier, false);
    } catch (err) {
      if (err instanceof NimbusError && err.code === "NotFound") {
        throw new NimbusError("InvalidParameter", `The destination ${arn} for ${field} does not exist.`, {}, [
          v.problem(field, ref, "exists", "name an existing function, version or alias"),
        ]);
      }
      throw err;
    }
    return arn;
  }
}

function noConfig(t: { name: string; qualifier: string }): NimbusError {
  return new NimbusError("NotFound", `The function ${t.name}:${t.qualifier} has no event invoke config.`);
}

function integerIn(
  field: keyof typeof EVENT_CONFIG_EXPECTED,
  value: number,
  min: number,
  max: number,
): Problem | undefined {
  return Number.isInteger(value) && value >= min && value <= max
    ? undefined
    : v.problem(field, value, "range", EVENT_CONFIG_EXPECTED[field]);
}
