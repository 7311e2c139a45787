/**
 * Object storage's metadata in SQLite (`StorageRepo`, `SqliteStore.storage`): the tables of
 * `sqlite-storage-tables.ts`. Every call runs to its end on the store's one connection before
 * another starts, so a write that reads first (the version it replaces, the upload it completes)
 * is its own compare-and-set: of two completions of one upload, the second finds it gone. What
 * writes more than one row is one transaction, begun IMMEDIATE (the write lock first, so that a
 * commit of the log thread in between cannot fail it), so a guarded write's check of the usage
 * is exact. Statements are prepared once, when first used; a listing's range of keys picks one of
 * a few statements, each a plain range of an index.
 */
import type Database from "better-sqlite3";
import type {
  BucketRecord,
  BucketSettingKind,
  BucketUsage,
  MultipartUploadRecord,
  ObjectEventRecord,
  ObjectVersionRecord,
  PartRecord,
  Versioning,
} from "../services/storage/model.js";
import type { Released, StorageRepo, UsageGuard, UsageRefusal } from "../services/storage/repo.js";
import { Statements } from "./sqlite-statements.js";
import {
  boundVersion,
  INSERT_BUCKET,
  INSERT_EVENT,
  INSERT_UPLOAD,
  INSERT_VERSION,
  NEWEST_OF_KEY,
  rangeParams,
  rangeSql,
  UPSERT_PART,
} from "./sqlite-storage-sql.js";
import {
  type BucketRow,
  bucketRow,
  checkUploadTarget,
  type EventRow,
  eventRow,
  GuardRefused,
  inPrefix,
  keyRange,
  LISTED_VERSION_SELECT,
  orRefusal,
  type PartRow,
  partRow,
  toBucket,
  toEvent,
  toPart,
  toUpload,
  toVersion,
  type UploadRow,
  type UsageDelta,
  uploadRow,
  type VersionRow,
} from "./storage-row.js";

/** Rows a scan of `referencedBlobs` reads at a time. */
const BLOB_PAGE_ROWS = 1000;

export class SqliteStorageRepo implements StorageRepo {
  readonly #statements: Statements;

  constructor(db: Database.Database) {
    this.#statements = new Statements(db);
  }

