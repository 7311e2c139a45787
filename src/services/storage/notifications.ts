/**
 * Object events, the writing side: a bucket's notification configuration (S3's
 * NotificationConfiguration, validated by S3's rules and kept as the bucket's `notification`
 * setting), which events of a change it wants, and the outbox row a change writes in its own
 * transaction when its bucket could want one. Delivery is `event-delivery.ts`.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../../shared/clock.js";
import { invalidArgument, noSuchBucket, S3Error } from "./errors.js";
import type { BucketRecord, ObjectEventRecord } from "./model.js";
import type { StorageRepo } from "./repo.js";

/** The events Nimbus sends, as S3 names them in a record's `eventName`. */
export const OBJECT_EVENTS = [
  "ObjectCreated:Put",
  "ObjectCreated:Post",
  "ObjectCreated:Copy",
  "ObjectCreated:CompleteMultipartUpload",
  "ObjectRemoved:Delete",
  "ObjectRemoved:DeleteMarkerCreated",
  // The lifecycle sweep's removals (`lifecycle.ts`).
  "LifecycleExpiration:Delete",
  "LifecycleExpiration:DeleteMarkerCreated",
] as const;
export type ObjectEventName = (typeof OBJECT_EVENTS)[number];

/** The event types a configuration may name: each event, and each family's wildcard. */
const CONFIGURABLE: ReadonlySet<string> = new Set([
  "s3:ObjectCreated:*",
  "s3:ObjectRemoved:*",
  "s3:LifecycleExpiration:*",
  ...OBJECT_EVENTS.map((e) => `s3:${e}`),
]);
/** Event types S3 has and Nimbus never sends (it has no restores, replication, transitions…). */
const NOT_SENT =
  /^s3:(ObjectRestore|ReducedRedundancyLostObject|Replication|LifecycleTransition|IntelligentTiering|ObjectTagging|ObjectAcl)(:|$)/;
/** S3's longest filter value (a key's length). */
const MAX_FILTER_VALUE_BYTES = 1024;

/** Who made the change an event reports: the request's id and the client's address. */
export interface RequestOrigin {
  readonly requestId: string;
  readonly sourceIp: string;
}

export type TargetKind = "function" | "queue";

/** One destination of a configuration: a function or a queue of this platform. */
export interface NotificationTarget {
  readonly kind: TargetKind;
  /** The configuration id (`configurationId` in the events it receives). */
  readonly id: string;
  readonly arn: string;
  /** As configured: `s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`… */
  readonly events: readonly string[];
  readonly prefix: string | undefined;
  readonly suffix: string | undefined;
}

/** A bucket's configuration as stored: its destinations, and whether every event goes to the bus. */
export interface NotificationConfiguration {
  readonly targets: readonly NotificationTarget[];
  readonly eventBridge: boolean;
}

/** A configuration as a client sent it, before S3's rules are checked. */
export interface NotificationInput {
  readonly targets: readonly {
    readonly kind: TargetKind;
    readonly id: string | undefined;
    readonly arn: string;
    readonly events: readonly string[];
    readonly rules: readonly { readonly name: string; readonly value: string }[];
  }[];
  readonly eventBridge: boolean;
}

export const NO_NOTIFICATIONS: NotificationConfiguration = { targets: [], eventBridge: false };

/**
 * Checks a configuration by S3's rules and answers it as it is stored: event types S3 knows,
 * at most one prefix and one suffix rule per destination, and no two destinations that could
 * both receive one event (a shared event type with overlapping prefixes and suffixes). A
 * destination without an id gets one.
 */
