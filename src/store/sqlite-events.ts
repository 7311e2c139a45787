/**
 * The event bus in SQLite (`EventsRepo`, served through `SqliteStore`): the `bus_` tables of
 * `sqlite-migrations.ts`'s EVENTS_MIGRATIONS. Names compare and sort as bytes (SQLite's BINARY
 * collation); a prefix is compared with substr, not LIKE, which ignores ASCII case and reads
 * `_` and `%` as wildcards. What reads then writes is one transaction, begun IMMEDIATE (the
 * write lock first, so that a commit of the log thread in between cannot fail it).
 */
import type Database from "better-sqlite3";
import type {
  ArchivedEvent,
  ArchiveRecord,
  EventBusRecord,
  ReplayRecord,
  RuleRecord,
  TargetRecord,
} from "../services/events/model.js";
import type { EventsRepo } from "../services/events/repo.js";
import {
  ARCHIVE_COLUMNS,
  ARCHIVE_UPDATED_COLUMNS,
  type ArchivedEventRow,
  type ArchiveRow,
  archivedEventRow,
  archiveRow,
  BUS_COLUMNS,
  BUS_UPDATED_COLUMNS,
  type BusRow,
  busRow,
  REPLAY_COLUMNS,
  type ReplayRow,
  RULE_COLUMNS,
  type RuleRow,
  removedInOrder,
  replayRow,
  ruleHasTargets,
  ruleRow,
  TARGET_COLUMNS,
  type TargetRow,
  targetRow,
  toArchive,
  toArchivedEvent,
  toBus,
  toReplay,
  toRule,
  toTarget,
  upsertSet,
  withTargets,
} from "./events-row.js";