  #prepare(sql: string): Database.Statement {
    return this.#statements.get(sql);
  }

  #write<T>(body: () => T): T {
    return this.#statements.write(body);
  }

  async createBucket(bucket: BucketRecord): Promise<boolean> {
    const row = { ...bucketRow(bucket), public_read: bucket.publicRead ? 1 : 0 };
    return this.#prepare(INSERT_BUCKET).run(row).changes === 1;
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const row = this.#prepare("SELECT * FROM storage_buckets WHERE name = ?").get(name) as
      | BucketRow
      | undefined;
    return row && toBucket(row);
  }

  async listBuckets(): Promise<BucketRecord[]> {
    const rows = this.#prepare("SELECT * FROM storage_buckets ORDER BY name").all() as BucketRow[];
    return rows.map(toBucket);
  }

  async deleteBucket(name: string): Promise<"deleted" | "missing" | "not-empty"> {
    return this.#write(() => {
      const held = this.#prepare(
        `SELECT EXISTS (SELECT 1 FROM storage_versions WHERE bucket = @name)
           OR EXISTS (SELECT 1 FROM storage_uploads WHERE bucket = @name) AS held`,
      ).get({ name }) as { held: number };
      if (held.held) return "not-empty";
      return this.#prepare("DELETE FROM storage_buckets WHERE name = ?").run(name).changes === 1
        ? "deleted"
        : "missing";
    });
  }

  async setVersioning(name: string, versioning: Versioning): Promise<boolean> {
    return (
      this.#prepare("UPDATE storage_buckets SET versioning = ? WHERE name = ?").run(versioning, name)
        .changes === 1
    );
  }

  async setPublicRead(name: string, publicRead: boolean): Promise<boolean> {
    const flag = publicRead ? 1 : 0;
    return (
      this.#prepare("UPDATE storage_buckets SET public_read = ? WHERE name = ?").run(flag, name).changes === 1
    );
  }

  async putSetting(name: string, kind: BucketSettingKind, json: string | undefined): Promise<boolean> {
    // A TEXT value goes in as a JSON string, the setting's own text kept as it is.
    const path = `$.${kind}`;
    const updated =
      json === undefined
        ? this.#prepare("UPDATE storage_buckets SET settings = json_remove(settings, ?) WHERE name = ?").run(
            path,
            name,
          )
        : this.#prepare("UPDATE storage_buckets SET settings = json_set(settings, ?, ?) WHERE name = ?").run(
            path,
            json,
            name,
          );
    return updated.changes === 1;
  }

  async usage(name: string): Promise<BucketUsage> {
    return this.#usage(name);
  }

  #usage(name: string): BucketUsage {
    const row = this.#prepare("SELECT objects, bytes FROM storage_buckets WHERE name = ?").get(name) as
      | BucketUsage
      | undefined;
    return { objects: row?.objects ?? 0, bytes: row?.bytes ?? 0 };
  }

  /** Moves a bucket's usage; a bucket gone is a caller's mistake, refused (the transaction undone). */
  #moveUsage(bucket: string, delta: UsageDelta): void {
    const updated = this.#prepare(
      "UPDATE storage_buckets SET objects = objects + @objects, bytes = bytes + @bytes WHERE name = @bucket",
    ).run({ bucket, ...delta });
    if (updated.changes === 0)
      throw new Error(`cannot store an object in bucket "${bucket}": it does not exist`);
  }

  /** Of `blobIds`, those no version or part names (once), in the order given. */
  #unreferenced(blobIds: readonly (string | null | undefined)[]): string[] {
    const named = this.#prepare(
      `SELECT EXISTS (SELECT 1 FROM storage_versions WHERE blob_id = @id)
         OR EXISTS (SELECT 1 FROM storage_parts WHERE blob_id = @id) AS named`,
    );
    const unique = new Set(blobIds.filter((id): id is string => typeof id === "string"));
    return [...unique].filter((id) => !(named.get({ id }) as { named: number }).named);
  }

  /**
   * `version` stored as its key's newest (the "null" version it replaces removed), its usage
   * and `event` with it; answers the blobs it may have freed, for `#unreferenced`. Throws
   * `GuardRefused` (the caller's transaction to undo what it did) if `guard` refuses it.
   */
  #store(
    version: ObjectVersionRecord,
    event: ObjectEventRecord | undefined,
    guard: UsageGuard | undefined,
  ): (string | null)[] {
    const row = boundVersion(version);
    const where = { bucket: row.bucket, key: row.key };
    const old =
      row.version_id === "null"
        ? (this.#prepare(
            `DELETE FROM storage_versions WHERE bucket = @bucket AND key = @key AND version_id = 'null'
             RETURNING blob_id, size`,
          ).get(where) as { blob_id: string | null; size: number } | undefined)
        : undefined;
    const delta = { objects: old ? 0 : 1, bytes: row.size - (old?.size ?? 0) };
    if (guard) {
      const write = { bucket: row.bucket, size: row.size, delta, replacedBytes: old?.size };
      const refusal = guard.judge(this.#usage(row.bucket), write);
      if (refusal) throw new GuardRefused(refusal);
    }
    this.#prepare(
      `UPDATE storage_versions SET is_latest = 0 WHERE seq = ${NEWEST_OF_KEY} AND is_latest = 1`,
    ).run(where);
    this.#prepare(INSERT_VERSION).run(row);
    this.#moveUsage(row.bucket, delta);
    if (event) this.#prepare(INSERT_EVENT).run(eventRow(event));
    return old ? [old.blob_id] : [];
  }

  /** Puts of one event-loop turn share a commit (`Statements.writeInTurn`); a refused one undoes only its own savepoint. */
  async putVersion(
    version: ObjectVersionRecord,
    event?: ObjectEventRecord,
    guard?: UsageGuard,
  ): Promise<Released | UsageRefusal> {
    return orRefusal(() =>
      this.#statements.writeInTurn(() => ({
        blobIds: this.#unreferenced(this.#store(version, event, guard)),
      })),
    );
  }

  async getVersion(
    bucket: string,
    key: string,
    versionId?: string,
  ): Promise<ObjectVersionRecord | undefined> {
    const row = (
      versionId === undefined
        ? this.#prepare(
            "SELECT * FROM storage_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1",
          ).get(bucket, key)
        : this.#prepare("SELECT * FROM storage_versions WHERE bucket = ? AND key = ? AND version_id = ?").get(
            bucket,
            key,
            versionId,
          )
    ) as VersionRow | undefined;
    return row && toVersion(row);
  }

  async deleteVersion(
    bucket: string,
    key: string,
    versionId: string,
    event?: ObjectEventRecord,
  ): Promise<{ removed: ObjectVersionRecord | undefined } & Released> {
    return this.#write(() => {
      const row = this.#prepare(
        "DELETE FROM storage_versions WHERE bucket = ? AND key = ? AND version_id = ? RETURNING *",
      ).get(bucket, key, versionId) as VersionRow | undefined;
      // Nothing changed, nothing to report.
      if (!row) return { removed: undefined, blobIds: [] };
      if (row.is_latest)
        this.#prepare(`UPDATE storage_versions SET is_latest = 1 WHERE seq = ${NEWEST_OF_KEY}`).run({
          bucket,
          key,
        });
      this.#moveUsage(bucket, { objects: -1, bytes: -row.size });
      if (event) this.#prepare(INSERT_EVENT).run(eventRow(event));
      return { removed: toVersion(row), blobIds: this.#unreferenced([row.blob_id]) };
    });
  }

  async putTags(
    bucket: string,
    key: string,
    versionId: string,
    tags: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    const updated = this.#prepare(
      "UPDATE storage_versions SET tags = ? WHERE bucket = ? AND key = ? AND version_id = ?",
    ).run(JSON.stringify(tags), bucket, key, versionId);
    return updated.changes === 1;
  }

  async listLatest(
    bucket: string,
    o: { prefix: string; after: string | undefined; limit: number },
  ): Promise<ObjectVersionRecord[]> {
    const range = keyRange(o.prefix, o.after);
    if (!range || o.limit <= 0) return [];
    // Pinned: a plan over every version (the index by key) would read a bucket's older versions
    // and delete markers too; a schema that lost this index fails here instead of slowing down.
    const rows = this.#prepare(
      `SELECT ${LISTED_VERSION_SELECT} FROM storage_versions INDEXED BY storage_versions_latest
       WHERE bucket = @bucket AND is_latest = 1 AND is_delete_marker = 0 AND ${rangeSql(range)}
       ORDER BY key LIMIT @limit`,
    ).all({ bucket, ...rangeParams(range), limit: o.limit }) as VersionRow[];
    return rows.map(toVersion);
  }

  async listVersions(
    bucket: string,
    o: { prefix: string; afterKey: string | undefined; afterVersionId: string | undefined; limit: number },
  ): Promise<ObjectVersionRecord[]> {
    const range = keyRange(o.prefix, o.afterKey);
    if (!range || o.limit <= 0) return [];
    const rows: VersionRow[] = [];
    // The rest of the marker's key first (older than the marker), then the keys after it.
    if (o.afterKey !== undefined && o.afterVersionId !== undefined && inPrefix(o.afterKey, o.prefix))
      rows.push(
        ...(this.#prepare(
          `SELECT ${LISTED_VERSION_SELECT} FROM storage_versions WHERE bucket = @bucket AND key = @key
             AND seq < (SELECT seq FROM storage_versions WHERE bucket = @bucket AND key = @key AND version_id = @id)
           ORDER BY seq DESC LIMIT @limit`,
        ).all({ bucket, key: o.afterKey, id: o.afterVersionId, limit: o.limit }) as VersionRow[]),
      );
    const left = o.limit - rows.length;
    if (left > 0)
      rows.push(
        ...(this.#prepare(
          `SELECT ${LISTED_VERSION_SELECT} FROM storage_versions WHERE bucket = @bucket AND ${rangeSql(range)}
           ORDER BY key, seq DESC LIMIT @limit`,
        ).all({ bucket, ...rangeParams(range), limit: left }) as VersionRow[]),
      );
    return rows.map(toVersion);
  }

  async createUpload(upload: MultipartUploadRecord): Promise<void> {
    this.#write(() => {
      if (!this.#prepare("SELECT 1 FROM storage_buckets WHERE name = ?").get(upload.bucket))
        throw new Error(`cannot start an upload in bucket "${upload.bucket}": it does not exist`);
      this.#prepare(INSERT_UPLOAD).run(uploadRow(upload));
    });
  }

  async getUpload(uploadId: string): Promise<MultipartUploadRecord | undefined> {
    const row = this.#prepare("SELECT * FROM storage_uploads WHERE upload_id = ?").get(uploadId) as
      | UploadRow
      | undefined;
    return row && toUpload(row);
  }

  async listUploads(
    bucket: string,
    o: { prefix: string; afterKey: string | undefined; afterUploadId: string | undefined; limit: number },
  ): Promise<MultipartUploadRecord[]> {
    const range = keyRange(o.prefix, o.afterKey);
    if (!range || o.limit <= 0) return [];
    const rows: UploadRow[] = [];
    // The rest of the marker's key first (made after the marker), then the keys after it.
    if (o.afterKey !== undefined && o.afterUploadId !== undefined && inPrefix(o.afterKey, o.prefix))
      rows.push(
        ...(this.#prepare(
          `SELECT u.* FROM storage_uploads u, storage_uploads m
           WHERE m.upload_id = @id AND m.bucket = @bucket AND m.key = @key
             AND u.bucket = @bucket AND u.key = @key AND (u.created_at, u.upload_id) > (m.created_at, m.upload_id)
           ORDER BY u.created_at, u.upload_id LIMIT @limit`,
        ).all({ bucket, key: o.afterKey, id: o.afterUploadId, limit: o.limit }) as UploadRow[]),
      );
    const left = o.limit - rows.length;
    if (left > 0)
      rows.push(
        ...(this.#prepare(
          `SELECT * FROM storage_uploads WHERE bucket = @bucket AND ${rangeSql(range)}
           ORDER BY key, created_at, upload_id LIMIT @limit`,
        ).all({ bucket, ...rangeParams(range), limit: left }) as UploadRow[]),
      );
    return rows.map(toUpload);
  }

  async putPart(part: PartRecord): Promise<Released | "no-upload"> {
    return this.#write(() => {
      if (!this.#prepare("SELECT 1 FROM storage_uploads WHERE upload_id = ?").get(part.uploadId))
        return "no-upload";
      const old = this.#prepare(
        "SELECT blob_id FROM storage_parts WHERE upload_id = ? AND part_number = ?",
      ).get(part.uploadId, part.partNumber) as { blob_id: string } | undefined;
      this.#prepare(UPSERT_PART).run(partRow(part));
      return { blobIds: this.#unreferenced([old?.blob_id]) };
    });
  }

  async listParts(uploadId: string, o: { after: number; limit: number }): Promise<PartRecord[]> {
    const rows = this.#prepare(
      "SELECT * FROM storage_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?",
    ).all(uploadId, o.after, o.limit) as PartRow[];
    return rows.map(toPart);
  }

  /** Removes the upload and its parts; the parts' blobs, or undefined if the upload is gone. */
  #removeUpload(uploadId: string): { upload: UploadRow; blobIds: string[] } | undefined {
    const upload = this.#prepare("DELETE FROM storage_uploads WHERE upload_id = ? RETURNING *").get(
      uploadId,
    ) as UploadRow | undefined;
    if (!upload) return undefined;
    const parts = this.#prepare("DELETE FROM storage_parts WHERE upload_id = ? RETURNING blob_id").all(
      uploadId,
    ) as { blob_id: string }[];
    return { upload, blobIds: parts.map((p) => p.blob_id) };
  }

  async completeUpload(
    uploadId: string,
    version: ObjectVersionRecord,
    event?: ObjectEventRecord,
    guard?: UsageGuard,
  ): Promise<Released | UsageRefusal | "no-upload"> {
    return orRefusal(() =>
      this.#write(() => {
        const removed = this.#removeUpload(uploadId);
        if (!removed) return "no-upload";
        checkUploadTarget(removed.upload, version);
        const freed = this.#store(version, event, guard);
        return { blobIds: this.#unreferenced([...removed.blobIds, ...freed]) };
      }),
    );
  }

  async abortUpload(uploadId: string): Promise<Released | "no-upload"> {
    return this.#write(() => {
      const removed = this.#removeUpload(uploadId);
      return removed ? { blobIds: this.#unreferenced(removed.blobIds) } : "no-upload";
    });
  }

  async dueEvents(at: number, limit: number): Promise<ObjectEventRecord[]> {
    const rows = this.#prepare(
      "SELECT * FROM storage_events WHERE due_at <= ? ORDER BY created_at, seq LIMIT ?",
    ).all(at, limit) as EventRow[];
    return rows.map(toEvent);
  }

  async retryEvent(id: string, dueAt: number): Promise<void> {
    this.#prepare("UPDATE storage_events SET attempts = attempts + 1, due_at = ? WHERE id = ?").run(
      dueAt,
      id,
    );
  }

  async deleteEvent(id: string): Promise<void> {
    this.#prepare("DELETE FROM storage_events WHERE id = ?").run(id);
  }

  /**
   * Page by page, never holding the connection between pages (an open `iterate()` would make
   * every other write on it fail while the sweep awaits). Parts first: a completion moves a
   * part's blob into a version, whose seq is above any the scan of versions has passed.
   */
  async *referencedBlobs(): AsyncIterable<string> {
    let part = { upload_id: "", part_number: 0 };
    for (;;) {
      const rows = this.#prepare(
        `SELECT upload_id, part_number, blob_id FROM storage_parts
         WHERE (upload_id, part_number) > (@upload_id, @part_number)
         ORDER BY upload_id, part_number LIMIT @limit`,
      ).all({ ...part, limit: BLOB_PAGE_ROWS }) as (PartRow & { blob_id: string })[];
      for (const r of rows) yield r.blob_id;
      const last = rows.at(-1);
      if (!last || rows.length < BLOB_PAGE_ROWS) break;
      part = { upload_id: last.upload_id, part_number: last.part_number };
    }
    let seq = 0;
    for (;;) {
      const rows = this.#prepare(
        `SELECT seq, blob_id FROM storage_versions WHERE seq > ? AND blob_id IS NOT NULL ORDER BY seq LIMIT ?`,
      ).all(seq, BLOB_PAGE_ROWS) as { seq: number; blob_id: string }[];
      for (const r of rows) yield r.blob_id;
      const last = rows.at(-1);
      if (!last || rows.length < BLOB_PAGE_ROWS) break;
      seq = last.seq;
    }
  }
}
