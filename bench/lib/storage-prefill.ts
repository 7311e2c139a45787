/**
 * A data directory holding a bucket of many keys before its platform starts: through HTTP a
 * million PUTs would take most of an hour, so the records go straight into the SQLite store
 * with its own repository (`SqliteStore.storage.putVersion`, each row as a PUT writes it: the
 * version, the key's latest flag, the bucket's usage), then the store is closed and the
 * platform started on the directory. The records name one blob that is never written: a
 * listing reads metadata only, and the start-up sweep keeps what a record names.
 */
import { chmodSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ObjectVersionRecord } from "../../src/services/storage/model.js";
import { SqliteStore } from "../../src/store/sqlite.js";

/** The blob every filled record names. */
const FILLED_BLOB_ID = "0".repeat(32);
const FILLED_SIZE_BYTES = 4096;

/** The `i`-th key of a filled bucket: fixed width, so byte order is numeric order. */
export function filledKey(i: number): string {
  return `objects/${String(i).padStart(7, "0")}`;
}

/** A new data directory whose store holds `bucket` with keys `filledKey(0 … count − 1)`; the time it took. */
export async function filledDataDir(
  bucket: string,
  count: number,
  progress: (message: string) => void,
): Promise<{ dataDir: string; ms: number; databaseMb: number }> {
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), "nimbus-bench-storage-"));
  chmodSync(dataDir, 0o711);
  const store = new SqliteStore(join(dataDir, "nimbus.db"));
  try {
    const now = Date.now();
    await store.storage.createBucket({
      name: bucket,
      createdAt: now,
      versioning: "Unversioned",
      publicRead: false,
      settings: {},
    });
    const base: Omit<ObjectVersionRecord, "key"> = {
      bucket,
      versionId: "null",
      isDeleteMarker: false,
      size: FILLED_SIZE_BYTES,
      etag: '"0f343b0931126a20f133d67c2b018a3b"',
      blobId: FILLED_BLOB_ID,
      headers: {
        contentType: "application/octet-stream",
        contentEncoding: undefined,
        contentDisposition: undefined,
        contentLanguage: undefined,
        cacheControl: undefined,
        expires: undefined,
      },
      userMetadata: {},
      checksum: undefined,
      partsCount: 0,
      tags: {},
      createdAt: now,
    };
    for (let i = 0; i < count; i++) {
      await store.storage.putVersion({ ...base, key: filledKey(i) });
      if ((i + 1) % 200_000 === 0) progress(`storage list: ${(i + 1).toLocaleString("en-US")} keys stored`);
    }
  } finally {
    await store.close();
  }
  const databaseBytes = readdirSync(dataDir)
    .filter((f) => f.startsWith("nimbus.db"))
    .reduce((n, f) => n + statSync(join(dataDir, f)).size, 0);
  return { dataDir, ms: performance.now() - started, databaseMb: databaseBytes / (1024 * 1024) };
}
