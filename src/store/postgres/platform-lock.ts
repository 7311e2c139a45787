/**
 * One platform per PostgreSQL schema, as one per data directory. Two platforms on one schema
 * would both run its async queue: at start each puts back the events the other is running, so
 * they would run twice. (A cluster shares a schema once claims carry an owner and a lease.)
 *
 * The lock is a session-level advisory lock, keyed by schema, held on a connection of its own
 * for the platform's life. PostgreSQL drops it when that session ends, however it ends: a
 * platform killed with SIGKILL leaves no stale lock (the server sees the socket close).
 */
import type { Sql } from "./connect.js";

export interface SchemaLock {
  release(): Promise<void>;
}

/** Who holds the lock, when taking it failed: the holder's session as PostgreSQL sees it. */
export interface SchemaLockHolder {
  readonly pid: number;
  readonly clientAddr: string | null;
  readonly applicationName: string;
  readonly backendStart: Date | null;
}

export type SchemaLockResult =
  | { readonly ok: true; readonly lock: SchemaLock }
  | { readonly ok: false; readonly holder: SchemaLockHolder | undefined };

/** The two keys of the lock: a constant class for Nimbus platforms, and the schema's hash. */
const LOCK_CLASS = 0x4e494d42; // "NIMB"

export async function lockSchema(sql: Sql): Promise<SchemaLockResult> {
  const session = await sql.reserve();
  try {
    const [row] = await session<
      { locked: boolean }[]
    >`SELECT pg_try_advisory_lock(${LOCK_CLASS}, hashtext(current_schema())) AS locked`;
    if (row?.locked) {
      return {
        ok: true,
        lock: {
          async release() {
            await session`SELECT pg_advisory_unlock(${LOCK_CLASS}, hashtext(current_schema()))`.catch(
              () => {},
            );
            session.release();
          },
        },
      };
    }
    const [holder] = await session<SchemaLockHolder[]>`SELECT a.pid, a.client_addr::text AS "clientAddr",
        a.application_name AS "applicationName", a.backend_start AS "backendStart"
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${LOCK_CLASS}::int::oid
        AND l.objid = hashtext(current_schema())::oid AND l.objsubid = 2`;
    session.release();
    return { ok: false, holder };
  } catch (err) {
    session.release();
    throw err;
  }
}
