/**
 * Schedules in PostgreSQL (`SchedulesRepo`). Names collate as bytes ("C"), so everything lists
 * in SQLite's order; a prefix is compared with left(), not LIKE, so that `_` and `%` are taken
 * literally. A tick is taken by one conditional write (its row's lock makes a second taker wait,
 * then find the tick gone) and its delivery inserted in the same transaction.
 */
import type {
  DeliveryRecord,
  ScheduleGroupRecord,
  ScheduleRecord,
  ScheduleState,
} from "../../services/scheduler/model.js";
import type { SchedulesRepo } from "../../services/scheduler/repo.js";
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
} from "../schedules-row.js";
import type { Sql } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/**
 * References no other module's tables. A group's schedules are deleted with it, in its
 * transaction (no foreign key: a schedule names its group); deliveries outlive their schedule
 * until delivered or dead-lettered.
 */
export const SCHEDULES_MIGRATIONS: ModuleMigrations = {
  module: "scheduler",
  steps: [
    `CREATE TABLE schedule_groups (
       name text COLLATE "C" PRIMARY KEY,
       state text NOT NULL,
       tags text NOT NULL,
       created_at bigint NOT NULL,
       modified_at bigint NOT NULL
     );
     CREATE TABLE schedules (
       group_name text COLLATE "C" NOT NULL,
       name text COLLATE "C" NOT NULL,
       description text,
       expression text NOT NULL,
       timezone text NOT NULL,
       start_date bigint,
       end_date bigint,
       state text NOT NULL,
       flexible_window_minutes integer,
       action_after_completion text NOT NULL,
       kms_key_arn text,
       target text NOT NULL,
       created_at bigint NOT NULL,
       modified_at bigint NOT NULL,
       next_tick_at bigint,
       next_due_at bigint,
       PRIMARY KEY (group_name, name)
     );
     CREATE INDEX schedules_by_due ON schedules (state, next_due_at, group_name, name);
     CREATE TABLE schedule_deliveries (
       id text COLLATE "C" PRIMARY KEY,
       group_name text NOT NULL,
       schedule_name text NOT NULL,
       tick_at bigint NOT NULL,
       target text NOT NULL,
       attempts integer NOT NULL,
       due_at bigint NOT NULL,
       last_error text
     );
     CREATE INDEX schedule_deliveries_by_due ON schedule_deliveries (due_at, id);`,
  ],
};

