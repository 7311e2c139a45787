/**
 * Connections, API destinations and their deliveries in PostgreSQL (`ApiDestinationsRepo`):
 * the tables of API_DESTINATIONS_MIGRATION, a step of `events.ts`'s EVENTS_MIGRATIONS. Names
 * collate as bytes ("C"), so everything lists in SQLite's order; a prefix matches literally
 * (LIKE with its wildcards escaped). A claim locks the deliveries it takes and skips those
 * another claim holds, so platforms polling one database take disjoint deliveries.
 */
import type {
  ApiDestinationRecord,
  ConnectionRecord,
  HttpDeliveryRecord,
} from "../../services/events/model.js";
import type { ApiDestinationsRepo } from "../../services/events/repo.js";
import {
  API_DESTINATION_COLUMNS,
  API_DESTINATION_UPDATED_COLUMNS,
  type ApiDestinationRow,
  apiDestinationRow,
  CONNECTION_COLUMNS,
  CONNECTION_UPDATED_COLUMNS,
  type ConnectionRow,
  claimed,
  connectionRow,
  HTTP_DELIVERY_COLUMNS,
  type HttpDeliveryRow,
  httpDeliveryRow,
  toApiDestination,
  toConnection,
} from "../api-destinations-row.js";
import type { Sql } from "./connect.js";

/**
 * Connections and API destinations by name; deliveries by id, found due by `next_at` and
 * counted by destination. No foreign keys: whether a connection in use may go, and what becomes
 * of a deleted destination's deliveries, is the service's to decide.
 */
export const API_DESTINATIONS_MIGRATION = `CREATE TABLE bus_connections (
     name text COLLATE "C" PRIMARY KEY,
     uuid text NOT NULL,
     description text,
     authorization_type text NOT NULL,
     auth text NOT NULL,
     state text NOT NULL,
     state_reason text,
     created_at bigint NOT NULL,
     modified_at bigint NOT NULL,
     authorized_at bigint
   );
   CREATE TABLE bus_api_destinations (
     name text COLLATE "C" PRIMARY KEY,
     uuid text NOT NULL,
     description text,
     connection_name text COLLATE "C" NOT NULL,
     endpoint text NOT NULL,
     http_method text NOT NULL,
     rate_limit_per_second integer,
     state text NOT NULL,
     created_at bigint NOT NULL,
     modified_at bigint NOT NULL
   );
   CREATE INDEX bus_api_destinations_by_connection ON bus_api_destinations (connection_name, name);
   CREATE TABLE bus_http_deliveries (
     id text COLLATE "C" PRIMARY KEY,
     destination_name text COLLATE "C" NOT NULL,
     created_at bigint NOT NULL,
     next_at bigint NOT NULL,
     attempts integer NOT NULL,
     spec text NOT NULL,
     payload text NOT NULL,
     last_error text
   );
   CREATE INDEX bus_http_deliveries_by_next ON bus_http_deliveries (next_at, id);
   CREATE INDEX bus_http_deliveries_by_destination ON bus_http_deliveries (destination_name);;
   ALTER TABLE bus_targets ADD COLUMN http_parameters text`;

/** Deliveries one INSERT takes (8 parameters each, far below PostgreSQL's 65,535). */
const DELIVERY_INSERT_ROWS = 1000;

/** The LIKE pattern of names starting with `prefix`, its wildcards and escapes taken literally. */
function prefixPattern(prefix: string | undefined): string {
  return `${(prefix ?? "").replace(/[\\%_]/g, "\\$&")}%`;
}

