/**
 * Object storage's metadata in PostgreSQL (`StorageRepo`): the tables of `storage-tables.ts`.
 * Writes of one key take turns (a transaction-level advisory lock per key), so that the newest
 * version of a key is the one last committed and a key never has two latest. Every write into a
 * bucket shares the bucket's advisory lock, which its deletion takes whole: a deletion waits for
 * writes under way and then sees what they wrote, and a write after it finds the bucket gone. An
 * upload is completed or aborted by deleting its row, which a second taker waits on and then
 * finds gone; a part is stored under a share lock of that row, so it never outlives its upload.
 * A guarded write (a bucket with a quota) locks the bucket's row, then adds up its usage: guarded
 * writers of a bucket take turns from the check to the commit, so that what one finds includes
 * every other's, while writes without a guard never wait on that lock. A listing is one range of
 * an index: its bounds compare under "C", the columns' collation.
 */
import type {
  BucketRecord,
  BucketSettingKind,
  BucketUsage,
  MultipartUploadRecord,
  ObjectEventRecord,
  ObjectVersionRecord,
  PartRecord,
  Versioning,
} from "../../services/storage/model.js";
import type { Released, StorageRepo, UsageGuard, UsageRefusal } from "../../services/storage/repo.js";
import {
  BUCKET_COLUMNS,
  type BucketRow,
  bucketRow,
  checkUploadTarget,
  EVENT_COLUMNS,
  type EventRow,
  eventRow,
  GuardRefused,
  inPrefix,
  type KeyRange,
  keyRange,
  LISTED_VERSION_COLUMNS,
  orRefusal,
  PART_COLUMNS,
  PART_UPDATED_COLUMNS,
  type PartRow,
  partRow,
  toBucket,
  toEvent,
  toPart,
  toUpload,
  toVersion,
  UPLOAD_COLUMNS,
  type UploadRow,
  type UsageDelta,
  uploadRow,
  VERSION_COLUMNS,
  type VersionRow,
  versionRow,
} from "../storage-row.js";
import type { Sql, Tx } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";
import { STORAGE_INLINE_BODY_MIGRATION, STORAGE_TABLES_MIGRATION } from "./storage-tables.js";

/** A listing's columns: no inline bodies, which only a read by key needs. */
const LISTED = ["seq", "is_latest", ...LISTED_VERSION_COLUMNS];

/** References no other module's tables. */
export const STORAGE_MIGRATIONS: ModuleMigrations = {
  module: "storage",
  steps: [STORAGE_TABLES_MIGRATION, STORAGE_INLINE_BODY_MIGRATION],
};

/** The first keys of the advisory locks of buckets and of keys ("NSBU", "NSKY"). */
const BUCKET_LOCK_CLASS = 0x4e534255;
const KEY_LOCK_CLASS = 0x4e534b59;
/** Rows of a bucket's usage; a write moves the one of its connection. */
const USAGE_SLOTS = 16;
/** Rows a scan of `referencedBlobs` reads at a time. */
const BLOB_PAGE_ROWS = 1000;

/** A write into `bucket`'s `key`: the bucket's lock shared, the key's taken (both to commit). */
async function lockKey(tx: Tx, bucket: string, key: string): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock_shared(${BUCKET_LOCK_CLASS}, hashtext(current_schema() || '/' || ${bucket})),
    pg_advisory_xact_lock(${KEY_LOCK_CLASS}, hashtext(current_schema() || '/' || ${bucket} || '/' || ${key}))`;
}

/** A write into `bucket` that names no key (an upload started). */
async function lockBucketShared(tx: Tx, bucket: string): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock_shared(${BUCKET_LOCK_CLASS}, hashtext(current_schema() || '/' || ${bucket}))`;
}

