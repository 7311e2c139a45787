/**
 * Lambda's event invoke configuration (Put/Update/Get/Delete/ListFunctionEventInvokeConfig):
 * per function version or alias, how many times a failed asynchronous invocation is retried,
 * how old an event may grow, and where outcomes go. Destinations are functions (Lambda ARNs)
 * and must exist when configured.
 */
import { LATEST, parseFunctionArn } from "../../protocol/function.js";
import type { Clock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import type { Registry } from "../registry/registry.js";
import * as v from "../registry/validate.js";
import type { EventConfigsRepo, EventInvokeConfig } from "./event-configs-repo.js";

export const DEFAULT_RETRY_ATTEMPTS = 2;
export const DEFAULT_EVENT_AGE_S = 21_600;

export class EventConfigs {
  readonly #store: EventConfigsRepo;
  readonly #registry: Registry;
  readonly #clock: Clock;

  constructor(deps: { store: EventConfigsRepo; registry: Registry; clock: Clock }) {
    this.#store = deps.store;
    this.#registry = deps.registry;
    this.#clock = deps.clock;
  }

  /** Put replaces the whole configuration; update changes only the fields given. */
  async put(
    nameRaw: string,
    qualifierParam: string | undefined,
    body: Record<string, unknown>,
    mode: "put" | "update",
  ): Promise<EventInvokeConfig> {
    const { name, qualifier } = await this.#target(nameRaw, qualifierParam);
    const current = mode === "update" ? await this.#store.getEventInvokeConfig(name, qualifier) : undefined;
    const destinations = body.DestinationConfig as
      | { OnSuccess?: { Destination?: unknown }; OnFailure?: { Destination?: unknown } }
      | undefined;
    if (destinations !== undefined && (typeof destinations !== "object" || destinations === null)) {
      throw v.invalid("destinationConfig", destinations, "be an object", "type");
    }
    const config: EventInvokeConfig = {
      functionName: name,
      qualifier,
      maximumRetryAttempts:
        body.MaximumRetryAttempts === undefined
          ? (current?.maximumRetryAttempts ?? DEFAULT_RETRY_ATTEMPTS)
          : intIn(body.MaximumRetryAttempts, "maximumRetryAttempts", 0, 2),
      maximumEventAgeInSeconds:
        body.MaximumEventAgeInSeconds === undefined
          ? (current?.maximumEventAgeInSeconds ?? DEFAULT_EVENT_AGE_S)
          : intIn(body.MaximumEventAgeInSeconds, "maximumEventAgeInSeconds", 60, 21_600),
      onSuccess:
        destinations?.OnSuccess === undefined
          ? current?.onSuccess
          : await this.#destination(destinations.OnSuccess.Destination, "onSuccess"),
      onFailure:
        destinations?.OnFailure === undefined
          ? current?.onFailure
          : await this.#destination(destinations.OnFailure.Destination, "onFailure"),
      lastModified: this.#clock.now(),
    };
    await this.#store.putEventInvokeConfig(config);
    return config;
  }

  async get(nameRaw: string, qualifierParam: string | undefined): Promise<EventInvokeConfig> {
    const { name, qualifier } = await this.#target(nameRaw, qualifierParam);
    const config = await this.#store.getEventInvokeConfig(name, qualifier);
    if (!config) {
      throw new NimbusError("NotFound", `The function ${name}:${qualifier} has no event invoke config.`);
    }
    return config;
  }

  async list(nameRaw: string): Promise<EventInvokeConfig[]> {
    const { name } = await this.#target(nameRaw, undefined);
    return this.#store.listEventInvokeConfigs(name);
  }

  async delete(nameRaw: string, qualifierParam: string | undefined): Promise<void> {
    const { name, qualifier } = await this.#target(nameRaw, qualifierParam);
    if (!(await this.#store.deleteEventInvokeConfig(name, qualifier))) {
      throw new NimbusError("NotFound", `The function ${name}:${qualifier} has no event invoke config.`);
    }
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

  async #target(
    nameRaw: string,
    qualifierParam: string | undefined,
  ): Promise<{ name: string; qualifier: string }> {
    // Surfaces pass a plain name and qualifier (the Lambda API parses ARNs).
    const ref = { name: nameRaw, qualifier: qualifierParam };
    // Resolving checks that the function and its version or alias exist (404 otherwise).
    await this.#registry.resolve(ref.name, ref.qualifier, false);
    return { name: ref.name, qualifier: ref.qualifier ?? LATEST };
  }

  async #destination(raw: unknown, field: string): Promise<string | undefined> {
    if (raw === undefined || raw === null || raw === "") return undefined;
    if (
      typeof raw !== "string" ||
      !/^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[^:]+(:[^:]+)?$/.test(raw)
    ) {
      throw new NimbusError(
        "InvalidParameter",
        `The destination ARN ${JSON.stringify(raw)} for ${field} is invalid: Nimbus delivers to functions, named by their ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])`,
      );
    }
    const ref = parseFunctionArn(raw)!;
    try {
      await this.#registry.resolve(ref.name, ref.qualifier, false);
    } catch (err) {
      if (err instanceof NimbusError && err.code === "NotFound") {
        throw new NimbusError("InvalidParameter", `The destination ${raw} for ${field} does not exist.`);
      }
      throw err;
    }
    return raw;
  }
}

function intIn(raw: unknown, field: string, min: number, max: number): number {
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min || raw > max) {
    throw v.invalid(field, raw, `be an integer from ${min} to ${max}`);
  }
  return raw;
}
