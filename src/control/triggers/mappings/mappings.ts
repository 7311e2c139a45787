/**
 * Event source mappings: which function reads which queue, and how (batch size, batching
 * window, partial batch responses, filters, concurrency). Every field is checked here, as
 * Lambda checks it, before anything is stored; the poller (`poller.ts`) hears of each change.
 * Plain names and qualifiers in, as everywhere in the core: the Lambda API surface reads ARNs.
 */
import { randomUUID } from "node:crypto";
import { compilePattern, InvalidPatternError } from "../../../protocol/events/pattern.js";
import type { Clock } from "../../../shared/clock.js";
import { invalidInput, NimbusError, type Problem } from "../../../shared/errors.js";
import type { EventSourceMapping, EventSourceMappingsRepo } from "./repo.js";

/** What a mapping needs of a queue, by its ARN (the platform answers it from its queues). */
export interface MappedQueues {
  describe(arn: string): Promise<{ readonly fifo: boolean } | undefined>;
}

export interface MappingSpec {
  readonly eventSourceArn: string;
  readonly functionName: string;
  readonly qualifier?: string | undefined;
  readonly enabled?: boolean | undefined;
  readonly batchSize?: number | undefined;
  readonly maximumBatchingWindowInSeconds?: number | undefined;
  readonly functionResponseTypes?: readonly string[] | undefined;
  readonly filters?: readonly string[] | undefined;
  readonly maximumConcurrency?: number | undefined;
}

export type MappingPatch = Partial<Omit<MappingSpec, "eventSourceArn">>;

/** Listeners of changes: the poller starts, restarts and stops a mapping's readers. */
export interface MappingListener {
  changed(m: EventSourceMapping): void;
  removed(uuid: string): void;
}

export interface MappingsDeps {
  readonly repo: EventSourceMappingsRepo;
  readonly queues: MappedQueues;
  /** Throws NotFound when the function (or its qualifier) does not exist. */
  readonly functionExists: (name: string, qualifier: string | undefined) => Promise<void>;
  readonly clock: Clock;
}

export const MAX_FILTERS = 5;
export const MAX_FILTER_PATTERN = 4096;
const RESPONSE_TYPES = ["ReportBatchItemFailures"];

export class EventSourceMappings {
  readonly #o: MappingsDeps;
  readonly #listeners: MappingListener[] = [];

  constructor(deps: MappingsDeps) {
    this.#o = deps;
  }

  listen(l: MappingListener): void {
    this.#listeners.push(l);
  }