/** Refuses a write into a bucket that does not exist (a caller's mistake; the transaction undone). */
async function checkBucket(tx: Tx, bucket: string, what: string): Promise<void> {
  const [found] = await tx`SELECT 1 FROM storage_buckets WHERE name = ${bucket}`;
  if (!found) throw new Error(`cannot ${what} in bucket "${bucket}": it does not exist`);
}

/**
 * Refuses a write into a bucket that does not exist, as `checkBucket`, and locks its row until
 * the commit: guarded writers of the bucket wait here for each other (no key's lock is taken
 * after it, so they cannot deadlock).
 */
async function lockBucketRow(tx: Tx, bucket: string): Promise<void> {
  const [found] = await tx`SELECT 1 FROM storage_buckets WHERE name = ${bucket} FOR NO KEY UPDATE`;
  if (!found) throw new Error(`cannot store an object in bucket "${bucket}": it does not exist`);
}

/** The bucket's usage as this transaction sees it. */
async function usageIn(tx: Tx | Sql, bucket: string): Promise<BucketUsage> {
  const [row] = await tx<BucketUsage[]>`SELECT coalesce(sum(objects), 0)::bigint AS objects,
    coalesce(sum(bytes), 0)::bigint AS bytes FROM storage_usage WHERE bucket = ${bucket}`;
  return { objects: row?.objects ?? 0, bytes: row?.bytes ?? 0 };
}

/** The condition of `range` on `key`. */
function rangeSql(sql: Sql, range: KeyRange) {
  const from = range.inclusive ? sql`key >= ${range.from}` : sql`key > ${range.from}`;
  return range.to === undefined ? from : sql`${from} AND key < ${range.to}`;
}

/** Of `blobIds`, those no version or part names (once), in the order given. */
async function unreferenced(tx: Tx, blobIds: readonly (string | null | undefined)[]): Promise<string[]> {
  const unique = [...new Set(blobIds.filter((id): id is string => typeof id === "string"))];
  if (unique.length === 0) return [];
  const rows = await tx<
    { id: string }[]
  >`SELECT id FROM unnest(${tx.array(unique)}::text[]) WITH ORDINALITY AS b(id, n)
    WHERE NOT EXISTS (SELECT 1 FROM storage_versions WHERE blob_id = b.id)
      AND NOT EXISTS (SELECT 1 FROM storage_parts WHERE blob_id = b.id)
    ORDER BY n`;
  return rows.map((r) => r.id);
}

/** Removes the upload and its parts; the parts' blobs, or undefined if the upload is gone. */
async function removeUpload(
  tx: Tx,
  uploadId: string,
): Promise<{ upload: UploadRow; blobIds: string[] } | undefined> {
  const [upload] = await tx<
    UploadRow[]
  >`DELETE FROM storage_uploads WHERE upload_id = ${uploadId} RETURNING *`;
  if (!upload) return undefined;
  const parts = await tx<{ blob_id: string }[]>`DELETE FROM storage_parts WHERE upload_id = ${uploadId}
    RETURNING blob_id`;
  return { upload, blobIds: parts.map((p) => p.blob_id) };
}