export function checkConfiguration(input: NotificationInput): NotificationConfiguration {
  const ids = new Set<string>();
  const targets = input.targets.map((t): NotificationTarget => {
    if (t.arn === "")
      throw invalidArgument(
        `A ${t.kind === "function" ? "CloudFunction" : "Queue"} ARN is required in each configuration.`,
      );
    if (t.events.length === 0) throw invalidArgument("A configuration must name at least one Event.");
    for (const e of t.events) checkEventType(e);
    const id = t.id === undefined || t.id === "" ? Buffer.from(randomUUID()).toString("base64") : t.id;
    if (ids.has(id)) throw invalidArgument(`Two configurations have the Id "${id}".`, "Id", id);
    ids.add(id);
    return { kind: t.kind, id, arn: t.arn, events: [...new Set(t.events)], ...filterOf(t.rules) };
  });
  targets.forEach((a, i) => {
    for (const b of targets.slice(i + 1))
      if (overlap(a, b))
        throw invalidArgument(
          `${overlapMessage(a, b)} (configurations "${a.id}" and "${b.id}")`,
          "Event",
          a.events.find((e) => b.events.some((f) => eventTypesOverlap(e, f))) ?? "",
        );
  });
  return { targets, eventBridge: input.eventBridge };
}

function checkEventType(e: string): void {
  if (CONFIGURABLE.has(e)) return;
  if (NOT_SENT.test(e))
    throw new S3Error(
      "NotImplemented",
      501,
      `Nimbus does not send ${e} events; it sends s3:ObjectCreated:* (Put, Post, Copy, CompleteMultipartUpload), s3:ObjectRemoved:* (Delete, DeleteMarkerCreated) and s3:LifecycleExpiration:* (Delete, DeleteMarkerCreated).`,
    );
  throw invalidArgument(
    `The event is not supported for notifications: "${e}". Expected one of ${[...CONFIGURABLE].join(", ")}.`,
    "Event",
    e,
  );
}

function filterOf(rules: NotificationInput["targets"][number]["rules"]): {
  prefix: string | undefined;
  suffix: string | undefined;
} {
  let prefix: string | undefined;
  let suffix: string | undefined;
  for (const r of rules) {
    const name = r.name.toLowerCase();
    if (name !== "prefix" && name !== "suffix")
      throw invalidArgument(
        `Invalid filter rule name "${r.name}": a FilterRule's Name is prefix or suffix.`,
        "FilterRule.Name",
        r.name,
      );
    if (Buffer.byteLength(r.value) > MAX_FILTER_VALUE_BYTES)
      throw invalidArgument(
        `A ${name} filter is at most ${MAX_FILTER_VALUE_BYTES} bytes.`,
        "FilterRule.Value",
        r.value,
      );
    if ((name === "prefix" ? prefix : suffix) !== undefined)
      throw invalidArgument(
        `Cannot specify more than one ${name} rule in a filter.`,
        "FilterRule.Name",
        r.name,
      );
    if (name === "prefix") prefix = r.value;
    else suffix = r.value;
  }
  return { prefix: prefix || undefined, suffix: suffix || undefined };
}

/** Whether two configured event types share an event (`s3:ObjectCreated:*` and `s3:ObjectCreated:Put` do). */
function eventTypesOverlap(a: string, b: string): boolean {
  const covers = (wild: string, e: string) => wild.endsWith(":*") && e.startsWith(wild.slice(0, -1));
  return a === b || covers(a, b) || covers(b, a);
}

/** S3's rule: two destinations overlap when a key and an event type could match both. */
function overlap(a: NotificationTarget, b: NotificationTarget): boolean {
  if (!a.events.some((e) => b.events.some((f) => eventTypesOverlap(e, f)))) return false;
  const [pa, pb, sa, sb] = [a.prefix ?? "", b.prefix ?? "", a.suffix ?? "", b.suffix ?? ""];
  return (pa.startsWith(pb) || pb.startsWith(pa)) && (sa.endsWith(sb) || sb.endsWith(sa));
}

function overlapMessage(a: NotificationTarget, b: NotificationTarget): string {
  const filtered = [a.prefix, a.suffix, b.prefix, b.suffix].some((f) => f !== undefined);
  return filtered
    ? "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type."
    : "Configurations overlap. Configurations on the same bucket cannot share a common event type.";
}

/** Whether a configured event type (`s3:ObjectCreated:*`) covers an event (`ObjectCreated:Put`). */
export function eventTypeMatches(configured: string, eventName: string): boolean {
  return eventTypesOverlap(configured, `s3:${eventName}`);
}

