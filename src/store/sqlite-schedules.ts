/**
 * Schedules in SQLite (`SchedulesRepo`, `SqliteStore.schedules`): the tables of
 * `sqlite-migrations.ts`'s SCHEDULES_MIGRATIONS. Names compare and sort as bytes (SQLite's
 * BINARY collation); a prefix is compared with substr, not LIKE, which ignores ASCII case and
 * reads `_` and `%` as wildcards. What writes more than one row is one transaction, begun
 * IMMEDIATE (the write lock first, so that a commit of the log thread in between cannot fail it).
 */
import type Database from "better-sqlite3";
import type {
  DeliveryRecord,
  ScheduleGroupRecord,
  ScheduleRecord,
  ScheduleState,
} from "../services/scheduler/model.js";
import type { SchedulesRepo } from "../services/scheduler/repo.js";
import {
  DELIVERY_COLUMNS,
  DELIVERY_UPDATED_COLUMNS,
  type DeliveryRow,
  deliveryRow,
  GROUP_COLUMNS,
  GROUP_UPDATED_COLUMNS,
  type GroupRow,
  groupRow,
  SCHEDULE_COLUMNS,
  SCHEDULE_UPDATED_COLUMNS,
  type ScheduleRow,
  scheduleRow,
  toDelivery,
  toGroup,
  toSchedule,
} from "./schedules-row.js";

