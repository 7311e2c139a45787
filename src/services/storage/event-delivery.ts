/**
 * Object events, the delivering side: an outbox reader on the platform's clock. A change and
 * its event row commit together (`notifications.ts`); this takes the due rows oldest first,
 * matches each against its bucket's configuration as it is now (event type, prefix, suffix),
 * and hands it over: to each function as an asynchronous invocation with S3's event record,
 * under an idempotency key per event and configuration (a crash between the hand-over and the
 * row's removal queues nothing twice), to each queue as a message, and to the bus as
 * `nimbus.storage` when EventBridge is on; then removes the row. A hand-over that fails is
 * tried again with growing waits. Delivery is at least once: a queue or the bus may see an
 * event twice after a crash or a retry.
 *
 * It wakes when a change wrote an event, when a retry is due, and every POLL_INTERVAL_MS (for
 * rows another process wrote).
 */
import { createHash } from "node:crypto";
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { retryDelayMs, WakeLoop } from "../../shared/wake-loop.js";
import type { ObjectEventRecord } from "./model.js";
import { matchingTargets, type NotificationConfiguration, type NotificationLinks } from "./notifications.js";
import type { StorageRepo } from "./repo.js";

/** The bus source of object events. */
export const EVENT_SOURCE = "nimbus.storage";
/** How long the deliverer sleeps at most: rows another process wrote are seen within it. */
export const POLL_INTERVAL_MS = 10_000;
/** A hand-over failing for this long is given up (and logged): Lambda's longest event age. */
export const MAX_EVENT_AGE_MS = 6 * 60 * 60 * 1000;
const BATCH = 100;

export interface DeliveryDeps {
  readonly repo: Pick<StorageRepo, "dueEvents" | "retryEvent" | "deleteEvent">;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly links: () => NotificationLinks;
  /** A bucket's configuration now (undefined: none, or the bucket is gone). */
  readonly configuration: (bucket: string) => Promise<NotificationConfiguration | undefined>;
}

export class ObjectEventDelivery {
  readonly name = "object events";
  readonly #d: DeliveryDeps;
  readonly #loop: WakeLoop;
  /** The earliest retry this process deferred and has not taken yet. */
  #nextRetry = Number.POSITIVE_INFINITY;

