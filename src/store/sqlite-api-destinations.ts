/**
 * Connections, API destinations and their deliveries in SQLite (`ApiDestinationsRepo`, served
 * through `SqliteStore`): the tables of API_DESTINATIONS_MIGRATION, a step of
 * `sqlite-migrations.ts`'s EVENTS_MIGRATIONS. Names compare and sort as bytes (BINARY); a
 * prefix is compared with substr, not LIKE (which ignores ASCII case and has wildcards). What
 * reads then writes is one transaction, begun IMMEDIATE (the write lock first), so that two
 * claims on the file never take the same delivery.
 */
import type Database from "better-sqlite3";
import type { ApiDestinationRecord, ConnectionRecord, HttpDeliveryRecord } from "../services/events/model.js";
import type { ApiDestinationsRepo } from "../services/events/repo.js";
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
} from "./api-destinations-row.js";
import { listNamed } from "./sqlite-events.js";

/**
 * Connections and API destinations by name; deliveries by id, found due by `next_at` and
 * counted by destination. No foreign keys: whether a connection in use may go, and what becomes
 * of a deleted destination's deliveries, is the service's to decide.
 */
export const API_DESTINATIONS_MIGRATION = `CREATE TABLE bus_connections (
     name TEXT PRIMARY KEY,
     uuid TEXT NOT NULL,
     description TEXT,
     authorization_type TEXT NOT NULL,
     auth TEXT NOT NULL,
     state TEXT NOT NULL,
     state_reason TEXT,
     created_at INTEGER NOT NULL,
     modified_at INTEGER NOT NULL,
     authorized_at INTEGER
   );
   CREATE TABLE bus_api_destinations (
     name TEXT PRIMARY KEY,
     uuid TEXT NOT NULL,
     description TEXT,
     connection_name TEXT NOT NULL,
     endpoint TEXT NOT NULL,
     http_method TEXT NOT NULL,
     rate_limit_per_second INTEGER,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     modified_at INTEGER NOT NULL
   );
   CREATE INDEX bus_api_destinations_by_connection ON bus_api_destinations (connection_name, name);
   CREATE TABLE bus_http_deliveries (
     id TEXT PRIMARY KEY,
     destination_name TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     next_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     spec TEXT NOT NULL,
     payload TEXT NOT NULL,
     last_error TEXT
   );
   CREATE INDEX bus_http_deliveries_by_next ON bus_http_deliveries (next_at, id);
   CREATE INDEX bus_http_deliveries_by_destination ON bus_http_deliveries (destination_name);;
   ALTER TABLE bus_targets ADD COLUMN http_parameters TEXT`;

