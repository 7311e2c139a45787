/**
 * Schedules' storage (SQLite and PostgreSQL, `store/`; one contract suite,
 * `store/contract/schedules.contract.ts`). The ticker asks for what is due and takes a tick
 * with `advance`, which moves the schedule on only if no one else did (another process of a
 * cluster, a restart racing itself) and writes the tick's delivery in the same transaction.
 */
import type { DeliveryRecord, ScheduleGroupRecord, ScheduleRecord, ScheduleState } from "./model.js";

export interface SchedulesRepo {
  /** Inserts it; false (nothing written) if a group of that name exists. */
  createGroup(group: ScheduleGroupRecord): Promise<boolean>;
  getGroup(name: string): Promise<ScheduleGroupRecord | undefined>;
  /** Groups whose names start with `prefix`, in byte order, after `after`, at most `limit`. */
  listGroups(o: { prefix?: string; after?: string; limit: number }): Promise<ScheduleGroupRecord[]>;
  /** Replaces the group (its tags); false if none. */
  updateGroup(group: ScheduleGroupRecord): Promise<boolean>;
  /** Deletes the group and every schedule in it (not their pending deliveries); false if none. */
  deleteGroup(name: string): Promise<boolean>;

  /** Inserts it; false (nothing written) if the group has a schedule of that name. */
  createSchedule(schedule: ScheduleRecord): Promise<boolean>;
  getSchedule(groupName: string, name: string): Promise<ScheduleRecord | undefined>;
  /**
   * Schedules in byte order of (group, name), after `after` (that pair), filtered by group,
   * name prefix and state, at most `limit`.
   */
  listSchedules(o: {
    groupName?: string;
    prefix?: string;
    state?: ScheduleState;
    after?: { groupName: string; name: string };
    limit: number;
  }): Promise<ScheduleRecord[]>;
  /** Replaces the schedule whole; false if none. */
  updateSchedule(schedule: ScheduleRecord): Promise<boolean>;
  deleteSchedule(groupName: string, name: string): Promise<boolean>;

  /** ENABLED schedules whose nextDueAt is at or before `at`, earliest first, at most `limit`. */
  due(at: number, limit: number): Promise<ScheduleRecord[]>;
  /** The earliest nextDueAt of an ENABLED schedule; undefined if none has one. */
  nextDue(): Promise<number | undefined>;
  /**
   * Takes a tick: if the schedule's nextTickAt is still `expectedTickAt`, sets its next tick
   * and due times (undefined: none left; `remove`: deletes the schedule instead) and inserts
   * `delivery` (unless undefined, or one with its id is there) in one transaction. False,
   * writing nothing, if the schedule is gone or another took the tick.
   */
  advance(o: {
    groupName: string;
    name: string;
    expectedTickAt: number;
    next: { tickAt: number; dueAt: number } | undefined;
    remove: boolean;
    delivery: DeliveryRecord | undefined;
  }): Promise<boolean>;

  /** Deliveries whose dueAt is at or before `at`, earliest first, at most `limit`. */
  dueDeliveries(at: number, limit: number): Promise<DeliveryRecord[]>;
  /** The earliest dueAt of a delivery; undefined if none. */
  nextDelivery(): Promise<number | undefined>;
  /** Replaces the delivery (its attempts, dueAt, lastError); false if it is gone. */
  updateDelivery(delivery: DeliveryRecord): Promise<boolean>;
  /** Removes it once delivered or dead-lettered; false if it was gone. */
  deleteDelivery(id: string): Promise<boolean>;
}
