/**
 * The storage service as its unit tests build it: over a fresh SQLite store and a blob
 * directory of its own, on a fake clock, both removed by the cleanups the caller runs after
 * its tests.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsBlobStore } from "../../src/services/storage/blobs-fs.js";
import type { StorageRepo } from "../../src/services/storage/repo.js";
import { type StorageDeps, StorageService } from "../../src/services/storage/storage.js";
import { FakeClock } from "../../src/shared/clock.js";
import { openSqlite } from "../../src/store/contract/stores.js";

export async function storageOnSqlite(o: {
  /** Names the temporary directory. */
  name: string;
  cleanups: (() => Promise<void>)[];
  /** Deps beyond the repository, blobs, clock and a silent log (notifications, say). */
  more?: (repo: StorageRepo, clock: FakeClock) => Partial<StorageDeps>;
}) {
  const store = await openSqlite();
  const dir = await mkdtemp(join(tmpdir(), `nimbus-${o.name}-`));
  o.cleanups.push(
    () => store.close(),
    () => rm(dir, { recursive: true, force: true }),
  );
  const clock = new FakeClock();
  const blobs = await FsBlobStore.open({ dir: join(dir, "objects"), clock });
  const repo = store.storage;
  const storage = new StorageService({ repo, blobs, clock, log: () => undefined, ...o.more?.(repo, clock) });
  return { storage, repo, clock, dir, blobsDir: join(dir, "objects") };
}
