/**
 * Object storage wired into the platform: its metadata in the platform's store, its bytes in
 * `<dataDir>/objects` (one file per blob), and at start a sweep of the blobs no record names
 * (left by a crash between a blob's write and its record's, or by a delete whose blobs could
 * not be removed), older than an hour so that nothing being written is taken.
 */
import { join } from "node:path";
import { FsBlobStore } from "../services/storage/blobs-fs.js";
import { Multipart } from "../services/storage/multipart.js";
import type { StorageRepo } from "../services/storage/repo.js";
import { StorageService } from "../services/storage/storage.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Lifecycle } from "./lifecycle.js";

/** A blob younger than this is never swept: its record may be being written. */
export const ORPHAN_BLOB_GRACE_MS = 60 * 60 * 1000;

export interface WiredStorage {
  readonly storage: StorageService;
  readonly multipart: Multipart;
}

/** Opens the blob store (a lifecycle component), sweeps its orphans, and builds the service over it. */
export async function wireStorage(
  life: Lifecycle,
  d: { repo: StorageRepo; dataDir: string; clock: Clock; logger: Logger },
): Promise<WiredStorage> {
  let blobs: FsBlobStore | undefined;
  await life.add({
    name: "object storage",
    start: async () => {
      blobs = await FsBlobStore.open({ dir: join(d.dataDir, "objects"), clock: d.clock });
      const swept = await blobs.sweep(d.repo.referencedBlobs(), ORPHAN_BLOB_GRACE_MS);
      if (swept > 0) d.logger.info(`object storage: removed ${swept} blobs no object or part names`);
    },
  });
  const storage = new StorageService({
    repo: d.repo,
    blobs: blobs!,
    clock: d.clock,
    log: (message, fields) => d.logger.warn(message, fields),
  });
  return { storage, multipart: new Multipart(storage) };
}
