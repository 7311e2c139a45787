/**
 * The event bus with EventBridge's contract: buses, rules with event patterns, targets
 * (functions, queues, other buses) with their input, and PutEvents. Inputs and outputs have
 * the JSON protocol's shapes. A PutEvents entry is acknowledged once every matching target
 * has it durably (an asynchronous invocation queued, a message stored, another bus's targets
 * served) or its dead-letter queue does; archives keep what passes (`archives.ts`).
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { ApiDestinations, CONNECTION_EVENTS } from "./api-destinations.js";
import { Archives } from "./archives.js";
import { checkEntries, type Envelope, isoSeconds, readEntry } from "./envelope.js";
import { EventsError, notFound, validation } from "./errors.js";
import { HttpDeliveries, type HttpDeliveryDeps } from "./http-delivery.js";
import type { EventBusRecord, RuleRecord, TargetRecord } from "./model.js";
import { busArn, busFromArn, busOf, checkName, DEFAULT_BUS, type EventsAccount, ruleArn } from "./names.js";
import type { ApiDestinationsRepo, EventsRepo } from "./repo.js";
import {
  BusRules,
  type CompiledRule,
  type CompiledTarget,
  checkPattern,
  compileRule,
  testEventPattern,
} from "./rules.js";
import { busShape, limitOf, optionalString, paged, ruleShape, stringOr, tagsOf, tokenOf } from "./shapes.js";
import { EventTags } from "./tagging.js";
import { BusTaps, type TapListener } from "./taps.js";
import { checkTargets, renderTarget } from "./targets.js";
import { targetInput } from "./transform.js";

export type Input = Readonly<Record<string, unknown>>;
export type Output = Record<string, unknown>;

/** Where targets are served: the composition root gives the platform's functions and queues. */
export interface EventTargets {
  /** Queues an asynchronous invocation of a function ARN; durable when it resolves. */
  invokeAsync(functionArn: string, payload: string, traceHeader: string | undefined): Promise<void>;
  /** Sends a message to a queue ARN; durable when it resolves. */
  sendToQueue(queueArn: string, body: string, attributes?: Readonly<Record<string, string>>): Promise<void>;
  /** Whether the function or queue an ARN names exists now. */
  exists(arn: string): Promise<boolean>;
}

export interface EventsDeps {
  readonly repo: EventsRepo;
  readonly destinationsRepo: ApiDestinationsRepo;
  readonly clock: Clock;
  readonly account: EventsAccount;
  readonly targets: EventTargets;
  readonly logger: Logger;
  /** Told of each delivery attempt to an API destination (`HttpDeliveryDeps.observe`). */
  readonly observeDeliveries?: HttpDeliveryDeps["observe"];
}

const byName = (a: CompiledRule, b: CompiledRule) =>
  a.record.name < b.record.name ? -1 : a.record.name > b.record.name ? 1 : 0;

/** A bus forwarding to a bus forwarding to…: EventBridge stops such chains; so does Nimbus, here. */
const MAX_BUS_HOPS = 5;

export class EventBus {
  readonly #o: EventsDeps;
  readonly #rules = new Map<string, BusRules>();
  /** Per bus, the last rule reload queued (`#reloadRule`). */
  readonly #reloads = new Map<string, Promise<void>>();
  readonly #taps = new BusTaps();
  readonly archives: Archives;
  readonly destinations: ApiDestinations;
  readonly deliveries: HttpDeliveries;
  readonly tags: EventTags;

