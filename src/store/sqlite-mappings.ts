/**
 * Event source mappings in SQLite (`EventSourceMappingsRepo`, served through `SqliteStore`): table
 * `event_source_mappings` of `sqlite-migrations.ts`'s MAPPINGS_MIGRATIONS. Each write is one
 * statement; UUIDs compare and sort as bytes (SQLite's BINARY collation).
 */
import type Database from "better-sqlite3";
import type { EventSourceMapping, EventSourceMappingsRepo } from "../control/triggers/mappings/repo.js";
import { MAPPING_COLUMNS, type MappingRow, mappingRow, toMapping } from "./mapping-row.js";

const INSERT_SQL = `INSERT INTO event_source_mappings (${MAPPING_COLUMNS.join(", ")})
  VALUES (${MAPPING_COLUMNS.map((c) => `@${c}`).join(", ")})
  ON CONFLICT (uuid) DO NOTHING`;

const UPDATE_SQL = `UPDATE event_source_mappings
  SET ${MAPPING_COLUMNS.filter((c) => c !== "uuid")
    .map((c) => `${c} = @${c}`)
    .join(", ")}
  WHERE uuid = @uuid`;

/** The row's named parameters: SQLite binds no booleans. */
function parameters(m: EventSourceMapping): MappingRow {
  const row = mappingRow(m);
  return { ...row, enabled: row.enabled ? 1 : 0 };
}

export class SqliteMappingsRepo implements EventSourceMappingsRepo {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async getMapping(uuid: string): Promise<EventSourceMapping | undefined> {
    const row = this.#db.prepare("SELECT * FROM event_source_mappings WHERE uuid = ?").get(uuid) as
      | MappingRow
      | undefined;
    return row && toMapping(row);
  }

  async listMappings(o: {
    eventSourceArn?: string;
    functionName?: string;
    after?: string;
    limit: number;
  }): Promise<EventSourceMapping[]> {
    // Only the conditions given, so that the index of the queue or the function serves the query.
    const where = ["uuid > ?"];
    const values: (string | number)[] = [o.after ?? ""];
    if (o.eventSourceArn !== undefined) {
      where.push("event_source_arn = ?");
      values.push(o.eventSourceArn);
    }
    if (o.functionName !== undefined) {
      where.push("function_name = ?");
      values.push(o.functionName);
    }
    const rows = this.#db
      .prepare(`SELECT * FROM event_source_mappings WHERE ${where.join(" AND ")} ORDER BY uuid LIMIT ?`)
      .all(...values, o.limit) as MappingRow[];
    return rows.map(toMapping);
  }

  async createMapping(m: EventSourceMapping): Promise<boolean> {
    return this.#db.prepare(INSERT_SQL).run(parameters(m)).changes === 1;
  }

  async updateMapping(m: EventSourceMapping): Promise<boolean> {
    return this.#db.prepare(UPDATE_SQL).run(parameters(m)).changes === 1;
  }

  async deleteMapping(uuid: string): Promise<boolean> {
    return this.#db.prepare("DELETE FROM event_source_mappings WHERE uuid = ?").run(uuid).changes === 1;
  }
}