/** `INSERT` of every column by name, nothing written if `key` (SQL) is taken. */
function insertSql(table: string, columns: readonly string[], key: string): string {
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})
    ON CONFLICT ${key} DO NOTHING`;
}

/** `UPDATE` of `columns` by name, of the row `where` (SQL over named parameters) picks. */
function updateSql(table: string, columns: readonly string[], where: string): string {
  return `UPDATE ${table} SET ${columns.map((c) => `${c} = @${c}`).join(", ")} WHERE ${where}`;
}

/** A condition on `name` and its two parameters, the prefix (the empty one matches every name). */
const NAME_PREFIX = "substr(name, 1, length(?)) = ?";

const INSERT_GROUP = insertSql("schedule_groups", GROUP_COLUMNS, "(name)");
const UPDATE_GROUP = updateSql("schedule_groups", GROUP_UPDATED_COLUMNS, "name = @name");
const INSERT_SCHEDULE = insertSql("schedules", SCHEDULE_COLUMNS, "(group_name, name)");
const UPDATE_SCHEDULE = updateSql(
  "schedules",
  SCHEDULE_UPDATED_COLUMNS,
  "group_name = @group_name AND name = @name",
);
const INSERT_DELIVERY = insertSql("schedule_deliveries", DELIVERY_COLUMNS, "(id)");
const UPDATE_DELIVERY = updateSql("schedule_deliveries", DELIVERY_UPDATED_COLUMNS, "id = @id");

export class SqliteSchedulesRepo implements SchedulesRepo {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async createGroup(group: ScheduleGroupRecord): Promise<boolean> {
    return this.#db.prepare(INSERT_GROUP).run(groupRow(group)).changes === 1;
  }

  async getGroup(name: string): Promise<ScheduleGroupRecord | undefined> {
    const row = this.#db.prepare("SELECT * FROM schedule_groups WHERE name = ?").get(name) as
      | GroupRow
      | undefined;
    return row && toGroup(row);
  }

  async listGroups(o: { prefix?: string; after?: string; limit: number }): Promise<ScheduleGroupRecord[]> {
    const prefix = o.prefix ?? "";
    const rows = this.#db
      .prepare(`SELECT * FROM schedule_groups WHERE name > ? AND ${NAME_PREFIX} ORDER BY name LIMIT ?`)
      .all(o.after ?? "", prefix, prefix, o.limit) as GroupRow[];
    return rows.map(toGroup);
  }

  async updateGroup(group: ScheduleGroupRecord): Promise<boolean> {
    return this.#db.prepare(UPDATE_GROUP).run(groupRow(group)).changes === 1;
  }

  async deleteGroup(name: string): Promise<boolean> {
    const db = this.#db;
    return db
      .transaction(() => {
        if (db.prepare("DELETE FROM schedule_groups WHERE name = ?").run(name).changes === 0) return false;
        db.prepare("DELETE FROM schedules WHERE group_name = ?").run(name);
        return true;
      })
      .immediate();
  }

  async createSchedule(schedule: ScheduleRecord): Promise<boolean> {
    return this.#db.prepare(INSERT_SCHEDULE).run(scheduleRow(schedule)).changes === 1;
  }

  async getSchedule(groupName: string, name: string): Promise<ScheduleRecord | undefined> {
    const row = this.#db
      .prepare("SELECT * FROM schedules WHERE group_name = ? AND name = ?")
      .get(groupName, name) as ScheduleRow | undefined;
    return row && toSchedule(row);
  }

  async listSchedules(o: {
    groupName?: string;
    prefix?: string;
    state?: ScheduleState;
    after?: { groupName: string; name: string };
    limit: number;
  }): Promise<ScheduleRecord[]> {
    // Only the conditions given, so that the primary key serves the query.
    const where: string[] = [];
    const params: unknown[] = [];
    if (o.groupName !== undefined) {
      where.push("group_name = ?");
      params.push(o.groupName);
    }
    if (o.after !== undefined) {
      where.push("(group_name, name) > (?, ?)");
      params.push(o.after.groupName, o.after.name);
    }
    if (o.prefix !== undefined && o.prefix !== "") {
      where.push(NAME_PREFIX);
      params.push(o.prefix, o.prefix);
    }
    if (o.state !== undefined) {
      where.push("state = ?");
      params.push(o.state);
    }
    const rows = this.#db
      .prepare(
        `SELECT * FROM schedules ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY group_name, name LIMIT ?`,
      )
      .all(...params, o.limit) as ScheduleRow[];
    return rows.map(toSchedule);
  }

  async updateSchedule(schedule: ScheduleRecord): Promise<boolean> {
    return this.#db.prepare(UPDATE_SCHEDULE).run(scheduleRow(schedule)).changes === 1;
  }

  async deleteSchedule(groupName: string, name: string): Promise<boolean> {
    return (
      this.#db.prepare("DELETE FROM schedules WHERE group_name = ? AND name = ?").run(groupName, name)
        .changes === 1
    );
  }

  async due(at: number, limit: number): Promise<ScheduleRecord[]> {
    const rows = this.#db
      .prepare(
        `SELECT * FROM schedules WHERE state = 'ENABLED' AND next_due_at <= ?
         ORDER BY next_due_at, group_name, name LIMIT ?`,
      )
      .all(at, limit) as ScheduleRow[];
    return rows.map(toSchedule);
  }

  async nextDue(): Promise<number | undefined> {
    const row = this.#db
      .prepare("SELECT min(next_due_at) AS at FROM schedules WHERE state = 'ENABLED'")
      .get() as { at: number | null };
    return row.at ?? undefined;
  }

  /**
   * The compare-and-set is the write itself: a schedule whose next_tick_at is not
   * `expectedTickAt` (another took the tick; NULL: none left) is not matched, and then the
   * delivery is not written either.
   */
  async advance(o: {
    groupName: string;
    name: string;
    expectedTickAt: number;
    next: { tickAt: number; dueAt: number } | undefined;
    remove: boolean;
    delivery: DeliveryRecord | undefined;
  }): Promise<boolean> {
    const db = this.#db;
    return db
      .transaction(() => {
        const taken = o.remove
          ? db
              .prepare("DELETE FROM schedules WHERE group_name = ? AND name = ? AND next_tick_at = ?")
              .run(o.groupName, o.name, o.expectedTickAt)
          : db
              .prepare(
                `UPDATE schedules SET next_tick_at = ?, next_due_at = ?
                 WHERE group_name = ? AND name = ? AND next_tick_at = ?`,
              )
              .run(o.next?.tickAt ?? null, o.next?.dueAt ?? null, o.groupName, o.name, o.expectedTickAt);
        if (taken.changes === 0) return false;
        if (o.delivery) db.prepare(INSERT_DELIVERY).run(deliveryRow(o.delivery));
        return true;
      })
      .immediate();
  }

  async dueDeliveries(at: number, limit: number): Promise<DeliveryRecord[]> {
    const rows = this.#db
      .prepare("SELECT * FROM schedule_deliveries WHERE due_at <= ? ORDER BY due_at, id LIMIT ?")
      .all(at, limit) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  async nextDelivery(): Promise<number | undefined> {
    const row = this.#db.prepare("SELECT min(due_at) AS at FROM schedule_deliveries").get() as {
      at: number | null;
    };
    return row.at ?? undefined;
  }

  async updateDelivery(delivery: DeliveryRecord): Promise<boolean> {
    return this.#db.prepare(UPDATE_DELIVERY).run(deliveryRow(delivery)).changes === 1;
  }

  async deleteDelivery(id: string): Promise<boolean> {
    return this.#db.prepare("DELETE FROM schedule_deliveries WHERE id = ?").run(id).changes === 1;
  }
}