  constructor(d: DeliveryDeps) {
    this.#d = d;
    this.#loop = new WakeLoop({
      what: "object events",
      pass: () => this.#pass(),
      next: async () => Math.min(this.#nextRetry, d.clock.now() + POLL_INTERVAL_MS),
    });
  }

  /** Starts delivering, what a crash left first; resolves without waiting for the backlog. */
  async start(): Promise<void> {
    void this.#loop.start(this.#d.clock, this.#d.logger);
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Resolves once the run under way (if any) has ended: for tests, which then assert. */
  idle(): Promise<void> {
    return this.#loop.idle();
  }

  /** An event was written: deliver now (or after the pass under way). */
  changed(): void {
    this.#loop.changed();
  }

  async #pass(): Promise<void> {
    const { clock, repo } = this.#d;
    if (this.#nextRetry <= clock.now()) this.#nextRetry = Number.POSITIVE_INFINITY;
    // A bucket's configuration is read once a pass.
    const configs = new Map<string, Promise<NotificationConfiguration | undefined>>();
    for (;;) {
      const due = await repo.dueEvents(clock.now(), BATCH);
      for (const e of due) {
        if (this.#loop.stopped) return;
        await this.#deliver(e, configs);
      }
      if (due.length < BATCH || this.#loop.stopped) return;
    }
  }

  async #deliver(
    e: ObjectEventRecord,
    configs: Map<string, Promise<NotificationConfiguration | undefined>>,
  ): Promise<void> {
    const { clock, logger, repo } = this.#d;
    try {
      let config = configs.get(e.bucket);
      if (config === undefined) {
        config = this.#d.configuration(e.bucket);
        configs.set(e.bucket, config);
      }
      const current = await config;
      if (current !== undefined) await handOver(e, current, this.#d.links());
    } catch (err) {
      configs.delete(e.bucket);
      const now = clock.now();
      const fields = { bucket: e.bucket, key: e.key, event: e.eventName, attempts: e.attempts + 1, err };
      if (now - e.createdAt < MAX_EVENT_AGE_MS) {
        const dueAt = now + retryDelayMs(e.attempts + 1);
        await repo.retryEvent(e.id, dueAt);
        this.#nextRetry = Math.min(this.#nextRetry, dueAt);
        logger.warn("object events: an event could not be handed over; trying again", fields);
        return;
      }
      logger.error("object events: an event could not be handed over for 6 hours; dropped", fields);
    }
    await repo.deleteEvent(e.id);
  }
}

/** Hands an event to every destination of the configuration that wants it, and to the bus. */
async function handOver(
  e: ObjectEventRecord,
  config: NotificationConfiguration,
  links: NotificationLinks,
): Promise<void> {
  for (const t of matchingTargets(config, e.eventName, e.key)) {
    const payload = JSON.stringify(s3Event(e, t.id, links.account));
    if (t.kind === "function") await links.invokeAsync(t.arn, payload, idempotencyKey(e.id, t.id));
    else await links.sendToQueue(t.arn, payload);
  }
  if (config.eventBridge) {
    const { detailType, detail } = eventBridgeEvent(e, links.account);
    await links.publish(detailType, detail, [bucketArn(e.bucket)]);
  }
}

/** The async queue's idempotency key of an event to one configuration: the same on every attempt. */
export function idempotencyKey(eventId: string, configurationId: string): string {
  return `s3-${eventId}-${createHash("sha256").update(configurationId).digest("hex").slice(0, 16)}`;
}

const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;

/**
 * A key as S3's event records carry it: URL-encoded as a form is (a space is `+`), `/` kept.
 * (`decodeURIComponent(key.replace(/\+/g, " "))`, or Python's `unquote_plus`, reads it back.)
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+")
    .replace(/%2F/g, "/");
}

type Account = NotificationLinks["account"];
const created = (e: ObjectEventRecord) => e.eventName.startsWith("ObjectCreated:");

/** S3's event notification (`{"Records":[…]}`) of an event to one configuration. */
export function s3Event(e: ObjectEventRecord, configurationId: string, account: Account) {
  return {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: account.region,
        eventTime: new Date(e.createdAt).toISOString(),
        eventName: e.eventName,
        userIdentity: { principalId: account.accountId },
        requestParameters: { sourceIPAddress: e.sourceIp },
        responseElements: { "x-amz-request-id": e.requestId, "x-amz-id-2": e.requestId },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId,
          bucket: {
            name: e.bucket,
            ownerIdentity: { principalId: account.accountId },
            arn: bucketArn(e.bucket),
          },
          object: {
            key: encodeEventKey(e.key),
            // A removal's record has no size or ETag, as S3's.
            ...(created(e) ? { size: e.size, eTag: e.etag.replace(/^"|"$/g, "") } : {}),
            ...(e.versionId === undefined ? {} : { versionId: e.versionId }),
            sequencer: e.sequencer,
          },
        },
      },
    ],
  };
}

/** What the request was, as S3's EventBridge events name it (`reason`). */
const REASONS: Readonly<Record<string, string>> = {
  "ObjectCreated:Put": "PutObject",
  "ObjectCreated:Post": "POST Object",
  "ObjectCreated:Copy": "CopyObject",
  "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
  "ObjectRemoved:Delete": "DeleteObject",
  "ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
  "LifecycleExpiration:Delete": "Lifecycle Expiration",
  "LifecycleExpiration:DeleteMarkerCreated": "Lifecycle Expiration",
};

/** The detail-type and detail of S3's EventBridge event (`Object Created`, `Object Deleted`). */
export function eventBridgeEvent(
  e: ObjectEventRecord,
  account: Account,
): { detailType: string; detail: Record<string, unknown> } {
  const isCreated = created(e);
  const object = {
    key: e.key,
    ...(isCreated ? { size: e.size, etag: e.etag.replace(/^"|"$/g, "") } : {}),
    ...(e.versionId === undefined ? {} : { "version-id": e.versionId }),
    sequencer: e.sequencer,
  };
  return {
    detailType: isCreated ? "Object Created" : "Object Deleted",
    detail: {
      version: "0",
      bucket: { name: e.bucket },
      object,
      "request-id": e.requestId,
      requester: account.accountId,
      "source-ip-address": e.sourceIp,
      reason: REASONS[e.eventName] ?? e.eventName,
      ...(isCreated
        ? {}
        : {
            "deletion-type": e.eventName.endsWith(":DeleteMarkerCreated")
              ? "Delete Marker Created"
              : "Permanently Deleted",
          }),
    },
  };
}