/** The destinations that receive an event of a key. */
export function matchingTargets(
  config: NotificationConfiguration,
  eventName: string,
  key: string,
): NotificationTarget[] {
  return config.targets.filter(
    (t) =>
      t.events.some((e) => eventTypeMatches(e, eventName)) &&
      (t.prefix === undefined || key.startsWith(t.prefix)) &&
      (t.suffix === undefined || key.endsWith(t.suffix)),
  );
}

/** Whether a configuration wants an event at all: the bus takes every event, a destination its matches. */
export function wantsEvent(config: NotificationConfiguration, eventName: string, key: string): boolean {
  return config.eventBridge || matchingTargets(config, eventName, key).length > 0;
}

/**
 * Sequencers: fixed-width hex (18 digits, as S3's), nanoseconds of the clock, and one more than
 * the last when the clock has not moved on: increasing for a key's changes in this process, and
 * across restarts as long as the clock is.
 */
export class Sequencer {
  #last = 0n;

  next(nowMs: number): string {
    const fromClock = BigInt(Math.max(0, Math.floor(nowMs))) * 1_000_000n;
    this.#last = fromClock > this.#last ? fromClock : this.#last + 1n;
    return this.#last.toString(16).toUpperCase().padStart(18, "0");
  }
}

/** What object events reach: the platform's account, its functions, queues and bus. */
export interface NotificationLinks {
  readonly account: { readonly region: string; readonly accountId: string };
  /** Whether an ARN names a function (with any qualifier) or a standard queue of this platform now. */
  exists(arn: string): Promise<boolean>;
  /** Queues an asynchronous invocation of a function ARN; resolves once it is durable. */
  invokeAsync(functionArn: string, payload: string, idempotencyKey?: string): Promise<void>;
  /** Sends a message to a queue ARN; resolves once it is durable. */
  sendToQueue(queueArn: string, body: string): Promise<void>;
  /** Publishes an event of `nimbus.storage` on the platform's default bus. */
  publish(detailType: string, detail: Record<string, unknown>, resources: string[]): Promise<void>;
}

export interface NotificationsDeps {
  readonly repo: Pick<StorageRepo, "getBucket" | "putSetting">;
  readonly clock: Clock;
  /** Resolved when first needed: what the platform wires after storage. */
  readonly links: () => NotificationLinks;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
  /** Told after an event row was committed: the deliverer wakes. */
  readonly written: () => void;
}

/** The newest configurations read, parsed, by their JSON (a write reads its bucket's on every call). */
const PARSED_CACHE_SIZE = 256;

/** Buckets' notification configurations, and the event rows their changes write. */
export class ObjectNotifications {
  readonly #d: NotificationsDeps;
  readonly #sequencer = new Sequencer();
  readonly #parsed = new Map<string, NotificationConfiguration>();

  constructor(d: NotificationsDeps) {
    this.#d = d;
  }

  /** GetBucketNotificationConfiguration: the configuration, empty when there is none. */
  async get(bucket: string): Promise<NotificationConfiguration> {
    const b = await this.#d.repo.getBucket(bucket);
    if (b === undefined) throw noSuchBucket(bucket);
    return this.configurationOf(b) ?? NO_NOTIFICATIONS;
  }

  /** A bucket's configuration now; undefined when it has none, or the bucket is gone. */
  async current(bucket: string): Promise<NotificationConfiguration | undefined> {
    const b = await this.#d.repo.getBucket(bucket);
    return b === undefined ? undefined : this.configurationOf(b);
  }