/** `INSERT` of every column by name, doing `onConflict` (SQL) on a taken key. */
function insertSql(table: string, columns: readonly string[], onConflict: string): string {
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})
    ON CONFLICT ${onConflict}`;
}

/** `UPDATE` of `columns` by name, of the row whose `name` is @name. */
function updateSql(table: string, columns: readonly string[]): string {
  return `UPDATE ${table} SET ${columns.map((c) => `${c} = @${c}`).join(", ")} WHERE name = @name`;
}

/** A condition on `name` and its two parameters, the prefix (the empty one matches every name). */
const NAME_PREFIX = "substr(name, 1, length(?)) = ?";

const INSERT_BUS = insertSql("bus_buses", BUS_COLUMNS, "(name) DO NOTHING");
const UPDATE_BUS = updateSql("bus_buses", BUS_UPDATED_COLUMNS);
const PUT_RULE = insertSql(
  "bus_rules",
  RULE_COLUMNS,
  // An update in place, not a REPLACE: a replaced row would take its targets with it.
  `(bus_name, name) DO UPDATE SET ${upsertSet(RULE_COLUMNS, ["bus_name", "name"])}`,
);
const PUT_TARGET = insertSql(
  "bus_targets",
  TARGET_COLUMNS,
  `(bus_name, rule_name, id) DO UPDATE SET ${upsertSet(TARGET_COLUMNS, ["bus_name", "rule_name", "id"])}`,
);
const INSERT_ARCHIVE = insertSql("bus_archives", ARCHIVE_COLUMNS, "(name) DO NOTHING");
const UPDATE_ARCHIVE = updateSql("bus_archives", ARCHIVE_UPDATED_COLUMNS);
const INSERT_REPLAY = insertSql("bus_replays", REPLAY_COLUMNS, "(name) DO NOTHING");
const UPDATE_REPLAY = updateSql(
  "bus_replays",
  REPLAY_COLUMNS.filter((c) => c !== "name"),
);

export class SqliteEventsRepo implements EventsRepo {
  readonly #db: Database.Database;

  /** `db` has foreign keys on: deleting a bus deletes its rules, and a rule its targets. */
  constructor(db: Database.Database) {
    this.#db = db;
  }

  async createBus(bus: EventBusRecord): Promise<boolean> {
    return this.#db.prepare(INSERT_BUS).run(busRow(bus)).changes === 1;
  }

  async getBus(name: string): Promise<EventBusRecord | undefined> {
    const row = this.#db.prepare("SELECT * FROM bus_buses WHERE name = ?").get(name) as BusRow | undefined;
    return row && toBus(row);
  }

  async listBuses(o: { prefix?: string; after?: string; limit: number }): Promise<EventBusRecord[]> {
    const prefix = o.prefix ?? "";
    const rows = this.#db
      .prepare(`SELECT * FROM bus_buses WHERE name > ? AND ${NAME_PREFIX} ORDER BY name LIMIT ?`)
      .all(o.after ?? "", prefix, prefix, o.limit) as BusRow[];
    return rows.map(toBus);
  }

  async updateBus(bus: EventBusRecord): Promise<boolean> {
    return this.#db.prepare(UPDATE_BUS).run(busRow(bus)).changes === 1;
  }

  async deleteBus(name: string): Promise<boolean> {
    return this.#db.prepare("DELETE FROM bus_buses WHERE name = ?").run(name).changes === 1;
  }

  async putRule(rule: RuleRecord): Promise<void> {
    this.#db.prepare(PUT_RULE).run(ruleRow(rule));
  }

  async getRule(busName: string, name: string): Promise<RuleRecord | undefined> {
    const row = this.#db
      .prepare("SELECT * FROM bus_rules WHERE bus_name = ? AND name = ?")
      .get(busName, name) as RuleRow | undefined;
    return row && toRule(row);
  }

  async listRules(o: {
    busName: string;
    prefix?: string;
    after?: string;
    limit: number;
  }): Promise<RuleRecord[]> {
    const prefix = o.prefix ?? "";
    const rows = this.#db
      .prepare(
        `SELECT * FROM bus_rules WHERE bus_name = ? AND name > ? AND ${NAME_PREFIX} ORDER BY name LIMIT ?`,
      )
      .all(o.busName, o.after ?? "", prefix, prefix, o.limit) as RuleRow[];
    return rows.map(toRule);
  }

  async allRules(): Promise<Array<{ rule: RuleRecord; targets: TargetRecord[] }>> {
    // One read transaction: the targets are of the rules read.
    return this.#db.transaction(() => {
      const rules = this.#db.prepare("SELECT * FROM bus_rules ORDER BY bus_name, name").all() as RuleRow[];
      const targets = this.#db
        .prepare("SELECT * FROM bus_targets ORDER BY bus_name, rule_name, id")
        .all() as TargetRow[];
      return withTargets(rules.map(toRule), targets.map(toTarget));
    })();
  }

  async deleteRule(busName: string, name: string): Promise<boolean> {
    const db = this.#db;
    return db
      .transaction(() => {
        const { count } = db
          .prepare("SELECT count(*) AS count FROM bus_targets WHERE bus_name = ? AND rule_name = ?")
          .get(busName, name) as { count: number };
        if (count > 0) throw ruleHasTargets(busName, name, count);
        return (
          db.prepare("DELETE FROM bus_rules WHERE bus_name = ? AND name = ?").run(busName, name).changes === 1
        );
      })
      .immediate();
  }

  async putTargets(targets: readonly TargetRecord[]): Promise<void> {
    const db = this.#db;
    db.transaction(() => {
      const put = db.prepare(PUT_TARGET);
      for (const t of targets) put.run(targetRow(t));
    }).immediate();
  }

  async removeTargets(busName: string, ruleName: string, ids: readonly string[]): Promise<string[]> {
    const rows = this.#db
      .prepare(
        `DELETE FROM bus_targets WHERE bus_name = ? AND rule_name = ? AND id IN (SELECT value FROM json_each(?))
         RETURNING id`,
      )
      .all(busName, ruleName, JSON.stringify(ids)) as { id: string }[];
    return removedInOrder(ids, new Set(rows.map((r) => r.id)));
  }

  async listTargets(busName: string, ruleName: string): Promise<TargetRecord[]> {
    const rows = this.#db
      .prepare("SELECT * FROM bus_targets WHERE bus_name = ? AND rule_name = ? ORDER BY id")
      .all(busName, ruleName) as TargetRow[];
    return rows.map(toTarget);
  }

  async createArchive(a: ArchiveRecord): Promise<boolean> {
    return this.#db.prepare(INSERT_ARCHIVE).run(archiveRow(a)).changes === 1;
  }

  async getArchive(name: string): Promise<ArchiveRecord | undefined> {
    const row = this.#db.prepare("SELECT * FROM bus_archives WHERE name = ?").get(name) as
      | ArchiveRow
      | undefined;
    return row && toArchive(row);
  }

  async listArchives(o: {
    busName?: string;
    prefix?: string;
    after?: string;
    limit: number;
  }): Promise<ArchiveRecord[]> {
    const rows = listNamed(this.#db, "bus_archives", "bus_name", o.busName, o) as ArchiveRow[];
    return rows.map(toArchive);
  }

  async updateArchive(a: ArchiveRecord): Promise<boolean> {
    return this.#db.prepare(UPDATE_ARCHIVE).run(archiveRow(a)).changes === 1;
  }

  async deleteArchive(name: string): Promise<boolean> {
    return this.#db.prepare("DELETE FROM bus_archives WHERE name = ?").run(name).changes === 1;
  }

  async archiveEvents(
    archiveName: string,
    events: ReadonlyArray<{ time: number; event: string }>,
  ): Promise<void> {
    const db = this.#db;
    db.transaction(() => {
      if (db.prepare("SELECT 1 FROM bus_archives WHERE name = ?").get(archiveName) === undefined)
        throw new Error(`cannot archive events in archive "${archiveName}": there is no such archive`);
      const insert = db.prepare(
        "INSERT INTO bus_archive_events (archive_name, time, event, bytes) VALUES (@archive_name, @time, @event, @bytes)",
      );
      for (const e of events) insert.run(archivedEventRow(archiveName, e));
    }).immediate();
  }

  async readArchive(
    archiveName: string,
    o: { from: number; to: number; afterSeq: number; limit: number },
  ): Promise<ArchivedEvent[]> {
    const rows = this.#db
      .prepare(
        `SELECT seq, time, event FROM bus_archive_events
         WHERE archive_name = ? AND time >= ? AND time < ? AND seq > ? ORDER BY seq LIMIT ?`,
      )
      .all(archiveName, o.from, o.to, o.afterSeq, o.limit) as ArchivedEventRow[];
    return rows.map(toArchivedEvent);
  }

  async archiveStats(archiveName: string): Promise<{ count: number; bytes: number }> {
    return this.#db
      .prepare(
        "SELECT count(*) AS count, coalesce(sum(bytes), 0) AS bytes FROM bus_archive_events WHERE archive_name = ?",
      )
      .get(archiveName) as { count: number; bytes: number };
  }

  async expireArchive(archiveName: string, before: number): Promise<number> {
    return this.#db
      .prepare("DELETE FROM bus_archive_events WHERE archive_name = ? AND time < ?")
      .run(archiveName, before).changes;
  }

  async createReplay(r: ReplayRecord): Promise<boolean> {
    return this.#db.prepare(INSERT_REPLAY).run(replayRow(r)).changes === 1;
  }

  async getReplay(name: string): Promise<ReplayRecord | undefined> {
    const row = this.#db.prepare("SELECT * FROM bus_replays WHERE name = ?").get(name) as
      | ReplayRow
      | undefined;
    return row && toReplay(row);
  }

  async listReplays(o: {
    archiveName?: string;
    prefix?: string;
    after?: string;
    limit: number;
  }): Promise<ReplayRecord[]> {
    const rows = listNamed(this.#db, "bus_replays", "archive_name", o.archiveName, o) as ReplayRow[];
    return rows.map(toReplay);
  }

  async updateReplay(r: ReplayRecord): Promise<boolean> {
    return this.#db.prepare(UPDATE_REPLAY).run(replayRow(r)).changes === 1;
  }

  /**
   * A page of `table`'s rows in byte order of their names, those whose `column` is `value` if
   * given (only the conditions given, so that the index of that column serves the query).
   */
}

/**
 * Rows of a table keyed by `name` (buses' archives, connections, API destinations…) in byte
 * order after `after`, starting with `prefix`, where `column` is `value` if one is given.
 */
export function listNamed(
  db: Database.Database,
  table: string,
  column: string,
  value: string | undefined,
  o: { prefix?: string; after?: string; limit: number },
): unknown[] {
  const prefix = o.prefix ?? "";
  const where = value === undefined ? "" : `${column} = ? AND `;
  return db
    .prepare(`SELECT * FROM ${table} WHERE ${where}name > ? AND ${NAME_PREFIX} ORDER BY name LIMIT ?`)
    .all(...(value === undefined ? [] : [value]), o.after ?? "", prefix, prefix, o.limit);
}