  constructor(deps: EventsDeps) {
    this.#o = deps;
    this.tags = new EventTags(deps.repo, deps.account, () => deps.clock.now());
    this.deliveries = new HttpDeliveries({
      repo: deps.destinationsRepo,
      clock: deps.clock,
      logger: deps.logger,
      deadLetter: (arn, body, attributes) => deps.targets.sendToQueue(arn, body, attributes),
      ...(deps.observeDeliveries ? { observe: deps.observeDeliveries } : {}),
      deauthorized: (c) => this.destinations.deauthorized(c),
    });
    this.destinations = new ApiDestinations({
      repo: deps.destinationsRepo,
      clock: deps.clock,
      account: deps.account,
      queued: () => this.deliveries.changed(),
      publish: (type, detail, resources) => this.publish(CONNECTION_EVENTS, type, detail, resources),
    });
    this.archives = new Archives({
      repo: deps.repo,
      clock: deps.clock,
      account: deps.account,
      replay: (bus, event, rules) => this.#deliver(bus, event, undefined, 0, rules),
      busExists: async (bus) => (await deps.repo.getBus(bus)) !== undefined,
    });
  }

  /** Makes the default bus if it is not there, and loads every rule. */
  async start(): Promise<void> {
    const now = this.#o.clock.now();
    await this.#o.repo.createBus({
      name: DEFAULT_BUS,
      description: undefined,
      deadLetterArn: undefined,
      tags: {},
      createdAt: now,
      modifiedAt: now,
    });
    const all = await this.#o.repo.allRules();
    const byBus = new Map<string, CompiledRule[]>();
    for (const { rule, targets } of all) {
      try {
        const list = byBus.get(rule.busName) ?? [];
        list.push(compileRule(rule, targets));
        byBus.set(rule.busName, list);
      } catch (err) {
        this.#o.logger.error("a stored rule could not be compiled; it matches nothing", {
          err,
          rule: rule.name,
        });
      }
    }
    for (const [bus, rules] of byBus) this.#rules.set(bus, new BusRules(rules));
    await this.archives.start();
    await this.deliveries.start();
  }

  /** Stops the archives' retention sweep and the deliveries to API destinations, and ends the taps. */
  async stop(): Promise<void> {
    this.archives.stop();
    this.#taps.end();
    await this.deliveries.stop();
  }

  /**
   * Calls `listener` with each event `bus` (a name) accepts, once its targets have it, until the
   * returned function is called; `onEnd` if the bus stops first. See `taps.ts`.
   */
  tap(bus: string, listener: TapListener, onEnd?: () => void): () => void {
    return this.#taps.add(bus, listener, onEnd);
  }

  // ── Buses ──────────────────────────────────────────────────────────────────
  async createEventBus(input: Input): Promise<Output> {
    const name = checkName("bus", input.Name);
    if (name === DEFAULT_BUS || name.includes("/"))
      throw validation(
        `Event bus name ${name} is reserved or not valid: a custom bus name has no '/' and is not "default".`,
      );
    const now = this.#o.clock.now();
    const bus: EventBusRecord = {
      name,
      description: optionalString(input.Description, "Description", 512),
      deadLetterArn: (input.DeadLetterConfig as { Arn?: string } | undefined)?.Arn,
      tags: tagsOf(input.Tags),
      createdAt: now,
      modifiedAt: now,
    };
    if (!(await this.#o.repo.createBus(bus)))
      throw new EventsError("ResourceAlreadyExistsException", `Event bus ${name} already exists.`);
    return { EventBusArn: busArn(this.#o.account, name) };
  }

  async describeEventBus(input: Input): Promise<Output> {
    const bus = await this.#bus(busOf(this.#o.account, input.Name, "Name"));
    return busShape(this.#o.account, bus);
  }

  async listEventBuses(input: Input): Promise<Output> {
    const limit = limitOf(input.Limit);
    const after = tokenOf(input.NextToken);
    const page = await this.#o.repo.listBuses({
      prefix: stringOr(input.NamePrefix),
      after,
      limit: limit + 1,
    });
    return paged(
      page,
      limit,
      (b) => b.name,
      "EventBuses",
      (b) => busShape(this.#o.account, b),
    );
  }

  async deleteEventBus(input: Input): Promise<Output> {
    const name = busOf(this.#o.account, input.Name, "Name");
    if (name === DEFAULT_BUS) throw validation("Cannot delete event bus default.");
    await this.#o.repo.deleteBus(name);
    this.#rules.delete(name);
    return {};
  }

  // ── Rules ──────────────────────────────────────────────────────────────────
  async putRule(input: Input): Promise<Output> {
    const bus = busOf(this.#o.account, input.EventBusName);
    const name = checkName("rule", input.Name);
    await this.#bus(bus);
    if (input.ScheduleExpression !== undefined)
      throw validation(
        "Rules on a schedule are not served: create a schedule with EventBridge Scheduler (CreateSchedule) instead.",
      );
    if (typeof input.EventPattern !== "string")
      throw validation("Parameter EventPattern is required: a rule matches events by its pattern.");
    checkPattern(input.EventPattern);
    const state = input.State === undefined ? "ENABLED" : input.State;
    if (state !== "ENABLED" && state !== "DISABLED")
      throw validation(`State must be ENABLED or DISABLED, got ${JSON.stringify(state)}.`);
    const now = this.#o.clock.now();
    const existing = await this.#o.repo.getRule(bus, name);
    const rule: RuleRecord = {
      busName: bus,
      name,
      eventPattern: input.EventPattern,
      state,
      description: optionalString(input.Description, "Description", 512),
      tags: existing?.tags ?? tagsOf(input.Tags),
      createdAt: existing?.createdAt ?? now,
      modifiedAt: now,
    };
    await this.#o.repo.putRule(rule);
    await this.#reloadRule(bus, name);
    return { RuleArn: ruleArn(this.#o.account, bus, name) };
  }

  async describeRule(input: Input): Promise<Output> {
    const rule = await this.#rule(input.EventBusName, input.Name);
    return ruleShape(this.#o.account, rule);
  }

  async listRules(input: Input): Promise<Output> {
    const bus = busOf(this.#o.account, input.EventBusName);
    await this.#bus(bus);
    const limit = limitOf(input.Limit);
    const page = await this.#o.repo.listRules({
      busName: bus,
      prefix: stringOr(input.NamePrefix),
      after: tokenOf(input.NextToken),
      limit: limit + 1,
    });
    return paged(
      page,
      limit,
      (r) => r.name,
      "Rules",
      (r) => ruleShape(this.#o.account, r),
    );
  }

  async enableRule(input: Input): Promise<Output> {
    return this.#setState(input, "ENABLED");
  }

  async disableRule(input: Input): Promise<Output> {
    return this.#setState(input, "DISABLED");
  }

  async deleteRule(input: Input): Promise<Output> {
    const rule = await this.#rule(input.EventBusName, input.Name).catch((err: unknown) => {
      if (err instanceof EventsError && err.code === "ResourceNotFoundException") return undefined;
      throw err;
    });
    if (!rule) return {};
    const targets = await this.#o.repo.listTargets(rule.busName, rule.name);
    if (targets.length > 0) {
      if (input.Force !== true) throw validation("Rule can't be deleted since it has targets.");
      await this.#o.repo.removeTargets(
        rule.busName,
        rule.name,
        targets.map((t) => t.id),
      );
    }
    await this.#o.repo.deleteRule(rule.busName, rule.name);
    await this.#reloadRule(rule.busName, rule.name);
    return {};
  }

  // ── Targets ────────────────────────────────────────────────────────────────
  async putTargets(input: Input): Promise<Output> {
    const rule = await this.#rule(input.EventBusName, input.Rule);
    const existing = await this.#o.repo.listTargets(rule.busName, rule.name);
    const { ok, failed } = await checkTargets(input.Targets, rule, existing, this.#o.account, (t) =>
      this.#targetExists(t),
    );
    if (ok.length > 0) await this.#o.repo.putTargets(ok);
    await this.#reloadRule(rule.busName, rule.name);
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  async removeTargets(input: Input): Promise<Output> {
    const rule = await this.#rule(input.EventBusName, input.Rule);
    const ids = input.Ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === "string"))
      throw validation("Ids must be a non-empty list of target ids.");
    await this.#o.repo.removeTargets(rule.busName, rule.name, ids as string[]);
    await this.#reloadRule(rule.busName, rule.name);
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  async listTargetsByRule(input: Input): Promise<Output> {
    const rule = await this.#rule(input.EventBusName, input.Rule);
    return { Targets: (await this.#o.repo.listTargets(rule.busName, rule.name)).map(renderTarget) };
  }

  // ── Events ─────────────────────────────────────────────────────────────────
  async putEvents(input: Input): Promise<Output> {
    const entries = checkEntries(input.Entries);
    const now = this.#o.clock.now();
    const results: Output[] = [];
    let failed = 0;
    for (const e of entries) {
      const r = readEntry(e ?? {}, this.#o.account, now);
      if (!r.ok) {
        failed++;
        results.push({ ErrorCode: r.code, ErrorMessage: r.message });
        continue;
      }
      let bus: string;
      try {
        bus = busOf(this.#o.account, r.bus);
        await this.#bus(bus);
      } catch (err) {
        if (!(err instanceof EventsError)) throw err;
        failed++;
        results.push({ ErrorCode: "InvalidArgument", ErrorMessage: err.message });
        continue;
      }
      await this.#deliver(bus, r.event, r.traceHeader, 0);
      results.push({ EventId: r.event.id });
    }
    return { FailedEntryCount: failed, Entries: results };
  }

  /** Publishes the platform's own events (`source: nimbus.<service>`) on the default bus. */
  async publish(
    source: string,
    detailType: string,
    detail: Record<string, unknown>,
    resources: string[] = [],
    traceHeader?: string,
  ): Promise<void> {
    const event: Envelope = {
      version: "0",
      id: randomUUID(),
      "detail-type": detailType,
      source,
      account: this.#o.account.accountId,
      time: isoSeconds(this.#o.clock.now()),
      region: this.#o.account.region,
      resources,
      detail,
    };
    await this.#deliver(DEFAULT_BUS, event, traceHeader, 0);
  }

  async testEventPattern(input: Input): Promise<Output> {
    return testEventPattern(input);
  }

  /** Every target of every matching rule of `bus`, and its archives; `onlyRules` for a replay. */
  async #deliver(
    bus: string,
    event: Envelope,
    traceHeader: string | undefined,
    hops: number,
    onlyRules?: ReadonlySet<string>,
  ): Promise<void> {
    const rules = this.#rules.get(bus)?.matching(event) ?? [];
    const jobs: Promise<void>[] = [];
    for (const rule of rules) {
      if (onlyRules && onlyRules.size > 0 && !onlyRules.has(rule.record.name)) continue;
      for (const t of rule.targets) jobs.push(this.#send(rule, t, event, traceHeader, hops));
    }
    if (!event["replay-name"]) jobs.push(this.archives.record(bus, event));
    await Promise.all(jobs);
    this.#taps.emit(bus, event);
  }

  async #send(
    rule: CompiledRule,
    t: CompiledTarget,
    event: Envelope,
    traceHeader: string | undefined,
    hops: number,
  ): Promise<void> {
    const arn = t.record.arn;
    try {
      const otherBus = busFromArn(this.#o.account, arn);
      if (otherBus !== undefined) {
        if (hops >= MAX_BUS_HOPS) throw new Error(`the event passed ${MAX_BUS_HOPS} buses: a loop of rules`);
        await this.#bus(otherBus);
        return await this.#deliver(otherBus, event, traceHeader, hops + 1);
      }
      const ctx = {
        ruleName: rule.record.name,
        ruleArn: ruleArn(this.#o.account, rule.record.busName, rule.record.name),
        ingestionTime: event.time,
      };
      const payload = targetInput(
        { input: t.record.input, inputPath: t.inputPath, transformer: t.transformer },
        event as unknown as Record<string, unknown>,
        ctx,
      );
      if (arn.startsWith("arn:aws:sqs:")) await this.#o.targets.sendToQueue(arn, payload);
      else if (arn.startsWith("arn:aws:events:"))
        await this.destinations.queue(
          t.record,
          ruleArn(this.#o.account, rule.record.busName, rule.record.name),
          payload,
          async () => (await this.#o.repo.getBus(rule.record.busName))?.deadLetterArn,
        );
      else await this.#o.targets.invokeAsync(arn, payload, traceHeader);
    } catch (err) {
      await this.#deadLetter(rule, t, event, err as Error);
    }
  }

  /** A delivery that failed: to the target's dead-letter queue (or the bus's), with why; else logged. */
  async #deadLetter(rule: CompiledRule, t: CompiledTarget, event: Envelope, err: Error): Promise<void> {
    const bus = await this.#o.repo.getBus(rule.record.busName);
    const dlq = t.record.deadLetterArn ?? bus?.deadLetterArn;
    const fields = { rule: rule.record.name, target: t.record.id, err };
    if (!dlq)
      return this.#o.logger.warn(
        "an event could not be delivered to a target and has no dead-letter queue",
        fields,
      );
    await this.#o.targets
      .sendToQueue(dlq, JSON.stringify(event), {
        ERROR_CODE: "TARGET_DELIVERY_FAILED",
        ERROR_MESSAGE: err.message.slice(0, 256),
        RULE_ARN: ruleArn(this.#o.account, rule.record.busName, rule.record.name),
        TARGET_ARN: t.record.arn,
      })
      .catch((e: unknown) =>
        this.#o.logger.error("an event could not reach its dead-letter queue either", {
          ...fields,
          dlqErr: e,
        }),
      );
  }

  /** Whether a target's ARN names something there now (an API destination: see `ApiDestinations.targetExists`). */
  async #targetExists(t: TargetRecord): Promise<boolean> {
    const bus = busFromArn(this.#o.account, t.arn);
    if (bus !== undefined) return (await this.#o.repo.getBus(bus)) !== undefined;
    if (t.arn.startsWith("arn:aws:events:")) return this.destinations.targetExists(t);
    return this.#o.targets.exists(t.arn);
  }

  async #setState(input: Input, state: "ENABLED" | "DISABLED"): Promise<Output> {
    const rule = await this.#rule(input.EventBusName, input.Name);
    await this.#o.repo.putRule({ ...rule, state, modifiedAt: this.#o.clock.now() });
    await this.#reloadRule(rule.busName, rule.name);
    return {};
  }

  async #bus(name: string): Promise<EventBusRecord> {
    const bus = await this.#o.repo.getBus(name);
    if (!bus) throw notFound(`Event bus ${name}`);
    return bus;
  }

  async #rule(busGiven: unknown, nameGiven: unknown): Promise<RuleRecord> {
    const bus = busOf(this.#o.account, busGiven);
    const name = checkName("rule", nameGiven);
    const rule = await this.#o.repo.getRule(bus, name);
    if (!rule) throw notFound(`Rule ${name} on EventBus ${bus}`);
    return rule;
  }

  /**
   * Compiles one rule again after a change to it or its targets, or drops it once deleted; the
   * bus's other rules stay as compiled (a bus of 1,000 rules made one by one read and compiled
   * every rule on each change). Serialised per bus: the change read last is the one set last.
   */
  #reloadRule(bus: string, name: string): Promise<void> {
    const done = (this.#reloads.get(bus) ?? Promise.resolve()).then(async () => {
      const record = await this.#o.repo.getRule(bus, name);
      const compiled =
        record === undefined ? undefined : compileRule(record, await this.#o.repo.listTargets(bus, name));
      const others = (this.#rules.get(bus)?.all() ?? []).filter((r) => r.record.name !== name);
      // In the stores' order (by name, byte by byte): matches are delivered in it.
      const rules = compiled === undefined ? others : [...others, compiled].sort(byName);
      this.#rules.set(bus, new BusRules(rules));
    });
    const settled = done.catch(() => undefined);
    this.#reloads.set(bus, settled);
    void settled.then(() => {
      if (this.#reloads.get(bus) === settled) this.#reloads.delete(bus);
    });
    return done;
  }
}