  /**
   * PutBucketNotificationConfiguration: checks it by S3's rules and that each destination
   * exists (unless told to skip that), replaces the bucket's (an empty one removes it), and
   * sends each destination S3's `s3:TestEvent`.
   */
  async put(
    bucket: string,
    input: NotificationInput,
    o: { requestId: string; skipDestinationValidation: boolean },
  ): Promise<void> {
    if ((await this.#d.repo.getBucket(bucket)) === undefined) throw noSuchBucket(bucket);
    const config = checkConfiguration(input);
    if (!o.skipDestinationValidation) await this.#checkDestinations(config);
    const empty = config.targets.length === 0 && !config.eventBridge;
    const json = empty ? undefined : JSON.stringify(config);
    if (!(await this.#d.repo.putSetting(bucket, "notification", json))) throw noSuchBucket(bucket);
    await this.#sendTestEvents(bucket, config, o.requestId);
  }

  /**
   * The event row a change writes with itself, when its bucket's configuration wants the event
   * (no configuration, no row: a bucket without one pays nothing).
   */
  eventFor(
    b: BucketRecord,
    eventName: ObjectEventName,
    object: { key: string; size: number; etag: string; versionId: string | undefined },
    origin: RequestOrigin | undefined,
  ): ObjectEventRecord | undefined {
    const config = this.configurationOf(b);
    if (config === undefined || !wantsEvent(config, eventName, object.key)) return undefined;
    const now = this.#d.clock.now();
    return {
      id: randomUUID(),
      eventName,
      bucket: b.name,
      key: object.key,
      size: object.size,
      etag: object.etag.replace(/^"|"$/g, ""),
      versionId: object.versionId,
      sequencer: this.#sequencer.next(now),
      sourceIp: origin?.sourceIp ?? "127.0.0.1",
      requestId: origin?.requestId ?? "",
      createdAt: now,
      attempts: 0,
      dueAt: now,
    };
  }

  /** A change wrote `event` (or none) and committed. */
  committed(event: ObjectEventRecord | undefined): void {
    if (event !== undefined) this.#d.written();
  }

  /** The bucket's configuration, parsed once per distinct JSON. */
  configurationOf(b: BucketRecord): NotificationConfiguration | undefined {
    const json = b.settings.notification;
    if (json === undefined) return undefined;
    let config = this.#parsed.get(json);
    if (config === undefined) {
      config = JSON.parse(json) as NotificationConfiguration;
      if (this.#parsed.size >= PARSED_CACHE_SIZE) this.#parsed.clear();
      this.#parsed.set(json, config);
    }
    return config;
  }

  async #checkDestinations(config: NotificationConfiguration): Promise<void> {
    const links = this.#d.links();
    const failed: Record<string, string> = {};
    let n = 0;
    for (const t of config.targets) {
      const prefix = t.kind === "function" ? "arn:aws:lambda:" : "arn:aws:sqs:";
      if (t.arn.startsWith(prefix) && (await links.exists(t.arn))) continue;
      n += 1;
      failed[`ArgumentName${n}`] = t.arn;
      failed[`ArgumentValue${n}`] =
        t.kind === "function"
          ? `Not authorized to invoke function [${t.arn}]: it names no function of this platform`
          : `Permissions on the destination queue do not allow S3 to publish notifications from this bucket: ${t.arn} names no standard queue of this platform`;
    }
    if (n > 0)
      throw new S3Error(
        "InvalidArgument",
        400,
        "Unable to validate the following destination configurations",
        failed,
      );
  }

  /** S3's test message to each destination; one that does not take it is logged, not refused. */
  async #sendTestEvents(bucket: string, config: NotificationConfiguration, requestId: string): Promise<void> {
    if (config.targets.length === 0) return;
    const links = this.#d.links();
    const body = JSON.stringify(testEvent(bucket, requestId, this.#d.clock.now()));
    const sent = new Set<string>();
    for (const t of config.targets) {
      if (sent.has(t.arn)) continue;
      sent.add(t.arn);
      try {
        if (t.kind === "function") await links.invokeAsync(t.arn, body);
        else await links.sendToQueue(t.arn, body);
      } catch (err) {
        this.#d.log("storage: the s3:TestEvent could not be sent", {
          bucket,
          target: t.arn,
          err: String(err),
        });
      }
    }
  }
}

/** S3's `s3:TestEvent`, sent to each destination when a configuration is set. */
export function testEvent(bucket: string, requestId: string, nowMs: number) {
  return {
    Service: "Amazon S3",
    Event: "s3:TestEvent",
    Time: new Date(nowMs).toISOString(),
    Bucket: bucket,
    RequestId: requestId,
    HostId: Buffer.from(requestId).toString("base64"),
  };
}
