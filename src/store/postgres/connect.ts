/** A pool of connections to the PostgreSQL database that holds the platform's state. */
import postgres from "postgres";

/** The pool, with PostgreSQL's `bigint` read as a JavaScript number (see INT8_AS_NUMBER). */
export type Sql = postgres.Sql<{ bigint: number }>;
export type Tx = postgres.TransactionSql<{ bigint: number }>;

export interface PostgresOptions {
  /** `postgres://user@host:port/database`; unset parts fall back to libpq's PG* variables. */
  readonly url: string;
  /** The schema that holds Nimbus's tables (it must exist); unset: the role's search path (`public`). */
  readonly schema?: string | undefined;
  /** Connections in the pool, opened when first needed. */
  readonly maxConnections?: number | undefined;
  readonly connectTimeoutS?: number | undefined;
  /** Idle connections close after this long (unset: they stay open until the pool ends). */
  readonly idleTimeoutS?: number | undefined;
}

const DEFAULT_MAX_CONNECTIONS = 10;
const DEFAULT_CONNECT_TIMEOUT_S = 10;
/** The oid of PostgreSQL's `int8`. */
const INT8_OID = 20;

/**
 * Epoch ms, versions and counts are `bigint` columns, which the driver would return as strings
 * (a `bigint` may exceed 2^53). Every value Nimbus keeps there is far below 2^53 (epoch ms
 * reach it in the year 287,396), so a number is exact and what the repositories' types say.
 */
const INT8_AS_NUMBER = {
  to: INT8_OID,
  from: [INT8_OID],
  serialize: (n: number) => String(n),
  parse: (text: string) => Number(text),
};

/** Opens a lazy pool (no connection until the first query). */
export function connectPostgres(options: PostgresOptions): Sql {
  return postgres(options.url, {
    max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    connect_timeout: options.connectTimeoutS ?? DEFAULT_CONNECT_TIMEOUT_S,
    ...(options.idleTimeoutS === undefined ? {} : { idle_timeout: options.idleTimeoutS }),
    types: { bigint: INT8_AS_NUMBER },
    // Notices such as "relation already exists, skipping" are not the platform's output.
    onnotice: () => {},
    connection: {
      application_name: "nimbus",
      ...(options.schema === undefined ? {} : { search_path: quoteIdentifier(options.schema) }),
    },
  });
}

/** A name as a quoted SQL identifier: any text, with its double quotes doubled. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A PostgreSQL URL as messages show it: without its password. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.href;
  } catch {
    return "the given URL";
  }
}

/** Why a connection failed, in a line: the first address's error, with its code. */
export function connectFailure(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return connectFailure(err.errors[0]);
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