/** `INSERT` of every column by name, nothing written if the key is taken. */
function insertSql(table: string, columns: readonly string[], key: string): string {
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})
    ON CONFLICT (${key}) DO NOTHING`;
}

/** `UPDATE` of `columns` by name, of the row whose `name` is @name. */
function updateSql(table: string, columns: readonly string[]): string {
  return `UPDATE ${table} SET ${columns.map((c) => `${c} = @${c}`).join(", ")} WHERE name = @name`;
}

/** A condition on `name` and its two parameters, the prefix (the empty one matches every name). */

const INSERT_CONNECTION = insertSql("bus_connections", CONNECTION_COLUMNS, "name");
const UPDATE_CONNECTION = updateSql("bus_connections", CONNECTION_UPDATED_COLUMNS);
const INSERT_API_DESTINATION = insertSql("bus_api_destinations", API_DESTINATION_COLUMNS, "name");
const UPDATE_API_DESTINATION = updateSql("bus_api_destinations", API_DESTINATION_UPDATED_COLUMNS);
const INSERT_HTTP_DELIVERY = insertSql("bus_http_deliveries", HTTP_DELIVERY_COLUMNS, "id");

export class SqliteApiDestinationsRepo implements ApiDestinationsRepo {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async createConnection(c: ConnectionRecord): Promise<boolean> {
    return this.#db.prepare(INSERT_CONNECTION).run(connectionRow(c)).changes === 1;
  }

  async getConnection(name: string): Promise<ConnectionRecord | undefined> {
    const row = this.#db.prepare("SELECT * FROM bus_connections WHERE name = ?").get(name) as
      | ConnectionRow
      | undefined;
    return row && toConnection(row);
  }

  async listConnections(o: {
    prefix?: string;
    state?: string;
    after?: string;
    limit: number;
  }): Promise<ConnectionRecord[]> {
    const rows = listNamed(this.#db, "bus_connections", "state", o.state, o) as ConnectionRow[];
    return rows.map(toConnection);
  }

  async updateConnection(c: ConnectionRecord): Promise<boolean> {
    return this.#db.prepare(UPDATE_CONNECTION).run(connectionRow(c)).changes === 1;
  }

  async deleteConnection(name: string): Promise<boolean> {
    return this.#db.prepare("DELETE FROM bus_connections WHERE name = ?").run(name).changes === 1;
  }

  async createApiDestination(d: ApiDestinationRecord): Promise<boolean> {
    return this.#db.prepare(INSERT_API_DESTINATION).run(apiDestinationRow(d)).changes === 1;
  }

  async getApiDestination(name: string): Promise<ApiDestinationRecord | undefined> {
    const row = this.#db.prepare("SELECT * FROM bus_api_destinations WHERE name = ?").get(name) as
      | ApiDestinationRow
      | undefined;
    return row && toApiDestination(row);
  }

  async listApiDestinations(o: {
    prefix?: string;
    connectionName?: string;
    after?: string;
    limit: number;
  }): Promise<ApiDestinationRecord[]> {
    const rows = listNamed(
      this.#db,
      "bus_api_destinations",
      "connection_name",
      o.connectionName,
      o,
    ) as ApiDestinationRow[];
    return rows.map(toApiDestination);
  }

  async updateApiDestination(d: ApiDestinationRecord): Promise<boolean> {
    return this.#db.prepare(UPDATE_API_DESTINATION).run(apiDestinationRow(d)).changes === 1;
  }

  async deleteApiDestination(name: string): Promise<boolean> {
    return this.#db.prepare("DELETE FROM bus_api_destinations WHERE name = ?").run(name).changes === 1;
  }

  async enqueueHttpDeliveries(ds: readonly HttpDeliveryRecord[]): Promise<void> {
    const db = this.#db;
    db.transaction(() => {
      const insert = db.prepare(INSERT_HTTP_DELIVERY);
      for (const d of ds) insert.run(httpDeliveryRow(d));
    }).immediate();
  }

  async claimHttpDeliveries(now: number, leaseUntil: number, limit: number): Promise<HttpDeliveryRecord[]> {
    const db = this.#db;
    return db
      .transaction(() => {
        const rows = db
          .prepare("SELECT * FROM bus_http_deliveries WHERE next_at <= ? ORDER BY next_at, id LIMIT ?")
          .all(now, limit) as HttpDeliveryRow[];
        if (rows.length > 0)
          db.prepare(
            "UPDATE bus_http_deliveries SET next_at = ? WHERE id IN (SELECT value FROM json_each(?))",
          ).run(leaseUntil, JSON.stringify(rows.map((r) => r.id)));
        return claimed(rows, leaseUntil);
      })
      .immediate();
  }

  async retryHttpDelivery(
    id: string,
    lease: number,
    attempts: number,
    nextAt: number,
    lastError: string,
  ): Promise<boolean> {
    const { changes } = this.#db
      .prepare(
        "UPDATE bus_http_deliveries SET attempts = ?, next_at = ?, last_error = ? WHERE id = ? AND next_at = ?",
      )
      .run(attempts, nextAt, lastError, id, lease);
    return changes > 0;
  }

  async deleteHttpDelivery(id: string, lease: number): Promise<boolean> {
    const { changes } = this.#db
      .prepare("DELETE FROM bus_http_deliveries WHERE id = ? AND next_at = ?")
      .run(id, lease);
    return changes > 0;
  }

  async nextHttpDeliveryAt(): Promise<number | undefined> {
    const row = this.#db.prepare("SELECT min(next_at) AS at FROM bus_http_deliveries").get() as {
      at: number | null;
    };
    return row.at ?? undefined;
  }

  async countHttpDeliveries(destinationName: string): Promise<number> {
    const row = this.#db
      .prepare("SELECT count(*) AS count FROM bus_http_deliveries WHERE destination_name = ?")
      .get(destinationName) as { count: number };
    return row.count;
  }

  /**
   * A page of `table`'s rows in byte order of their names, those whose `column` is `value` if
   * given (only the conditions given, so that an index of that column serves the query).
   */
}
