/** Event source mappings in PostgreSQL (`EventSourceMappingsRepo`). */
import type { EventSourceMapping, EventSourceMappingsRepo } from "../../control/triggers/mappings/repo.js";
import { MAPPING_COLUMNS, type MappingRow, mappingRow, toMapping } from "../mapping-row.js";
import type { Sql } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/**
 * References no other module's tables: Lambda's DeleteFunction leaves a function's mappings in
 * place. UUIDs collate as bytes ("C"), so mappings list in SQLite's order.
 */
export const MAPPINGS_MIGRATIONS: ModuleMigrations = {
  module: "event-source-mappings",
  steps: [
    `CREATE TABLE event_source_mappings (
       uuid text COLLATE "C" PRIMARY KEY,
       event_source_arn text COLLATE "C" NOT NULL,
       function_name text COLLATE "C" NOT NULL,
       qualifier text COLLATE "C",
       batch_size integer NOT NULL,
       maximum_batching_window_s integer NOT NULL,
       function_response_types text NOT NULL,
       filters text NOT NULL,
       maximum_concurrency integer,
       enabled boolean NOT NULL,
       state text NOT NULL,
       state_transition_reason text NOT NULL,
       last_processing_result text NOT NULL,
       last_modified bigint NOT NULL
     );
     CREATE INDEX event_source_mappings_by_source ON event_source_mappings (event_source_arn, uuid);
     CREATE INDEX event_source_mappings_by_function ON event_source_mappings (function_name, uuid);`,
  ],
};

const UPDATED_COLUMNS = MAPPING_COLUMNS.filter((c) => c !== "uuid");

export class PostgresMappingsRepo implements EventSourceMappingsRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async getMapping(uuid: string): Promise<EventSourceMapping | undefined> {
    const [row] = await this.#sql<MappingRow[]>`SELECT * FROM event_source_mappings WHERE uuid = ${uuid}`;
    return row && toMapping(row);
  }

  async listMappings(o: {
    eventSourceArn?: string;
    functionName?: string;
    after?: string;
    limit: number;
  }): Promise<EventSourceMapping[]> {
    const sql = this.#sql;
    // Only the conditions given, so that the index of the queue or the function serves the query.
    const rows = await sql<MappingRow[]>`SELECT * FROM event_source_mappings
      WHERE uuid > ${o.after ?? ""}
        ${o.eventSourceArn === undefined ? sql`` : sql`AND event_source_arn = ${o.eventSourceArn}`}
        ${o.functionName === undefined ? sql`` : sql`AND function_name = ${o.functionName}`}
      ORDER BY uuid LIMIT ${o.limit}`;
    return rows.map(toMapping);
  }

  async createMapping(m: EventSourceMapping): Promise<boolean> {
    const sql = this.#sql;
    const inserted = await sql`INSERT INTO event_source_mappings ${sql(mappingRow(m), MAPPING_COLUMNS)}
      ON CONFLICT (uuid) DO NOTHING`;
    return inserted.count === 1;
  }

  async updateMapping(m: EventSourceMapping): Promise<boolean> {
    const sql = this.#sql;
    const updated = await sql`UPDATE event_source_mappings
      SET ${sql(mappingRow(m), UPDATED_COLUMNS)} WHERE uuid = ${m.uuid}`;
    return updated.count === 1;
  }

  async deleteMapping(uuid: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM event_source_mappings WHERE uuid = ${uuid}`;
    return deleted.count === 1;
  }
}