export class PostgresApiDestinationsRepo implements ApiDestinationsRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async createConnection(c: ConnectionRecord): Promise<boolean> {
    const sql = this.#sql;
    const inserted = await sql`INSERT INTO bus_connections ${sql(connectionRow(c), CONNECTION_COLUMNS)}
      ON CONFLICT (name) DO NOTHING`;
    return inserted.count === 1;
  }

  async getConnection(name: string): Promise<ConnectionRecord | undefined> {
    const [row] = await this.#sql<ConnectionRow[]>`SELECT * FROM bus_connections WHERE name = ${name}`;
    return row && toConnection(row);
  }

  async listConnections(o: {
    prefix?: string;
    state?: string;
    after?: string;
    limit: number;
  }): Promise<ConnectionRecord[]> {
    const sql = this.#sql;
    const rows = await sql<ConnectionRow[]>`SELECT * FROM bus_connections
      WHERE name > ${o.after ?? ""} AND name LIKE ${prefixPattern(o.prefix)} ESCAPE '\\'
        ${o.state === undefined ? sql`` : sql`AND state = ${o.state}`}
      ORDER BY name LIMIT ${o.limit}`;
    return rows.map(toConnection);
  }

  async updateConnection(c: ConnectionRecord): Promise<boolean> {
    const sql = this.#sql;
    const updated = await sql`UPDATE bus_connections SET ${sql(connectionRow(c), CONNECTION_UPDATED_COLUMNS)}
      WHERE name = ${c.name}`;
    return updated.count === 1;
  }

  async deleteConnection(name: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM bus_connections WHERE name = ${name}`;
    return deleted.count === 1;
  }

  async createApiDestination(d: ApiDestinationRecord): Promise<boolean> {
    const sql = this.#sql;
    const inserted =
      await sql`INSERT INTO bus_api_destinations ${sql(apiDestinationRow(d), API_DESTINATION_COLUMNS)}
      ON CONFLICT (name) DO NOTHING`;
    return inserted.count === 1;
  }

  async getApiDestination(name: string): Promise<ApiDestinationRecord | undefined> {
    const [row] = await this.#sql<ApiDestinationRow[]>`SELECT * FROM bus_api_destinations
      WHERE name = ${name}`;
    return row && toApiDestination(row);
  }

  async listApiDestinations(o: {
    prefix?: string;
    connectionName?: string;
    after?: string;
    limit: number;
  }): Promise<ApiDestinationRecord[]> {
    const sql = this.#sql;
    // Only the conditions given, so that the index of the connection serves the query.
    const rows = await sql<ApiDestinationRow[]>`SELECT * FROM bus_api_destinations
      WHERE name > ${o.after ?? ""} AND name LIKE ${prefixPattern(o.prefix)} ESCAPE '\\'
        ${o.connectionName === undefined ? sql`` : sql`AND connection_name = ${o.connectionName}`}
      ORDER BY name LIMIT ${o.limit}`;
    return rows.map(toApiDestination);
  }

  async updateApiDestination(d: ApiDestinationRecord): Promise<boolean> {
    const sql = this.#sql;
    const updated = await sql`UPDATE bus_api_destinations
      SET ${sql(apiDestinationRow(d), API_DESTINATION_UPDATED_COLUMNS)} WHERE name = ${d.name}`;
    return updated.count === 1;
  }

  async deleteApiDestination(name: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM bus_api_destinations WHERE name = ${name}`;
    return deleted.count === 1;
  }

  async enqueueHttpDeliveries(ds: readonly HttpDeliveryRecord[]): Promise<void> {
    if (ds.length === 0) return;
    const rows = ds.map(httpDeliveryRow);
    await this.#sql.begin(async (tx) => {
      // An id given twice in one INSERT is kept once, the first given, as SQLite's inserts in turn keep it.
      for (let i = 0; i < rows.length; i += DELIVERY_INSERT_ROWS)
        await tx`INSERT INTO bus_http_deliveries ${tx(rows.slice(i, i + DELIVERY_INSERT_ROWS), HTTP_DELIVERY_COLUMNS)}
          ON CONFLICT (id) DO NOTHING`;
    });
  }

  /**
   * One statement: lock the earliest due deliveries no other claim holds (SKIP LOCKED: another
   * claim's are passed over, not waited for), move them to `leaseUntil`, and return them with
   * the time each was due, to put them in order (RETURNING has none).
   */
  async claimHttpDeliveries(now: number, leaseUntil: number, limit: number): Promise<HttpDeliveryRecord[]> {
    const rows = await this.#sql<HttpDeliveryRow[]>`UPDATE bus_http_deliveries d SET next_at = ${leaseUntil}
      FROM (SELECT id, next_at FROM bus_http_deliveries WHERE next_at <= ${now}
            ORDER BY next_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED) due
      WHERE d.id = due.id
      RETURNING d.id, d.destination_name, d.created_at, due.next_at, d.attempts, d.spec, d.payload, d.last_error`;
    return claimed(rows, leaseUntil);
  }

  async retryHttpDelivery(
    id: string,
    lease: number,
    attempts: number,
    nextAt: number,
    lastError: string,
  ): Promise<boolean> {
    const done = await this.#sql`UPDATE bus_http_deliveries
      SET attempts = ${attempts}, next_at = ${nextAt}, last_error = ${lastError}
      WHERE id = ${id} AND next_at = ${lease}`;
    return done.count > 0;
  }

  async deleteHttpDelivery(id: string, lease: number): Promise<boolean> {
    const done = await this.#sql`DELETE FROM bus_http_deliveries WHERE id = ${id} AND next_at = ${lease}`;
    return done.count > 0;
  }

  async nextHttpDeliveryAt(): Promise<number | undefined> {
    const [row] = await this.#sql<
      { at: number | null }[]
    >`SELECT min(next_at) AS at FROM bus_http_deliveries`;
    return row?.at ?? undefined;
  }

  async countHttpDeliveries(destinationName: string): Promise<number> {
    const [row] = await this.#sql<{ count: number }[]>`SELECT count(*) AS count FROM bus_http_deliveries
      WHERE destination_name = ${destinationName}`;
    return row?.count ?? 0;
  }
}