export class PostgresSchedulesRepo implements SchedulesRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async createGroup(group: ScheduleGroupRecord): Promise<boolean> {
    const sql = this.#sql;
    const inserted = await sql`INSERT INTO schedule_groups ${sql(groupRow(group), GROUP_COLUMNS)}
      ON CONFLICT (name) DO NOTHING`;
    return inserted.count === 1;
  }

  async getGroup(name: string): Promise<ScheduleGroupRecord | undefined> {
    const [row] = await this.#sql<GroupRow[]>`SELECT * FROM schedule_groups WHERE name = ${name}`;
    return row && toGroup(row);
  }

  async listGroups(o: { prefix?: string; after?: string; limit: number }): Promise<ScheduleGroupRecord[]> {
    const prefix = o.prefix ?? "";
    const rows = await this.#sql<GroupRow[]>`SELECT * FROM schedule_groups
      WHERE name > ${o.after ?? ""} AND left(name, length(${prefix}::text)) = ${prefix}::text
      ORDER BY name LIMIT ${o.limit}`;
    return rows.map(toGroup);
  }

  async updateGroup(group: ScheduleGroupRecord): Promise<boolean> {
    const sql = this.#sql;
    const updated = await sql`UPDATE schedule_groups SET ${sql(groupRow(group), GROUP_UPDATED_COLUMNS)}
      WHERE name = ${group.name}`;
    return updated.count === 1;
  }

  async deleteGroup(name: string): Promise<boolean> {
    return this.#sql.begin(async (tx) => {
      const deleted = await tx`DELETE FROM schedule_groups WHERE name = ${name}`;
      if (deleted.count === 0) return false;
      await tx`DELETE FROM schedules WHERE group_name = ${name}`;
      return true;
    });
  }

  async createSchedule(schedule: ScheduleRecord): Promise<boolean> {
    const sql = this.#sql;
    const inserted = await sql`INSERT INTO schedules ${sql(scheduleRow(schedule), SCHEDULE_COLUMNS)}
      ON CONFLICT (group_name, name) DO NOTHING`;
    return inserted.count === 1;
  }

  async getSchedule(groupName: string, name: string): Promise<ScheduleRecord | undefined> {
    const [row] = await this.#sql<ScheduleRow[]>`SELECT * FROM schedules
      WHERE group_name = ${groupName} AND name = ${name}`;
    return row && toSchedule(row);
  }

  async listSchedules(o: {
    groupName?: string;
    prefix?: string;
    state?: ScheduleState;
    after?: { groupName: string; name: string };
    limit: number;
  }): Promise<ScheduleRecord[]> {
    const sql = this.#sql;
    const prefix = o.prefix ?? "";
    // Only the conditions given, so that the primary key serves the query.
    const rows = await sql<ScheduleRow[]>`SELECT * FROM schedules
      WHERE left(name, length(${prefix}::text)) = ${prefix}::text
        ${o.groupName === undefined ? sql`` : sql`AND group_name = ${o.groupName}`}
        ${o.after === undefined ? sql`` : sql`AND (group_name, name) > (${o.after.groupName}::text, ${o.after.name}::text)`}
        ${o.state === undefined ? sql`` : sql`AND state = ${o.state}`}
      ORDER BY group_name, name LIMIT ${o.limit}`;
    return rows.map(toSchedule);
  }

  async updateSchedule(schedule: ScheduleRecord): Promise<boolean> {
    const sql = this.#sql;
    const updated = await sql`UPDATE schedules SET ${sql(scheduleRow(schedule), SCHEDULE_UPDATED_COLUMNS)}
      WHERE group_name = ${schedule.groupName} AND name = ${schedule.name}`;
    return updated.count === 1;
  }

  async deleteSchedule(groupName: string, name: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM schedules WHERE group_name = ${groupName} AND name = ${name}`;
    return deleted.count === 1;
  }

  async due(at: number, limit: number): Promise<ScheduleRecord[]> {
    const rows = await this.#sql<ScheduleRow[]>`SELECT * FROM schedules
      WHERE state = 'ENABLED' AND next_due_at <= ${at}
      ORDER BY next_due_at, group_name, name LIMIT ${limit}`;
    return rows.map(toSchedule);
  }

  async nextDue(): Promise<number | undefined> {
    const [row] = await this.#sql<{ at: number | null }[]>`SELECT min(next_due_at) AS at FROM schedules
      WHERE state = 'ENABLED'`;
    return row?.at ?? undefined;
  }

  /**
   * The compare-and-set is the write itself: a schedule whose next_tick_at is not
   * `expectedTickAt` (another took the tick; NULL: none left) is not matched. A concurrent
   * taker waits on the row's lock, then finds the row changed (or gone) and matches nothing.
   */
  async advance(o: {
    groupName: string;
    name: string;
    expectedTickAt: number;
    next: { tickAt: number; dueAt: number } | undefined;
    remove: boolean;
    delivery: DeliveryRecord | undefined;
  }): Promise<boolean> {
    const sql = this.#sql;
    return sql.begin(async (tx) => {
      const taken = o.remove
        ? await tx`DELETE FROM schedules
            WHERE group_name = ${o.groupName} AND name = ${o.name} AND next_tick_at = ${o.expectedTickAt}`
        : await tx`UPDATE schedules
            SET next_tick_at = ${o.next?.tickAt ?? null}::bigint, next_due_at = ${o.next?.dueAt ?? null}::bigint
            WHERE group_name = ${o.groupName} AND name = ${o.name} AND next_tick_at = ${o.expectedTickAt}`;
      if (taken.count === 0) return false;
      if (o.delivery)
        await tx`INSERT INTO schedule_deliveries ${tx(deliveryRow(o.delivery), DELIVERY_COLUMNS)}
          ON CONFLICT (id) DO NOTHING`;
      return true;
    });
  }

  async dueDeliveries(at: number, limit: number): Promise<DeliveryRecord[]> {
    const rows = await this.#sql<DeliveryRow[]>`SELECT * FROM schedule_deliveries
      WHERE due_at <= ${at} ORDER BY due_at, id LIMIT ${limit}`;
    return rows.map(toDelivery);
  }

  async nextDelivery(): Promise<number | undefined> {
    const [row] = await this.#sql<{ at: number | null }[]>`SELECT min(due_at) AS at FROM schedule_deliveries`;
    return row?.at ?? undefined;
  }

  async updateDelivery(delivery: DeliveryRecord): Promise<boolean> {
    const sql = this.#sql;
    const updated = await sql`UPDATE schedule_deliveries
      SET ${sql(deliveryRow(delivery), DELIVERY_UPDATED_COLUMNS)} WHERE id = ${delivery.id}`;
    return updated.count === 1;
  }

  async deleteDelivery(id: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM schedule_deliveries WHERE id = ${id}`;
    return deleted.count === 1;
  }
}
