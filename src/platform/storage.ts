/**
 * Object storage wired into the platform: its metadata in the platform's store, its bytes in
 * `<dataDir>/objects` (one file per blob), and at start a sweep of the blobs no record names
 * (left by a crash between a blob's write and its record's, or by a delete whose blobs could
 * not be removed), older than an hour so that nothing being written is taken. Object events
 * reach functions (asynchronous invocations), queues and the bus through the platform's
 * subsystems, which are built after storage: `peers` is read once the platform runs.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { AcceptInput } from "../control/async/accept.js";
import type { Registry } from "../control/registry/registry.js";
import { parseFunctionArn } from "../protocol/function.js";
import type { EventBus } from "../services/events/events.js";
import type { QueuesService } from "../services/queues/queues.js";
import { FsBlobStore } from "../services/storage/blobs-fs.js";
import { withBucketCache } from "../services/storage/bucket-cache.js";
import { EVENT_SOURCE, ObjectEventDelivery } from "../services/storage/event-delivery.js";
import { LifecycleSweep } from "../services/storage/lifecycle.js";
import { Multipart } from "../services/storage/multipart.js";
import { type NotificationLinks, ObjectNotifications } from "../services/storage/notifications.js";
import type { StorageRepo } from "../services/storage/repo.js";
import { StorageService } from "../services/storage/storage.js";
import { ImageTransformer } from "../services/storage/transforms.js";
import { VariantCache } from "../services/storage/transforms-cache.js";
import { TUS_SWEEP_EVERY_MS, TusUploads } from "../services/storage/tus.js";
import type { Clock, TimerHandle } from "../shared/clock.js";
import type { Config } from "../shared/config.js";
import type { Logger } from "../shared/logger.js";
import type { Component, Lifecycle } from "./lifecycle.js";
import { targetExists } from "./schedules.js";

/** What object events reach, from the composition root. */
export interface StoragePeers {
  readonly config: Pick<Config, "region" | "accountId">;
  readonly registry: Pick<Registry, "get">;
  readonly queues: Pick<QueuesService, "describe" | "sendByArn">;
  readonly events: Pick<EventBus, "publish">;
  /** The accept path of asynchronous invocations. */
  readonly enqueue: (input: AcceptInput) => Promise<string>;
}

export interface WiredStorage {
  readonly storage: StorageService;
  readonly multipart: Multipart;
  /** Resumable uploads (tus) over the multipart uploads; expired ones are swept every 10 minutes. */
  readonly tus: TusUploads;
  /** Image transforms on GET, their variants cached in `<dataDir>/transforms`. */
  readonly transforms: ImageTransformer;
  /** The deliverer of object events: a component to start once its peers are. */
  readonly objectEvents: Component;
}

/** Opens the blob store (a lifecycle component), sweeps its orphans, and builds the service over it. */
export async function wireStorage(
  life: Lifecycle,
  o: {
    repos: { readonly storage: StorageRepo };
    dataDir: string;
    config: Pick<Config, "storageTransformCacheBytes">;
    clock: Clock;
    logger: Logger;
    peers: () => StoragePeers;
  },
): Promise<WiredStorage> {
  // Every request reads its bucket: records are cached, changes made here invalidate them.
  const d = { ...o, repo: withBucketCache(o.repos.storage, o.clock) };
  let blobs: FsBlobStore | undefined;
  await life.add({
    name: "object storage",
    start: async () => {
      blobs = await FsBlobStore.open({ dir: join(d.dataDir, "objects"), clock: d.clock });
      // Nothing is being written now: the data directory's lock keeps any other platform out,
      // and this one serves no request yet. So every blob no record names, and every temporary
      // file, is what a crash left, and goes at once (no grace to wait for a write in progress).
      const swept = await blobs.sweep(d.repo.referencedBlobs(), 0);
      if (swept > 0) d.logger.info(`object storage: removed ${swept} files no object or part names`);
    },
  });
  let links: NotificationLinks | undefined;
  const linksNow = () => {
    links ??= notificationLinks(d.peers());
    return links;
  };
  const log = (message: string, fields: Record<string, unknown>) => d.logger.warn(message, fields);
  const notifications = new ObjectNotifications({
    repo: d.repo,
    clock: d.clock,
    links: linksNow,
    log,
    written: () => objectEvents.changed(),
  });
  const objectEvents = new ObjectEventDelivery({
    repo: d.repo,
    clock: d.clock,
    logger: d.logger,
    links: linksNow,
    configuration: (bucket) => notifications.current(bucket),
  });
  const storage = new StorageService({ repo: d.repo, blobs: blobs!, clock: d.clock, log, notifications });
  const multipart = new Multipart(storage);
  const tus = new TusUploads({ storage, multipart, clock: d.clock });
  let sweep: TimerHandle | undefined;
  await life.add({
    name: "tus upload expiry",
    start: () => {
      sweep = d.clock.setInterval(
        () =>
          tus
            .sweep()
            .then((n) => n > 0 && d.logger.info(`object storage: removed ${n} expired tus uploads`))
            .catch((err: unknown) =>
              log("object storage: the sweep of expired tus uploads failed", { err: String(err) }),
            ),
        TUS_SWEEP_EVERY_MS,
      );
    },
    stop: () => sweep?.cancel(),
  });
  // Buckets' lifecycle rules: shortly after start, then every hour of the clock.
  await life.add(new LifecycleSweep({ storage, multipart, clock: d.clock, logger: d.logger }));
  const transforms = new ImageTransformer({
    storage,
    cache: new VariantCache({
      dir: join(d.dataDir, "transforms"),
      maxBytes: d.config.storageTransformCacheBytes,
      log,
    }),
    concurrency: availableParallelism(),
  });
  return { storage, multipart, tus, transforms, objectEvents };
}

function notificationLinks(p: StoragePeers): NotificationLinks {
  return {
    account: { region: p.config.region, accountId: p.config.accountId },
    // S3 sends to standard queues only.
    exists: async (arn) =>
      arn.startsWith("arn:aws:sqs:")
        ? (await p.queues.describe(arn))?.fifo === false
        : targetExists(p.registry, p.queues, arn),
    invokeAsync: async (arn, payload, idempotencyKey) => {
      const ref = parseFunctionArn(arn);
      if (!ref) throw new Error(`${arn} is not a function ARN`);
      await p.enqueue({
        functionName: ref.name,
        qualifier: ref.qualifier,
        payload: Buffer.from(payload),
        idempotencyKey,
      });
    },
    sendToQueue: async (arn, body) => {
      await p.queues.sendByArn(arn, body);
    },
    publish: (detailType, detail, resources) => p.events.publish(EVENT_SOURCE, detailType, detail, resources),
  };
}
