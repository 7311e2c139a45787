/**
 * The event bus in PostgreSQL (`EventsRepo`). Names collate as bytes ("C"), so everything lists
 * in SQLite's order; a prefix matches literally (LIKE with its wildcards escaped).
 */
import type {
  ArchivedEvent,
  ArchiveRecord,
  EventBusRecord,
  ReplayRecord,
  RuleRecord,
  TargetRecord,
} from "../../services/events/model.js";
import type { EventsRepo } from "../../services/events/repo.js";
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
} from "../events-row.js";
import { API_DESTINATIONS_MIGRATION } from "./api-destinations.js";
import type { Sql } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/**
 * References no other module's tables. A bus's rules, and a rule's targets, go with it; its
 * archives stay (EventBridge keeps them), their events going with the archive. `seq` is one
 * sequence for every archive: an archive's appends take turns (`archiveEvents`), so its
 * events' seqs rise in the order they commit. Then connections, API destinations and their
 * deliveries.
 */
export const EVENTS_MIGRATIONS: ModuleMigrations = {
  module: "event-bus",
  steps: [
    `CREATE TABLE bus_buses (
       name text COLLATE "C" PRIMARY KEY,
       description text,
       dead_letter_arn text,
       tags text NOT NULL,
       created_at bigint NOT NULL,
       modified_at bigint NOT NULL
     );
     CREATE TABLE bus_rules (
       bus_name text COLLATE "C" NOT NULL REFERENCES bus_buses (name) ON DELETE CASCADE,
       name text COLLATE "C" NOT NULL,
       event_pattern text NOT NULL,
       state text NOT NULL,
       description text,
       tags text NOT NULL,
       created_at bigint NOT NULL,
       modified_at bigint NOT NULL,
       PRIMARY KEY (bus_name, name)
     );
     CREATE TABLE bus_targets (
       bus_name text COLLATE "C" NOT NULL,
       rule_name text COLLATE "C" NOT NULL,
       id text COLLATE "C" NOT NULL,
       arn text NOT NULL,
       input text,
       input_path text,
       input_transformer text,
       maximum_retry_attempts integer,
       maximum_event_age_s integer,
       dead_letter_arn text,
       PRIMARY KEY (bus_name, rule_name, id),
       FOREIGN KEY (bus_name, rule_name) REFERENCES bus_rules (bus_name, name) ON DELETE CASCADE
     );
     CREATE TABLE bus_archives (
       name text COLLATE "C" PRIMARY KEY,
       bus_name text COLLATE "C" NOT NULL,
       event_pattern text,
       description text,
       retention_days integer NOT NULL,
       state text NOT NULL,
       created_at bigint NOT NULL
     );
     CREATE INDEX bus_archives_by_bus ON bus_archives (bus_name, name);
     CREATE TABLE bus_archive_events (
       seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       archive_name text COLLATE "C" NOT NULL REFERENCES bus_archives (name) ON DELETE CASCADE,
       time bigint NOT NULL,
       event text NOT NULL,
       bytes bigint NOT NULL
     );
     CREATE INDEX bus_archive_events_by_time ON bus_archive_events (archive_name, time, seq);
     CREATE TABLE bus_replays (
       name text COLLATE "C" PRIMARY KEY,
       archive_name text COLLATE "C" NOT NULL,
       description text,
       event_start_time bigint NOT NULL,
       event_end_time bigint NOT NULL,
       destination_bus text NOT NULL,
       destination_rules text NOT NULL,
       state text NOT NULL,
       state_reason text,
       started_at bigint NOT NULL,
       ended_at bigint,
       last_replayed_at bigint
     );
     CREATE INDEX bus_replays_by_archive ON bus_replays (archive_name, name);`,
    // Connections, API destinations, and the deliveries of events to them (`api-destinations.ts`).
    API_DESTINATIONS_MIGRATION,
  ],
};

/** Archived events one INSERT takes (4 parameters each, far below PostgreSQL's 65,535). */
const ARCHIVE_INSERT_ROWS = 1000;

const RULE_UPDATED_COLUMNS = RULE_COLUMNS.filter((c) => c !== "bus_name" && c !== "name");
/** A target upsert's SET (names of this module, not input: safe to splice in). */
const TARGET_UPSERT_SET = upsertSet(TARGET_COLUMNS, ["bus_name", "rule_name", "id"]);
const REPLAY_UPDATED_COLUMNS = REPLAY_COLUMNS.filter((c) => c !== "name");

/** The LIKE pattern of names starting with `prefix`, its wildcards and escapes taken literally. */
function prefixPattern(prefix: string | undefined): string {
  return `${(prefix ?? "").replace(/[\\%_]/g, "\\$&")}%`;
}

