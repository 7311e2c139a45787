/**
 * The PostgreSQL server the bench's PostgreSQL platform runs on: reached once to see whether it
 * is there, then a schema of its own per platform (`nimbus_bench_<random>`), dropped when the
 * platform has closed. When the server runs on this machine, its processes are found in /proc,
 * so that its CPU time counts as the bench's own rather than as other people's work.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import {
  connectFailure,
  connectPostgres,
  quoteIdentifier,
  type Sql,
} from "../../src/store/postgres/connect.js";
import { cpuMsOf, parentOf } from "./proc.js";

/** The local server of the development machines and CI: trust authentication, database `test`. */
export const DEFAULT_BENCH_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";
const PROBE_TIMEOUT_S = 3;

export interface BenchSchema {
  /** The platform's `store` setting: the server's URL with `?schema=`. */
  readonly store: string;
  readonly schema: string;
  /** Drops the schema and everything in it (after the platform on it has closed). */
  drop(): Promise<void>;
}

export class BenchPostgres {
  readonly url: string;
  /** The server's `synchronous_commit` and `fsync`: whether a committed INSERT is on disk. */
  readonly durability: { readonly synchronousCommit: string; readonly fsync: string };
  readonly #sql: Sql;
  /** The postmaster's pid when the server runs on this machine (in this pid namespace). */
  readonly #postmaster: number | undefined;

  private constructor(
    url: string,
    sql: Sql,
    durability: BenchPostgres["durability"],
    postmaster: number | undefined,
  ) {
    this.url = url;
    this.#sql = sql;
    this.durability = durability;
    this.#postmaster = postmaster;
  }

  /** Reaches the server, or says why it cannot. */
  static async reach(
    url: string,
  ): Promise<{ ok: true; server: BenchPostgres } | { ok: false; reason: string }> {
    const sql = connectPostgres({ url, maxConnections: 1, connectTimeoutS: PROBE_TIMEOUT_S });
    try {
      const [row] = await sql<{ pid: number; sc: string; fsync: string }[]>`
        SELECT pg_backend_pid() AS pid, current_setting('synchronous_commit') AS sc,
               current_setting('fsync') AS fsync`;
      return {
        ok: true,
        server: new BenchPostgres(
          url,
          sql,
          { synchronousCommit: row!.sc, fsync: row!.fsync },
          localPostmaster(row!.pid),
        ),
      };
    } catch (err) {
      await sql.end({ timeout: 0 });
      return { ok: false, reason: connectFailure(err) };
    }
  }

  /** A new, empty schema for one platform. */
  async schema(): Promise<BenchSchema> {
    const schema = `nimbus_bench_${randomBytes(6).toString("hex")}`;
    await this.#sql.unsafe(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
    const store = new URL(this.url);
    store.searchParams.set("schema", schema);
    return {
      store: store.href,
      schema,
      drop: async () => {
        await this.#sql.unsafe(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      },
    };
  }

  /**
   * CPU time of the whole server so far (postmaster, every live backend, and those it has
   * reaped), in ms; 0 when the server is not on this machine. Other clients' queries count too.
   */
  cpuMs(): number {
    const postmaster = this.#postmaster;
    if (postmaster === undefined) return 0;
    return cpuMsOf(postmaster, true) + this.backendPids().reduce((t, pid) => t + cpuMsOf(pid), 0);
  }

  /** The server's processes but the postmaster: backends, WAL writer, checkpointer… */
  backendPids(): number[] {
    const postmaster = this.#postmaster;
    if (postmaster === undefined) return [];
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      try {
        if (parentOf(pid) === postmaster) pids.push(pid);
      } catch {
        // gone meanwhile
      }
    }
    return pids;
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
  }
}

/**
 * The parent of our backend is the postmaster, if that pid is a PostgreSQL process here: a
 * server in another container reports pids of its own namespace, which mean nothing here.
 */
function localPostmaster(backendPid: number): number | undefined {
  try {
    if (!isPostgres(backendPid)) return undefined;
    const parent = parentOf(backendPid);
    return isPostgres(parent) ? parent : undefined;
  } catch {
    return undefined;
  }
}

function isPostgres(pid: number): boolean {
  return readFileSync(`/proc/${pid}/comm`, "latin1").trim().startsWith("postgres");
}