export class PostgresStorageRepo implements StorageRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async createBucket(bucket: BucketRecord): Promise<boolean> {
    const sql = this.#sql;
    const inserted = await sql`INSERT INTO storage_buckets ${sql(bucketRow(bucket), BUCKET_COLUMNS)}
      ON CONFLICT (name) DO NOTHING`;
    return inserted.count === 1;
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const [row] = await this.#sql<BucketRow[]>`SELECT * FROM storage_buckets WHERE name = ${name}`;
    return row && toBucket(row);
  }

  async listBuckets(): Promise<BucketRecord[]> {
    const rows = await this.#sql<BucketRow[]>`SELECT * FROM storage_buckets ORDER BY name`;
    return rows.map(toBucket);
  }

  async deleteBucket(name: string): Promise<"deleted" | "missing" | "not-empty"> {
    return this.#sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${BUCKET_LOCK_CLASS}, hashtext(current_schema() || '/' || ${name}))`;
      const [held] = await tx<{ held: boolean }[]>`SELECT
        EXISTS (SELECT 1 FROM storage_versions WHERE bucket = ${name})
        OR EXISTS (SELECT 1 FROM storage_uploads WHERE bucket = ${name}) AS held`;
      if (held?.held) return "not-empty";
      const deleted = await tx`DELETE FROM storage_buckets WHERE name = ${name}`;
      await tx`DELETE FROM storage_usage WHERE bucket = ${name}`;
      return deleted.count === 1 ? "deleted" : "missing";
    });
  }

  async setVersioning(name: string, versioning: Versioning): Promise<boolean> {
    const updated = await this
      .#sql`UPDATE storage_buckets SET versioning = ${versioning} WHERE name = ${name}`;
    return updated.count === 1;
  }

  async setPublicRead(name: string, publicRead: boolean): Promise<boolean> {
    const updated = await this
      .#sql`UPDATE storage_buckets SET public_read = ${publicRead} WHERE name = ${name}`;
    return updated.count === 1;
  }

  async putSetting(name: string, kind: BucketSettingKind, json: string | undefined): Promise<boolean> {
    const sql = this.#sql;
    // The setting's text is a JSON string in the object, kept as it is.
    const settings =
      json === undefined
        ? sql`(settings::jsonb - ${kind}::text)::text`
        : sql`(settings::jsonb || jsonb_build_object(${kind}::text, ${json}::text))::text`;
    const updated = await sql`UPDATE storage_buckets SET settings = ${settings} WHERE name = ${name}`;
    return updated.count === 1;
  }

  async usage(name: string): Promise<BucketUsage> {
    return usageIn(this.#sql, name);
  }

  /**
   * `row` stored as its key's newest (the "null" version it replaces removed), its usage and
   * `event` with it; answers the blobs it may have freed, for `unreferenced`. Throws
   * `GuardRefused` (the transaction to be rolled back) if `guard` refuses it.
   */
  async #store(
    tx: Tx,
    row: ReturnType<typeof versionRow>,
    event: EventRow | undefined,
    guard: UsageGuard | undefined,
  ): Promise<(string | null)[]> {
    const { bucket, key } = row;
    await lockKey(tx, bucket, key);
    const [, replaced] = await Promise.all([
      guard ? lockBucketRow(tx, bucket) : checkBucket(tx, bucket, "store an object"),
      row.version_id === "null"
        ? tx<{ blob_id: string | null; size: number }[]>`DELETE FROM storage_versions
            WHERE bucket = ${bucket} AND key = ${key} AND version_id = 'null' RETURNING blob_id, size`
        : [],
    ]);
    const old = replaced[0];
    const delta = { objects: old ? 0 : 1, bytes: row.size - (old?.size ?? 0) };
    if (guard) {
      // A statement after the lock: its snapshot has every earlier guarded writer's commit.
      const usage = await usageIn(tx, bucket);
      const refusal = guard.judge(usage, { bucket, size: row.size, delta, replacedBytes: old?.size });
      if (refusal) throw new GuardRefused(refusal);
    }
    await Promise.all([
      tx`UPDATE storage_versions SET is_latest = false WHERE is_latest AND seq = (SELECT seq FROM storage_versions
        WHERE bucket = ${bucket} AND key = ${key} ORDER BY seq DESC LIMIT 1)`,
      tx`INSERT INTO storage_versions ${tx({ ...row, is_latest: true }, [...VERSION_COLUMNS, "is_latest"])}`,
      this.#moveUsage(tx, bucket, delta),
      event && tx`INSERT INTO storage_events ${tx(event, EVENT_COLUMNS)}`,
    ]);
    return old ? [old.blob_id] : [];
  }

  /** Moves `bucket`'s usage, in the slot of this connection. */
  async #moveUsage(tx: Tx, bucket: string, delta: UsageDelta): Promise<void> {
    await tx`INSERT INTO storage_usage (bucket, slot, objects, bytes)
      VALUES (${bucket}, pg_backend_pid() % ${USAGE_SLOTS}, ${delta.objects}, ${delta.bytes})
      ON CONFLICT (bucket, slot) DO UPDATE SET objects = storage_usage.objects + excluded.objects,
        bytes = storage_usage.bytes + excluded.bytes`;
  }

  async putVersion(
    version: ObjectVersionRecord,
    event?: ObjectEventRecord,
    guard?: UsageGuard,
  ): Promise<Released | UsageRefusal> {
    const [row, ev] = [versionRow(version), event && eventRow(event)];
    return orRefusal(() =>
      this.#sql.begin(async (tx) => ({
        blobIds: await unreferenced(tx, await this.#store(tx, row, ev, guard)),
      })),
    );
  }

  async getVersion(
    bucket: string,
    key: string,
    versionId?: string,
  ): Promise<ObjectVersionRecord | undefined> {
    const sql = this.#sql;
    const [row] =
      versionId === undefined
        ? await sql<VersionRow[]>`SELECT * FROM storage_versions WHERE bucket = ${bucket} AND key = ${key}
            ORDER BY seq DESC LIMIT 1`
        : await sql<VersionRow[]>`SELECT * FROM storage_versions
            WHERE bucket = ${bucket} AND key = ${key} AND version_id = ${versionId}`;
    return row && toVersion(row);
  }

  async deleteVersion(
    bucket: string,
    key: string,
    versionId: string,
    event?: ObjectEventRecord,
  ): Promise<{ removed: ObjectVersionRecord | undefined } & Released> {
    const ev = event && eventRow(event);
    return this.#sql.begin(async (tx) => {
      await lockKey(tx, bucket, key);
      const [row] = await tx<VersionRow[]>`DELETE FROM storage_versions
        WHERE bucket = ${bucket} AND key = ${key} AND version_id = ${versionId} RETURNING *`;
      // Nothing changed, nothing to report.
      if (!row) return { removed: undefined, blobIds: [] };
      await Promise.all([
        row.is_latest &&
          tx`UPDATE storage_versions SET is_latest = true WHERE seq = (SELECT seq FROM storage_versions
            WHERE bucket = ${bucket} AND key = ${key} ORDER BY seq DESC LIMIT 1)`,
        this.#moveUsage(tx, bucket, { objects: -1, bytes: -row.size }),
        ev && tx`INSERT INTO storage_events ${tx(ev, EVENT_COLUMNS)}`,
      ]);
      return { removed: toVersion(row), blobIds: await unreferenced(tx, [row.blob_id]) };
    });
  }

  async putTags(
    bucket: string,
    key: string,
    versionId: string,
    tags: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    const updated = await this.#sql`UPDATE storage_versions SET tags = ${JSON.stringify(tags)}
      WHERE bucket = ${bucket} AND key = ${key} AND version_id = ${versionId}`;
    return updated.count === 1;
  }

  async listLatest(
    bucket: string,
    o: { prefix: string; after: string | undefined; limit: number },
  ): Promise<ObjectVersionRecord[]> {
    const range = keyRange(o.prefix, o.after);
    if (!range || o.limit <= 0) return [];
    const sql = this.#sql;
    const rows = await sql<VersionRow[]>`SELECT ${sql(LISTED)} FROM storage_versions
      WHERE bucket = ${bucket} AND is_latest AND NOT is_delete_marker AND ${rangeSql(sql, range)}
      ORDER BY key LIMIT ${o.limit}`;
    return rows.map(toVersion);
  }

  async listVersions(
    bucket: string,
    o: { prefix: string; afterKey: string | undefined; afterVersionId: string | undefined; limit: number },
  ): Promise<ObjectVersionRecord[]> {
    const range = keyRange(o.prefix, o.afterKey);
    if (!range || o.limit <= 0) return [];
    const sql = this.#sql;
    const rows: VersionRow[] = [];
    // The rest of the marker's key first (older than the marker), then the keys after it.
    if (o.afterKey !== undefined && o.afterVersionId !== undefined && inPrefix(o.afterKey, o.prefix))
      rows.push(
        ...(await sql<
          VersionRow[]
        >`SELECT ${sql(LISTED)} FROM storage_versions WHERE bucket = ${bucket} AND key = ${o.afterKey}
          AND seq < (SELECT seq FROM storage_versions
            WHERE bucket = ${bucket} AND key = ${o.afterKey} AND version_id = ${o.afterVersionId})
          ORDER BY seq DESC LIMIT ${o.limit}`),
      );
    const left = o.limit - rows.length;
    if (left > 0)
      rows.push(
        ...(await sql<
          VersionRow[]
        >`SELECT ${sql(LISTED)} FROM storage_versions WHERE bucket = ${bucket} AND ${rangeSql(sql, range)}
          ORDER BY key, seq DESC LIMIT ${left}`),
      );
    return rows.map(toVersion);
  }

  async createUpload(upload: MultipartUploadRecord): Promise<void> {
    const row = uploadRow(upload);
    await this.#sql.begin(async (tx) => {
      await lockBucketShared(tx, row.bucket);
      await checkBucket(tx, row.bucket, "start an upload");
      await tx`INSERT INTO storage_uploads ${tx(row, UPLOAD_COLUMNS)}`;
    });
  }

  async getUpload(uploadId: string): Promise<MultipartUploadRecord | undefined> {
    const [row] = await this.#sql<UploadRow[]>`SELECT * FROM storage_uploads WHERE upload_id = ${uploadId}`;
    return row && toUpload(row);
  }

  async listUploads(
    bucket: string,
    o: { prefix: string; afterKey: string | undefined; afterUploadId: string | undefined; limit: number },
  ): Promise<MultipartUploadRecord[]> {
    const range = keyRange(o.prefix, o.afterKey);
    if (!range || o.limit <= 0) return [];
    const sql = this.#sql;
    const rows: UploadRow[] = [];
    // The rest of the marker's key first (made after the marker), then the keys after it.
    if (o.afterKey !== undefined && o.afterUploadId !== undefined && inPrefix(o.afterKey, o.prefix))
      rows.push(
        ...(await sql<UploadRow[]>`SELECT u.* FROM storage_uploads u, storage_uploads m
          WHERE m.upload_id = ${o.afterUploadId} AND m.bucket = ${bucket} AND m.key = ${o.afterKey}
            AND u.bucket = ${bucket} AND u.key = ${o.afterKey}
            AND (u.created_at, u.upload_id) > (m.created_at, m.upload_id)
          ORDER BY u.created_at, u.upload_id LIMIT ${o.limit}`),
      );
    const left = o.limit - rows.length;
    if (left > 0)
      rows.push(
        ...(await sql<
          UploadRow[]
        >`SELECT * FROM storage_uploads WHERE bucket = ${bucket} AND ${rangeSql(sql, range)}
          ORDER BY key, created_at, upload_id LIMIT ${left}`),
      );
    return rows.map(toUpload);
  }

  async putPart(part: PartRecord): Promise<Released | "no-upload"> {
    const row = partRow(part);
    return this.#sql.begin(async (tx) => {
      const [id, n] = [row.upload_id, row.part_number];
      const [upload] = await tx`SELECT 1 FROM storage_uploads WHERE upload_id = ${id} FOR KEY SHARE`;
      if (!upload) return "no-upload";
      const inserted = await tx`INSERT INTO storage_parts ${tx(row, PART_COLUMNS)}
        ON CONFLICT (upload_id, part_number) DO NOTHING`;
      if (inserted.count === 1) return { blobIds: [] };
      // Taken: the part as the last writer of its number left it (one waits for another).
      const [old] = await tx<{ blob_id: string }[]>`SELECT blob_id FROM storage_parts
        WHERE upload_id = ${id} AND part_number = ${n} FOR UPDATE`;
      await tx`UPDATE storage_parts SET ${tx(row, PART_UPDATED_COLUMNS)}
        WHERE upload_id = ${id} AND part_number = ${n}`;
      return { blobIds: await unreferenced(tx, [old?.blob_id]) };
    });
  }

  async listParts(uploadId: string, o: { after: number; limit: number }): Promise<PartRecord[]> {
    const rows = await this.#sql<PartRow[]>`SELECT * FROM storage_parts
      WHERE upload_id = ${uploadId} AND part_number > ${o.after} ORDER BY part_number LIMIT ${o.limit}`;
    return rows.map(toPart);
  }

  async completeUpload(
    uploadId: string,
    version: ObjectVersionRecord,
    event?: ObjectEventRecord,
    guard?: UsageGuard,
  ): Promise<Released | UsageRefusal | "no-upload"> {
    const [row, ev] = [versionRow(version), event && eventRow(event)];
    return orRefusal(() =>
      this.#sql.begin(async (tx) => {
        const removed = await removeUpload(tx, uploadId);
        if (!removed) return "no-upload" as const;
        checkUploadTarget(removed.upload, version);
        const freed = await this.#store(tx, row, ev, guard);
        return { blobIds: await unreferenced(tx, [...removed.blobIds, ...freed]) };
      }),
    );
  }

  async abortUpload(uploadId: string): Promise<Released | "no-upload"> {
    return this.#sql.begin(async (tx) => {
      const removed = await removeUpload(tx, uploadId);
      return removed ? { blobIds: await unreferenced(tx, removed.blobIds) } : "no-upload";
    });
  }

  async dueEvents(at: number, limit: number): Promise<ObjectEventRecord[]> {
    const rows = await this.#sql<EventRow[]>`SELECT * FROM storage_events WHERE due_at <= ${at}
      ORDER BY created_at, seq LIMIT ${limit}`;
    return rows.map(toEvent);
  }

  async retryEvent(id: string, dueAt: number): Promise<void> {
    await this.#sql`UPDATE storage_events SET attempts = attempts + 1, due_at = ${dueAt} WHERE id = ${id}`;
  }

  async deleteEvent(id: string): Promise<void> {
    await this.#sql`DELETE FROM storage_events WHERE id = ${id}`;
  }

  /**
   * Page by page (no transaction held open for the sweep). Parts first: a completion moves a
   * part's blob into a version, whose seq is above any the scan of versions has passed.
   */
  async *referencedBlobs(): AsyncIterable<string> {
    const sql = this.#sql;
    let part = { upload_id: "", part_number: 0 };
    for (;;) {
      const rows = await sql<(PartRow & { blob_id: string })[]>`SELECT upload_id, part_number, blob_id
        FROM storage_parts WHERE (upload_id, part_number) > (${part.upload_id}, ${part.part_number})
        ORDER BY upload_id, part_number LIMIT ${BLOB_PAGE_ROWS}`;
      for (const r of rows) yield r.blob_id;
      const last = rows.at(-1);
      if (!last || rows.length < BLOB_PAGE_ROWS) break;
      part = { upload_id: last.upload_id, part_number: last.part_number };
    }
    let seq = 0;
    for (;;) {
      const rows = await sql<{ seq: number; blob_id: string }[]>`SELECT seq, blob_id FROM storage_versions
        WHERE seq > ${seq} AND blob_id IS NOT NULL ORDER BY seq LIMIT ${BLOB_PAGE_ROWS}`;
      for (const r of rows) yield r.blob_id;
      const last = rows.at(-1);
      if (!last || rows.length < BLOB_PAGE_ROWS) break;
      seq = last.seq;
    }
  }
}
