/**
 * Object storage's tables in PostgreSQL: the first step of `storage.ts`'s STORAGE_MIGRATIONS, the
 * same tables as SQLite's (`sqlite-storage-tables.ts`) but for the usage. Names, keys and ids
 * collate as bytes ("C"): S3 lists keys in UTF-8 byte order, and a range of an index is a range
 * of keys only under that order. Sizes and times are `bigint`. No foreign keys: a bucket is
 * deleted only once it holds no version and no upload, and an upload goes with its parts in one
 * transaction.
 *
 * A version's `seq` is its age (the newest of a key is its highest: writes of one key take turns,
 * so seqs rise in the order they commit); `is_latest` marks it, for the partial index that a
 * listing of latest versions reads alone, delete markers left out. A bucket's usage is a few
 * rows (`storage_usage`), one per slot, added up on read: a write moves its connection's slot,
 * so that writers to one bucket do not all wait on one row's lock.
 */
export const STORAGE_TABLES_MIGRATION = `CREATE TABLE storage_buckets (
     name text COLLATE "C" PRIMARY KEY,
     created_at bigint NOT NULL,
     versioning text NOT NULL,
     public_read boolean NOT NULL,
     settings text NOT NULL
   );
   CREATE TABLE storage_usage (
     bucket text COLLATE "C" NOT NULL,
     slot integer NOT NULL,
     objects bigint NOT NULL,
     bytes bigint NOT NULL,
     PRIMARY KEY (bucket, slot)
   );
   CREATE TABLE storage_versions (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     bucket text COLLATE "C" NOT NULL,
     key text COLLATE "C" NOT NULL,
     version_id text COLLATE "C" NOT NULL,
     is_latest boolean NOT NULL,
     is_delete_marker boolean NOT NULL,
     size bigint NOT NULL,
     etag text NOT NULL,
     blob_id text COLLATE "C",
     headers text NOT NULL,
     user_metadata text NOT NULL,
     checksum text,
     parts_count integer NOT NULL,
     tags text NOT NULL,
     created_at bigint NOT NULL
   );
   CREATE UNIQUE INDEX storage_versions_by_id ON storage_versions (bucket, key, version_id);
   CREATE INDEX storage_versions_by_key ON storage_versions (bucket, key, seq DESC);
   CREATE INDEX storage_versions_latest ON storage_versions (bucket, key)
     WHERE is_latest AND NOT is_delete_marker;
   CREATE INDEX storage_versions_by_blob ON storage_versions (blob_id) WHERE blob_id IS NOT NULL;
   CREATE TABLE storage_uploads (
     upload_id text COLLATE "C" PRIMARY KEY,
     bucket text COLLATE "C" NOT NULL,
     key text COLLATE "C" NOT NULL,
     headers text NOT NULL,
     user_metadata text NOT NULL,
     checksum_algorithm text,
     tags text NOT NULL,
     created_at bigint NOT NULL
   );
   CREATE INDEX storage_uploads_by_key ON storage_uploads (bucket, key, created_at, upload_id);
   CREATE TABLE storage_parts (
     upload_id text COLLATE "C" NOT NULL,
     part_number integer NOT NULL,
     size bigint NOT NULL,
     etag text NOT NULL,
     blob_id text COLLATE "C" NOT NULL,
     checksum text,
     created_at bigint NOT NULL,
     PRIMARY KEY (upload_id, part_number)
   );
   CREATE INDEX storage_parts_by_blob ON storage_parts (blob_id);
   CREATE TABLE storage_events (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     id text COLLATE "C" NOT NULL UNIQUE,
     event_name text NOT NULL,
     bucket text NOT NULL,
     key text NOT NULL,
     size bigint NOT NULL,
     etag text NOT NULL,
     version_id text,
     sequencer text NOT NULL,
     source_ip text NOT NULL,
     request_id text NOT NULL,
     created_at bigint NOT NULL,
     attempts integer NOT NULL,
     due_at bigint NOT NULL
   );
   CREATE INDEX storage_events_by_due ON storage_events (due_at);`;

/** Small objects' bytes, kept in their version's row (`services/storage/storage.ts`, INLINE_MAX_BYTES). */
export const STORAGE_INLINE_BODY_MIGRATION = "ALTER TABLE storage_versions ADD COLUMN body bytea";