export class PostgresEventsRepo implements EventsRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async createBus(bus: EventBusRecord): Promise<boolean> {
    const sql = this.#sql;
    const inserted = await sql`INSERT INTO bus_buses ${sql(busRow(bus), BUS_COLUMNS)}
      ON CONFLICT (name) DO NOTHING`;
    return inserted.count === 1;
  }

  async getBus(name: string): Promise<EventBusRecord | undefined> {
    const [row] = await this.#sql<BusRow[]>`SELECT * FROM bus_buses WHERE name = ${name}`;
    return row && toBus(row);
  }

  async listBuses(o: { prefix?: string; after?: string; limit: number }): Promise<EventBusRecord[]> {
    const rows = await this.#sql<BusRow[]>`SELECT * FROM bus_buses
      WHERE name > ${o.after ?? ""} AND name LIKE ${prefixPattern(o.prefix)} ESCAPE '\\'
      ORDER BY name LIMIT ${o.limit}`;
    return rows.map(toBus);
  }

  async updateBus(bus: EventBusRecord): Promise<boolean> {
    const sql = this.#sql;
    const updated = await sql`UPDATE bus_buses SET ${sql(busRow(bus), BUS_UPDATED_COLUMNS)}
      WHERE name = ${bus.name}`;
    return updated.count === 1;
  }

  async deleteBus(name: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM bus_buses WHERE name = ${name}`;
    return deleted.count === 1;
  }

  async putRule(rule: RuleRecord): Promise<void> {
    const sql = this.#sql;
    const row = ruleRow(rule);
    // An update in place: the rule's targets, which reference it, stay.
    await sql`INSERT INTO bus_rules ${sql(row, RULE_COLUMNS)}
      ON CONFLICT (bus_name, name) DO UPDATE SET ${sql(row, RULE_UPDATED_COLUMNS)}`;
  }

  async getRule(busName: string, name: string): Promise<RuleRecord | undefined> {
    const [row] = await this.#sql<RuleRow[]>`SELECT * FROM bus_rules
      WHERE bus_name = ${busName} AND name = ${name}`;
    return row && toRule(row);
  }

  async listRules(o: {
    busName: string;
    prefix?: string;
    after?: string;
    limit: number;
  }): Promise<RuleRecord[]> {
    const rows = await this.#sql<RuleRow[]>`SELECT * FROM bus_rules
      WHERE bus_name = ${o.busName} AND name > ${o.after ?? ""}
        AND name LIKE ${prefixPattern(o.prefix)} ESCAPE '\\'
      ORDER BY name LIMIT ${o.limit}`;
    return rows.map(toRule);
  }

  async allRules(): Promise<Array<{ rule: RuleRecord; targets: TargetRecord[] }>> {
    // One snapshot for both reads: the targets are of the rules read.
    return this.#sql.begin("isolation level repeatable read read only", async (tx) => {
      const rules = await tx<RuleRow[]>`SELECT * FROM bus_rules ORDER BY bus_name, name`;
      const targets = await tx<TargetRow[]>`SELECT * FROM bus_targets ORDER BY bus_name, rule_name, id`;
      return withTargets(rules.map(toRule), targets.map(toTarget));
    });
  }

  async deleteRule(busName: string, name: string): Promise<boolean> {
    return this.#sql.begin(async (tx) => {
      // The rule's row locked: a target added meanwhile (its key share of the row) waits, or is seen.
      const [rule] =
        await tx`SELECT 1 FROM bus_rules WHERE bus_name = ${busName} AND name = ${name} FOR UPDATE`;
      if (!rule) return false;
      const [targets] = await tx<{ count: number }[]>`SELECT count(*) AS count FROM bus_targets
        WHERE bus_name = ${busName} AND rule_name = ${name}`;
      const count = targets?.count ?? 0;
      if (count > 0) throw ruleHasTargets(busName, name, count);
      await tx`DELETE FROM bus_rules WHERE bus_name = ${busName} AND name = ${name}`;
      return true;
    });
  }

  async putTargets(targets: readonly TargetRecord[]): Promise<void> {
    if (targets.length === 0) return;
    const sql = this.#sql;
    // One row per id, the last given winning, as SQLite's one upsert after another leaves it
    // (one INSERT cannot upsert a row twice).
    const rows = [
      ...new Map(targets.map((t) => [JSON.stringify([t.busName, t.ruleName, t.id]), t])).values(),
    ].map(targetRow);
    await sql`INSERT INTO bus_targets ${sql(rows, TARGET_COLUMNS)}
      ON CONFLICT (bus_name, rule_name, id) DO UPDATE SET ${sql.unsafe(TARGET_UPSERT_SET)}`;
  }

  async removeTargets(busName: string, ruleName: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const sql = this.#sql;
    const rows = await sql<{ id: string }[]>`DELETE FROM bus_targets
      WHERE bus_name = ${busName} AND rule_name = ${ruleName} AND id = ANY(${sql.array([...ids])}::text[])
      RETURNING id`;
    return removedInOrder(ids, new Set(rows.map((r) => r.id)));
  }

  async listTargets(busName: string, ruleName: string): Promise<TargetRecord[]> {
    const rows = await this.#sql<TargetRow[]>`SELECT * FROM bus_targets
      WHERE bus_name = ${busName} AND rule_name = ${ruleName} ORDER BY id`;
    return rows.map(toTarget);
  }

  async createArchive(a: ArchiveRecord): Promise<boolean> {
    const sql = this.#sql;
    const inserted = await sql`INSERT INTO bus_archives ${sql(archiveRow(a), ARCHIVE_COLUMNS)}
      ON CONFLICT (name) DO NOTHING`;
    return inserted.count === 1;
  }

  async getArchive(name: string): Promise<ArchiveRecord | undefined> {
    const [row] = await this.#sql<ArchiveRow[]>`SELECT * FROM bus_archives WHERE name = ${name}`;
    return row && toArchive(row);
  }

  async listArchives(o: {
    busName?: string;
    prefix?: string;
    after?: string;
    limit: number;
  }): Promise<ArchiveRecord[]> {
    const sql = this.#sql;
    // Only the conditions given, so that the index of the bus serves the query.
    const rows = await sql<ArchiveRow[]>`SELECT * FROM bus_archives
      WHERE name > ${o.after ?? ""} AND name LIKE ${prefixPattern(o.prefix)} ESCAPE '\\'
        ${o.busName === undefined ? sql`` : sql`AND bus_name = ${o.busName}`}
      ORDER BY name LIMIT ${o.limit}`;
    return rows.map(toArchive);
  }

  async updateArchive(a: ArchiveRecord): Promise<boolean> {
    const sql = this.#sql;
    const updated = await sql`UPDATE bus_archives SET ${sql(archiveRow(a), ARCHIVE_UPDATED_COLUMNS)}
      WHERE name = ${a.name}`;
    return updated.count === 1;
  }

  async deleteArchive(name: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM bus_archives WHERE name = ${name}`;
    return deleted.count === 1;
  }

  async archiveEvents(
    archiveName: string,
    events: ReadonlyArray<{ time: number; event: string }>,
  ): Promise<void> {
    await this.#sql.begin(async (tx) => {
      // The archive's row locked: its appends take turns, so their seqs rise in commit order and
      // a reader paging by seq never passes an event that commits after it.
      const [archive] = await tx`SELECT 1 FROM bus_archives WHERE name = ${archiveName} FOR NO KEY UPDATE`;
      if (!archive)
        throw new Error(`cannot archive events in archive "${archiveName}": there is no such archive`);
      const rows = events.map((e) => archivedEventRow(archiveName, e));
      // Multi-row INSERTs: their rows take their seqs in the order given.
      for (let i = 0; i < rows.length; i += ARCHIVE_INSERT_ROWS)
        await tx`INSERT INTO bus_archive_events ${tx(rows.slice(i, i + ARCHIVE_INSERT_ROWS))}`;
    });
  }

  async readArchive(
    archiveName: string,
    o: { from: number; to: number; afterSeq: number; limit: number },
  ): Promise<ArchivedEvent[]> {
    const rows = await this.#sql<ArchivedEventRow[]>`SELECT seq, time, event FROM bus_archive_events
      WHERE archive_name = ${archiveName} AND time >= ${o.from} AND time < ${o.to} AND seq > ${o.afterSeq}
      ORDER BY seq LIMIT ${o.limit}`;
    return rows.map(toArchivedEvent);
  }

  async archiveStats(archiveName: string): Promise<{ count: number; bytes: number }> {
    const [row] = await this.#sql<{ count: number; bytes: number }[]>`SELECT count(*) AS count,
        coalesce(sum(bytes), 0)::bigint AS bytes
      FROM bus_archive_events WHERE archive_name = ${archiveName}`;
    return { count: row?.count ?? 0, bytes: row?.bytes ?? 0 };
  }

  async expireArchive(archiveName: string, before: number): Promise<number> {
    const deleted = await this.#sql`DELETE FROM bus_archive_events
      WHERE archive_name = ${archiveName} AND time < ${before}`;
    return deleted.count;
  }

  async createReplay(r: ReplayRecord): Promise<boolean> {
    const sql = this.#sql;
    const inserted = await sql`INSERT INTO bus_replays ${sql(replayRow(r), REPLAY_COLUMNS)}
      ON CONFLICT (name) DO NOTHING`;
    return inserted.count === 1;
  }

  async getReplay(name: string): Promise<ReplayRecord | undefined> {
    const [row] = await this.#sql<ReplayRow[]>`SELECT * FROM bus_replays WHERE name = ${name}`;
    return row && toReplay(row);
  }

  async listReplays(o: {
    archiveName?: string;
    prefix?: string;
    after?: string;
    limit: number;
  }): Promise<ReplayRecord[]> {
    const sql = this.#sql;
    // Only the conditions given, so that the index of the archive serves the query.
    const rows = await sql<ReplayRow[]>`SELECT * FROM bus_replays
      WHERE name > ${o.after ?? ""} AND name LIKE ${prefixPattern(o.prefix)} ESCAPE '\\'
        ${o.archiveName === undefined ? sql`` : sql`AND archive_name = ${o.archiveName}`}
      ORDER BY name LIMIT ${o.limit}`;
    return rows.map(toReplay);
  }

  async updateReplay(r: ReplayRecord): Promise<boolean> {
    const sql = this.#sql;
    const updated = await sql`UPDATE bus_replays SET ${sql(replayRow(r), REPLAY_UPDATED_COLUMNS)}
      WHERE name = ${r.name}`;
    return updated.count === 1;
  }
}