  async create(spec: MappingSpec): Promise<EventSourceMapping> {
    const queue = await this.#o.queues.describe(spec.eventSourceArn);
    if (!queue)
      throw invalidInput([
        {
          field: "eventSourceArn",
          value: spec.eventSourceArn,
          rule: "exists",
          expected: "name an existing queue",
        },
      ]);
    await this.#o.functionExists(spec.functionName, spec.qualifier);
    const existing = await this.#o.repo.listMappings({
      eventSourceArn: spec.eventSourceArn,
      functionName: spec.functionName,
      limit: 100,
    });
    const same = existing.find((m) => m.qualifier === spec.qualifier);
    if (same)
      throw new NimbusError(
        "Conflict",
        `An event source mapping with SQS arn (" ${spec.eventSourceArn} ") and function (" ${spec.functionName} ") already exists. Please update or delete the existing mapping with UUID ${same.uuid}`,
      );
    const enabled = spec.enabled ?? true;
    const m = checked(
      {
        uuid: randomUUID(),
        eventSourceArn: spec.eventSourceArn,
        functionName: spec.functionName,
        qualifier: spec.qualifier,
        batchSize: spec.batchSize ?? 10,
        maximumBatchingWindowInSeconds: spec.maximumBatchingWindowInSeconds ?? 0,
        functionResponseTypes: spec.functionResponseTypes ?? [],
        filters: spec.filters ?? [],
        maximumConcurrency: spec.maximumConcurrency,
        enabled,
        state: enabled ? "Enabled" : "Disabled",
        stateTransitionReason: "USER_INITIATED",
        lastProcessingResult: "No records processed",
        lastModified: this.#o.clock.now(),
      },
      queue.fifo,
    );
    await this.#o.repo.createMapping(m);
    for (const l of this.#listeners) l.changed(m);
    return m;
  }

  async get(uuid: string): Promise<EventSourceMapping> {
    const m = await this.#o.repo.getMapping(uuid);
    if (!m) throw notFound(uuid);
    return m;
  }

  async list(o: { eventSourceArn?: string; functionName?: string; after?: string; limit: number }) {
    return this.#o.repo.listMappings(o);
  }

  async update(uuid: string, patch: MappingPatch): Promise<EventSourceMapping> {
    const m = await this.get(uuid);
    const queue = await this.#o.queues.describe(m.eventSourceArn);
    const functionName = patch.functionName ?? m.functionName;
    const qualifier = patch.functionName !== undefined ? patch.qualifier : m.qualifier;
    if (patch.functionName !== undefined) await this.#o.functionExists(functionName, qualifier);
    const enabled = patch.enabled ?? m.enabled;
    const next = checked(
      {
        ...m,
        functionName,
        qualifier,
        batchSize: patch.batchSize ?? m.batchSize,
        maximumBatchingWindowInSeconds:
          patch.maximumBatchingWindowInSeconds ?? m.maximumBatchingWindowInSeconds,
        functionResponseTypes: patch.functionResponseTypes ?? m.functionResponseTypes,
        filters: patch.filters ?? m.filters,
        maximumConcurrency: "maximumConcurrency" in patch ? patch.maximumConcurrency : m.maximumConcurrency,
        enabled,
        state: enabled ? "Enabled" : "Disabled",
        stateTransitionReason: "USER_INITIATED",
        lastModified: this.#o.clock.now(),
      },
      queue?.fifo ?? m.eventSourceArn.endsWith(".fifo"),
    );
    if (!(await this.#o.repo.updateMapping(next))) throw notFound(uuid);
    for (const l of this.#listeners) l.changed(next);
    return next;
  }

  /** Stops its readers and forgets it; returns it as it was, in the Deleting state Lambda reports. */
  async delete(uuid: string): Promise<EventSourceMapping> {
    const m = await this.get(uuid);
    if (!(await this.#o.repo.deleteMapping(uuid))) throw notFound(uuid);
    for (const l of this.#listeners) l.removed(uuid);
    return { ...m, state: "Deleting" };
  }

  /** Records what the last batch did (for GetEventSourceMapping's LastProcessingResult). */
  async processed(uuid: string, result: string): Promise<void> {
    const m = await this.#o.repo.getMapping(uuid);
    if (m && m.lastProcessingResult !== result)
      await this.#o.repo.updateMapping({ ...m, lastProcessingResult: result });
  }
}

function notFound(uuid: string): NimbusError {
  return new NimbusError(
    "NotFound",
    `The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: ${uuid})`,
  );
}

/** The mapping as it will be stored, or InvalidParameter listing what is wrong with it. */
function checked(m: EventSourceMapping, fifo: boolean): EventSourceMapping {
  const problems: Problem[] = [];
  const maxBatch = fifo ? 10 : 10_000;
  if (!Number.isInteger(m.batchSize) || m.batchSize < 1 || m.batchSize > maxBatch)
    problems.push({
      field: "batchSize",
      value: m.batchSize,
      rule: "range",
      expected: `be between 1 and ${maxBatch}${fifo ? " for a FIFO queue" : ""}`,
    });
  const w = m.maximumBatchingWindowInSeconds;
  if (!Number.isInteger(w) || w < 0 || w > 300)
    problems.push({
      field: "maximumBatchingWindowInSeconds",
      value: w,
      rule: "range",
      expected: "be between 0 and 300",
    });
  else if (fifo && w > 0)
    problems.push({
      field: "maximumBatchingWindowInSeconds",
      value: w,
      rule: "consistent",
      expected: "be 0: a FIFO queue's batches are not windowed",
    });
  else if (m.batchSize > 10 && w < 1)
    problems.push({
      field: "maximumBatchingWindowInSeconds",
      value: w,
      rule: "consistent",
      expected: "be greater than 0 if the batch size is greater than 10",
    });
  for (const t of m.functionResponseTypes)
    if (!RESPONSE_TYPES.includes(t))
      problems.push({
        field: "functionResponseTypes",
        value: t,
        rule: "oneOf",
        expected: `satisfy enum value set: [${RESPONSE_TYPES.join(", ")}]`,
      });
  if (m.filters.length > MAX_FILTERS)
    problems.push({
      field: "filterCriteria.filters",
      value: m.filters.length,
      rule: "length",
      expected: `have length less than or equal to ${MAX_FILTERS}`,
    });
  for (const [i, f] of m.filters.entries()) {
    if (f.length > MAX_FILTER_PATTERN) {
      problems.push({
        field: `filterCriteria.filters.${i}.pattern`,
        value: `${f.length} characters`,
        rule: "length",
        expected: `have length less than or equal to ${MAX_FILTER_PATTERN}`,
      });
      continue;
    }
    try {
      compilePattern(f);
    } catch (err) {
      if (!(err instanceof InvalidPatternError)) throw err;
      problems.push({
        field: `filterCriteria.filters.${i}.pattern`,
        value: f,
        rule: "consistent",
        expected: `be a valid EventBridge pattern: ${err.message}`,
      });
    }
  }
  const c = m.maximumConcurrency;
  if (c !== undefined && (!Number.isInteger(c) || c < 2 || c > 1000))
    problems.push({
      field: "scalingConfig.maximumConcurrency",
      value: c,
      rule: "range",
      expected: "be between 2 and 1000",
    });
  if (problems.length > 0) throw invalidInput(problems);
  return m;
}
