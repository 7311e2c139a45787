/**
 * Object storage's tables in SQLite, the first step of `sqlite-migrations.ts`'s STORAGE_MIGRATIONS
 * (kept here, beside `sqlite-storage.ts`). Text compares as bytes (BINARY), S3's order of keys.
 * No foreign keys: a bucket is deleted only once it holds no version and no upload, and an upload
 * goes with its parts in one transaction.
 *
 * A bucket's usage is on its row. A version's `seq` is its age (AUTOINCREMENT: never reused, so
 * the newest of a key is always its highest, and a scan by seq misses no row added behind it);
 * `is_latest` marks the highest of each key, for the partial index a listing of latest versions
 * reads alone, delete markers left out of it. A blob's indexes answer whether a record still
 * names it. Events of the outbox are numbered by arrival (`seq`), which breaks ties of time.
 */
export const STORAGE_TABLES_MIGRATION = `CREATE TABLE storage_buckets (
     name TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     versioning TEXT NOT NULL,
     public_read INTEGER NOT NULL,
     settings TEXT NOT NULL,
     objects INTEGER NOT NULL DEFAULT 0,
     bytes INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE storage_versions (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     bucket TEXT NOT NULL,
     key TEXT NOT NULL,
     version_id TEXT NOT NULL,
     is_latest INTEGER NOT NULL,
     is_delete_marker INTEGER NOT NULL,
     size INTEGER NOT NULL,
     etag TEXT NOT NULL,
     blob_id TEXT,
     headers TEXT NOT NULL,
     user_metadata TEXT NOT NULL,
     checksum TEXT,
     parts_count INTEGER NOT NULL,
     tags TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX storage_versions_by_id ON storage_versions (bucket, key, version_id);
   CREATE INDEX storage_versions_by_key ON storage_versions (bucket, key, seq DESC);
   CREATE INDEX storage_versions_latest ON storage_versions (bucket, key)
     WHERE is_latest = 1 AND is_delete_marker = 0;
   CREATE INDEX storage_versions_by_blob ON storage_versions (blob_id) WHERE blob_id IS NOT NULL;
   CREATE TABLE storage_uploads (
     upload_id TEXT PRIMARY KEY,
     bucket TEXT NOT NULL,
     key TEXT NOT NULL,
     headers TEXT NOT NULL,
     user_metadata TEXT NOT NULL,
     checksum_algorithm TEXT,
     tags TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX storage_uploads_by_key ON storage_uploads (bucket, key, created_at, upload_id);
   CREATE TABLE storage_parts (
     upload_id TEXT NOT NULL,
     part_number INTEGER NOT NULL,
     size INTEGER NOT NULL,
     etag TEXT NOT NULL,
     blob_id TEXT NOT NULL,
     checksum TEXT,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (upload_id, part_number)
   );
   CREATE INDEX storage_parts_by_blob ON storage_parts (blob_id);
   CREATE TABLE storage_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     event_name TEXT NOT NULL,
     bucket TEXT NOT NULL,
     key TEXT NOT NULL,
     size INTEGER NOT NULL,
     etag TEXT NOT NULL,
     version_id TEXT,
     sequencer TEXT NOT NULL,
     source_ip TEXT NOT NULL,
     request_id TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     due_at INTEGER NOT NULL
   );
   CREATE INDEX storage_events_by_due ON storage_events (due_at);`;

/** Small objects' bytes, kept in their version's row (`services/storage/storage.ts`, INLINE_MAX_BYTES). */
export const STORAGE_INLINE_BODY_MIGRATION = "ALTER TABLE storage_versions ADD COLUMN body BLOB";
